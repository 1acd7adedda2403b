// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Code loaded into the kernel: modules (init_module, finit_module) and new
 * kernels (kexec_load, kexec_file_load), recorded at syscall exit so the
 * event carries the verdict; every attempt is reported, refused ones too, and
 * ENOSYS on a kernel built without the facility. The module's bytes can be
 * captured (lib/kernel_capture.h): init_module's buffer at its exit, the file
 * finit_module names when the kernel has read it
 * (security_kernel_post_read_file, kernel hook only).
 */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/kernel_capture.h"
#include "lib/syscall_nr.h"
#include "lib/raw_exit.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* security_kernel_read_file: the kernel reads a file for itself (a module, a
 * firmware blob, a kexec image, a policy). Args: pathname, type, dev, inode. */
static __always_inline void emit_kernel_read_file(void *ctx, struct file *f, int id, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_KERNEL_READ_FILE, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_KERNEL_READ_FILE))
		return;
	char kind[20] = {};
	read_file_kind(id, kind);
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	save_file_path(&e, ARG_SECURITY_KERNEL_READ_FILE_PATHNAME, f);
	save_str(&e, ARG_SECURITY_KERNEL_READ_FILE_TYPE, kind, 0);
	save_u32(&e, ARG_SECURITY_KERNEL_READ_FILE_DEV, user_dev(BPF_CORE_READ(ino, i_sb, s_dev)));
	save_u64(&e, ARG_SECURITY_KERNEL_READ_FILE_INODE, BPF_CORE_READ(ino, i_ino));
	event_submit(&e, 0);
}

HOOK(security_kernel_read_file, struct file *file, enum kernel_read_file_id id)
{
	emit_kernel_read_file(ctx, file, id, 0);
	return 0;
}

/* security_kernel_post_read_file: the kernel has read the whole file into
 * buf. A module's bytes are captured here, the one place they are all in
 * memory for finit_module. */
static __always_inline void post_read_file_hook(void *ctx, struct file *file, char *buf, loff_t size, int id)
{
	emit_post_read_file(ctx, file, size, id, 0);
	if (id == READING_MODULE)
		capture_image(ctx, buf, size, 0, file, "security_kernel_post_read_file");
}

HOOK(security_kernel_post_read_file, struct file *file, char *buf, loff_t size, enum kernel_read_file_id id)
{
	post_read_file_hook(ctx, file, buf, size, id);
	return 0;
}

/* init_module and finit_module at exit, with their arguments saved at entry */
static __always_inline int module_exit(void *ctx, struct syscall_state *sp, long ret)
{
	/* the state is read where it lies: a copy would take the stack that
	 * the path walks below need (6.1 counts every frame of the chain) */
	const struct syscall_state *s = sp;
	struct event e;

	if (s->nr == NR_init_module) {
		/* init_module(void *umod, unsigned long len, const char *uargs):
		 * the image is still in the caller's memory, refused or not */
		capture_image(ctx, (void *)s->args[0], s->args[1], 1, NULL, "init_module");
		if (!emit_allowed(EVENT_INIT_MODULE, 0) || !event_init(&e, ctx, EVENT_INIT_MODULE))
			return 0;
		save_u64(&e, ARG_INIT_MODULE_LEN, s->args[1]);
		save_str(&e, ARG_INIT_MODULE_PARAM_VALUES, (void *)s->args[2], 1);
	} else if (s->nr == NR_finit_module) {
		struct file *f = task_fd_file((struct task_struct *)bpf_get_current_task(), (int)s->args[0]);
		/* security_kernel_read_file fallback: the file finit_module reads */
		emit_kernel_read_file(ctx, f, READING_MODULE, 1);
		/* security_kernel_post_read_file fallback: a module that loaded
		 * was read whole */
		if (ret == 0)
			emit_post_read_file(ctx, f, BPF_CORE_READ(f, f_inode, i_size), READING_MODULE, 1);
		/* finit_module(int fd, const char *uargs, int flags) */
		if (!emit_allowed(EVENT_FINIT_MODULE, 0) || !event_init(&e, ctx, EVENT_FINIT_MODULE))
			return 0;
		save_s32(&e, ARG_FINIT_MODULE_FD, (__s32)s->args[0]);
		save_file_path(&e, ARG_FINIT_MODULE_PATHNAME, task_fd_file(e.task, (int)s->args[0]));
		save_str(&e, ARG_FINIT_MODULE_PARAM_VALUES, (void *)s->args[1], 1);
		save_s32(&e, ARG_FINIT_MODULE_FLAGS, (__s32)s->args[2]);
	} else {
		return 0;
	}
	event_submit(&e, ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_module(struct syscall_exit_ctx *ctx)
{
	struct syscall_state s;

	if (is_self() || !take_syscall_state(&s))
		return 0;
	return module_exit(ctx, &s, ctx->ret);
}

/* ======== kexec_load, kexec_file_load ======== */

/* kexec_load and kexec_file_load at exit, with their arguments saved at entry */
static __always_inline int kexec_exit(void *ctx, struct syscall_state *sp, long ret)
{
	/* the state is read where it lies: a copy would take the stack that
	 * the path walks below need (6.1 counts every frame of the chain) */
	const struct syscall_state *s = sp;
	struct event e;

	if (s->nr == NR_kexec_load) {
		/* kexec_load(entry, nr_segments, segments, flags) */
		if (!emit_allowed(EVENT_KEXEC_LOAD, 0) || !event_init(&e, ctx, EVENT_KEXEC_LOAD))
			return 0;
		save_u64(&e, ARG_KEXEC_LOAD_ENTRY, s->args[0]);
		save_u64(&e, ARG_KEXEC_LOAD_NR_SEGMENTS, s->args[1]);
		save_u64(&e, ARG_KEXEC_LOAD_FLAGS, s->args[3]);
	} else if (s->nr == NR_kexec_file_load) {
		/* kexec_file_load(kernel_fd, initrd_fd, cmdline_len, cmdline, flags) */
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		if (ret == 0) {
			/* security_kernel_post_read_file fallback: a loaded kernel
			 * (and initrd) was read whole */
			struct file *k = task_fd_file(t, (int)s->args[0]), *i = task_fd_file(t, (int)s->args[1]);
			emit_post_read_file(ctx, k, BPF_CORE_READ(k, f_inode, i_size), READING_KEXEC_IMAGE, 1);
			if (i)
				emit_post_read_file(ctx, i, BPF_CORE_READ(i, f_inode, i_size), READING_KEXEC_INITRAMFS, 1);
		}
		if (!emit_allowed(EVENT_KEXEC_FILE_LOAD, 0) || !event_init(&e, ctx, EVENT_KEXEC_FILE_LOAD))
			return 0;
		save_s32(&e, ARG_KEXEC_FILE_LOAD_KERNEL_FD, (__s32)s->args[0]);
		save_file_path(&e, ARG_KEXEC_FILE_LOAD_KERNEL_PATH, task_fd_file(e.task, (int)s->args[0]));
		save_s32(&e, ARG_KEXEC_FILE_LOAD_INITRD_FD, (__s32)s->args[1]);
		if ((__s32)s->args[1] >= 0)
			save_file_path(&e, ARG_KEXEC_FILE_LOAD_INITRD_PATH, task_fd_file(e.task, (int)s->args[1]));
		if (s->args[2])
			save_str(&e, ARG_KEXEC_FILE_LOAD_CMDLINE, (void *)s->args[3], 1);
		save_u64(&e, ARG_KEXEC_FILE_LOAD_FLAGS, s->args[4]);
	} else {
		return 0;
	}
	event_submit(&e, ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_kexec(struct syscall_exit_ctx *ctx)
{
	struct syscall_state s;

	if (is_self() || !take_syscall_state(&s))
		return 0;
	return kexec_exit(ctx, &s, ctx->ret);
}

/* ENOSYS is the errno of a syscall the kernel does not have (sys_ni_syscall) */
#define ENOSYS 38

/* A kernel built without module or kexec support answers init_module,
 * finit_module, kexec_load and kexec_file_load with ENOSYS (sys_ni_syscall)
 * and has no trace events for them: an attempt is seen only at the raw
 * sys_exit, which runs for every syscall of every task. The sensor attaches
 * this one program only where some of these syscalls' trace events are
 * missing (the probes after theirs). It is cheap for every other syscall:
 * the return value comes first, straight from the context, and a kernel
 * without the syscall returns ENOSYS for every call of it, while few other
 * calls return it; only then is the syscall number read. The registers still
 * hold the arguments: nothing ran that could change them. Where the kernel
 * has the syscall (modules but no kexec, say), its own handler reports it:
 * that call does not return ENOSYS.
 *
 * Since it runs for every syscall anyway, it also calls the handlers the
 * sensor routes through it (lib/raw_exit.h) instead of their syscalls' trace
 * events. */
SEC("raw_tracepoint/sys_exit")
int raw_tp_sys_exit_enosys(struct bpf_raw_tracepoint_args *ctx)
{
	if ((long)ctx->args[1] != -ENOSYS) {
		/* a syscall whose handler runs from here (lib/raw_exit.h): an
		 * empty slot falls through */
		long nr = raw_exit_nr();
		if (nr >= 0 && nr < RAW_EXIT_SLOTS)
			bpf_tail_call(ctx, &raw_exit_calls, (__u32)nr);
		return 0;
	}
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = BPF_CORE_READ(regs, orig_ax);
	struct syscall_state s = {};

	switch (nr) {
	case NR_init_module:
	case NR_finit_module:
	case NR_kexec_load:
	case NR_kexec_file_load:
		break;
	default:
		return 0;
	}
	if (is_self())
		return 0;
	s.nr = nr;
	read_syscall_args(regs, s.args);
	if (nr == NR_kexec_load || nr == NR_kexec_file_load)
		return kexec_exit(ctx, &s, -ENOSYS);
	return module_exit(ctx, &s, -ENOSYS);
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

PROBE(INIT_MODULE, "syscalls", sys_enter_save(init_module), sys_exit_module(init_module));
PROBE(INIT_MODULE, "raw_tracepoint/sys_exit (init_module ENOSYS: a kernel without modules)", raw_tp_sys_exit_enosys);
PROBE(FINIT_MODULE, "syscalls", sys_enter_save(finit_module), sys_exit_module(finit_module));
PROBE(FINIT_MODULE, "raw_tracepoint/sys_exit (finit_module ENOSYS: a kernel without modules)", raw_tp_sys_exit_enosys);
HOOK_PROBES(SECURITY_KERNEL_READ_FILE, security_kernel_read_file);
FALLBACK(SECURITY_KERNEL_READ_FILE, "syscalls (finit_module's file)", sys_enter_save(finit_module), sys_exit_module(finit_module));
FALLBACK(SECURITY_KERNEL_READ_FILE, "raw_tracepoint/sys_exit (finit_module's file, ENOSYS: a kernel without modules)", raw_tp_sys_exit_enosys);
HOOK_PROBES(SECURITY_KERNEL_POST_READ_FILE, security_kernel_post_read_file);
FALLBACK(SECURITY_KERNEL_POST_READ_FILE, "syscalls (finit_module, kexec_file_load that succeeded)", sys_enter_save(finit_module), sys_exit_module(finit_module), sys_enter_save(kexec_file_load), sys_exit_kexec(kexec_file_load));
PROBE(MODULE_IMAGE_CHUNK, "fentry/security_kernel_post_read_file + syscalls", fentry_security_kernel_post_read_file, sys_enter_save(init_module), sys_exit_module(init_module));
PROBE(MODULE_IMAGE_CHUNK, "kprobe/security_kernel_post_read_file + syscalls", kprobe_security_kernel_post_read_file, sys_enter_save(init_module), sys_exit_module(init_module));
FALLBACK(MODULE_IMAGE_CHUNK, "syscalls (init_module only)", sys_enter_save(init_module), sys_exit_module(init_module));
FALLBACK(MODULE_IMAGE_CHUNK, "raw_tracepoint/sys_exit (init_module only, ENOSYS: a kernel without modules)", raw_tp_sys_exit_enosys);
PROBE(MODULE_IMAGE_CAPTURED, "sensor (module_image_chunk reassembled)");
PROBE(KEXEC_LOAD, "syscalls", sys_enter_save(kexec_load), sys_exit_kexec(kexec_load));
PROBE(KEXEC_LOAD, "raw_tracepoint/sys_exit (kexec_load ENOSYS: a kernel without kexec)", raw_tp_sys_exit_enosys);
PROBE(KEXEC_FILE_LOAD, "syscalls", sys_enter_save(kexec_file_load), sys_exit_kexec(kexec_file_load));
PROBE(KEXEC_FILE_LOAD, "raw_tracepoint/sys_exit (kexec_file_load ENOSYS: a kernel without kexec)", raw_tp_sys_exit_enosys);

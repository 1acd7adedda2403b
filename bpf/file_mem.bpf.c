// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Memory protection: security_file_mprotect, security_mmap_file and
 * mem_prot_alert. mprotect is seen at entry, where the old protection is still
 * the one the call starts from.
 *
 * Each event is fed by the kernel function it is named after where the kernel
 * lets us trace it (fentry, else kprobe, both from one HOOK) and by the syscall
 * layer otherwise (see the PROBE declarations). Syscall fallbacks run at sys_exit
 * and read the arguments from the saved user registers (only ax is overwritten
 * with the return value), so they need no entry program.
 */
#include "lib/common.h"
#include "lib/raw_exit.h"
#include "lib/file.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- security_file_mprotect, security_mmap_file, mem_prot_alert ---- */

/* mem_prot_alert args: 0 alert, 1 start, 2 len, 3 prot, 4 vm_flags,
 * 5 pathname. */
static __always_inline void emit_prot_alert(void *ctx, const char *alert, __u64 start, __u64 len, __u64 prot,
					    __u64 vm_flags, const char *path, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_MEM_PROT_ALERT, fallback) || !event_init(&e, ctx, EVENT_MEM_PROT_ALERT))
		return;
	save_str(&e, ARG_MEM_PROT_ALERT_ALERT, alert, 0);
	save_u64(&e, ARG_MEM_PROT_ALERT_START, start);
	save_u64(&e, ARG_MEM_PROT_ALERT_LEN, len);
	save_u32(&e, ARG_MEM_PROT_ALERT_PROT, prot);
	save_u64(&e, ARG_MEM_PROT_ALERT_VM_FLAGS, vm_flags);
	save_str(&e, ARG_MEM_PROT_ALERT_PATHNAME, path, 0);
	event_submit(&e, 0);
}

/* security_file_mprotect args: 0 start, 1 len, 2 prot, 3 vm_flags,
 * 4 pathname (of the mapped file, "" for anonymous memory), 5 syscall.
 * path is a kernel string. Only changes that involve executable memory are
 * reported (the new protection or the old mapping is executable): the rest
 * (RELRO after every exec, heap growth) is frequent and says nothing. */
static __always_inline void emit_mprotect(void *ctx, __u64 start, __u64 len, __u64 prot, __u64 vm_flags,
					  const char *path, const char *sys, int fallback)
{
	struct event e;
	if (!(prot & PROT_EXEC) && !(vm_flags & VM_EXEC))
		return;
	if (emit_allowed(EVENT_SECURITY_FILE_MPROTECT, fallback) && event_init(&e, ctx, EVENT_SECURITY_FILE_MPROTECT)) {
		save_u64(&e, ARG_SECURITY_FILE_MPROTECT_START, start);
		save_u64(&e, ARG_SECURITY_FILE_MPROTECT_LEN, len);
		save_u32(&e, ARG_SECURITY_FILE_MPROTECT_PROT, prot);
		save_u64(&e, ARG_SECURITY_FILE_MPROTECT_VM_FLAGS, vm_flags);
		save_str(&e, ARG_SECURITY_FILE_MPROTECT_PATHNAME, path, 0);
		if (sys)
			save_str(&e, ARG_SECURITY_FILE_MPROTECT_SYSCALL, sys, 0);
		event_submit(&e, 0);
	}
	char alert[20] = {};
	if ((prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
		SYSNAME(alert, "mprotect_wx");
	else if ((prot & PROT_EXEC) && (vm_flags & VM_WRITE) && !(vm_flags & VM_EXEC))
		SYSNAME(alert, "mprotect_x_after_w");
	else
		return;
	emit_prot_alert(ctx, alert, start, len, prot, vm_flags, path, fallback);
}

/* file_path_in_buf writes the path of f (or "" for none) to the per-CPU path
 * buffer and returns it. */
static __always_inline const char *file_path_in_buf(struct pathbuf *pb, struct file *f)
{
	struct path p;
	if (!f || bpf_core_read(&p, sizeof(p), &f->f_path)) {
		pb->buf[PATHBUF_END] = 0;
		return (const char *)&pb->buf[PATHBUF_END];
	}
	__u32 off = build_path(pb, &p);
	return (const char *)&pb->buf[BOUND(off, PATHBUF_END)];
}

/* The hook runs once per mapping the range covers; start and len are the
 * syscall's. */
static __always_inline void mprotect_hook(void *ctx, struct vm_area_struct *vma, unsigned long reqprot)
{
	if (is_self())
		return;
	__u64 vm_flags = BPF_CORE_READ(vma, vm_flags);
	if (!(reqprot & PROT_EXEC) && !(vm_flags & VM_EXEC))
		return;
	struct pt_regs *regs = current_regs();
	__u64 start = BPF_CORE_READ(vma, vm_start), len = BPF_CORE_READ(vma, vm_end) - start;
	long nr = current_syscall(regs);
	if (nr == NR_mprotect || nr == NR_pkey_mprotect) {
		start = BPF_CORE_READ(regs, di);
		len = BPF_CORE_READ(regs, si);
	}
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return;
	const char *path = file_path_in_buf(pb, BPF_CORE_READ(vma, vm_file));
	emit_mprotect(ctx, start, len, reqprot, vm_flags, path, NULL, 0);
}

HOOK(security_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot)
{
	mprotect_hook(ctx, vma, reqprot);
	return 0;
}

struct vma_info {
	__u64 addr;
	__u64 vm_flags;
	const char *path;
};

/* bpf_find_vma gives the first mapping that ends above addr; it holds the
 * mmap lock while this runs, so the mapping and its file stay put. */
static long vma_at(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_info *v = data;
	if (BPF_CORE_READ(vma, vm_start) > v->addr)
		return 0;
	v->vm_flags = BPF_CORE_READ(vma, vm_flags);
	struct pathbuf *pb = pathbuf();
	if (pb)
		v->path = file_path_in_buf(pb, BPF_CORE_READ(vma, vm_file));
	return 0;
}

/* mprotect(start, len, prot), pkey_mprotect(start, len, prot, pkey) at entry,
 * while the mapping still has its old protection. Only the mapping at start
 * is looked at. */
SEC("tracepoint/syscalls/sys_enter")
int sys_enter_mprotect(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	if (!emit_allowed(EVENT_SECURITY_FILE_MPROTECT, 1) && !emit_allowed(EVENT_MEM_PROT_ALERT, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	char sys[16] = {};
	if (ctx->nr == NR_pkey_mprotect)
		SYSNAME(sys, "pkey_mprotect");
	else
		SYSNAME(sys, "mprotect");
	char none[1] = {};
	struct vma_info v = {.addr = a[0], .path = none};
	bpf_find_vma(bpf_get_current_task_btf(), a[0], vma_at, &v, 0);
	emit_mprotect(ctx, a[0], a[1], a[2], v.vm_flags, v.path, sys, 1);
	return 0;
}

/* security_mmap_file args: 0 addr (as asked for), 1 len, 2 prot, 3 flags,
 * 4 pathname ("" for anonymous memory), 5 dev, 6 inode. Only executable
 * mappings are reported: every malloc arena and thread stack is a mapping. */
static __always_inline void emit_mmap(void *ctx, __u64 addr, __u64 len, __u64 prot, __u64 flags,
				      struct file *f, long ret, int fallback)
{
	struct event e;
	if (emit_allowed(EVENT_SECURITY_MMAP_FILE, fallback) && event_init(&e, ctx, EVENT_SECURITY_MMAP_FILE)) {
		save_u64(&e, ARG_SECURITY_MMAP_FILE_ADDR, addr);
		save_u64(&e, ARG_SECURITY_MMAP_FILE_LEN, len);
		save_u32(&e, ARG_SECURITY_MMAP_FILE_PROT, prot);
		save_u32(&e, ARG_SECURITY_MMAP_FILE_FLAGS, flags);
		save_file_path(&e, ARG_SECURITY_MMAP_FILE_PATHNAME, f);
		save_inode(&e, ARG_SECURITY_MMAP_FILE_DEV, ARG_SECURITY_MMAP_FILE_INODE, f ? BPF_CORE_READ(f, f_inode) : NULL);
		event_submit(&e, ret);
	}
	if ((prot & (PROT_WRITE | PROT_EXEC)) != (PROT_WRITE | PROT_EXEC))
		return;
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return;
	char alert[8] = {};
	SYSNAME(alert, "mmap_wx");
	emit_prot_alert(ctx, alert, addr, len, prot, 0, file_path_in_buf(pb, f), fallback);
}

/* Only mappings asked for with mmap(2): the kernel's own mappings of an exec
 * (the program, its interpreter) are the exec event's business. */
static __always_inline void mmap_hook(void *ctx, struct file *f, unsigned long prot, unsigned long flags)
{
	if (is_self() || !(prot & PROT_EXEC))
		return;
	struct pt_regs *regs = current_regs();
	if (current_syscall(regs) != NR_mmap)
		return;
	emit_mmap(ctx, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), prot, flags, f, 0, 0);
}

HOOK(security_mmap_file, struct file *file, unsigned long prot, unsigned long flags)
{
	mmap_hook(ctx, file, prot, flags);
	return 0;
}

/* mmap(addr, len, prot, flags, fd, off) at exit: the return value is the
 * mapped address. */
static __always_inline int mmap_exit(void *ctx, long ret)
{
	if (is_self())
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	if (!(a[2] & PROT_EXEC))
		return 0;
	struct file *f = NULL;
	if (!(a[3] & MAP_ANONYMOUS))
		f = current_fd_file(a[4]);
	emit_mmap(ctx, a[0], a[1], a[2], a[3], f, ret, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_mmap(struct syscall_exit_ctx *ctx)
{
	return mmap_exit(ctx, ctx->ret);
}

/* sys_exit_mmap called from the raw sys_exit program (lib/raw_exit.h) */
SEC("raw_tracepoint/sys_exit")
int raw_exit_mmap(struct bpf_raw_tracepoint_args *ctx)
{
	return mmap_exit(ctx, (long)ctx->args[1]);
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_enter_mprotect, mprotect, pkey_mprotect);
SYSCALLS(sys_exit_mmap, mmap);
HOOK_PROBES(SECURITY_FILE_MPROTECT, security_file_mprotect);
FALLBACK(SECURITY_FILE_MPROTECT, "syscalls", sys_enter_mprotect);
HOOK_PROBES(MEM_PROT_ALERT, security_file_mprotect + security_mmap_file);
FALLBACK(MEM_PROT_ALERT, "syscalls", sys_enter_mprotect, sys_exit_mmap);
HOOK_PROBES(SECURITY_MMAP_FILE, security_mmap_file);
FALLBACK(SECURITY_MMAP_FILE, "syscalls", sys_exit_mmap);

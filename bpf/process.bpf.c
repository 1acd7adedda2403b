// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Process lifecycle: execve/execveat entry (the caller's arguments and
 * credentials saved for the exit; execfail.bpf.c reports the execs that
 * fail), memfd_create at exit, and the sched
 * tracepoints for fork, exec (resolved file, how it is stored) and exit. Each
 * sched event has a tp_btf program and a raw_tp twin for kernels without
 * tp_btf; they share one body.
 */
#include "lib/common.h"
#include "lib/creds.h"
#include "lib/path.h"
#include "lib/file.h"
#include "lib/exec_script.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";


/* The exec entry handlers keep, per thread, the caller's credentials so that
 * sched_process_exec can tell whether exec changed them (set-id files, file
 * capabilities: the commit_creds fallback), and the syscall's arguments for
 * sys_exit_exec (execfail.bpf.c), which reports an exec that failed with
 * what the caller passed. A successful exec is reported once, by
 * sched_process_exec, from what the kernel copied.
 *
 * args[EXEC_STATE_EMPTY_ARGV] (a register execve and execveat do not use)
 * says whether the caller's argv was empty: Linux 5.18 and later replace an
 * empty argv with {""} before sched_process_exec, whose argc then reads 1. */
static __always_inline void keep_exec_state(struct syscall_enter_ctx *ctx, int argv_arg)
{
	struct syscall_state st = {};
	__u32 tid = current_tid();
	st.nr = ctx->nr;
	read_syscall_args(syscall_regs(ctx), st.args);
	const char *const *argv = (const char *const *)st.args[argv_arg & 7];
	const char *first = NULL;
	st.args[EXEC_STATE_EMPTY_ARGV] = !argv || (!bpf_probe_read_user(&first, sizeof(first), argv) && !first);
	read_current_creds(&st.creds);
	bpf_map_update_elem(&syscall_states, &tid, &st, BPF_ANY);
}

SEC("tracepoint/syscalls/sys_enter")
int sys_enter_execve(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	keep_exec_state(ctx, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter")
int sys_enter_execveat(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	keep_exec_state(ctx, 2);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_memfd_create(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct event e;

	if (!take_syscall_state(&s))
		return 0;
	if (!emit_allowed(EVENT_MEMFD_CREATE, 0) || !event_init(&e, ctx, EVENT_MEMFD_CREATE))
		return 0;
	save_str(&e, ARG_MEMFD_CREATE_NAME, (void *)s.args[0], 1);
	save_u32(&e, ARG_MEMFD_CREATE_FLAGS, (__u32)s.args[1]);
	event_submit(&e, (long)ctx->ret);
	return 0;
}

/* ---- sched_process_fork ---- */

static __always_inline void on_fork(void *ctx, struct task_struct *parent, struct task_struct *child)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SCHED_PROCESS_FORK, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SCHED_PROCESS_FORK))
		return;
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	save_u32(&e, ARG_SCHED_PROCESS_FORK_PARENT_PID, ptgid);
	save_u32(&e, ARG_SCHED_PROCESS_FORK_PARENT_TID, BPF_CORE_READ(parent, pid));
	save_u32(&e, ARG_SCHED_PROCESS_FORK_CHILD_PID, ctgid);
	save_u32(&e, ARG_SCHED_PROCESS_FORK_CHILD_TID, BPF_CORE_READ(child, pid));
	save_u32(&e, ARG_SCHED_PROCESS_FORK_CHILD_NS_PID, pid_nr_at(BPF_CORE_READ(child, thread_pid), task_pid_level(child)));
	save_bool(&e, ARG_SCHED_PROCESS_FORK_THREAD, ptgid == ctgid);
	save_u64(&e, ARG_SCHED_PROCESS_FORK_START_TIME, BPF_CORE_READ(child, start_boottime));
	event_submit(&e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	on_fork(ctx, parent, child);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int raw_tp_sched_process_fork(struct bpf_raw_tracepoint_args *ctx)
{
	on_fork(ctx, (struct task_struct *)ctx->args[0], (struct task_struct *)ctx->args[1]);
	return 0;
}

/* ---- sched_process_exec ---- */

/* save_file_kind saves what f is (file, pipe, ...) at index, and for a pipe
 * its inode number at pipe_index: the sensor joins the two ends of a shell
 * pipeline (curl ... | sh) by it. */
static __always_inline void save_file_kind(struct event *e, __u8 index, __u8 pipe_index, struct file *f)
{
	char kind[8] = {};
	if (!f) {
		__builtin_memcpy(kind, "none", 5);
		save_str(e, index, kind, 0);
		return;
	}
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 mode = BPF_CORE_READ(ino, i_mode) & S_IFMT;
	switch (mode) {
	case S_IFREG: __builtin_memcpy(kind, "file", 5); break;
	case S_IFDIR: __builtin_memcpy(kind, "dir", 4); break;
	case S_IFCHR: __builtin_memcpy(kind, "chr", 4); break;
	case S_IFBLK: __builtin_memcpy(kind, "blk", 4); break;
	case S_IFLNK: __builtin_memcpy(kind, "link", 5); break;
	case S_IFSOCK: __builtin_memcpy(kind, "socket", 7); break;
	case S_IFIFO:
		if (BPF_CORE_READ(ino, i_sb, s_magic) == PIPEFS_MAGIC) {
			__builtin_memcpy(kind, "pipe", 5);
			save_u64(e, pipe_index, BPF_CORE_READ(ino, i_ino));
		} else
			__builtin_memcpy(kind, "fifo", 5);
		break;
	default: __builtin_memcpy(kind, "other", 6);
	}
	save_str(e, index, kind, 0);
}

/* security_bprm_check: the LSM hook every exec passes with the opened file.
 * Args: pathname, filename (as given), dev, inode. */
static __always_inline void emit_bprm_check(void *ctx, struct linux_binprm *bprm, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_BPRM_CHECK, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_BPRM_CHECK))
		return;
	struct file *file = BPF_CORE_READ(bprm, file);
	struct inode *ino = BPF_CORE_READ(file, f_inode);
	save_file_path(&e, ARG_SECURITY_BPRM_CHECK_PATHNAME, file);
	save_str(&e, ARG_SECURITY_BPRM_CHECK_FILENAME, BPF_CORE_READ(bprm, filename), 0);
	save_u32(&e, ARG_SECURITY_BPRM_CHECK_DEV, user_dev(BPF_CORE_READ(ino, i_sb, s_dev)));
	save_u64(&e, ARG_SECURITY_BPRM_CHECK_INODE, BPF_CORE_READ(ino, i_ino));
	event_submit(&e, 0);
}

HOOK(security_bprm_check, struct linux_binprm *bprm)
{
	emit_bprm_check(ctx, bprm, 0);
	return 0;
}

/* e_ident, e_type and e_machine of an ELF header are the first 20 bytes; a
 * #! line gets the rest */
#define EXEC_HEADER_LEN 64

/* save_exec_writer saves who last opened ino for writing during this boot
 * and when, as the executed file's (script 0) or the script's writer
 * arguments; nothing when no write is known. */
static __always_inline void save_exec_writer(struct event *e, struct inode *ino, int script)
{
	struct inode_key k;
	inode_key_of(ino, &k);
	struct inode_write *w = bpf_map_lookup_elem(&inode_writes, &k);
	if (!w)
		return;
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 ago = now > w->ts ? now - w->ts : 0;
	if (script) {
		save_u64(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_WRITTEN_NS_AGO, ago);
		save_u32(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_WRITER_PID, w->host_pid);
		save_str(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_WRITER_COMM, w->comm, 0);
		save_bool(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_WRITER_CREATED, w->created != 0);
	} else {
		save_u64(e, ARG_SCHED_PROCESS_EXEC_WRITTEN_NS_AGO, ago);
		save_u32(e, ARG_SCHED_PROCESS_EXEC_WRITER_PID, w->host_pid);
		save_str(e, ARG_SCHED_PROCESS_EXEC_WRITER_COMM, w->comm, 0);
		save_bool(e, ARG_SCHED_PROCESS_EXEC_WRITER_CREATED, w->created != 0);
	}
}

/* save_exec_script saves the file an exec named when the kernel ran it
 * through an interpreter (lib/exec_script.h): its path, identity and
 * writer. A function of its own: a second path walk and the task_works
 * walk inlined into emit_exec would make one long program of it. */
static __noinline void save_exec_script(struct event *e, struct linux_binprm *bprm)
{
	struct file *f = exec_script_file(bprm);
	if (!f)
		return;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	save_file_path(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_PATHNAME, f);
	save_u32(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_DEV, user_dev(BPF_CORE_READ(ino, i_sb, s_dev)));
	save_u64(e, ARG_SCHED_PROCESS_EXEC_SCRIPT_INODE, BPF_CORE_READ(ino, i_ino));
	save_exec_writer(e, ino, 1);
}

static __always_inline void emit_exec(void *ctx, struct task_struct *p, __u32 old_pid, struct linux_binprm *bprm, int empty_argv)
{
	struct event e;
	if (!emit_allowed(EVENT_SCHED_PROCESS_EXEC, 0) || !event_init(&e, ctx, EVENT_SCHED_PROCESS_EXEC))
		return;

	struct file *file = BPF_CORE_READ(bprm, file);
	struct inode *ino = BPF_CORE_READ(file, f_inode);
	const char *filename = BPF_CORE_READ(bprm, filename);
	const char *interp = BPF_CORE_READ(bprm, interp);

	save_file_path(&e, ARG_SCHED_PROCESS_EXEC_PATHNAME, file);
	save_str(&e, ARG_SCHED_PROCESS_EXEC_FILENAME, filename, 0);
	if (interp && interp != filename)
		save_str(&e, ARG_SCHED_PROCESS_EXEC_INTERPRETER, interp, 0);
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	save_str_list(&e, ARG_SCHED_PROCESS_EXEC_ARGV, BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end));
	save_u32(&e, ARG_SCHED_PROCESS_EXEC_DEV, user_dev(BPF_CORE_READ(ino, i_sb, s_dev)));
	save_u64(&e, ARG_SCHED_PROCESS_EXEC_INODE, BPF_CORE_READ(ino, i_ino));
	__u32 mode = BPF_CORE_READ(ino, i_mode);
	save_u32(&e, ARG_SCHED_PROCESS_EXEC_MODE, mode);

	/* memfd_create files are unlinked shmem (or hugetlbfs) files named "memfd:..." */
	unsigned int nlink = BPF_CORE_READ(ino, i_nlink);
	char prefix[6] = {};
	bpf_probe_read_kernel(prefix, sizeof(prefix), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	int memfd = nlink == 0 && prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' &&
		    prefix[3] == 'f' && prefix[4] == 'd' && prefix[5] == ':';
	save_bool(&e, ARG_SCHED_PROCESS_EXEC_MEMFD, memfd);
	save_bool(&e, ARG_SCHED_PROCESS_EXEC_DELETED, nlink == 0);
	save_str(&e, ARG_SCHED_PROCESS_EXEC_FS_TYPE, BPF_CORE_READ(ino, i_sb, s_type, name), 0);
	save_file_kind(&e, ARG_SCHED_PROCESS_EXEC_STDIN_TYPE, ARG_SCHED_PROCESS_EXEC_STDIN_PIPE, task_fd_file(p, 0));
	save_u32(&e, ARG_SCHED_PROCESS_EXEC_OLD_PID, old_pid);
	save_bool(&e, ARG_SCHED_PROCESS_EXEC_SETUID, (mode & S_ISUID) != 0);
	/* exec has copied envp onto the new program's stack: one read of the
	 * area, the sensor keeps the variables it is configured to keep */
	save_str_list(&e, ARG_SCHED_PROCESS_EXEC_ENV, BPF_CORE_READ(mm, env_start), BPF_CORE_READ(mm, env_end));
	save_file_kind(&e, ARG_SCHED_PROCESS_EXEC_STDOUT_TYPE, ARG_SCHED_PROCESS_EXEC_STDOUT_PIPE, task_fd_file(p, 1));
	/* what the kernel itself counted and read: argc (0 when the caller's
	 * argv was empty at entry, which 5.18+ turn into {""}), the first bytes
	 * of the file it loaded (for a script, of its interpreter) */
	save_u32(&e, ARG_SCHED_PROCESS_EXEC_ARGC, empty_argv ? 0 : BPF_CORE_READ(bprm, argc));
	save_bytes(&e, ARG_SCHED_PROCESS_EXEC_HEADER, bprm->buf, EXEC_HEADER_LEN, 0);
	/* the file was opened for writing during this boot: by whom, when */
	save_exec_writer(&e, ino, 0);
	/* a script: the file the exec named, and who wrote it */
	save_exec_script(&e, bprm);
	event_submit(&e, 0);
}

static __always_inline void on_exec(void *ctx, struct task_struct *p, __u32 old_pid, struct linux_binprm *bprm)
{
	if (is_self())
		return;

	/* security_bprm_check fallback: the file exec settled on */
	emit_bprm_check(ctx, bprm, 1);

	struct syscall_state *st = bpf_map_lookup_elem(&syscall_states, &old_pid);
	if (st && st->nr != NR_execve && st->nr != NR_execveat)
		st = NULL;
	emit_exec(ctx, p, old_pid, bprm, st && st->args[EXEC_STATE_EMPTY_ARGV]);

	/* commit_creds fallback: compare with what execve's entry saw. Sent
	 * after the exec event so the process table already knows the new
	 * program when the credential change is enriched. */
	if (st) {
		struct cred_snap old = st->creds, now = {};
		bpf_map_delete_elem(&syscall_states, &old_pid);
		read_task_creds(p, &now);
		if (creds_differ(&old, &now)) {
			char sys[8] = "execve";
			emit_commit_creds(ctx, &old, &now, sys, BPF_CORE_READ(bprm, file), 1);
		}
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	on_exec(ctx, p, old_pid, bprm);
	return 0;
}

SEC("raw_tracepoint/sched_process_exec")
int raw_tp_sched_process_exec(struct bpf_raw_tracepoint_args *ctx)
{
	on_exec(ctx, (struct task_struct *)ctx->args[0], (__u32)ctx->args[1],
		(struct linux_binprm *)ctx->args[2]);
	return 0;
}

/* ---- sched_process_exit ---- */

static __always_inline void on_exit(void *ctx, struct task_struct *p)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SCHED_PROCESS_EXIT, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SCHED_PROCESS_EXIT))
		return;
	/* do_exit stores exit_code and drops signal->live before the tracepoint;
	 * the tracepoint's own group_dead argument only exists on newer kernels. */
	save_s32(&e, ARG_SCHED_PROCESS_EXIT_EXIT_CODE, BPF_CORE_READ(p, exit_code));
	save_bool(&e, ARG_SCHED_PROCESS_EXIT_GROUP_EXIT, BPF_CORE_READ(p, signal, live.counter) == 0);
	event_submit(&e, 0);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit, struct task_struct *p)
{
	on_exit(ctx, p);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int raw_tp_sched_process_exit(struct bpf_raw_tracepoint_args *ctx)
{
	on_exit(ctx, (struct task_struct *)ctx->args[0]);
	return 0;
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_enter_execve, execve);
SYSCALLS(sys_enter_execveat, execveat);
SYSCALLS(sys_exit_memfd_create, memfd_create);
PROBE(MEMFD_CREATE, "syscalls", sys_enter_save(memfd_create), sys_exit_memfd_create);
PROBE(SCHED_PROCESS_FORK, "tp_btf/sched_process_fork", tp_btf_sched_process_fork);
PROBE(SCHED_PROCESS_FORK, "raw_tracepoint/sched_process_fork", raw_tp_sched_process_fork);
/* sched_process_exec brings the exec entries with it: they tell it whether
 * the caller's argv was empty (argc 0), whatever else is enabled */
PROBE(SCHED_PROCESS_EXEC, "tp_btf/sched_process_exec", tp_btf_sched_process_exec, sys_enter_execve, sys_enter_execveat);
PROBE(SCHED_PROCESS_EXEC, "raw_tracepoint/sched_process_exec", raw_tp_sched_process_exec, sys_enter_execve, sys_enter_execveat);
PROBE(SCHED_PROCESS_EXIT, "tp_btf/sched_process_exit", tp_btf_sched_process_exit);
PROBE(SCHED_PROCESS_EXIT, "raw_tracepoint/sched_process_exit", raw_tp_sched_process_exit);
HOOK_PROBES(SECURITY_BPRM_CHECK, security_bprm_check);
FALLBACK(SECURITY_BPRM_CHECK, "sched_process_exec (binprm of the exec)", tp_btf_sched_process_exec);
FALLBACK(SECURITY_BPRM_CHECK, "raw_tracepoint/sched_process_exec (binprm of the exec)", raw_tp_sched_process_exec);

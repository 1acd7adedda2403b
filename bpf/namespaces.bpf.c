// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Namespaces: switch_task_namespaces, setns and unshare, clone with CLONE_NEW*.
 */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/kernel.h"
#include "lib/kernel_capture.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ======== switch_task_namespaces ========
 *
 * Three programs feed the event, and every probe has the two that see what
 * the kernel function does not:
 * - the syscall layer (setns, unshare): entry snapshots the caller's
 *   namespaces, exit compares and reports every call with its result, the
 *   user namespace included (unshare(CLONE_NEWUSER) alone never reaches
 *   switch_task_namespaces, and setns commits a new user namespace through
 *   the credentials, before the switch);
 * - sched_process_fork: clone with CLONE_NEW* gives the child its namespaces
 *   in copy_namespaces, without switch_task_namespaces;
 * - the kernel function itself (fentry, else kprobe): it reports calls
 *   outside setns and unshare, which the syscall layer already reports: a
 *   kernel exploit's payload calling switch_task_namespaces(task,
 *   init_nsproxy), from whatever syscall it came through. (Inside
 *   kernel/nsproxy.c, where setns and exec switch namespaces, the compiler
 *   may inline the function: those calls never reach the hook; unshare's,
 *   from kernel/fork.c, do.) */

struct ns_call {
	__u64 arg0, arg1;
	__u64 nr;
	struct ns_snap before;
};

/* setns/unshare entry -> exit, by host tid */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ns_call);
} ns_calls SEC(".maps");

#define NSFS_MAGIC 0x6e736673
#define PID_FS_MAGIC 0x50494446
#define ANON_INODE_FS_MAGIC 0x09041934

static __always_inline void ns_syscall_name(long nr, char name[16])
{
	switch (nr) {
	case NR_setns: SYSNAME(name, "setns"); break;
	case NR_unshare: SYSNAME(name, "unshare"); break;
	case NR_clone: SYSNAME(name, "clone"); break;
	case NR_clone3: SYSNAME(name, "clone3"); break;
	case NR_fork: SYSNAME(name, "fork"); break;
	case NR_vfork: SYSNAME(name, "vfork"); break;
	case NR_execve: SYSNAME(name, "execve"); break;
	case NR_execveat: SYSNAME(name, "execveat"); break;
	}
}

/* Arguments 0-6, then old/new inum pairs from 7 in enum ns_kind order
 * (arguments carry their index: the record need not follow it). */
static __always_inline void emit_ns_switch(void *ctx, long nr, __u64 flags, __u32 target_pid, const char *fd_kind,
					   const struct ns_snap *old, const struct ns_snap *new, long ret)
{
	struct event e;
	struct ns_snap host = {};
	char name[16] = {};

	if (!event_init(&e, ctx, EVENT_SWITCH_TASK_NAMESPACES))
		return;
	read_initial_ns(e.task, &host);
	__u32 changed = ns_changed(old, new);
	ns_syscall_name(nr, name);
	/* fixed-size arguments first: their offsets stay constant for the
	 * verifier */
	save_s32(&e, ARG_SWITCH_TASK_NAMESPACES_SYSCALL_NR, (__s32)nr);
	save_u64(&e, ARG_SWITCH_TASK_NAMESPACES_FLAGS, flags);
	save_u32(&e, ARG_SWITCH_TASK_NAMESPACES_TARGET_PID, target_pid);
	save_ns_pairs(&e, ARG_SWITCH_TASK_NAMESPACES_OLD_MNT, old, new);
	save_str(&e, ARG_SWITCH_TASK_NAMESPACES_SYSCALL, name, 0);
	save_str(&e, ARG_SWITCH_TASK_NAMESPACES_FD_KIND, fd_kind, 0);
	save_ns_kinds(&e, ARG_SWITCH_TASK_NAMESPACES_CHANGED, changed);
	save_ns_kinds(&e, ARG_SWITCH_TASK_NAMESPACES_ENTERED_HOST, changed & ns_equal(new, &host));
	event_submit(&e, ret);
}

static __always_inline void ns_switch_hook(void *ctx, struct task_struct *p, struct nsproxy *new)
{
	/* new == NULL: the task is exiting and drops its namespaces */
	if (!new || is_self() || !emit_allowed(EVENT_SWITCH_TASK_NAMESPACES, 0))
		return;
	long nr = current_syscall_nr();
	if (nr == NR_setns || nr == NR_unshare)
		return;
	struct ns_snap old = {}, next = {};
	struct user_namespace *user = BPF_CORE_READ(p, real_cred, user_ns);
	read_ns(BPF_CORE_READ(p, nsproxy), user, &old);
	read_ns(new, user, &next);
	if (!ns_changed(&old, &next))
		return;
	/* a payload may switch another task (pid 1 of a container) */
	__u32 target = p == (struct task_struct *)bpf_get_current_task() ? 0 : BPF_CORE_READ(p, tgid);
	emit_ns_switch(ctx, nr, 0, target, "", &old, &next, 0);
}

HOOK(switch_task_namespaces, struct task_struct *p, struct nsproxy *new)
{
	ns_switch_hook(ctx, p, new);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter")
int sys_enter_namespaces(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	struct pt_regs *regs = syscall_regs(ctx);
	struct ns_call c = {};
	__u32 tid = current_tid();

	c.arg0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
	c.arg1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
	c.nr = ctx->nr;
	read_task_ns((struct task_struct *)bpf_get_current_task(), &c.before);
	bpf_map_update_elem(&ns_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* The process whose namespaces setns(fd) joins, when fd is a pidfd: its host
 * pid, 0 otherwise. The struct pid sits in the inode since pidfs (6.9), in
 * the file before. */
static __always_inline __u32 pidfd_host_pid(struct file *f, char kind[8])
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	struct pid *pid = NULL;
	if (magic == NSFS_MAGIC) {
		SYSNAME(kind, "nsfs");
		return 0;
	}
	if (magic == PID_FS_MAGIC) {
		pid = BPF_CORE_READ(ino, i_private);
	} else if (magic == ANON_INODE_FS_MAGIC) {
		char name[8] = {};
		bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
		if (name[0] != '[' || name[1] != 'p' || name[2] != 'i' || name[3] != 'd' || name[4] != 'f' ||
		    name[5] != 'd' || name[6] != ']')
			return 0;
		pid = BPF_CORE_READ(f, private_data);
	} else {
		return 0;
	}
	SYSNAME(kind, "pidfd");
	return pid_nr_at(pid, 0);
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_namespaces(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	__u32 tid = current_tid();
	struct ns_call *c = bpf_map_lookup_elem(&ns_calls, &tid);
	if (!c)
		return 0;
	struct ns_call call = *c;
	bpf_map_delete_elem(&ns_calls, &tid);
	if (!emit_unless_off(EVENT_SWITCH_TASK_NAMESPACES))
		return 0;

	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct ns_snap now = {};
	char kind[8] = {};
	__u32 target = 0;
	__u64 flags = call.arg0; /* unshare(flags) */
	read_task_ns(t, &now);
	if (call.nr == NR_setns) {
		/* setns(fd, nstype) */
		flags = call.arg1;
		struct file *f = task_fd_file(t, (int)call.arg0);
		if (f)
			target = pidfd_host_pid(f, kind);
	}
	emit_ns_switch(ctx, call.nr, flags, target, kind, &call.before, &now, (long)ctx->ret);
	return 0;
}

static __always_inline void ns_fork(void *ctx, struct task_struct *parent, struct task_struct *child)
{
	if (is_self() || !emit_unless_off(EVENT_SWITCH_TASK_NAMESPACES))
		return;
	/* CLONE_THREAD cannot be combined with new namespaces */
	if (BPF_CORE_READ(parent, tgid) == BPF_CORE_READ(child, tgid))
		return;
	/* without CLONE_NEW* the child shares the parent's nsproxy and user
	 * namespace: two pointer compares on every fork */
	struct nsproxy *pn = BPF_CORE_READ(parent, nsproxy), *cn = BPF_CORE_READ(child, nsproxy);
	struct user_namespace *pu = BPF_CORE_READ(parent, real_cred, user_ns);
	struct user_namespace *cu = BPF_CORE_READ(child, real_cred, user_ns);
	if (pn == cn && pu == cu)
		return;
	struct ns_snap old = {}, new = {};
	read_ns(pn, pu, &old);
	read_ns(cn, cu, &new);

	long nr = current_syscall_nr();
	__u64 flags = 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (nr == NR_clone)
		flags = BPF_CORE_READ(regs, di);
	else if (nr == NR_clone3) /* struct clone_args starts with the flags */
		bpf_probe_read_user(&flags, sizeof(flags), (void *)BPF_CORE_READ(regs, di));
	emit_ns_switch(ctx, nr, flags, BPF_CORE_READ(child, tgid), "", &old, &new, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf_sched_process_fork_ns, struct task_struct *parent, struct task_struct *child)
{
	ns_fork(ctx, parent, child);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int raw_tp_sched_process_fork_ns(struct bpf_raw_tracepoint_args *ctx)
{
	ns_fork(ctx, (struct task_struct *)ctx->args[0], (struct task_struct *)ctx->args[1]);
	return 0;
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_enter_namespaces, setns, unshare);
SYSCALLS(sys_exit_namespaces, setns, unshare);
HOOK_PROBES(SWITCH_TASK_NAMESPACES, switch_task_namespaces, sys_enter_namespaces, sys_exit_namespaces, tp_btf_sched_process_fork_ns);
FALLBACK(SWITCH_TASK_NAMESPACES, "syscalls + tp_btf/sched_process_fork", sys_enter_namespaces, sys_exit_namespaces, tp_btf_sched_process_fork_ns);
FALLBACK(SWITCH_TASK_NAMESPACES, "syscalls + raw_tracepoint/sched_process_fork", sys_enter_namespaces, sys_exit_namespaces, raw_tp_sched_process_fork_ns);

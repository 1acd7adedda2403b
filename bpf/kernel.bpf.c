// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The kernel's own facilities: namespaces, process injection (ptrace,
 * process_vm_*), the bpf() syscall, capabilities, cgroups, task exit, the
 * scheduler, kexec.
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

#define SYSNAME(buf, lit) __builtin_memcpy(buf, lit, sizeof(lit))

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

SEC("raw_tracepoint/sys_enter")
int sys_enter_namespaces(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = syscall_regs(ctx);
	struct ns_call c = {};
	__u32 tid = current_tid();

	c.arg0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
	c.arg1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
	c.nr = ctx->args[1];
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

SEC("raw_tracepoint/sys_exit")
int sys_exit_namespaces(struct bpf_raw_tracepoint_args *ctx)
{
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
	emit_ns_switch(ctx, call.nr, flags, target, kind, &call.before, &now, (long)ctx->args[1]);
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

/* ======== ptrace, process_vm_readv/writev ======== */

#define PTRACE_TRACEME 0
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_ATTACH 16
#define PTRACE_SETFPXREGS 19
#define PTRACE_SET_THREAD_AREA 26
#define PTRACE_ARCH_PRCTL 30
#define PTRACE_SETSIGINFO 0x4203
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206
#define PTRACE_SETSIGMASK 0x420b
#define PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG 0x4210
#define PTRACE_SET_SYSCALL_INFO 0x4212

/* ptrace_request_name names the requests that are reported: those that
 * start tracing or change the tracee (its memory, registers, signal state).
 * Reads and resumes (PEEK*, GET*, CONT, SYSCALL, SINGLESTEP, INTERRUPT,
 * LISTEN, DETACH, ...) are the bulk of a debugger's or strace's traffic,
 * thousands a second, and change nothing: 0 for them. */
static __always_inline int ptrace_request_name(long req, char name[40])
{
	switch (req) {
	case PTRACE_TRACEME: SYSNAME(name, "PTRACE_TRACEME"); break;
	case PTRACE_POKETEXT: SYSNAME(name, "PTRACE_POKETEXT"); break;
	case PTRACE_POKEDATA: SYSNAME(name, "PTRACE_POKEDATA"); break;
	case PTRACE_POKEUSR: SYSNAME(name, "PTRACE_POKEUSR"); break;
	case PTRACE_SETREGS: SYSNAME(name, "PTRACE_SETREGS"); break;
	case PTRACE_SETFPREGS: SYSNAME(name, "PTRACE_SETFPREGS"); break;
	case PTRACE_ATTACH: SYSNAME(name, "PTRACE_ATTACH"); break;
	case PTRACE_SETFPXREGS: SYSNAME(name, "PTRACE_SETFPXREGS"); break;
	case PTRACE_SET_THREAD_AREA: SYSNAME(name, "PTRACE_SET_THREAD_AREA"); break;
	case PTRACE_ARCH_PRCTL: SYSNAME(name, "PTRACE_ARCH_PRCTL"); break;
	case PTRACE_SETSIGINFO: SYSNAME(name, "PTRACE_SETSIGINFO"); break;
	case PTRACE_SETREGSET: SYSNAME(name, "PTRACE_SETREGSET"); break;
	case PTRACE_SEIZE: SYSNAME(name, "PTRACE_SEIZE"); break;
	case PTRACE_SETSIGMASK: SYSNAME(name, "PTRACE_SETSIGMASK"); break;
	case PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG: SYSNAME(name, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"); break;
	case PTRACE_SET_SYSCALL_INFO: SYSNAME(name, "PTRACE_SET_SYSCALL_INFO"); break;
	default: return 0;
	}
	return 1;
}

/* find_tracee returns the task the caller traces whose thread id, in the
 * caller's pid namespace, is tid: after the call every successful request but
 * TRACEME has its target on the tracer's ptraced list. */
static __always_inline struct task_struct *find_tracee(struct task_struct *tracer, __s32 tid)
{
	unsigned int level = task_pid_level(tracer);
	void *head = (void *)tracer + bpf_core_field_offset(struct task_struct, ptraced);
	struct list_head *pos = BPF_CORE_READ(tracer, ptraced.next);
	for (int i = 0; i < 16; i++) {
		if (!pos || (void *)pos == head)
			return NULL;
		struct task_struct *t = (void *)pos - bpf_core_field_offset(struct task_struct, ptrace_entry);
		if (pid_nr_at(BPF_CORE_READ(t, thread_pid), level) == (__u32)tid)
			return t;
		pos = BPF_CORE_READ(pos, next);
	}
	return NULL;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_ptrace(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct event e;
	char name[40] = {};

	if (!take_syscall_state(&s))
		return 0;
	/* ptrace(request, pid, addr, data) */
	long req = (long)s.args[0];
	if (!ptrace_request_name(req, name))
		return 0;
	if (!emit_allowed(EVENT_PTRACE, 0) || !event_init(&e, ctx, EVENT_PTRACE))
		return 0;
	save_s64(&e, ARG_PTRACE_REQUEST, req);
	save_str(&e, ARG_PTRACE_REQUEST_NAME, name, 0);
	save_s32(&e, ARG_PTRACE_PID, (__s32)s.args[1]);
	save_u64(&e, ARG_PTRACE_ADDR, s.args[2]);
	save_u64(&e, ARG_PTRACE_DATA, s.args[3]);
	struct task_struct *me = e.task;
	struct task_struct *tracee = req == PTRACE_TRACEME ? NULL : find_tracee(me, (__s32)s.args[1]);
	if (tracee) {
		save_u32(&e, ARG_PTRACE_TARGET_PID, BPF_CORE_READ(tracee, tgid));
		save_bool(&e, ARG_PTRACE_TARGET_IS_CHILD, BPF_CORE_READ(tracee, real_parent, tgid) == BPF_CORE_READ(me, tgid));
		save_str(&e, ARG_PTRACE_TARGET_COMM, BPF_CORE_READ(tracee, comm), 0);
		save_file_path(&e, ARG_PTRACE_TARGET_EXE, BPF_CORE_READ(tracee, mm, exe_file));
	}
	event_submit(&e, (long)ctx->args[1]);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
/* args: EVENT_PROCESS_VM_READV, EVENT_PROCESS_VM_WRITEV */
int sys_exit_process_vm(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct event e;

	if (!take_syscall_state(&s))
		return 0;
	__u32 id = s.nr == NR_process_vm_writev ? EVENT_PROCESS_VM_WRITEV : EVENT_PROCESS_VM_READV;
	if (!emit_allowed(id, 0) || !event_init(&e, ctx, id))
		return 0;
	/* (pid, local_iov, liovcnt, remote_iov, riovcnt, flags): where in the
	 * other process the first remote iovec points is what an injection
	 * wrote over */
	struct iovec iov = {};
	bpf_probe_read_user(&iov, sizeof(iov), (void *)s.args[3]);
	save_s32(&e, ARG_PROCESS_VM_READV_PID, (__s32)s.args[0]);
	save_u64(&e, ARG_PROCESS_VM_READV_LOCAL_IOVCNT, s.args[2]);
	save_u64(&e, ARG_PROCESS_VM_READV_REMOTE_IOVCNT, s.args[4]);
	save_u64(&e, ARG_PROCESS_VM_READV_REMOTE_ADDR, (__u64)iov.iov_base);
	save_u64(&e, ARG_PROCESS_VM_READV_REMOTE_LEN, iov.iov_len);
	save_u64(&e, ARG_PROCESS_VM_READV_FLAGS, s.args[5]);
	event_submit(&e, (long)ctx->args[1]);
	return 0;
}

/* ======== security_bpf, security_bpf_map ======== */

/* bpf() commands reported. Lookups, updates, iteration and info queries are
 * left out: they are the steady traffic of every BPF agent, thousands a
 * second, and what they touch was loaded or created by a reported command. */
static __always_inline int bpf_cmd_reported(__u32 cmd)
{
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_PROG_GET_NEXT_ID:
	case BPF_MAP_GET_NEXT_ID:
	case BPF_OBJ_GET_INFO_BY_FD:
	case BPF_PROG_QUERY:
	case BPF_TASK_FD_QUERY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case BPF_BTF_GET_NEXT_ID:
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
	case BPF_LINK_GET_NEXT_ID:
	case 37: /* BPF_PROG_STREAM_READ_BY_FD */
		return 0;
	}
	return 1;
}

/* security_bpf: arguments 0-10 as in the table. attr is the kernel's copy at
 * the hook and the caller's memory at the syscall fallback; pointers inside
 * it (a tracepoint name, a pin path) are the caller's either way. */
static __always_inline void emit_security_bpf(void *ctx, __u32 cmd, const void *attr, __u32 size, int user,
					      long ret, int fallback)
{
	struct event e;
	union bpf_attr a;

	if (is_self() || !bpf_cmd_reported(cmd) || !emit_allowed(EVENT_SECURITY_BPF, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_BPF))
		return;
	__builtin_memset(&a, 0, sizeof(a));
	__u64 n = size;
	if (n > sizeof(a))
		n = sizeof(a);
	/* for the verifier: check the register that is passed */
	barrier_var(n);
	if (n > sizeof(a))
		return;
	if (user)
		bpf_probe_read_user(&a, n, attr);
	else
		bpf_probe_read_kernel(&a, n, attr);

	save_name(&e, ARG_SECURITY_BPF_CMD, bpf_cmd_names, cmd);
	save_u32(&e, ARG_SECURITY_BPF_CMD_ID, cmd);
	switch (cmd) {
	case BPF_PROG_LOAD: {
		char name[16];
		__builtin_memcpy(name, a.prog_name, sizeof(name));
		name[15] = 0;
		save_name(&e, ARG_SECURITY_BPF_PROG_TYPE, bpf_prog_type_names, a.prog_type);
		save_str(&e, ARG_SECURITY_BPF_PROG_NAME, name, 0);
		/* 0 is "not given" for most types (and cgroup_inet_ingress) */
		if (a.expected_attach_type)
			save_name(&e, ARG_SECURITY_BPF_ATTACH_TYPE, bpf_attach_type_names, a.expected_attach_type);
		save_u32(&e, ARG_SECURITY_BPF_INSN_CNT, a.insn_cnt);
		break;
	}
	case BPF_MAP_CREATE: {
		char name[16];
		__builtin_memcpy(name, a.map_name, sizeof(name));
		name[15] = 0;
		save_name(&e, ARG_SECURITY_BPF_MAP_TYPE, bpf_map_type_names, a.map_type);
		save_str(&e, ARG_SECURITY_BPF_MAP_NAME, name, 0);
		break;
	}
	case BPF_RAW_TRACEPOINT_OPEN:
		save_str(&e, ARG_SECURITY_BPF_TRACEPOINT, (void *)a.raw_tracepoint.name, 1);
		break;
	case BPF_PROG_ATTACH:
	case BPF_PROG_DETACH:
		save_name(&e, ARG_SECURITY_BPF_ATTACH_TYPE, bpf_attach_type_names, a.attach_type);
		break;
	case BPF_LINK_CREATE:
		save_name(&e, ARG_SECURITY_BPF_ATTACH_TYPE, bpf_attach_type_names, a.link_create.attach_type);
		break;
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_LINK_GET_FD_BY_ID:
		save_u32(&e, ARG_SECURITY_BPF_ID, a.prog_id);
		break;
	case BPF_OBJ_PIN:
	case BPF_OBJ_GET:
		save_str(&e, ARG_SECURITY_BPF_PATHNAME, (void *)a.pathname, 1);
		break;
	}
	event_submit(&e, ret);
}

SEC("fexit/security_bpf")
int BPF_PROG(fexit_security_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	__u64 ret = 0;
	/* the verdict of the security hook; the argument count differs
	 * between kernels (6.18 added one), so ask for the return value */
	bpf_get_func_ret(ctx, &ret);
	emit_security_bpf(ctx, cmd, attr, size, 0, (int)ret, 0);
	return 0;
}

SEC("kprobe/security_bpf")
int BPF_KPROBE(kprobe_security_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	emit_security_bpf(ctx, cmd, attr, size, 0, 0, 0);
	return 0;
}

/* security_bpf_map: a process gets a descriptor of a map (creating it, by id,
 * from a pin). Args: map id, name, type, fmode. */
static __always_inline void emit_bpf_map(void *ctx, struct bpf_map *map, __u32 fmode, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_BPF_MAP, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_BPF_MAP))
		return;
	char name[16] = {};
	bpf_probe_read_kernel(name, sizeof(name), &map->name);
	name[15] = 0;
	save_u32(&e, ARG_SECURITY_BPF_MAP_MAP_ID, BPF_CORE_READ(map, id));
	save_str(&e, ARG_SECURITY_BPF_MAP_MAP_NAME, name, 0);
	save_name(&e, ARG_SECURITY_BPF_MAP_MAP_TYPE, bpf_map_type_names, BPF_CORE_READ(map, map_type));
	save_u32(&e, ARG_SECURITY_BPF_MAP_FMODE, fmode);
	event_submit(&e, 0);
}

HOOK(security_bpf_map, struct bpf_map *map, fmode_t fmode)
{
	emit_bpf_map(ctx, map, fmode, 0);
	return 0;
}

/* The fallback of both: the syscall's exit. A map descriptor it returned is
 * a file named "bpf-map" (an anon inode) with the map behind it. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_bpf(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	if (!take_syscall_state(&s))
		return 0;
	long ret = ctx->args[1];
	__u32 cmd = s.args[0];
	emit_security_bpf(ctx, cmd, (void *)s.args[1], (__u32)s.args[2], 1, ret, 1);
	if (ret < 0 || (cmd != BPF_MAP_CREATE && cmd != BPF_MAP_GET_FD_BY_ID && cmd != BPF_OBJ_GET))
		return 0;
	struct file *f = task_fd_file((struct task_struct *)bpf_get_current_task(), (int)ret);
	if (!f)
		return 0;
	char name[8] = {};
	bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (name[0] != 'b' || name[1] != 'p' || name[2] != 'f' || name[3] != '-' || name[4] != 'm' ||
	    name[5] != 'a' || name[6] != 'p' || name[7] != 0)
		return 0;
	/* FMODE_READ | FMODE_WRITE, as the hook gets them */
	emit_bpf_map(ctx, BPF_CORE_READ(f, private_data), BPF_CORE_READ(f, f_mode) & 3, 1);
	return 0;
}

/* ======== cap_capable ======== */

#define CAP_OPT_NOAUDIT (1 << 1)

/* Args: cap, cap_name, audit (only where the options are known), the target
 * user namespace's inum and level; the result is the return value. */
static __always_inline void emit_cap_capable(void *ctx, struct user_namespace *ns, int cap, unsigned int opts,
					     int opts_known, int ret, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_CAP_CAPABLE, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_CAP_CAPABLE))
		return;
	save_s32(&e, ARG_CAP_CAPABLE_CAP, cap);
	save_name(&e, ARG_CAP_CAPABLE_CAP_NAME, cap_names, cap);
	if (opts_known)
		save_bool(&e, ARG_CAP_CAPABLE_AUDIT, !(opts & CAP_OPT_NOAUDIT));
	save_u32(&e, ARG_CAP_CAPABLE_USER_NS, BPF_CORE_READ(ns, ns.inum));
	save_u32(&e, ARG_CAP_CAPABLE_USER_NS_LEVEL, BPF_CORE_READ(ns, level));
	event_submit(&e, ret);
}

SEC("fexit/cap_capable")
int BPF_PROG(fexit_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts)
{
	__u64 ret = 0;
	bpf_get_func_ret(ctx, &ret);
	emit_cap_capable(ctx, ns, cap, opts, 1, (int)ret, 0);
	return 0;
}

/* capability:cap_capable (6.14 and later) has no options */
SEC("tp_btf/cap_capable")
int BPF_PROG(tp_btf_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	emit_cap_capable(ctx, target_ns, cap, 0, 0, ret, 1);
	return 0;
}

/* ======== cgroup_mkdir, cgroup_rmdir, cgroup_attach_task ======== */

/* Args of mkdir/rmdir: path (in its hierarchy), hierarchy_id, level, id. */
/* args: EVENT_CGROUP_MKDIR, EVENT_CGROUP_RMDIR */
static __always_inline void emit_cgroup_dir(void *ctx, __u32 id, const char *path, __u32 hierarchy, __u32 level,
					    __u64 cgid, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(id, fallback) || !event_init(&e, ctx, id))
		return;
	save_str(&e, ARG_CGROUP_MKDIR_PATH, path, 0);
	save_u32(&e, ARG_CGROUP_MKDIR_HIERARCHY_ID, hierarchy);
	save_u32(&e, ARG_CGROUP_MKDIR_LEVEL, level);
	save_u64(&e, ARG_CGROUP_MKDIR_ID, cgid);
	event_submit(&e, 0);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(tp_btf_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_MKDIR, path, BPF_CORE_READ(cgrp, root, hierarchy_id),
			BPF_CORE_READ(cgrp, level), BPF_CORE_READ(cgrp, kn, id), 0);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(tp_btf_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_RMDIR, path, BPF_CORE_READ(cgrp, root, hierarchy_id),
			BPF_CORE_READ(cgrp, level), BPF_CORE_READ(cgrp, kn, id), 0);
	return 0;
}

/* The classic tracepoints carry the same, the path as a __data_loc string. */
#define DATA_LOC(ctx, loc) ((const char *)(ctx) + ((loc) & 0xffff))

SEC("tracepoint/cgroup/cgroup_mkdir")
int tracepoint_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_MKDIR, DATA_LOC(ctx, ctx->__data_loc_path), ctx->root, ctx->level, ctx->id, 1);
	return 0;
}

SEC("tracepoint/cgroup/cgroup_rmdir")
int tracepoint_cgroup_rmdir(struct trace_event_raw_cgroup *ctx)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_RMDIR, DATA_LOC(ctx, ctx->__data_loc_path), ctx->root, ctx->level, ctx->id, 1);
	return 0;
}

/* Args of attach: path, hierarchy_id, level, id (of the destination), then
 * pid (host id of the task moved), comm, threadgroup (tp_btf only). */
static __always_inline int cgroup_attach_head(struct event *e, void *ctx, const char *path, __u32 hierarchy,
					      __u32 level, __u64 cgid, int fallback)
{
	if (is_self() || !emit_allowed(EVENT_CGROUP_ATTACH_TASK, fallback) ||
	    !event_init(e, ctx, EVENT_CGROUP_ATTACH_TASK))
		return 0;
	save_str(e, ARG_CGROUP_ATTACH_TASK_PATH, path, 0);
	save_u32(e, ARG_CGROUP_ATTACH_TASK_HIERARCHY_ID, hierarchy);
	save_u32(e, ARG_CGROUP_ATTACH_TASK_LEVEL, level);
	save_u64(e, ARG_CGROUP_ATTACH_TASK_ID, cgid);
	return 1;
}

/* args: EVENT_CGROUP_ATTACH_TASK */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(tp_btf_cgroup_attach_task, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	struct event e;
	if (!cgroup_attach_head(&e, ctx, path, BPF_CORE_READ(dst, root, hierarchy_id), BPF_CORE_READ(dst, level),
				BPF_CORE_READ(dst, kn, id), 0))
		return 0;
	save_u32(&e, ARG_CGROUP_ATTACH_TASK_PID, BPF_CORE_READ(task, pid));
	save_str(&e, ARG_CGROUP_ATTACH_TASK_COMM, BPF_CORE_READ(task, comm), 0);
	save_bool(&e, ARG_CGROUP_ATTACH_TASK_THREADGROUP, threadgroup);
	event_submit(&e, 0);
	return 0;
}

/* args: EVENT_CGROUP_ATTACH_TASK */
SEC("tracepoint/cgroup/cgroup_attach_task")
int tracepoint_cgroup_attach_task(struct trace_event_raw_cgroup_migrate *ctx)
{
	struct event e;
	if (!cgroup_attach_head(&e, ctx, DATA_LOC(ctx, ctx->__data_loc_dst_path), ctx->dst_root, ctx->dst_level,
				ctx->dst_id, 1))
		return 0;
	save_u32(&e, ARG_CGROUP_ATTACH_TASK_PID, ctx->pid);
	save_str(&e, ARG_CGROUP_ATTACH_TASK_COMM, DATA_LOC(ctx, ctx->__data_loc_comm), 0);
	event_submit(&e, 0);
	return 0;
}

/* ======== do_exit ======== */

/* Args: exit_code (as passed to do_exit: status<<8, or the signal), and
 * group_dead (this is the process's last thread). */
static __always_inline void emit_do_exit(void *ctx, long code, int group_dead, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_DO_EXIT, fallback) || !event_init(&e, ctx, EVENT_DO_EXIT))
		return;
	save_s64(&e, ARG_DO_EXIT_EXIT_CODE, code);
	save_bool(&e, ARG_DO_EXIT_GROUP_DEAD, group_dead);
	event_submit(&e, 0);
}

/* At entry the thread still counts in signal->live. */
HOOK(do_exit, long code)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	emit_do_exit(ctx, code, BPF_CORE_READ(t, signal, live.counter) == 1, 0);
	return 0;
}

/* sched_process_exit comes later in do_exit: the code is stored in
 * exit_code and the thread no longer counts in signal->live. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit_code, struct task_struct *p)
{
	emit_do_exit(ctx, BPF_CORE_READ(p, exit_code), BPF_CORE_READ(p, signal, live.counter) == 0, 1);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int raw_tp_sched_process_exit_code(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx->args[0];
	emit_do_exit(ctx, BPF_CORE_READ(p, exit_code), BPF_CORE_READ(p, signal, live.counter) == 0, 1);
	return 0;
}

/* ======== sched_switch ======== */

struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/* Args: preempt, prev_pid, prev_tid, prev_comm, prev_state, next_pid,
 * next_tid, next_comm. It runs in prev's context, so the header is prev's.
 *
 * Switches to and from the sensor are left out, as all its own activity is:
 * here they would also feed themselves (the sensor goes to sleep, the record
 * of that wakes it up, it reads and goes to sleep again...). */
static __always_inline void emit_sched_switch(void *ctx, int preempt, struct task_struct *prev, struct task_struct *next,
					      int fallback)
{
	struct event e;
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid), next_tgid = BPF_CORE_READ(next, tgid);
	if (self_tgid && (prev_tgid == self_tgid || next_tgid == self_tgid))
		return;
	if (!emit_allowed(EVENT_SCHED_SWITCH, fallback) || !event_init(&e, ctx, EVENT_SCHED_SWITCH))
		return;
	save_bool(&e, ARG_SCHED_SWITCH_PREEMPT, preempt);
	save_u32(&e, ARG_SCHED_SWITCH_PREV_PID, prev_tgid);
	save_u32(&e, ARG_SCHED_SWITCH_PREV_TID, BPF_CORE_READ(prev, pid));
	save_u64(&e, ARG_SCHED_SWITCH_PREV_STATE, task_state(prev));
	save_u32(&e, ARG_SCHED_SWITCH_NEXT_PID, next_tgid);
	save_u32(&e, ARG_SCHED_SWITCH_NEXT_TID, BPF_CORE_READ(next, pid));
	save_str(&e, ARG_SCHED_SWITCH_PREV_COMM, BPF_CORE_READ(prev, comm), 0);
	save_str(&e, ARG_SCHED_SWITCH_NEXT_COMM, BPF_CORE_READ(next, comm), 0);
	event_submit(&e, 0);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tp_btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	emit_sched_switch(ctx, preempt, prev, next, 0);
	return 0;
}

SEC("raw_tracepoint/sched_switch")
int raw_tp_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	emit_sched_switch(ctx, (int)ctx->args[0], (struct task_struct *)ctx->args[1], (struct task_struct *)ctx->args[2], 1);
	return 0;
}

/* ======== kexec_load, kexec_file_load ======== */

SEC("raw_tracepoint/sys_exit")
int sys_exit_kexec(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct event e;

	if (!take_syscall_state(&s))
		return 0;
	long ret = ctx->args[1];
	if (s.nr == NR_kexec_load) {
		/* kexec_load(entry, nr_segments, segments, flags) */
		if (!emit_allowed(EVENT_KEXEC_LOAD, 0) || !event_init(&e, ctx, EVENT_KEXEC_LOAD))
			return 0;
		save_u64(&e, ARG_KEXEC_LOAD_ENTRY, s.args[0]);
		save_u64(&e, ARG_KEXEC_LOAD_NR_SEGMENTS, s.args[1]);
		save_u64(&e, ARG_KEXEC_LOAD_FLAGS, s.args[3]);
	} else if (s.nr == NR_kexec_file_load) {
		/* kexec_file_load(kernel_fd, initrd_fd, cmdline_len, cmdline, flags) */
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		if (ret == 0) {
			/* security_kernel_post_read_file fallback: a loaded kernel
			 * (and initrd) was read whole */
			struct file *k = task_fd_file(t, (int)s.args[0]), *i = task_fd_file(t, (int)s.args[1]);
			emit_post_read_file(ctx, k, BPF_CORE_READ(k, f_inode, i_size), READING_KEXEC_IMAGE, 1);
			if (i)
				emit_post_read_file(ctx, i, BPF_CORE_READ(i, f_inode, i_size), READING_KEXEC_INITRAMFS, 1);
		}
		if (!emit_allowed(EVENT_KEXEC_FILE_LOAD, 0) || !event_init(&e, ctx, EVENT_KEXEC_FILE_LOAD))
			return 0;
		save_s32(&e, ARG_KEXEC_FILE_LOAD_KERNEL_FD, (__s32)s.args[0]);
		save_file_path(&e, ARG_KEXEC_FILE_LOAD_KERNEL_PATH, task_fd_file(e.task, (int)s.args[0]));
		save_s32(&e, ARG_KEXEC_FILE_LOAD_INITRD_FD, (__s32)s.args[1]);
		if ((__s32)s.args[1] >= 0)
			save_file_path(&e, ARG_KEXEC_FILE_LOAD_INITRD_PATH, task_fd_file(e.task, (int)s.args[1]));
		if (s.args[2])
			save_str(&e, ARG_KEXEC_FILE_LOAD_CMDLINE, (void *)s.args[3], 1);
		save_u64(&e, ARG_KEXEC_FILE_LOAD_FLAGS, s.args[4]);
	} else {
		return 0;
	}
	event_submit(&e, ret);
	return 0;
}

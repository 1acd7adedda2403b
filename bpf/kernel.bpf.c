// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The kernel's own facilities: process injection (ptrace, process_vm_*), the
 * bpf() syscall, capabilities. (kexec, which loads a kernel, is in module.bpf.c.)
 */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/kernel.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_ptrace(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
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
	event_submit(&e, (long)ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
/* args: EVENT_PROCESS_VM_READV, EVENT_PROCESS_VM_WRITEV */
int sys_exit_process_vm(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
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
	event_submit(&e, (long)ctx->ret);
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
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_bpf(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	if (!take_syscall_state(&s))
		return 0;
	long ret = ctx->ret;
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

/* The kprobe variant, for kernels without trampolines: the arguments are
 * kept per thread at entry and the event is sent at return, with the
 * verdict. cap_capable does not call itself, so one slot per thread is
 * enough; an LRU map, so returns that never come (a kretprobe instance
 * missed under load) cannot fill it. */
struct cap_call {
	__u64 ns; /* struct user_namespace * */
	int cap;
	unsigned int opts;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct cap_call);
} cap_calls SEC(".maps");

SEC("kprobe/cap_capable")
int BPF_KPROBE(kprobe_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts)
{
	if (is_self() || !emit_allowed(EVENT_CAP_CAPABLE, 0))
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct cap_call c = {.ns = (__u64)ns, .cap = cap, .opts = opts};
	bpf_map_update_elem(&cap_calls, &tid, &c, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(kretprobe_cap_capable, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct cap_call *c = bpf_map_lookup_elem(&cap_calls, &tid);
	if (!c)
		return 0;
	struct cap_call call = *c;
	bpf_map_delete_elem(&cap_calls, &tid);
	emit_cap_capable(ctx, (struct user_namespace *)call.ns, call.cap, call.opts, 1, ret, 0);
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

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_exit_bpf, bpf);
SYSCALLS(sys_exit_ptrace, ptrace);
PROBE(PTRACE, "syscalls", sys_enter_save(ptrace), sys_exit_ptrace);
PROBE(PROCESS_VM_READV, "syscalls", sys_enter_save(process_vm_readv), sys_exit_process_vm(process_vm_readv));
PROBE(PROCESS_VM_WRITEV, "syscalls", sys_enter_save(process_vm_writev), sys_exit_process_vm(process_vm_writev));
PROBE(SECURITY_BPF, "fexit/security_bpf", fexit_security_bpf);
PROBE(SECURITY_BPF, "kprobe/security_bpf", kprobe_security_bpf);
FALLBACK(SECURITY_BPF, "syscalls", sys_enter_save(bpf), sys_exit_bpf);
HOOK_PROBES(SECURITY_BPF_MAP, security_bpf_map);
FALLBACK(SECURITY_BPF_MAP, "syscalls", sys_enter_save(bpf), sys_exit_bpf);
PROBE(CAP_CAPABLE, "fexit/cap_capable", fexit_cap_capable);
PROBE(CAP_CAPABLE, "kprobe/cap_capable + kretprobe/cap_capable", kprobe_cap_capable, kretprobe_cap_capable);
FALLBACK(CAP_CAPABLE, "tp_btf/cap_capable", tp_btf_cap_capable);

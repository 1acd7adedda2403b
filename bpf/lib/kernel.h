/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers of the kernel-facilities family (kernel.bpf.c): namespace
 * snapshots, names of the kernel's own enums (capabilities, bpf commands,
 * program and map types, ptrace requests), and the syscall the current task
 * is in.
 */
#ifndef VIGIL_KERNEL_H
#define VIGIL_KERNEL_H

#include "event.h"

#define PF_KTHREAD 0x00200000

/* emit_unless_off is for a program that is part of every probe of its event
 * because it sees what no other probe of that event sees (the syscall layer
 * of switch_task_namespaces next to the kernel hook): only an event switched
 * off keeps it quiet. */
static __always_inline int emit_unless_off(__u32 id)
{
	return event_mode(id) != MODE_OFF;
}

/* The syscall the current task is in, -1 for a kernel thread. Read from the
 * task's saved user registers, so it works from any hook. */
static __always_inline long current_syscall_nr(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	if (BPF_CORE_READ(t, flags) & PF_KTHREAD)
		return -1;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
	return BPF_CORE_READ(regs, orig_ax);
}

/* ---- namespaces ---- */

/* The namespace kinds, in the order of their arguments and of their names in
 * /proc/PID/ns. pid_for_children and time_for_children are what unshare and
 * setns change; a task's own pid namespace never changes, its own time
 * namespace changes at the next exec after unshare(CLONE_NEWTIME). */
enum ns_kind {
	NS_MNT,
	NS_UTS,
	NS_IPC,
	NS_NET,
	NS_PID_FOR_CHILDREN,
	NS_CGROUP,
	NS_TIME,
	NS_TIME_FOR_CHILDREN,
	NS_USER,
	NS_KINDS,
};

struct ns_snap {
	__u32 inum[NS_KINDS];
};

static __always_inline void read_ns(struct nsproxy *ns, struct user_namespace *user, struct ns_snap *s)
{
	s->inum[NS_MNT] = BPF_CORE_READ(ns, mnt_ns, ns.inum);
	s->inum[NS_UTS] = BPF_CORE_READ(ns, uts_ns, ns.inum);
	s->inum[NS_IPC] = BPF_CORE_READ(ns, ipc_ns, ns.inum);
	s->inum[NS_NET] = BPF_CORE_READ(ns, net_ns, ns.inum);
	s->inum[NS_PID_FOR_CHILDREN] = BPF_CORE_READ(ns, pid_ns_for_children, ns.inum);
	s->inum[NS_CGROUP] = BPF_CORE_READ(ns, cgroup_ns, ns.inum);
	s->inum[NS_TIME] = 0;
	s->inum[NS_TIME_FOR_CHILDREN] = 0;
	if (bpf_core_field_exists(ns->time_ns)) {
		s->inum[NS_TIME] = BPF_CORE_READ(ns, time_ns, ns.inum);
		s->inum[NS_TIME_FOR_CHILDREN] = BPF_CORE_READ(ns, time_ns_for_children, ns.inum);
	}
	s->inum[NS_USER] = BPF_CORE_READ(user, ns.inum);
}

static __always_inline void read_task_ns(struct task_struct *t, struct ns_snap *s)
{
	read_ns(BPF_CORE_READ(t, nsproxy), BPF_CORE_READ(t, real_cred, user_ns), s);
}

/* read_initial_ns fills s with the host's initial namespaces, those of the
 * idle task (init_task: init_nsproxy, init_user_ns). It is found without a
 * kernel symbol: level 0 of any task's struct pid is the initial pid
 * namespace, whose child reaper is the host's pid 1, whose parent is the
 * idle task. */
static __always_inline void read_initial_ns(struct task_struct *t, struct ns_snap *s)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct upid root = {};
	bpf_core_read(&root, sizeof(root), &pid->numbers[0]);
	struct task_struct *idle = BPF_CORE_READ(root.ns, child_reaper, real_parent);
	read_task_ns(idle, s);
}

/* 1 when a != b, 0 otherwise, without a branch: nine compares with branches
 * in a row give the verifier 2^9 paths to walk (the mask differs on each).
 * The barrier keeps clang from turning it back into a compare. */
static __always_inline __u32 differs(__u32 a, __u32 b)
{
	__u64 d = a ^ b;
	barrier_var(d);
	return (d + 0xffffffffULL) >> 32;
}

static __always_inline __u32 ns_changed(const struct ns_snap *a, const struct ns_snap *b)
{
	__u32 mask = 0;
	for (int i = 0; i < NS_KINDS; i++)
		mask |= differs(a->inum[i], b->inum[i]) << i;
	return mask;
}

static __always_inline __u32 ns_equal(const struct ns_snap *a, const struct ns_snap *b)
{
	return ~ns_changed(a, b) & ((1u << NS_KINDS) - 1);
}

static const char ns_kind_names[NS_KINDS][20] = {
	"mnt", "uts", "ipc", "net", "pid_for_children", "cgroup", "time", "time_for_children", "user",
};

struct ns_names_ctx {
	struct scratch *s;
	__u32 p;
	__u32 mask;
	__u16 n;
};

static long ns_name_one(__u64 i, void *data)
{
	struct ns_names_ctx *c = data;
	if (i >= NS_KINDS)
		return 1;
	if (!(c->mask & (1u << i)))
		return 0;
	__u32 p = c->p;
	if (p > MAX_RECORD - 32)
		return 1;
	long n = bpf_probe_read_kernel_str(&c->s->buf[OFF(p + 4)], sizeof(ns_kind_names[0]), ns_kind_names[i]);
	if (n <= 0)
		return 1;
	__u32 len = n;
	__builtin_memcpy(&c->s->buf[OFF(p)], &len, 4);
	c->p = p + 4 + (len & 31);
	c->n++;
	return 0;
}

/* save_ns_kinds saves the kinds set in mask as one string array argument
 * (the /proc/PID/ns names), so a rule can say "net" in input.args.changed.
 * The names are written in bpf_loop: nine optional names inline would give
 * the verifier 2^9 paths per array. */
static __always_inline int save_ns_kinds(struct event *e, __u8 index, __u32 mask)
{
	if (e->off + 4 + NS_KINDS * 24 > MAX_RECORD)
		return 0;
	struct ns_names_ctx c = {.s = e->s, .p = e->off + 4, .mask = mask};
	__u32 at = e->off;
	bpf_loop(NS_KINDS, ns_name_one, &c, 0);
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = ARG_STR_ARR;
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &c.n, 2);
	e->off = c.p;
	e->argnum++;
	return 1;
}

/* old and new inums as arguments first, first+1, ... (old, new per kind) */
static __always_inline void save_ns_pairs(struct event *e, __u8 first, const struct ns_snap *old, const struct ns_snap *new)
{
	for (int i = 0; i < NS_KINDS; i++) {
		save_u32(e, first + 2 * i, old->inum[i]);
		save_u32(e, first + 2 * i + 1, new->inum[i]);
	}
}

/* save_ns_pairs writes old, new per kind in ns_kind_names' order: the table's
 * switch_task_namespaces (event.NamespaceKinds) must keep it. */
#define NS_PAIR_OK(K, I)                                                                                  \
	(ARG_SWITCH_TASK_NAMESPACES_OLD_##K == ARG_SWITCH_TASK_NAMESPACES_OLD_MNT + 2 * (I) &&              \
	 ARG_SWITCH_TASK_NAMESPACES_NEW_##K == ARG_SWITCH_TASK_NAMESPACES_OLD_MNT + 2 * (I) + 1)
_Static_assert(NS_PAIR_OK(MNT, 0) && NS_PAIR_OK(UTS, 1) && NS_PAIR_OK(IPC, 2) && NS_PAIR_OK(NET, 3) &&
		       NS_PAIR_OK(PID_FOR_CHILDREN, 4) && NS_PAIR_OK(CGROUP, 5) && NS_PAIR_OK(TIME, 6) &&
		       NS_PAIR_OK(TIME_FOR_CHILDREN, 7) && NS_PAIR_OK(USER, 8) && NS_KINDS == 9,
	       "switch_task_namespaces: old_/new_ arguments out of save_ns_pairs' order");

/* ---- names of the kernel's enums ----
 * Tables indexed by the UAPI value (stable by definition), in .rodata: a
 * value outside a table, or a hole in it, is saved as "". */

#define NAME_LEN 32

static const char cap_names[][24] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static const char bpf_cmd_names[][NAME_LEN] = {
	[BPF_MAP_CREATE] = "BPF_MAP_CREATE",
	[BPF_MAP_LOOKUP_ELEM] = "BPF_MAP_LOOKUP_ELEM",
	[BPF_MAP_UPDATE_ELEM] = "BPF_MAP_UPDATE_ELEM",
	[BPF_MAP_DELETE_ELEM] = "BPF_MAP_DELETE_ELEM",
	[BPF_MAP_GET_NEXT_KEY] = "BPF_MAP_GET_NEXT_KEY",
	[BPF_PROG_LOAD] = "BPF_PROG_LOAD",
	[BPF_OBJ_PIN] = "BPF_OBJ_PIN",
	[BPF_OBJ_GET] = "BPF_OBJ_GET",
	[BPF_PROG_ATTACH] = "BPF_PROG_ATTACH",
	[BPF_PROG_DETACH] = "BPF_PROG_DETACH",
	[BPF_PROG_TEST_RUN] = "BPF_PROG_TEST_RUN",
	[BPF_PROG_GET_NEXT_ID] = "BPF_PROG_GET_NEXT_ID",
	[BPF_MAP_GET_NEXT_ID] = "BPF_MAP_GET_NEXT_ID",
	[BPF_PROG_GET_FD_BY_ID] = "BPF_PROG_GET_FD_BY_ID",
	[BPF_MAP_GET_FD_BY_ID] = "BPF_MAP_GET_FD_BY_ID",
	[BPF_OBJ_GET_INFO_BY_FD] = "BPF_OBJ_GET_INFO_BY_FD",
	[BPF_PROG_QUERY] = "BPF_PROG_QUERY",
	[BPF_RAW_TRACEPOINT_OPEN] = "BPF_RAW_TRACEPOINT_OPEN",
	[BPF_BTF_LOAD] = "BPF_BTF_LOAD",
	[BPF_BTF_GET_FD_BY_ID] = "BPF_BTF_GET_FD_BY_ID",
	[BPF_TASK_FD_QUERY] = "BPF_TASK_FD_QUERY",
	[BPF_MAP_LOOKUP_AND_DELETE_ELEM] = "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
	[BPF_MAP_FREEZE] = "BPF_MAP_FREEZE",
	[BPF_BTF_GET_NEXT_ID] = "BPF_BTF_GET_NEXT_ID",
	[BPF_MAP_LOOKUP_BATCH] = "BPF_MAP_LOOKUP_BATCH",
	[BPF_MAP_LOOKUP_AND_DELETE_BATCH] = "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
	[BPF_MAP_UPDATE_BATCH] = "BPF_MAP_UPDATE_BATCH",
	[BPF_MAP_DELETE_BATCH] = "BPF_MAP_DELETE_BATCH",
	[BPF_LINK_CREATE] = "BPF_LINK_CREATE",
	[BPF_LINK_UPDATE] = "BPF_LINK_UPDATE",
	[BPF_LINK_GET_FD_BY_ID] = "BPF_LINK_GET_FD_BY_ID",
	[BPF_LINK_GET_NEXT_ID] = "BPF_LINK_GET_NEXT_ID",
	[BPF_ENABLE_STATS] = "BPF_ENABLE_STATS",
	[BPF_ITER_CREATE] = "BPF_ITER_CREATE",
	[BPF_LINK_DETACH] = "BPF_LINK_DETACH",
	[BPF_PROG_BIND_MAP] = "BPF_PROG_BIND_MAP",
	[36] = "BPF_TOKEN_CREATE",
	[37] = "BPF_PROG_STREAM_READ_BY_FD",
};

/* program types, as bpftool names them */
static const char bpf_prog_type_names[][NAME_LEN] = {
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act",
	"tracepoint", "xdp", "perf_event", "cgroup_skb", "cgroup_sock",
	"lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb",
	"cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr",
	"lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector",
	"cgroup_sysctl", "raw_tracepoint_writable", "cgroup_sockopt",
	"tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall",
	"netfilter",
};

static const char bpf_map_type_names[][NAME_LEN] = {
	"unspec", "hash", "array", "prog_array", "perf_event_array",
	"percpu_hash", "percpu_array", "stack_trace", "cgroup_array",
	"lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps",
	"hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash",
	"cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage",
	"queue", "stack", "sk_storage", "devmap_hash", "struct_ops", "ringbuf",
	"inode_storage", "task_storage", "bloom_filter", "user_ringbuf",
	"cgrp_storage", "arena",
};

static const char bpf_attach_type_names[][NAME_LEN] = {
	"cgroup_inet_ingress", "cgroup_inet_egress", "cgroup_inet_sock_create",
	"cgroup_sock_ops", "sk_skb_stream_parser", "sk_skb_stream_verdict",
	"cgroup_device", "sk_msg_verdict", "cgroup_inet4_bind",
	"cgroup_inet6_bind", "cgroup_inet4_connect", "cgroup_inet6_connect",
	"cgroup_inet4_post_bind", "cgroup_inet6_post_bind",
	"cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "lirc_mode2",
	"flow_dissector", "cgroup_sysctl", "cgroup_udp4_recvmsg",
	"cgroup_udp6_recvmsg", "cgroup_getsockopt", "cgroup_setsockopt",
	"trace_raw_tp", "trace_fentry", "trace_fexit", "modify_return",
	"lsm_mac", "trace_iter", "cgroup_inet4_getpeername",
	"cgroup_inet6_getpeername", "cgroup_inet4_getsockname",
	"cgroup_inet6_getsockname", "xdp_devmap", "cgroup_inet_sock_release",
	"xdp_cpumap", "sk_lookup", "xdp", "sk_skb_verdict",
	"sk_reuseport_select", "sk_reuseport_select_or_migrate", "perf_event",
	"trace_kprobe_multi", "lsm_cgroup", "struct_ops", "netfilter",
	"tcx_ingress", "tcx_egress", "trace_uprobe_multi",
	"cgroup_unix_connect", "cgroup_unix_sendmsg", "cgroup_unix_recvmsg",
	"cgroup_unix_getpeername", "cgroup_unix_getsockname",
	"netkit_primary", "netkit_peer", "trace_kprobe_session",
	"trace_uprobe_session",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* save_name saves table[v], or "" when v is outside the table. The index is
 * bounded before it is used, for the verifier. */
#define save_name(e, index, table, v)                                            \
	({                                                                       \
		__u64 _v = (__u64)(v);                                           \
		barrier_var(_v);                                                 \
		_v < ARRAY_LEN(table) ? save_str(e, index, table[_v], 0)         \
				      : save_str(e, index, "", 0);              \
	})

#endif

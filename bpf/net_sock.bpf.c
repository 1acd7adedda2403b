// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Sockets: creation, bind, listen, connect, accept (the LSM hooks, with the
 * syscall exits as fallback), and dup of a descriptor (what it is: a socket
 * and its peer, a pipe, a file).
 *
 * Several of these hooks run where the current task is not the socket's
 * owner (a TCP state change in softirq, a packet at TC). Process-context
 * hooks remember each socket's owner (sock_owners) and the owner of its
 * local address and port (endpoint_owners); the others report that owner,
 * or nobody, and say which (the attribution argument).
 */
#include "lib/common.h"
#include "lib/raw_exit.h"
#include "lib/net.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- socket creation ---- */

/* socket_filters[id]: what a socket creation (event socket or
 * security_socket_create) must be for some signature to want it, from the
 * signatures' conditions (the loader writes it, sensor/interest.go): one of
 * nalts alternatives, each a set of address families (bit n: family n,
 * bit 63: any family from 63 up) and of socket types (bit n: type n). A
 * creation no alternative admits stays in the kernel; on == 0: no filter.
 * The other tests of a condition (the protocol, the process) are left to
 * the engine. */
#define SOCKET_FILTER_ALTS 8
struct socket_filter {
	__u32 on;
	__u32 nalts;
	__u64 families[SOCKET_FILTER_ALTS];
	__u32 types[SOCKET_FILTER_ALTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVENT_ID_MAX);
	__type(key, __u32);
	__type(value, struct socket_filter);
} socket_filters SEC(".maps");

static __always_inline int socket_wanted(__u32 id, __u32 family, __u32 type)
{
	struct socket_filter *f = bpf_map_lookup_elem(&socket_filters, &id);
	if (!f || !f->on)
		return 1;
	__u64 fam = 1ULL << (family < 63 ? family : 63);
	__u32 typ = 1U << (type & SOCK_TYPE_MASK);
	for (int i = 0; i < SOCKET_FILTER_ALTS; i++) {
		if (i >= f->nalts)
			break;
		if ((f->families[i] & fam) && (f->types[i] & typ))
			return 1;
	}
	return 0;
}

static __always_inline void emit_socket_create(void *ctx, __u32 family, __u32 type, __u32 protocol, int kern,
					       long ret, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_SECURITY_SOCKET_CREATE, fallback) ||
	    !socket_wanted(EVENT_SECURITY_SOCKET_CREATE, family, type) ||
	    !event_init(&e, ctx, EVENT_SECURITY_SOCKET_CREATE))
		return;
	save_name(&e, ARG_SECURITY_SOCKET_CREATE_FAMILY, NT_FAMILY, family);
	save_name(&e, ARG_SECURITY_SOCKET_CREATE_TYPE, NT_SOCK_TYPE, type);
	save_u32(&e, ARG_SECURITY_SOCKET_CREATE_PROTOCOL, protocol);
	save_bool(&e, ARG_SECURITY_SOCKET_CREATE_KERN, kern != 0);
	event_submit(&e, ret);
}

HOOK(security_socket_create, int family, int type, int protocol, int kern)
{
	if (!is_self())
		emit_socket_create(ctx, family, type, protocol, kern, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_socket(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct event e;

	if (!take_syscall_state(&s) || s.nr != NR_socket)
		return 0;
	long ret = ctx->ret;
	__u32 family = s.args[0], type = s.args[1], protocol = s.args[2];

	if (emit_allowed(EVENT_SOCKET, 0) && socket_wanted(EVENT_SOCKET, family, type) && event_init(&e, ctx, EVENT_SOCKET)) {
		save_name(&e, ARG_SOCKET_FAMILY, NT_FAMILY, family);
		save_name(&e, ARG_SOCKET_TYPE, NT_SOCK_TYPE, type);
		save_u32(&e, ARG_SOCKET_PROTOCOL, protocol);
		save_u32(&e, ARG_SOCKET_FLAGS, type & ~SOCK_TYPE_MASK); /* SOCK_NONBLOCK, SOCK_CLOEXEC */
		save_s32(&e, ARG_SOCKET_FD, ret >= 0 ? (__s32)ret : -1);
		event_submit(&e, ret);
	}
	/* security_socket_create fallback: every socket(2) passed the hook */
	emit_socket_create(ctx, family, type, protocol, 0, ret, 1);

	if (ret >= 0) {
		struct sock_desc d;
		read_sock((__u64)fd_sock((struct task_struct *)bpf_get_current_task(), ret), &d);
		remember_owner(&d, ORIGIN_SOCKET);
	}
	return 0;
}

/* ---- bind, listen, connect, accept ----
 * Args 0-6 are the socket (save_sock_desc), 7 its descriptor (-1 where the
 * hook does not know it), 8 listen's backlog. */

/* args: EVENT_SECURITY_SOCKET_BIND, EVENT_SECURITY_SOCKET_LISTEN, EVENT_SECURITY_SOCKET_CONNECT, EVENT_SECURITY_SOCKET_ACCEPT */
static __always_inline void emit_sock_event(void *ctx, __u32 id, int fallback, const struct sock_desc *d,
					    int fd, int backlog, long ret)
{
	struct event e;
	if (!emit_allowed(id, fallback) || !event_init(&e, ctx, id))
		return;
	save_sock_desc(&e, ARG_SECURITY_SOCKET_BIND_FAMILY, d);
	save_s32(&e, ARG_SECURITY_SOCKET_BIND_FD, fd);
	if (id == EVENT_SECURITY_SOCKET_LISTEN)
		save_s32(&e, ARG_SECURITY_SOCKET_LISTEN_BACKLOG, backlog);
	event_submit(&e, ret);
}

static __always_inline void sock_of(struct socket *so, struct sock_desc *d)
{
	read_sock(so ? (__u64)BPF_CORE_READ(so, sk) : 0, d);
}

/* bind: the address asked for (the fallback reads the same from the
 * caller's memory). */
static __always_inline void on_bind_hook(void *ctx, struct socket *so, struct sockaddr *addr, int len)
{
	struct sock_desc d;
	if (is_self())
		return;
	sock_of(so, &d);
	desc_set_sockaddr(&d, addr_of(addr), len, 0, 0);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_BIND, 0, &d, -1, 0, 0);
	/* the port asked for, when one was: 0 makes the kernel pick it later */
	remember_owner(&d, ORIGIN_BIND);
}

HOOK(security_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen)
{
	on_bind_hook(ctx, sock, address, addrlen);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_bind(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s) || s.nr != NR_bind)
		return 0;
	long ret = ctx->ret;
	struct sock *sk = fd_sock((struct task_struct *)bpf_get_current_task(), (int)s.args[0]);
	read_sock((__u64)sk, &d);
	__builtin_memset(d.raddr, 0, sizeof(d.raddr));
	d.rport = 0;
	d.rpath = 0;
	desc_set_sockaddr(&d, (__u64)s.args[1], (int)s.args[2], 1, 0);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_BIND, 1, &d, (int)s.args[0], 0, ret);
	if (ret == 0) {
		/* the address the kernel bound, port picked included */
		read_sock((__u64)sk, &d);
		remember_owner(&d, ORIGIN_BIND);
	}
	return 0;
}

static __always_inline void on_listen_hook(void *ctx, struct socket *so, int backlog)
{
	struct sock_desc d;
	if (is_self())
		return;
	sock_of(so, &d);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_LISTEN, 0, &d, -1, backlog, 0);
	remember_owner(&d, ORIGIN_LISTEN);
}

HOOK(security_socket_listen, struct socket *sock, int backlog)
{
	on_listen_hook(ctx, sock, backlog);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_listen(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s) || s.nr != NR_listen)
		return 0;
	long ret = ctx->ret;
	read_sock((__u64)fd_sock((struct task_struct *)bpf_get_current_task(), (int)s.args[0]), &d);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_LISTEN, 1, &d, (int)s.args[0], (int)s.args[1], ret);
	if (ret == 0)
		remember_owner(&d, ORIGIN_LISTEN);
	return 0;
}

/* connect: the remote end asked for; the local end as far as it is known
 * when the probe runs (before connect at the hook, with the port connect
 * picked at the fallback's syscall exit). */
static __always_inline void on_connect_hook(void *ctx, struct socket *so, struct sockaddr *addr, int len)
{
	struct sock_desc d;
	if (is_self())
		return;
	sock_of(so, &d);
	desc_set_sockaddr(&d, addr_of(addr), len, 0, 1);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_CONNECT, 0, &d, -1, 0, 0);
	remember_owner(&d, ORIGIN_CONNECT);
}

HOOK(security_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	on_connect_hook(ctx, sock, address, addrlen);
	return 0;
}

/* The connect entry keeps the arguments for the exit like sys_enter_save,
 * and sees a UDP disconnect (connect to AF_UNSPEC) while the socket still
 * has the peer it is about to forget. */
SEC("tracepoint/syscalls/sys_enter")
int sys_enter_connect(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state st = {};
	__u32 tid = current_tid();

	read_syscall_args(syscall_regs(ctx), st.args);
	st.nr = ctx->nr;
	bpf_map_update_elem(&syscall_states, &tid, &st, BPF_ANY);

	__u16 fam = AF_UNIX;
	if (bpf_probe_read_user(&fam, sizeof(fam), (void *)st.args[1]) || fam != AF_UNSPEC)
		return 0;
	if (!emit_allowed(EVENT_UDP_DISCONNECT, 1))
		return 0;
	struct sock_desc d;
	read_sock((__u64)fd_sock((struct task_struct *)bpf_get_current_task(), (int)st.args[0]), &d);
	if (is_udp(&d))
		emit_udp_disconnect(ctx, &d, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_connect(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s) || s.nr != NR_connect)
		return 0;
	long ret = ctx->ret;
	struct sock *sk = fd_sock((struct task_struct *)bpf_get_current_task(), (int)s.args[0]);
	read_sock((__u64)sk, &d);
	desc_set_sockaddr(&d, (__u64)s.args[1], (int)s.args[2], 1, 1);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_CONNECT, 1, &d, (int)s.args[0], 0, ret);
	/* connect picked the local port (TCP, even non-blocking; UDP binds
	 * here too): from now on the port's packets have an owner */
	if (ret == 0 || ret == -EINPROGRESS) {
		read_sock((__u64)sk, &d);
		remember_owner(&d, ORIGIN_CONNECT);
	}
	return 0;
}

/* accept: the accepted socket, its peer included. The LSM hook
 * security_socket_accept runs before a connection is taken off the queue,
 * when the peer is not known yet; do_accept, which calls it and which every
 * accept goes through (io_uring's too), returns the accepted socket. */
static __always_inline void on_accepted(void *ctx, struct file *f, int fd, int fallback, long ret)
{
	struct sock_desc d;
	if ((unsigned long)f >= (unsigned long)-4095 || !f)
		return;
	struct socket *so = file_socket(f);
	if (!so)
		return;
	sock_of(so, &d);
	emit_sock_event(ctx, EVENT_SECURITY_SOCKET_ACCEPT, fallback, &d, fd, 0, ret);
	remember_owner(&d, ORIGIN_ACCEPT);
}

SEC("fexit/do_accept")
int BPF_PROG(fexit_do_accept)
{
	__u64 ret = 0;
	if (is_self() || bpf_get_func_ret(ctx, &ret))
		return 0;
	on_accepted(ctx, (struct file *)ret, -1, 0, 0);
	return 0;
}

SEC("kretprobe/do_accept")
int BPF_KRETPROBE(kretprobe_do_accept, struct file *f)
{
	if (!is_self())
		on_accepted(ctx, f, -1, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_accept(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;

	if (!take_syscall_state(&s) || (s.nr != NR_accept && s.nr != NR_accept4))
		return 0;
	long ret = ctx->ret;
	/* a failed accept (EAGAIN of every event loop) accepted nothing */
	if (ret < 0)
		return 0;
	on_accepted(ctx, task_fd_file((struct task_struct *)bpf_get_current_task(), ret), ret, 1, ret);
	return 0;
}

/* dup_socket_only[id] != 0: every signature that wants dup event id (dup,
 * dup2, dup3) wants only the duplication of a socket (args.fd_type
 * "socket"): the loader writes it from the signatures' interest, and the
 * other duplications (a shell's or a spawner's own stdin, stdout, stderr
 * plumbing) stay in the kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVENT_ID_MAX);
	__type(key, __u32);
	__type(value, __u32);
} dup_socket_only SEC(".maps");

/* ---- dup, dup2, dup3 ----
 * Args: oldfd, newfd, flags, fd_type, path (not a socket), the socket
 * (5-11), its state (12) and how it got its owner (13: connect, accept...):
 * "stdin of a shell is a TCP socket connected out" in one event. */
/* args: EVENT_DUP, EVENT_DUP2, EVENT_DUP3 */
static __always_inline int dup_exit(void *ctx, long ret)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct event e;
	__u32 id;
	int newfd, flags = 0;

	if (!take_syscall_state(&s))
		return 0;
	switch (s.nr) {
	case NR_dup: id = EVENT_DUP; newfd = ret; break;
	case NR_dup2: id = EVENT_DUP2; newfd = s.args[1]; break;
	case NR_dup3: id = EVENT_DUP3; newfd = s.args[1]; flags = s.args[2]; break;
	default: return 0;
	}
	if (!emit_allowed(id, 0))
		return 0;
	int oldfd = s.args[0];
	struct file *f = current_fd_file(oldfd);
	__u32 *socket_only = bpf_map_lookup_elem(&dup_socket_only, &id);
	if (socket_only && *socket_only && !file_socket(f))
		return 0;
	if (!event_init(&e, ctx, id))
		return 0;
	save_s32(&e, ARG_DUP_OLDFD, oldfd);
	save_s32(&e, ARG_DUP_NEWFD, newfd);
	save_s32(&e, ARG_DUP_FLAGS, flags);
	__u32 kind = save_file_kind(&e, ARG_DUP_FD_TYPE, f);
	struct socket *so = file_socket(f);
	if (so) {
		struct sock_desc d;
		sock_of(so, &d);
		save_sock_desc(&e, ARG_DUP_FAMILY, &d);
		save_name(&e, ARG_DUP_STATE, NT_STATE, d.state);
		struct record_header *o = bpf_map_lookup_elem(&sock_owners, &d.sk);
		save_name(&e, ARG_DUP_ORIGIN, NT_ORIGIN, o ? o->reserved : ORIGIN_UNKNOWN);
	} else if (kind != FK_NONE && kind != FK_PIPE) {
		/* a pipe's path would mean nothing */
		save_path_of(&e, ARG_DUP_PATH, f);
	}
	event_submit(&e, ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_dup(struct syscall_exit_ctx *ctx)
{
	return dup_exit(ctx, ctx->ret);
}

/* sys_exit_dup called from the raw sys_exit program (lib/raw_exit.h) */
SEC("raw_tracepoint/sys_exit")
int raw_exit_dup(struct bpf_raw_tracepoint_args *ctx)
{
	return dup_exit(ctx, (long)ctx->args[1]);
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_enter_connect, connect);
SYSCALLS(sys_exit_accept, accept, accept4);
SYSCALLS(sys_exit_bind, bind);
SYSCALLS(sys_exit_connect, connect);
SYSCALLS(sys_exit_dup, dup, dup2, dup3);
SYSCALLS(sys_exit_listen, listen);
SYSCALLS(sys_exit_socket, socket);
PROBE(SOCKET, "syscalls", sys_enter_save(socket), sys_exit_socket);
HOOK_PROBES(SECURITY_SOCKET_CREATE, security_socket_create);
FALLBACK(SECURITY_SOCKET_CREATE, "syscalls", sys_enter_save(socket), sys_exit_socket);
HOOK_PROBES(SECURITY_SOCKET_BIND, security_socket_bind);
FALLBACK(SECURITY_SOCKET_BIND, "syscalls", sys_enter_save(bind), sys_exit_bind);
HOOK_PROBES(SECURITY_SOCKET_LISTEN, security_socket_listen);
FALLBACK(SECURITY_SOCKET_LISTEN, "syscalls", sys_enter_save(listen), sys_exit_listen);
HOOK_PROBES(SECURITY_SOCKET_CONNECT, security_socket_connect);
FALLBACK(SECURITY_SOCKET_CONNECT, "syscalls", sys_enter_connect, sys_exit_connect);
PROBE(SECURITY_SOCKET_ACCEPT, "fexit/do_accept", fexit_do_accept);
PROBE(SECURITY_SOCKET_ACCEPT, "kretprobe/do_accept", kretprobe_do_accept);
FALLBACK(SECURITY_SOCKET_ACCEPT, "syscalls", sys_enter_save(accept, accept4), sys_exit_accept);
PROBE(DUP, "syscalls", sys_enter_save(dup, dup2, dup3), sys_exit_dup);
PROBE(DUP2, "syscalls", sys_enter_save(dup, dup2, dup3), sys_exit_dup);
PROBE(DUP3, "syscalls", sys_enter_save(dup, dup2, dup3), sys_exit_dup);

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Network: sockets (creation, bind, listen, connect, accept: the LSM hooks,
 * with the syscall exits as fallback), dup of a descriptor (what it is: a
 * socket and its peer, a pipe, a file), TCP state changes and connects, UDP
 * sends, disconnects and destruction, and the TC classifiers on every
 * interface: packets and decoded DNS.
 *
 * Several of these hooks run where the current task is not the socket's
 * owner (a TCP state change in softirq, a packet at TC). Process-context
 * hooks remember each socket's owner (sock_owners) and the owner of its
 * local address and port (endpoint_owners); the others report that owner,
 * or nobody, and say which (the attribution argument).
 */
#include "lib/common.h"
#include "lib/net.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- socket creation ---- */

static __always_inline void emit_socket_create(void *ctx, __u32 family, __u32 type, __u32 protocol, int kern,
					       long ret, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_SECURITY_SOCKET_CREATE, fallback) ||
	    !event_init(&e, ctx, EVENT_SECURITY_SOCKET_CREATE))
		return;
	save_name(&e, ARG_SECURITY_SOCKET_CREATE_FAMILY, NT_FAMILY, family);
	save_name(&e, ARG_SECURITY_SOCKET_CREATE_TYPE, NT_SOCK_TYPE, type);
	save_u32(&e, ARG_SECURITY_SOCKET_CREATE_PROTOCOL, protocol);
	save_bool(&e, ARG_SECURITY_SOCKET_CREATE_KERN, kern != 0);
	event_submit(&e, ret);
}

SEC("fentry/security_socket_create")
int BPF_PROG(fentry_security_socket_create, int family, int type, int protocol, int kern)
{
	if (!is_self())
		emit_socket_create(ctx, family, type, protocol, kern, 0, 0);
	return 0;
}

SEC("kprobe/security_socket_create")
int BPF_KPROBE(kprobe_security_socket_create, int family, int type, int protocol, int kern)
{
	if (!is_self())
		emit_socket_create(ctx, family, type, protocol, kern, 0, 0);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_socket(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct event e;

	if (!take_syscall_state(&s) || s.nr != NR_socket)
		return 0;
	long ret = ctx->args[1];
	__u32 family = s.args[0], type = s.args[1], protocol = s.args[2];

	if (emit_allowed(EVENT_SOCKET, 0) && event_init(&e, ctx, EVENT_SOCKET)) {
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

SEC("fentry/security_socket_bind")
int BPF_PROG(fentry_security_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen)
{
	on_bind_hook(ctx, sock, address, addrlen);
	return 0;
}

SEC("kprobe/security_socket_bind")
int BPF_KPROBE(kprobe_security_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen)
{
	on_bind_hook(ctx, sock, address, addrlen);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_bind(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s) || s.nr != NR_bind)
		return 0;
	long ret = ctx->args[1];
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

SEC("fentry/security_socket_listen")
int BPF_PROG(fentry_security_socket_listen, struct socket *sock, int backlog)
{
	on_listen_hook(ctx, sock, backlog);
	return 0;
}

SEC("kprobe/security_socket_listen")
int BPF_KPROBE(kprobe_security_socket_listen, struct socket *sock, int backlog)
{
	on_listen_hook(ctx, sock, backlog);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_listen(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s) || s.nr != NR_listen)
		return 0;
	long ret = ctx->args[1];
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

SEC("fentry/security_socket_connect")
int BPF_PROG(fentry_security_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	on_connect_hook(ctx, sock, address, addrlen);
	return 0;
}

SEC("kprobe/security_socket_connect")
int BPF_KPROBE(kprobe_security_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	on_connect_hook(ctx, sock, address, addrlen);
	return 0;
}

static __always_inline int is_udp(const struct sock_desc *d)
{
	return (d->family == AF_INET || d->family == AF_INET6) && d->protocol == IPPROTO_UDP;
}

static __always_inline void emit_udp_disconnect(void *ctx, const struct sock_desc *d, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_UDP_DISCONNECT, fallback) || !event_init(&e, ctx, EVENT_UDP_DISCONNECT))
		return;
	save_ends(&e, ARG_UDP_DISCONNECT_FAMILY, d);
	event_submit(&e, 0);
}

/* The connect entry keeps the arguments for the exit like sys_enter_save,
 * and sees a UDP disconnect (connect to AF_UNSPEC) while the socket still
 * has the peer it is about to forget. */
SEC("raw_tracepoint/sys_enter")
int sys_enter_connect(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state st = {};
	__u32 tid = current_tid();

	read_syscall_args(syscall_regs(ctx), st.args);
	st.nr = ctx->args[1];
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

SEC("raw_tracepoint/sys_exit")
int sys_exit_connect(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s) || s.nr != NR_connect)
		return 0;
	long ret = ctx->args[1];
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

SEC("raw_tracepoint/sys_exit")
int sys_exit_accept(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;

	if (!take_syscall_state(&s) || (s.nr != NR_accept && s.nr != NR_accept4))
		return 0;
	long ret = ctx->args[1];
	/* a failed accept (EAGAIN of every event loop) accepted nothing */
	if (ret < 0)
		return 0;
	on_accepted(ctx, task_fd_file((struct task_struct *)bpf_get_current_task(), ret), ret, 1, ret);
	return 0;
}

/* ---- dup, dup2, dup3 ----
 * Args: oldfd, newfd, flags, fd_type, path (not a socket), the socket
 * (5-11), its state (12) and how it got its owner (13: connect, accept...):
 * "stdin of a shell is a TCP socket connected out" in one event. */
SEC("raw_tracepoint/sys_exit")
/* args: EVENT_DUP, EVENT_DUP2, EVENT_DUP3 */
int sys_exit_dup(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct event e;
	__u32 id;
	int newfd, flags = 0;

	if (!take_syscall_state(&s))
		return 0;
	long ret = ctx->args[1];
	switch (s.nr) {
	case NR_dup: id = EVENT_DUP; newfd = ret; break;
	case NR_dup2: id = EVENT_DUP2; newfd = s.args[1]; break;
	case NR_dup3: id = EVENT_DUP3; newfd = s.args[1]; flags = s.args[2]; break;
	default: return 0;
	}
	if (!emit_allowed(id, 0) || !event_init(&e, ctx, id))
		return 0;
	int oldfd = s.args[0];
	struct file *f = task_fd_file(e.task, oldfd);
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

/* ---- TCP state changes and connects ---- */

static __always_inline void emit_tcp_connect(void *ctx, const struct sock_desc *d, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_TCP_CONNECT, fallback) || !event_init(&e, ctx, EVENT_TCP_CONNECT))
		return;
	save_ends(&e, ARG_TCP_CONNECT_FAMILY, d);
	event_submit(&e, 0);
}

/* on_state_change: the owner is the current task only for the changes that
 * a syscall of the owner makes (connect: SYN_SENT, listen: LISTEN); the
 * others (ESTABLISHED on a SYN-ACK, FIN and RST handling) mostly run in
 * softirq on behalf of whichever task was interrupted, so they report the
 * remembered owner of the socket, else of its local port (an accepted
 * socket shares its listener's), else nobody. */
static __always_inline void on_state_change(void *ctx, struct sock_desc *d, int oldstate, int newstate)
{
	struct record_header *owner = NULL;
	int attr = ATTR_NONE, self = 0;

	if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN) {
		/* the sensor's own sockets are remembered too: the TC
		 * classifiers must recognise its traffic to NATS */
		remember_owner(d, newstate == TCP_LISTEN ? ORIGIN_LISTEN : ORIGIN_CONNECT);
		attr = ATTR_TASK;
		self = is_self();
	} else {
		owner = bpf_map_lookup_elem(&sock_owners, &d->sk);
		if (!owner)
			owner = endpoint_owner(d->protocol, d->family, d->lport, d->laddr);
		if (owner) {
			attr = ATTR_OWNER;
			/* a connected socket's port is known from here on */
			if (newstate == TCP_ESTABLISHED)
				remember_endpoint(d, owner);
		}
		self = owner_is_self(owner);
	}

	if (!self) {
		struct event e;
		int ok = emit_allowed(EVENT_INET_SOCK_SET_STATE, 0);
		if (ok && attr == ATTR_TASK)
			ok = event_init(&e, ctx, EVENT_INET_SOCK_SET_STATE);
		else if (ok)
			ok = event_init_as(&e, ctx, EVENT_INET_SOCK_SET_STATE, owner);
		if (ok) {
			save_name(&e, ARG_INET_SOCK_SET_STATE_OLD_STATE, NT_STATE, oldstate);
			save_name(&e, ARG_INET_SOCK_SET_STATE_NEW_STATE, NT_STATE, newstate);
			save_name(&e, ARG_INET_SOCK_SET_STATE_FAMILY, NT_FAMILY, d->family);
			save_u32(&e, ARG_INET_SOCK_SET_STATE_PROTOCOL, d->protocol);
			save_ip(&e, ARG_INET_SOCK_SET_STATE_SADDR, d->family, d->laddr);
			save_u32(&e, ARG_INET_SOCK_SET_STATE_SPORT, d->lport);
			save_ip(&e, ARG_INET_SOCK_SET_STATE_DADDR, d->family, d->raddr);
			save_u32(&e, ARG_INET_SOCK_SET_STATE_DPORT, d->rport);
			save_name(&e, ARG_INET_SOCK_SET_STATE_ATTRIBUTION, NT_ATTRIBUTION, attr);
			event_submit(&e, 0);
		}
		/* tcp_connect fallback: connect moves the socket to SYN_SENT
		 * before it picks the local port, so sport is 0 here unless the
		 * socket was bound */
		if (newstate == TCP_SYN_SENT && d->protocol == IPPROTO_TCP)
			emit_tcp_connect(ctx, d, 1);
	}
	if (newstate == TCP_CLOSE)
		forget_socket(d);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct sock_desc d;
	read_sock(addr_of(sk), &d);
	on_state_change(ctx, &d, oldstate, newstate);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tracepoint_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *tp)
{
	struct sock_desc d = {};
	d.sk = (__u64)tp->skaddr;
	d.family = tp->family;
	d.protocol = tp->protocol;
	d.type = SOCK_STREAM;
	d.lport = tp->sport;
	d.rport = tp->dport;
	/* the verifier wants constant offsets into a tracepoint's record:
	 * arrays are copied with a helper */
	if (d.family == AF_INET6) {
		bpf_probe_read_kernel(d.laddr, 16, tp->saddr_v6);
		bpf_probe_read_kernel(d.raddr, 16, tp->daddr_v6);
	} else {
		bpf_probe_read_kernel(d.laddr, 4, tp->saddr);
		bpf_probe_read_kernel(d.raddr, 4, tp->daddr);
	}
	on_state_change(tp, &d, tp->oldstate, tp->newstate);
	return 0;
}

static __always_inline void on_tcp_connect(void *ctx, struct sock *sk)
{
	struct sock_desc d;
	if (is_self())
		return;
	read_sock(addr_of(sk), &d);
	emit_tcp_connect(ctx, &d, 0);
	remember_owner(&d, ORIGIN_CONNECT);
}

SEC("fentry/tcp_connect")
int BPF_PROG(fentry_tcp_connect, struct sock *sk)
{
	on_tcp_connect(ctx, sk);
	return 0;
}

SEC("kprobe/tcp_connect")
int BPF_KPROBE(kprobe_tcp_connect, struct sock *sk)
{
	on_tcp_connect(ctx, sk);
	return 0;
}

/* ---- UDP ---- */

static __always_inline void emit_udp_sendmsg(void *ctx, const struct sock_desc *d, __u64 len, long ret, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_UDP_SENDMSG, fallback) || !event_init(&e, ctx, EVENT_UDP_SENDMSG))
		return;
	save_ends(&e, ARG_UDP_SENDMSG_FAMILY, d);
	save_u64(&e, ARG_UDP_SENDMSG_LEN, len);
	event_submit(&e, ret);
}

/* udp_sendmsg and udpv6_sendmsg: the destination is the message's address,
 * else the socket's peer. inet_sendmsg has bound the socket by now. */
static __always_inline void on_udp_sendmsg(void *ctx, struct sock *sk, struct msghdr *msg, __u64 len)
{
	struct sock_desc d;
	if (is_self())
		return;
	read_sock(addr_of(sk), &d);
	void *name = BPF_CORE_READ(msg, msg_name);
	if (name)
		desc_set_sockaddr(&d, (__u64)name, BPF_CORE_READ(msg, msg_namelen), 0, 1);
	emit_udp_sendmsg(ctx, &d, len, 0, 0);
	remember_owner(&d, ORIGIN_SEND);
}

SEC("fentry/udp_sendmsg")
int BPF_PROG(fentry_udp_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_udp_sendmsg(ctx, sk, msg, len);
	return 0;
}

SEC("fentry/udpv6_sendmsg")
int BPF_PROG(fentry_udpv6_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_udp_sendmsg(ctx, sk, msg, len);
	return 0;
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(kprobe_udp_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_udp_sendmsg(ctx, sk, msg, len);
	return 0;
}

SEC("kprobe/udpv6_sendmsg")
int BPF_KPROBE(kprobe_udpv6_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_udp_sendmsg(ctx, sk, msg, len);
	return 0;
}

/* udp_sendmsg fallback: sendto, sendmsg and sendmmsg on a UDP socket (one
 * event per syscall: sendmmsg reports its first message). write(2) on a
 * connected UDP socket is not seen here. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_send(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s))
		return 0;
	if (s.nr != NR_sendto && s.nr != NR_sendmsg && s.nr != NR_sendmmsg)
		return 0;
	long ret = ctx->args[1];
	read_sock((__u64)fd_sock((struct task_struct *)bpf_get_current_task(), (int)s.args[0]), &d);
	if (!is_udp(&d))
		return 0;
	if (ret >= 0)
		remember_owner(&d, ORIGIN_SEND);
	__u64 len = 0;
	if (s.nr == NR_sendto) {
		len = s.args[2];
		if (s.args[4])
			desc_set_sockaddr(&d, (__u64)s.args[4], (int)s.args[5], 1, 1);
	} else {
		/* struct user_msghdr is the head of struct mmsghdr */
		struct user_msghdr m = {};
		bpf_probe_read_user(&m, sizeof(m), (void *)s.args[1]);
		if (m.msg_name)
			desc_set_sockaddr(&d, (__u64)m.msg_name, m.msg_namelen, 1, 1);
		if (s.nr == NR_sendmsg) {
			len = ret > 0 ? ret : 0;
		} else {
			unsigned int sent = 0;
			bpf_probe_read_user(&sent, sizeof(sent), &((struct mmsghdr *)s.args[1])->msg_len);
			len = sent;
		}
	}
	emit_udp_sendmsg(ctx, &d, len, ret, 1);
	return 0;
}

static __always_inline void on_udp_disconnect(void *ctx, struct sock *sk)
{
	struct sock_desc d;
	if (is_self())
		return;
	read_sock(addr_of(sk), &d);
	emit_udp_disconnect(ctx, &d, 0);
}

SEC("fentry/__udp_disconnect")
int BPF_PROG(fentry___udp_disconnect, struct sock *sk, int flags)
{
	on_udp_disconnect(ctx, sk);
	return 0;
}

SEC("kprobe/__udp_disconnect")
int BPF_KPROBE(kprobe___udp_disconnect, struct sock *sk, int flags)
{
	on_udp_disconnect(ctx, sk);
	return 0;
}

/* udp_destroy_sock and udpv6_destroy_sock: the last reference to a UDP
 * socket is gone (close, usually, in the closing task's context). There is
 * no tracepoint on this path: on kernels without fentry and kprobes the
 * event has no probe. */
static __always_inline void on_udp_destroy(void *ctx, struct sock *sk)
{
	struct sock_desc d;
	read_sock(addr_of(sk), &d);
	forget_socket(&d);
	if (is_self())
		return;
	struct event e;
	if (!emit_allowed(EVENT_UDP_DESTROY_SOCK, 0) || !event_init(&e, ctx, EVENT_UDP_DESTROY_SOCK))
		return;
	save_ends(&e, ARG_UDP_DESTROY_SOCK_FAMILY, &d);
	event_submit(&e, 0);
}

SEC("fentry/udp_destroy_sock")
int BPF_PROG(fentry_udp_destroy_sock, struct sock *sk)
{
	on_udp_destroy(ctx, sk);
	return 0;
}

SEC("fentry/udpv6_destroy_sock")
int BPF_PROG(fentry_udpv6_destroy_sock, struct sock *sk)
{
	on_udp_destroy(ctx, sk);
	return 0;
}

SEC("kprobe/udp_destroy_sock")
int BPF_KPROBE(kprobe_udp_destroy_sock, struct sock *sk)
{
	on_udp_destroy(ctx, sk);
	return 0;
}

SEC("kprobe/udpv6_destroy_sock")
int BPF_KPROBE(kprobe_udpv6_destroy_sock, struct sock *sk)
{
	on_udp_destroy(ctx, sk);
	return 0;
}

/* ---- TC classifiers: packets and DNS ---- */

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
/* TCX_NEXT and TC_ACT_UNSPEC: let the next program (or the default
 * classification) decide; vigil only watches. */
#define TC_NEXT (-1)

#define DNS_BUF 512
#define DNS_ANSWERS 8

/* A DNS message copied out of the packet, and the addresses its answers
 * carry: per CPU, too large for the stack. */
/* The state of the name and answer readers (bpf_loop callbacks) lives here
 * too, not on the stack: 6.1's verifier checks a callback once, with the
 * values the stack holds at the call, and prunes the branches those values
 * do not take as dead code; values in a map are unknown to it. */
struct qname_state {
	__u32 out, pos, end, left, n, done;
};

struct answer_state {
	__u32 pos, end, rrs, state, left, count, type, rdlen, keep;
};

struct dns_buf {
	__u8 b[DNS_BUF];
	__u8 fam[DNS_ANSWERS];
	__u8 addr[DNS_ANSWERS][16];
	struct qname_state q;
	struct answer_state a;
};

struct dns_ctx {
	struct scratch *s;
	struct dns_buf *b;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_buf);
} dns_bufs SEC(".maps");

struct pkt {
	__u16 family;
	__u8 protocol;
	__u8 tcp_flags;
	__u16 sport, dport;
	__u32 l4off; /* from the network header */
	__u8 saddr[16], daddr[16];
};

static __always_inline int parse_pkt(struct __sk_buff *skb, struct pkt *p)
{
	__builtin_memset(p, 0, sizeof(*p));
	__u16 proto = bpf_ntohs(skb->protocol);
	if (proto == ETH_P_IP) {
		struct iphdr ip;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip, sizeof(ip), BPF_HDR_START_NET))
			return 0;
		p->family = AF_INET;
		p->protocol = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		p->l4off = ip.ihl * 4;
		/* a fragment past the first has no ports */
		if (bpf_ntohs(ip.frag_off) & 0x1fff)
			return 1;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip6, sizeof(ip6), BPF_HDR_START_NET))
			return 0;
		p->family = AF_INET6;
		/* extension headers are not followed: their protocol is reported */
		p->protocol = ip6.nexthdr;
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		p->l4off = sizeof(ip6);
	} else {
		return 0;
	}
	if (p->protocol == IPPROTO_TCP || p->protocol == IPPROTO_UDP) {
		__be16 ports[2];
		if (!bpf_skb_load_bytes_relative(skb, p->l4off & 0xff, ports, sizeof(ports), BPF_HDR_START_NET)) {
			p->sport = bpf_ntohs(ports[0]);
			p->dport = bpf_ntohs(ports[1]);
		}
		if (p->protocol == IPPROTO_TCP)
			bpf_skb_load_bytes_relative(skb, (p->l4off & 0xff) + 13, &p->tcp_flags, 1, BPF_HDR_START_NET);
	}
	return 1;
}

/* net_packet: direction, ifindex, family, protocol, saddr, sport, daddr,
 * dport, len, tcp_flags, attribution. */
__noinline int tc_emit_packet(struct __sk_buff *skb, const struct pkt *p, __u32 egress,
			      const struct record_header *owner)
{
	struct event e;
	if (!p || !event_init_as(&e, skb, EVENT_NET_PACKET, owner))
		return 0;
	save_name(&e, ARG_NET_PACKET_DIRECTION, NT_DIRECTION, egress);
	save_u32(&e, ARG_NET_PACKET_IFINDEX, skb->ifindex);
	save_name(&e, ARG_NET_PACKET_FAMILY, NT_FAMILY, p->family);
	save_u32(&e, ARG_NET_PACKET_PROTOCOL, p->protocol);
	save_ip(&e, ARG_NET_PACKET_SADDR, p->family, p->saddr);
	save_u32(&e, ARG_NET_PACKET_SPORT, p->sport);
	save_ip(&e, ARG_NET_PACKET_DADDR, p->family, p->daddr);
	save_u32(&e, ARG_NET_PACKET_DPORT, p->dport);
	save_u32(&e, ARG_NET_PACKET_LEN, skb->len);
	save_u32(&e, ARG_NET_PACKET_TCP_FLAGS, p->tcp_flags);
	save_name(&e, ARG_NET_PACKET_ATTRIBUTION, NT_ATTRIBUTION, owner ? ATTR_OWNER : ATTR_NONE);
	event_submit(&e, 0);
	return 1;
}

/* One byte of a question name per call: a length byte starts a label
 * (written after a dot), the zero length ends the name. */
static long qname_step(__u64 i, void *data)
{
	struct dns_ctx *x = data;
	struct qname_state *c = &x->b->q;
	if (c->pos >= c->end)
		return 1;
	__u8 v = x->b->b[c->pos & (DNS_BUF - 1)];
	c->pos++;
	if (c->left == 0) {
		if (v == 0) {
			c->done = 1;
			return 1;
		}
		/* a compression pointer has no place in a question */
		if (v & 0xc0)
			return 1;
		if (c->n) {
			x->s->buf[OFF(c->out + c->n)] = '.';
			c->n++;
		}
		c->left = v;
		return 0;
	}
	x->s->buf[OFF(c->out + c->n)] = v;
	c->n++;
	c->left--;
	return 0;
}

#define QNAME_MAX 256

/* save_qname writes the question's name as dotted text ("." for the root)
 * and returns the offset just past it, 0 when the name is malformed. */
static __always_inline __u32 save_qname(struct event *e, __u8 index, struct dns_buf *b, __u32 end)
{
	if (e->off + 6 + QNAME_MAX + 2 > MAX_RECORD)
		return 0;
	__u32 at = e->off;
	struct dns_ctx x = {.s = e->s, .b = b};
	struct qname_state *c = &b->q;
	__builtin_memset(c, 0, sizeof(*c));
	c->out = at + 6;
	c->pos = 12;
	c->end = end;
	bpf_loop(QNAME_MAX, qname_step, &x, 0);
	__u8 type = ARG_STR;
	__u32 n = c->n & (2 * QNAME_MAX - 1);
	if (!c->done)
		type |= ARG_TRUNCATED;
	else if (n == 0)
		e->s->buf[OFF(at + 6 + n++)] = '.';
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = type;
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &n, 4);
	e->off = at + 6 + n;
	e->argnum++;
	return c->done ? c->pos : 0;
}

static __always_inline __u16 be16_at(struct dns_buf *b, __u32 pos)
{
	return (__u16)b->b[pos & (DNS_BUF - 1)] << 8 | b->b[(pos + 1) & (DNS_BUF - 1)];
}

enum { RR_NAME, RR_POINTER, RR_FIXED, RR_DATA };

/* The answer section is read one byte per call, as a small state machine
 * (owner name, pointer, type..rdlength, data), so that the verifier checks
 * one short body rather than nested loops. */
static long answer_step(__u64 i, void *data)
{
	struct dns_ctx *x = data;
	struct dns_buf *b = x->b;
	struct answer_state *c = &b->a;
	if (c->pos >= c->end || !c->rrs || c->count >= DNS_ANSWERS)
		return 1;
	__u32 v = b->b[c->pos & (DNS_BUF - 1)];
	c->pos++;
	switch (c->state) {
	case RR_NAME:
		if (c->left) {
			c->left--;
		} else if (v == 0) {
			c->state = RR_FIXED;
			c->left = 10;
		} else if ((v & 0xc0) == 0xc0) {
			c->state = RR_POINTER;
		} else {
			c->left = v;
		}
		return 0;
	case RR_POINTER:
		c->state = RR_FIXED;
		c->left = 10;
		return 0;
	case RR_FIXED:
		/* type(2) class(2) ttl(4) rdlength(2) */
		switch (10 - c->left) {
		case 0: c->type = v << 8; break;
		case 1: c->type |= v; break;
		case 8: c->rdlen = v << 8; break;
		case 9: c->rdlen |= v; break;
		}
		if (--c->left)
			return 0;
		c->keep = (c->type == 1 && c->rdlen == 4) || (c->type == 28 && c->rdlen == 16);
		c->left = c->rdlen;
		c->state = RR_DATA;
		if (c->left)
			return 0;
		break;
	default:
		if (c->keep)
			b->addr[c->count & (DNS_ANSWERS - 1)][(c->rdlen - c->left) & 15] = v;
		if (--c->left)
			return 0;
	}
	/* the record is complete */
	if (c->keep) {
		b->fam[c->count & (DNS_ANSWERS - 1)] = c->type == 1 ? AF_INET : AF_INET6;
		c->count++;
	}
	c->rrs--;
	c->state = RR_NAME;
	c->left = 0;
	return 0;
}

/* save_answers saves the A and AAAA addresses of the answer section as one
 * string array. */
static __always_inline void save_answers(struct event *e, __u8 index, struct dns_buf *b, __u32 pos, __u32 end,
					 __u16 ancount)
{
	struct dns_ctx x = {.s = e->s, .b = b};
	struct answer_state *c = &b->a;
	__builtin_memset(c, 0, sizeof(*c));
	c->pos = pos;
	c->end = end;
	c->rrs = ancount;
	if (ancount)
		bpf_loop(DNS_BUF, answer_step, &x, 0);
	__u32 found = c->count;
	if (e->off + 4 + DNS_ANSWERS * (4 + IPSTR_MAX) > MAX_RECORD)
		return;
	__u32 head = e->off, at = e->off + 4;
	__u16 count = 0;
	for (int k = 0; k < DNS_ANSWERS; k++) {
		if (k >= found)
			break;
		__u32 n = net_fmt_ip(at + 4, b->fam[k], (const struct ip16 *)b->addr[k]) & (IPSTR_MAX - 1);
		__builtin_memcpy(&e->s->buf[OFF(at)], &n, 4);
		at += 4 + n;
		count++;
	}
	e->s->buf[OFF(head)] = index;
	e->s->buf[OFF(head + 1)] = ARG_STR_ARR;
	__builtin_memcpy(&e->s->buf[OFF(head + 2)], &count, 2);
	e->off = at;
	e->argnum++;
}

/* dns_save_question saves the question's name (11) and type (12) and, for
 * a response, the addresses of its answers (13). */
/* args: EVENT_NET_PACKET_DNS */
__noinline int dns_save_question(struct argpos *p, struct dns_buf *b, __u32 n, __u32 response, __u32 ancount)
{
	struct event e;
	if (!b || !event_at(&e, p))
		return 0;
	__u32 pos = save_qname(&e, ARG_NET_PACKET_DNS_QNAME, b, n);
	if (pos && pos + 4 <= n) {
		save_name(&e, ARG_NET_PACKET_DNS_QTYPE, NT_QTYPE, be16_at(b, pos));
		if (response)
			save_answers(&e, ARG_NET_PACKET_DNS_ANSWERS, b, pos + 4, n, ancount);
	}
	event_pos(&e, p);
	return 1;
}

/* tcp_dns_span finds a DNS message in a TCP segment to or from port 53:
 * after the TCP header, a 2-byte length, then the message (RFC 1035
 * 4.2.2). *at is where it starts, counted from skb->data (the payload of a
 * TCP segment sits in page fragments, which only bpf_skb_load_bytes
 * reads, not the _relative form), *n its length. Only a message the
 * segment holds whole is decoded: segments without one (SYN, ACK, FIN, the
 * parts of a message longer than a segment) are not. */
static __always_inline int tcp_dns_span(struct __sk_buff *skb, const struct pkt *p, __u32 *at, __u32 *n)
{
	__u32 l4 = p->l4off & 0xff;
	__u8 doff = 0;
	__u16 prefix = 0;
	__u32 total;
	if (bpf_skb_load_bytes_relative(skb, l4 + 12, &doff, 1, BPF_HDR_START_NET))
		return 0;
	__u32 hdr = (doff >> 4) * 4;
	/* the IP packet's length: IPv4 total length, IPv6 payload length */
	if (p->family == AF_INET) {
		struct iphdr ip;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip, sizeof(ip), BPF_HDR_START_NET))
			return 0;
		total = bpf_ntohs(ip.tot_len);
	} else {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip6, sizeof(ip6), BPF_HDR_START_NET))
			return 0;
		total = bpf_ntohs(ip6.payload_len) + sizeof(ip6);
	}
	if (hdr < 20 || total < l4 + hdr + 2 + 12 || total > skb->len)
		return 0;
	/* what precedes the network header: none, or an Ethernet header */
	__u32 nh = skb->len - total;
	if (nh != 0 && nh != 14)
		return 0;
	__u32 payload = total - l4 - hdr - 2;
	if (bpf_skb_load_bytes(skb, nh + l4 + hdr, &prefix, 2))
		return 0;
	prefix = bpf_ntohs(prefix);
	/* the whole message in this segment: a segment that continues a
	 * longer one (its first bytes are no length) is not taken for one */
	if (prefix < 12 || prefix > payload)
		return 0;
	*at = nh + l4 + hdr + 2;
	*n = prefix;
	return 1;
}

/* net_packet_dns: direction, ifindex, family, saddr, sport, daddr, dport,
 * id, response, opcode, rcode, qname, qtype, answers, answer_count,
 * attribution. The process is the client's (the sender of a query, the
 * receiver of a response), else the server's, when the local end has a
 * remembered owner, transport. */
__noinline int tc_emit_dns(struct __sk_buff *skb, const struct pkt *p, __u32 egress, const struct record_header *sender)
{
	__u32 zero = 0;
	struct dns_buf *b = bpf_map_lookup_elem(&dns_bufs, &zero);
	if (!b || !p)
		return 0;
	/* where the message starts and how long it is: after the UDP header,
	 * or after the TCP header and the message's 2-byte length prefix */
	__u32 l4 = p->l4off & 0xff, at, n;
	if (p->protocol == IPPROTO_TCP) {
		if (!tcp_dns_span(skb, p, &at, &n))
			return 0;
	} else {
		struct udphdr uh;
		if (bpf_skb_load_bytes_relative(skb, l4, &uh, sizeof(uh), BPF_HDR_START_NET))
			return 0;
		n = bpf_ntohs(uh.len) & 0xffff;
		if (n < sizeof(uh) + 12)
			return 0;
		n -= sizeof(uh);
		at = l4 + sizeof(uh);
	}
	if (n > DNS_BUF)
		n = DNS_BUF;
	/* n is 12..512; written so that every verifier sees both bounds in
	 * the register it checks (the value is 12..523 to it, the buffer has
	 * room for that) */
	__u32 size = 12 + ((n - 12) & (DNS_BUF - 1));
	long err = p->protocol == IPPROTO_TCP ? bpf_skb_load_bytes(skb, at & 0xffff, b->b, size)
					      : bpf_skb_load_bytes_relative(skb, at & 0xffff, b->b, size, BPF_HDR_START_NET);
	if (err)
		return 0;

	__u16 id = be16_at(b, 0), flags = be16_at(b, 2), qdcount = be16_at(b, 4), ancount = be16_at(b, 6);
	if (qdcount == 0)
		return 0;
	/* a TCP segment in the middle of a long message is no message: one
	 * question and a standard opcode, as real ones have */
	if (p->protocol == IPPROTO_TCP && (qdcount != 1 || ((flags >> 11) & 0xf) > 2))
		return 0;
	int response = flags >> 15;

	const struct record_header *owner;
	if (response) {
		owner = endpoint_owner(p->protocol, p->family, p->dport, p->daddr);
		if (!owner)
			owner = sender;
		if (!owner)
			owner = endpoint_owner(p->protocol, p->family, p->sport, p->saddr);
	} else {
		owner = sender;
		if (!owner)
			owner = endpoint_owner(p->protocol, p->family, p->sport, p->saddr);
		if (!owner)
			owner = endpoint_owner(p->protocol, p->family, p->dport, p->daddr);
	}
	if (owner_is_self(owner))
		return 0;

	struct event e;
	if (!event_init_as(&e, skb, EVENT_NET_PACKET_DNS, owner))
		return 0;
	save_name(&e, ARG_NET_PACKET_DNS_DIRECTION, NT_DIRECTION, egress);
	save_u32(&e, ARG_NET_PACKET_DNS_IFINDEX, skb->ifindex);
	save_name(&e, ARG_NET_PACKET_DNS_FAMILY, NT_FAMILY, p->family);
	save_ip(&e, ARG_NET_PACKET_DNS_SADDR, p->family, p->saddr);
	save_u32(&e, ARG_NET_PACKET_DNS_SPORT, p->sport);
	save_ip(&e, ARG_NET_PACKET_DNS_DADDR, p->family, p->daddr);
	save_u32(&e, ARG_NET_PACKET_DNS_DPORT, p->dport);
	save_u32(&e, ARG_NET_PACKET_DNS_ID, id);
	save_bool(&e, ARG_NET_PACKET_DNS_RESPONSE, response);
	save_u32(&e, ARG_NET_PACKET_DNS_OPCODE, (flags >> 11) & 0xf);
	save_u32(&e, ARG_NET_PACKET_DNS_RCODE, flags & 0xf);
	struct argpos ap;
	event_pos(&e, &ap);
	dns_save_question(&ap, b, n, response, ancount);
	e.off = ap.off;
	e.argnum = ap.argnum;
	save_u32(&e, ARG_NET_PACKET_DNS_ANSWER_COUNT, ancount);
	save_name(&e, ARG_NET_PACKET_DNS_ATTRIBUTION, NT_ATTRIBUTION, owner ? ATTR_OWNER : ATTR_NONE);
	char tr[4] = "udp";
	if (p->protocol == IPPROTO_TCP)
		__builtin_memcpy(tr, "tcp", 4);
	save_str(&e, ARG_NET_PACKET_DNS_TRANSPORT, tr, 0);
	event_submit(&e, 0);
	return 1;
}

/* learn_endpoint makes the owner of a socket a packet leaves from the owner
 * of its local port too, unless the port has one: the answers to an
 * unconnected socket's datagrams (a stub resolver's sendto) find it. */
__noinline int learn_endpoint(const struct pkt *p, const struct record_header *owner, __u64 sk)
{
	struct endpoint k;
	struct endpoint_val v;
	if (!p || !owner || !p->sport || (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP))
		return 0;
	endpoint_key(&k, p->protocol, p->family, p->sport, p->saddr);
	if (bpf_map_lookup_elem(&endpoint_owners, &k))
		return 0;
	__builtin_memcpy(&v.owner, owner, sizeof(v.owner));
	v.sk = sk;
	bpf_map_update_elem(&endpoint_owners, &k, &v, BPF_NOEXIST);
	return 1;
}

/* sender_owner is the owner of the socket an outgoing packet leaves from
 * (skb->sk), when the sensor saw the socket made, bound, connected or
 * accepted: the first packets of a connection and datagrams of sockets
 * never connected are attributed too. */
static __always_inline struct record_header *sender_owner(struct __sk_buff *skb, const struct pkt *p)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return NULL;
	__u64 a = addr_of(sk);
	struct record_header *o = bpf_map_lookup_elem(&sock_owners, &a);
	if (o)
		learn_endpoint(p, o, a);
	return o;
}

static __always_inline int on_packet(struct __sk_buff *skb, int egress)
{
	struct pkt p;
	if (!parse_pkt(skb, &p))
		return TC_NEXT;
	int want_pkt = emit_allowed(EVENT_NET_PACKET, 0);
	int want_dns = (p.protocol == IPPROTO_UDP || p.protocol == IPPROTO_TCP) && (p.sport == 53 || p.dport == 53) &&
		       emit_allowed(EVENT_NET_PACKET_DNS, 0);
	if (!want_pkt && !want_dns)
		return TC_NEXT;
	struct record_header *sender = egress ? sender_owner(skb, &p) : NULL;
	if (want_pkt) {
		/* the local end: the source of what leaves, the destination
		 * of what arrives */
		struct record_header *owner = sender;
		if (!owner)
			owner = egress ? endpoint_owner(p.protocol, p.family, p.sport, p.saddr)
				       : endpoint_owner(p.protocol, p.family, p.dport, p.daddr);
		/* the sensor's own traffic (NATS) would feed on itself */
		if (!owner_is_self(owner))
			tc_emit_packet(skb, &p, egress, owner);
	}
	if (want_dns)
		tc_emit_dns(skb, &p, egress, sender);
	return TC_NEXT;
}

SEC("tc/ingress")
int tc_ingress(struct __sk_buff *skb)
{
	return on_packet(skb, 0);
}

SEC("tc/egress")
int tc_egress(struct __sk_buff *skb)
{
	return on_packet(skb, 1);
}

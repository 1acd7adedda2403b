// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Connections: TCP state changes and connects, UDP sends, disconnects and
 * destruction.
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

HOOK(tcp_connect, struct sock *sk)
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

HOOK(udp_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_udp_sendmsg(ctx, sk, msg, len);
	return 0;
}

HOOK(udpv6_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_udp_sendmsg(ctx, sk, msg, len);
	return 0;
}

/* udp_sendmsg fallback: sendto, sendmsg and sendmmsg on a UDP socket (one
 * event per syscall: sendmmsg reports its first message). write(2) on a
 * connected UDP socket is not seen here. */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_send(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	struct sock_desc d;

	if (!take_syscall_state(&s))
		return 0;
	if (s.nr != NR_sendto && s.nr != NR_sendmsg && s.nr != NR_sendmmsg)
		return 0;
	long ret = ctx->ret;
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

HOOK(__udp_disconnect, struct sock *sk, int flags)
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

HOOK(udp_destroy_sock, struct sock *sk)
{
	on_udp_destroy(ctx, sk);
	return 0;
}

HOOK(udpv6_destroy_sock, struct sock *sk)
{
	on_udp_destroy(ctx, sk);
	return 0;
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_exit_send, sendto, sendmsg, sendmmsg);
PROBE(INET_SOCK_SET_STATE, "tp_btf/inet_sock_set_state", tp_btf_inet_sock_set_state);
PROBE(INET_SOCK_SET_STATE, "tracepoint/sock/inet_sock_set_state", tracepoint_inet_sock_set_state);
HOOK_PROBES(TCP_CONNECT, tcp_connect);
FALLBACK(TCP_CONNECT, "tp_btf/inet_sock_set_state (to SYN_SENT)", tp_btf_inet_sock_set_state);
FALLBACK(TCP_CONNECT, "tracepoint/sock/inet_sock_set_state (to SYN_SENT)", tracepoint_inet_sock_set_state);
HOOK_PROBES(UDP_SENDMSG, udp_sendmsg + udpv6_sendmsg);
FALLBACK(UDP_SENDMSG, "syscalls", sys_enter_save(sendto, sendmsg, sendmmsg), sys_exit_send);
HOOK_PROBES(UDP_DISCONNECT, __udp_disconnect);
FALLBACK(UDP_DISCONNECT, "syscalls (connect to AF_UNSPEC)", sys_enter_connect, sys_exit_connect);
HOOK_PROBES(UDP_DESTROY_SOCK, udp_destroy_sock + udpv6_destroy_sock);

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sockets as events see them: what a struct sock is (family, type, both
 * ends), addresses and names written as text straight into the record, and
 * who owns a socket when the kernel touches it from a context that is not
 * the owner's (softirq, the TC classifiers).
 *
 * Whatever writes text of variable length (an address, a name from a table,
 * a path) is a global function. The verifier checks a global function once
 * per program, and the caller goes on with one record offset it knows
 * nothing about, instead of one path per possible length: inlined, the
 * lengths of a family name, a type name and two addresses multiply, and a
 * program with a few of them takes seconds to verify (minutes under qemu).
 * A global function takes no pointer to a struct with pointers, so a record
 * under construction crosses the boundary as a struct argpos (offset and
 * argument count) and the callee finds the per-CPU buffer itself.
 */
#ifndef VIGIL_NET_H
#define VIGIL_NET_H

#include <bpf/bpf_endian.h>

#include "event.h"
#include "path.h"

#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define AF_VSOCK 40
#define AF_XDP 44

#define SOCK_TYPE_MASK 0xf
#define IPPROTO_ICMPV6 58


#define EINPROGRESS 115

/* How a socket came to be owned, kept in the owner snapshot's reserved
 * field: the dup events say whether a socket put on stdio was connected out
 * or accepted from a listener (reverse shell or bind shell). */
enum sock_origin {
	ORIGIN_UNKNOWN = 0,
	ORIGIN_SOCKET = 1,
	ORIGIN_BIND = 2,
	ORIGIN_SEND = 3,
	ORIGIN_LISTEN = 4,
	ORIGIN_CONNECT = 5,
	ORIGIN_ACCEPT = 6,
};

/* How an event's process was found, for events seen outside the owner's
 * context. */
enum attribution {
	ATTR_NONE = 0,  /* nobody known: the process fields are zero */
	ATTR_TASK = 1,  /* the current task, in process context */
	ATTR_OWNER = 2, /* the socket's (or local port's) owner, remembered */
};

/* Who owns a socket: the context header of the task that last created,
 * bound, connected, accepted or sent on it, captured in process context.
 * Keyed by the struct sock's address, which the state-change tracepoint
 * carries too. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct record_header);
} sock_owners SEC(".maps");

/* The local end of an inet socket: what a packet at TC can be matched
 * against (skb->sk is not there on ingress, and raw tracepoints cannot get a
 * socket cookie). IPv4 addresses are stored v4-mapped (::ffff:a.b.c.d), a
 * wildcard bind as all zeros. */
struct endpoint {
	__u8 protocol;
	__u8 pad;
	__u16 port; /* host order */
	__u8 addr[16];
};

/* The socket is kept beside its owner so that closing an accepted socket
 * does not forget its listener's port, which it shares. */
struct endpoint_val {
	struct record_header owner;
	__u64 sk;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct endpoint);
	__type(value, struct endpoint_val);
} endpoint_owners SEC(".maps");

/* What a socket is, read once and saved by save_sock_desc(). Addresses are
 * network order, 16 bytes (IPv4 in the first 4); AF_UNIX ends are the
 * addresses of their sun_path (in user memory when *_user: a sockaddr
 * passed to bind or connect). Only scalars: it is a global function's
 * argument. */
struct sock_desc {
	__u64 sk;
	__u16 family, type, protocol;
	__u8 state, lpath_user, rpath_user, pad[3];
	__u16 lport, rport; /* host order */
	__u8 laddr[16], raddr[16];
	__u64 lpath, rpath;         /* 0 when unnamed */
	__u32 lpath_len, rpath_len; /* bytes of sun_path that are meaningful */
};

struct ip16 {
	__u8 b[16];
};

/* Where a record under construction is, across a global function call. */
struct argpos {
	__u32 off, argnum;
};

/* event_at resumes, in a global function, the record described by p. */
static __always_inline int event_at(struct event *e, const struct argpos *p)
{
	e->s = scratch_buf();
	e->ctx = NULL;
	e->task = NULL;
	if (!e->s || !p || p->off > MAX_RECORD)
		return 0;
	e->off = p->off;
	e->argnum = p->argnum;
	return 1;
}

static __always_inline void event_pos(const struct event *e, struct argpos *p)
{
	p->off = e->off;
	p->argnum = e->argnum;
}

/* ---- reading sockets ---- */

static __always_inline struct socket *file_socket(struct file *f)
{
	if (!f)
		return NULL;
	__u32 mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

static __always_inline struct sock *fd_sock(struct task_struct *t, int fd)
{
	struct socket *so = file_socket(task_fd_file(t, fd));
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

static __always_inline void unix_name(struct sock *sk, __u64 *path, __u32 *len)
{
	struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
	*path = 0;
	*len = 0;
	if (!ua)
		return;
	int l = BPF_CORE_READ(ua, len);
	if (l <= 2)
		return;
	*path = (__u64)ua + bpf_core_field_offset(struct unix_address, name) + 2;
	*len = l - 2;
}

/* addr_of turns a pointer into the plain number a global function takes:
 * the verifier refuses a typed (BTF) pointer where a scalar is declared. */
static __always_inline __u64 addr_of(const void *p)
{
	__u64 a = 0;
	bpf_probe_read_kernel(&a, sizeof(a), &p);
	return a;
}

/* read_sock fills d from the socket at address sk (0: an empty desc). */
__noinline int read_sock(__u64 sk_addr, struct sock_desc *d)
{
	struct sock *sk = (struct sock *)sk_addr;
	if (!d)
		return 0;
	__builtin_memset(d, 0, sizeof(*d));
	d->sk = sk_addr;
	if (!sk)
		return 0;
	d->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	d->type = BPF_CORE_READ(sk, sk_type);
	d->protocol = BPF_CORE_READ(sk, sk_protocol);
	d->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	switch (d->family) {
	case AF_INET:
		d->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		d->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		bpf_core_read(d->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(d->raddr, 4, &sk->__sk_common.skc_daddr);
		break;
	case AF_INET6:
		d->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		d->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		bpf_core_read(d->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(d->raddr, 16, &sk->__sk_common.skc_v6_daddr);
		break;
	case AF_UNIX: {
		unix_name(sk, &d->lpath, &d->lpath_len);
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		if (peer)
			unix_name(peer, &d->rpath, &d->rpath_len);
		break;
	}
	}
	return 1;
}

/* desc_set_sockaddr puts the address a caller passed (bind's local end,
 * connect's remote end) into d. */
__noinline int desc_set_sockaddr(struct sock_desc *d, __u64 sa, int len, int user, int remote)
{
	__u16 fam = 0, port = 0;

	if (!d || !sa)
		return 0;
	__u8 *addr = remote ? d->raddr : d->laddr;
	if (user)
		bpf_probe_read_user(&fam, sizeof(fam), (void *)sa);
	else
		bpf_probe_read_kernel(&fam, sizeof(fam), (void *)sa);
	__builtin_memset(addr, 0, 16);
	if (fam == AF_INET) {
		struct sockaddr_in sin = {};
		if (user)
			bpf_probe_read_user(&sin, sizeof(sin), (void *)sa);
		else
			bpf_probe_read_kernel(&sin, sizeof(sin), (void *)sa);
		port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(addr, &sin.sin_addr.s_addr, 4);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		if (user)
			bpf_probe_read_user(&sin6, sizeof(sin6), (void *)sa);
		else
			bpf_probe_read_kernel(&sin6, sizeof(sin6), (void *)sa);
		port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(addr, &sin6.sin6_addr, 16);
	} else if (fam == AF_UNIX && len > 2) {
		if (remote) {
			d->rpath = sa + 2;
			d->rpath_len = len - 2;
			d->rpath_user = user;
		} else {
			d->lpath = sa + 2;
			d->lpath_len = len - 2;
			d->lpath_user = user;
		}
	}
	if (remote)
		d->rport = port;
	else
		d->lport = port;
	return 1;
}

#include "net_fmt.h"
#include "net_save.h"

#endif

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

/* ---- writing addresses and names ---- */

static __always_inline __u32 put_dec(struct scratch *s, __u32 at, __u32 v)
{
	__u32 n = 0;
	if (v >= 10000)
		s->buf[OFF(at + n++)] = '0' + (v / 10000) % 10;
	if (v >= 1000)
		s->buf[OFF(at + n++)] = '0' + (v / 1000) % 10;
	if (v >= 100)
		s->buf[OFF(at + n++)] = '0' + (v / 100) % 10;
	if (v >= 10)
		s->buf[OFF(at + n++)] = '0' + (v / 10) % 10;
	s->buf[OFF(at + n++)] = '0' + v % 10;
	return n;
}

struct ip6_ctx {
	struct scratch *s;
	const struct ip16 *a;
	__u32 at, n;
	__s32 best, bestlen;
};

/* one 16-bit group of an IPv6 address per call */
static long ip6_group(__u64 i, void *data)
{
	struct ip6_ctx *c = data;
	__s32 k = i & 7;
	__u16 g = (__u16)c->a->b[(2 * k) & 15] << 8 | c->a->b[(2 * k + 1) & 15];
	if (c->best >= 0 && k >= c->best && k < c->best + c->bestlen) {
		if (k == c->best) {
			c->s->buf[OFF(c->at + c->n)] = ':';
			c->s->buf[OFF(c->at + c->n + 1)] = ':';
			c->n += 2;
		}
		return 0;
	}
	if (k > 0 && !(c->best >= 0 && k == c->best + c->bestlen)) {
		c->s->buf[OFF(c->at + c->n)] = ':';
		c->n++;
	}
	int started = 0;
	for (int sh = 12; sh >= 0; sh -= 4) {
		__u8 d = (g >> sh) & 0xf;
		if (!d && !started && sh)
			continue;
		started = 1;
		c->s->buf[OFF(c->at + c->n)] = d < 10 ? '0' + d : 'a' + d - 10;
		c->n++;
	}
	return 0;
}

/* fmt_ip writes an address as text at s->buf[at] and returns its length (at
 * most 45): a dotted quad, or RFC 5952 IPv6 (the longest run of zero groups
 * as "::", v4-mapped as ::ffff:a.b.c.d); 0 for other families. */
static __always_inline __u32 fmt_ip(struct scratch *s, __u32 at, __u32 family, const struct ip16 *a)
{
	if (family == AF_INET) {
		__u32 n = 0;
		for (int i = 0; i < 4; i++) {
			if (i)
				s->buf[OFF(at + n++)] = '.';
			n += put_dec(s, at + n, a->b[i]);
		}
		return n;
	}
	if (family != AF_INET6)
		return 0;

	struct ip6_ctx c = {.s = s, .a = a, .at = at, .best = -1};
	__s32 cur = -1, curlen = 0;
	for (int i = 0; i < 8; i++) {
		if (a->b[2 * i] | a->b[2 * i + 1]) {
			cur = -1;
			continue;
		}
		if (cur < 0) {
			cur = i;
			curlen = 0;
		}
		curlen++;
		if (curlen > c.bestlen) {
			c.best = cur;
			c.bestlen = curlen;
		}
	}
	if (c.best == 0 && c.bestlen == 5 && a->b[10] == 0xff && a->b[11] == 0xff) {
		const char pre[] = "::ffff:";
		__u32 n = 0;
		for (int i = 0; i < 7; i++)
			s->buf[OFF(at + n++)] = pre[i];
		for (int i = 12; i < 16; i++) {
			if (i > 12)
				s->buf[OFF(at + n++)] = '.';
			n += put_dec(s, at + n, a->b[i]);
		}
		return n;
	}
	if (c.bestlen < 2)
		c.best = -1;
	bpf_loop(8, ip6_group, &c, 0);
	return c.n;
}

#define IPSTR_MAX 48

/* net_fmt_ip writes an address as text at offset at of this CPU's record
 * buffer and returns its length. */
__noinline __u32 net_fmt_ip(__u32 at, __u32 family, const struct ip16 *a)
{
	struct scratch *s = scratch_buf();
	if (!s || !a)
		return 0;
	return fmt_ip(s, at, family, a) & (IPSTR_MAX - 1);
}

/* net_save_ip appends an address argument as text ("" for families
 * without addresses). */
__noinline int net_save_ip(struct argpos *p, __u32 index, __u32 family, const struct ip16 *a)
{
	struct event e;
	if (!a || !event_at(&e, p) || e.off + 2 + 4 + IPSTR_MAX > MAX_RECORD)
		return 0;
	__u32 at = e.off;
	e.s->buf[OFF(at)] = index;
	e.s->buf[OFF(at + 1)] = ARG_STR;
	__u32 n = net_fmt_ip(at + 6, family, a) & (IPSTR_MAX - 1);
	__builtin_memcpy(&e.s->buf[OFF(at + 2)], &n, 4);
	p->off = at + 6 + n;
	p->argnum = e.argnum + 1;
	return 1;
}

/* net_save_unix_path saves a sun_path: a file system path, or "@name" for
 * an abstract socket (whose name starts with a NUL byte). Built in the
 * per-CPU path buffer. */
__noinline int net_save_unix_path(struct argpos *p, __u32 index, __u64 path, __u32 len, __u32 user)
{
	struct event e;
	if (!event_at(&e, p))
		return 0;
	__u32 cpu = bpf_get_smp_processor_id();
	struct pathbuf *pb = bpf_map_lookup_elem(&pathbufs, &cpu);
	if (!pb)
		return 0;
	pb->buf[0] = 0;
	if (path && len) {
		if (len > 108)
			len = 108;
		if (user)
			bpf_probe_read_user(pb->buf, 108, (void *)path);
		else
			bpf_probe_read_kernel(pb->buf, 108, (void *)path);
		pb->buf[BOUND(len, 127)] = 0;
		if (pb->buf[0] == 0 && len > 1)
			pb->buf[0] = '@';
	}
	save_str(&e, index, pb->buf, 0);
	event_pos(&e, p);
	return 1;
}

/* net_save_file_path saves the path of the file at address f, walked by
 * path.h's build_path (one bpf_loop step verified once). */
__noinline int net_save_file_path(struct argpos *p, __u32 index, __u64 f)
{
	struct event e;
	if (!event_at(&e, p))
		return 0;
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return 0;
	struct path fp = {};
	if (!f || bpf_core_read(&fp, sizeof(fp), &((struct file *)f)->f_path)) {
		save_str(&e, index, "", 0);
		event_pos(&e, p);
		return 1;
	}
	__u32 off = build_path(pb, &fp);
	save_str(&e, index, &pb->buf[BOUND(off, PATHBUF_END)], 0);
	event_pos(&e, p);
	return 1;
}

#define NAME(buf, lit) __builtin_memcpy(buf, lit, sizeof(lit))

/* Tables of net_save_name. */
enum name_table {
	NT_FAMILY,    /* AF_INET, ... AF_<number> */
	NT_SOCK_TYPE, /* SOCK_STREAM, ... */
	NT_STATE,     /* TCP states without the TCP_ prefix */
	NT_ORIGIN,    /* enum sock_origin */
	NT_ATTRIBUTION,
	NT_DIRECTION, /* 0 ingress, 1 egress */
	NT_QTYPE,     /* DNS types, TYPE<number> */
	NT_FILE_KIND, /* enum file_kind */
};

/* What a descriptor is, for the dup events. */
enum file_kind { FK_NONE, FK_FILE, FK_DIR, FK_CHR, FK_BLK, FK_LINK, FK_SOCKET, FK_PIPE, FK_FIFO, FK_OTHER };

/* net_save_name saves value by its name in table; values without a name
 * get the table's prefix and their number. */
__noinline int net_save_name(struct argpos *p, __u32 index, __u32 table, __u32 v)
{
	struct event e;
	char n[16] = {};
	char pre[8] = {};
	__u32 plen = 0;

	if (!event_at(&e, p))
		return 0;
	switch (table) {
	case NT_FAMILY:
		switch (v) {
		case AF_UNSPEC: NAME(n, "AF_UNSPEC"); break;
		case AF_UNIX: NAME(n, "AF_UNIX"); break;
		case AF_INET: NAME(n, "AF_INET"); break;
		case AF_INET6: NAME(n, "AF_INET6"); break;
		case AF_NETLINK: NAME(n, "AF_NETLINK"); break;
		case AF_PACKET: NAME(n, "AF_PACKET"); break;
		case AF_VSOCK: NAME(n, "AF_VSOCK"); break;
		case AF_XDP: NAME(n, "AF_XDP"); break;
		default: NAME(pre, "AF_"); plen = 3;
		}
		break;
	case NT_SOCK_TYPE:
		switch (v & SOCK_TYPE_MASK) {
		case SOCK_STREAM: NAME(n, "SOCK_STREAM"); break;
		case SOCK_DGRAM: NAME(n, "SOCK_DGRAM"); break;
		case SOCK_RAW: NAME(n, "SOCK_RAW"); break;
		case SOCK_RDM: NAME(n, "SOCK_RDM"); break;
		case SOCK_SEQPACKET: NAME(n, "SOCK_SEQPACKET"); break;
		case SOCK_DCCP: NAME(n, "SOCK_DCCP"); break;
		case SOCK_PACKET: NAME(n, "SOCK_PACKET"); break;
		default: NAME(pre, "SOCK_"); plen = 5;
		}
		break;
	case NT_STATE:
		/* UDP and AF_UNIX sockets use the same values: ESTABLISHED when
		 * connected, CLOSE otherwise */
		switch (v) {
		case TCP_ESTABLISHED: NAME(n, "ESTABLISHED"); break;
		case TCP_SYN_SENT: NAME(n, "SYN_SENT"); break;
		case TCP_SYN_RECV: NAME(n, "SYN_RECV"); break;
		case TCP_FIN_WAIT1: NAME(n, "FIN_WAIT1"); break;
		case TCP_FIN_WAIT2: NAME(n, "FIN_WAIT2"); break;
		case TCP_TIME_WAIT: NAME(n, "TIME_WAIT"); break;
		case TCP_CLOSE: NAME(n, "CLOSE"); break;
		case TCP_CLOSE_WAIT: NAME(n, "CLOSE_WAIT"); break;
		case TCP_LAST_ACK: NAME(n, "LAST_ACK"); break;
		case TCP_LISTEN: NAME(n, "LISTEN"); break;
		case TCP_CLOSING: NAME(n, "CLOSING"); break;
		case TCP_NEW_SYN_RECV: NAME(n, "NEW_SYN_RECV"); break;
		default: NAME(pre, "STATE_"); plen = 6;
		}
		break;
	case NT_ORIGIN:
		switch (v) {
		case ORIGIN_SOCKET: NAME(n, "socket"); break;
		case ORIGIN_BIND: NAME(n, "bind"); break;
		case ORIGIN_SEND: NAME(n, "send"); break;
		case ORIGIN_LISTEN: NAME(n, "listen"); break;
		case ORIGIN_CONNECT: NAME(n, "connect"); break;
		case ORIGIN_ACCEPT: NAME(n, "accept"); break;
		}
		break;
	case NT_ATTRIBUTION:
		switch (v) {
		case ATTR_TASK: NAME(n, "task"); break;
		case ATTR_OWNER: NAME(n, "owner"); break;
		default: NAME(n, "none");
		}
		break;
	case NT_DIRECTION:
		if (v)
			NAME(n, "egress");
		else
			NAME(n, "ingress");
		break;
	case NT_FILE_KIND:
		switch (v) {
		case FK_FILE: NAME(n, "file"); break;
		case FK_DIR: NAME(n, "dir"); break;
		case FK_CHR: NAME(n, "chr"); break;
		case FK_BLK: NAME(n, "blk"); break;
		case FK_LINK: NAME(n, "link"); break;
		case FK_SOCKET: NAME(n, "socket"); break;
		case FK_PIPE: NAME(n, "pipe"); break;
		case FK_FIFO: NAME(n, "fifo"); break;
		case FK_OTHER: NAME(n, "other"); break;
		default: NAME(n, "none");
		}
		break;
	case NT_QTYPE:
		switch (v) {
		case 1: NAME(n, "A"); break;
		case 2: NAME(n, "NS"); break;
		case 5: NAME(n, "CNAME"); break;
		case 6: NAME(n, "SOA"); break;
		case 10: NAME(n, "NULL"); break;
		case 12: NAME(n, "PTR"); break;
		case 15: NAME(n, "MX"); break;
		case 16: NAME(n, "TXT"); break;
		case 28: NAME(n, "AAAA"); break;
		case 33: NAME(n, "SRV"); break;
		case 35: NAME(n, "NAPTR"); break;
		case 43: NAME(n, "DS"); break;
		case 48: NAME(n, "DNSKEY"); break;
		case 64: NAME(n, "SVCB"); break;
		case 65: NAME(n, "HTTPS"); break;
		case 255: NAME(n, "ANY"); break;
		case 257: NAME(n, "CAA"); break;
		/* RFC 3597 writes unknown types TYPE<number> */
		default: NAME(pre, "TYPE"); plen = 4;
		}
		break;
	}
	if (!plen) {
		save_str(&e, index, n, 0);
		event_pos(&e, p);
		return 1;
	}
	/* prefix and number, written in the record itself: variable offsets
	 * into a stack buffer are refused */
	if (e.off + 6 + 8 + 10 > MAX_RECORD)
		return 0;
	__u32 at = e.off, k = 0;
	e.s->buf[OFF(at)] = index;
	e.s->buf[OFF(at + 1)] = ARG_STR;
	for (__u32 i = 0; i < 8 && i < plen; i++)
		e.s->buf[OFF(at + 6 + k++)] = pre[i];
	k += put_dec(e.s, at + 6 + k, v & 0xffff);
	k &= 15;
	__builtin_memcpy(&e.s->buf[OFF(at + 2)], &k, 4);
	p->off = at + 6 + k;
	p->argnum = e.argnum + 1;
	return 1;
}

/* ---- the inline side: struct event in, struct event out ---- */

static __always_inline void save_name(struct event *e, __u8 index, __u32 table, __u32 v)
{
	struct argpos p = {.off = e->off, .argnum = e->argnum};
	net_save_name(&p, index, table, v);
	e->off = p.off;
	e->argnum = p.argnum;
}

static __always_inline void save_ip(struct event *e, __u8 index, __u16 family, const __u8 *addr)
{
	struct argpos p = {.off = e->off, .argnum = e->argnum};
	net_save_ip(&p, index, family, (const struct ip16 *)addr);
	e->off = p.off;
	e->argnum = p.argnum;
}

static __always_inline void save_path_of(struct event *e, __u8 index, struct file *f)
{
	struct argpos p = {.off = e->off, .argnum = e->argnum};
	net_save_file_path(&p, index, (__u64)f);
	e->off = p.off;
	e->argnum = p.argnum;
}

/* net_save_sock saves the seven arguments every socket event starts its
 * socket part with: family, type, protocol, local_addr, local_port,
 * remote_addr, remote_port. */
__noinline int net_save_sock(struct argpos *p, __u32 first, const struct sock_desc *d)
{
	struct event e;
	if (!d || !event_at(&e, p))
		return 0;
	save_name(&e, first, NT_FAMILY, d->family);
	save_name(&e, first + 1, NT_SOCK_TYPE, d->type);
	save_u32(&e, first + 2, d->protocol);
	if (d->family == AF_UNIX) {
		struct argpos q;
		event_pos(&e, &q);
		net_save_unix_path(&q, first + 3, d->lpath, d->lpath_len, d->lpath_user);
		net_save_unix_path(&q, first + 5, d->rpath, d->rpath_len, d->rpath_user);
		e.off = q.off;
		e.argnum = q.argnum;
		save_u32(&e, first + 4, 0);
		save_u32(&e, first + 6, 0);
	} else {
		save_ip(&e, first + 3, d->family, d->laddr);
		save_u32(&e, first + 4, d->lport);
		save_ip(&e, first + 5, d->family, d->raddr);
		save_u32(&e, first + 6, d->rport);
	}
	event_pos(&e, p);
	return 1;
}

/* net_save_ends saves the five arguments of the sock-level events (the
 * tracepoints' names, s the local end): family, saddr, sport, daddr, dport. */
__noinline int net_save_ends(struct argpos *p, __u32 first, const struct sock_desc *d)
{
	struct event e;
	if (!d || !event_at(&e, p))
		return 0;
	save_name(&e, first, NT_FAMILY, d->family);
	save_ip(&e, first + 1, d->family, d->laddr);
	save_u32(&e, first + 2, d->lport);
	save_ip(&e, first + 3, d->family, d->raddr);
	save_u32(&e, first + 4, d->rport);
	event_pos(&e, p);
	return 1;
}

/* The runs net_save_sock and net_save_ends write from first, in the order of
 * the table's sockArgs and endsArgs (event/spec_net.go): every event that
 * carries one must keep it. */
#define SOCK_RUN_OK(EV)                                                                                   \
	(ARG_##EV##_TYPE == ARG_##EV##_FAMILY + 1 && ARG_##EV##_PROTOCOL == ARG_##EV##_FAMILY + 2 &&       \
	 ARG_##EV##_LOCAL_ADDR == ARG_##EV##_FAMILY + 3 && ARG_##EV##_LOCAL_PORT == ARG_##EV##_FAMILY + 4 &&  \
	 ARG_##EV##_REMOTE_ADDR == ARG_##EV##_FAMILY + 5 && ARG_##EV##_REMOTE_PORT == ARG_##EV##_FAMILY + 6)
#define ENDS_RUN_OK(EV)                                                                                   \
	(ARG_##EV##_SADDR == ARG_##EV##_FAMILY + 1 && ARG_##EV##_SPORT == ARG_##EV##_FAMILY + 2 &&         \
	 ARG_##EV##_DADDR == ARG_##EV##_FAMILY + 3 && ARG_##EV##_DPORT == ARG_##EV##_FAMILY + 4)
_Static_assert(SOCK_RUN_OK(SECURITY_SOCKET_BIND) && SOCK_RUN_OK(SECURITY_SOCKET_LISTEN) &&
		       SOCK_RUN_OK(SECURITY_SOCKET_CONNECT) && SOCK_RUN_OK(SECURITY_SOCKET_ACCEPT) && SOCK_RUN_OK(DUP) &&
		       SOCK_RUN_OK(DUP2) && SOCK_RUN_OK(DUP3),
	       "a socket event's arguments are out of net_save_sock's order");
_Static_assert(ENDS_RUN_OK(TCP_CONNECT) && ENDS_RUN_OK(UDP_SENDMSG) && ENDS_RUN_OK(UDP_DISCONNECT) &&
		       ENDS_RUN_OK(UDP_DESTROY_SOCK),
	       "a sock-level event's arguments are out of net_save_ends' order");

static __always_inline void save_sock_desc(struct event *e, __u8 first, const struct sock_desc *d)
{
	struct argpos p = {.off = e->off, .argnum = e->argnum};
	net_save_sock(&p, first, d);
	e->off = p.off;
	e->argnum = p.argnum;
}

static __always_inline void save_ends(struct event *e, __u8 first, const struct sock_desc *d)
{
	struct argpos p = {.off = e->off, .argnum = e->argnum};
	net_save_ends(&p, first, d);
	e->off = p.off;
	e->argnum = p.argnum;
}

/* ---- owners ---- */

static __always_inline void endpoint_key(struct endpoint *k, __u8 protocol, __u16 family, __u16 port, const __u8 *addr)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->protocol = protocol;
	k->port = port;
	if (family == AF_INET) {
		/* 0.0.0.0 stays all zeros: the wildcard key */
		if (addr[0] | addr[1] | addr[2] | addr[3]) {
			k->addr[10] = 0xff;
			k->addr[11] = 0xff;
			__builtin_memcpy(&k->addr[12], addr, 4);
		}
	} else {
		__builtin_memcpy(k->addr, addr, 16);
	}
}

static __always_inline int endpoint_of(const struct sock_desc *d, struct endpoint *k)
{
	if ((d->family != AF_INET && d->family != AF_INET6) || !d->lport)
		return 0;
	if (d->protocol != IPPROTO_TCP && d->protocol != IPPROTO_UDP)
		return 0;
	endpoint_key(k, d->protocol, d->family, d->lport, d->laddr);
	return 1;
}

/* remember_endpoint makes owner the owner of d's local end, when it has
 * one, unless the end has one already: it runs in softirq (a connection
 * becoming established), where it must not take a listener's port from it.
 * A global function: the value is built on its own stack frame. */
__noinline int remember_endpoint(const struct sock_desc *d, const struct record_header *owner)
{
	struct endpoint k;
	struct endpoint_val v;
	if (!d || !owner || !endpoint_of(d, &k))
		return 0;
	__builtin_memcpy(&v.owner, owner, sizeof(v.owner));
	v.sk = d->sk;
	bpf_map_update_elem(&endpoint_owners, &k, &v, BPF_NOEXIST);
	return 1;
}

/* forget_socket drops what was remembered of a socket that is going away;
 * its local end only when no other socket took it over since. */
static __always_inline void forget_socket(const struct sock_desc *d)
{
	bpf_map_delete_elem(&sock_owners, &d->sk);
	if ((d->family != AF_INET && d->family != AF_INET6) || !d->lport)
		return;
	struct endpoint k;
	endpoint_key(&k, d->protocol, d->family, d->lport, d->laddr);
	struct endpoint_val *v = bpf_map_lookup_elem(&endpoint_owners, &k);
	if (v && v->sk == d->sk)
		bpf_map_delete_elem(&endpoint_owners, &k);
}

/* remember_owner records the current task, in process context, as the owner
 * of d's socket and of its local end. A later bind, listen or send does not
 * hide that a socket was connected or accepted. */
__noinline int remember_owner(const struct sock_desc *d, __u32 origin)
{
	struct endpoint_val v;
	struct endpoint k;
	if (!d || !d->sk)
		return 0;
	fill_header(&v.owner, (struct task_struct *)bpf_get_current_task(), 0);
	v.sk = d->sk;
	struct record_header *old = bpf_map_lookup_elem(&sock_owners, &v.sk);
	if (old && origin < ORIGIN_CONNECT && (old->reserved == ORIGIN_CONNECT || old->reserved == ORIGIN_ACCEPT))
		origin = old->reserved;
	v.owner.reserved = origin;
	bpf_map_update_elem(&sock_owners, &v.sk, &v.owner, BPF_ANY);
	if (endpoint_of(d, &k))
		bpf_map_update_elem(&endpoint_owners, &k, &v, BPF_ANY);
	return 1;
}

static __always_inline struct record_header *endpoint_owner(__u8 protocol, __u16 family, __u16 port, const __u8 *addr)
{
	struct endpoint k;
	if (!port)
		return NULL;
	endpoint_key(&k, protocol, family, port, addr);
	struct endpoint_val *v = bpf_map_lookup_elem(&endpoint_owners, &k);
	if (v)
		return &v->owner;
	/* a socket bound to the wildcard address owns the port on every address */
	__builtin_memset(k.addr, 0, sizeof(k.addr));
	v = bpf_map_lookup_elem(&endpoint_owners, &k);
	return v ? &v->owner : NULL;
}

static __always_inline int owner_is_self(const struct record_header *o)
{
	return o && self_tgid && o->host_pid == self_tgid;
}

/* event_init_as starts a record on behalf of a remembered owner (or of
 * nobody, with zero process fields) rather than the current task: for hooks
 * that run in softirq or in a TC classifier, where the current task is
 * whoever happened to be interrupted. */
static __always_inline int event_init_as(struct event *e, void *ctx, __u32 id, const struct record_header *owner)
{
	e->s = scratch_buf();
	if (!e->s)
		return 0;
	e->ctx = ctx;
	e->task = NULL;
	e->off = sizeof(struct record_header);
	e->argnum = 0;
	struct record_header *h = (struct record_header *)e->s->buf;
	if (owner)
		__builtin_memcpy(h, owner, sizeof(*h));
	else
		__builtin_memset(h, 0, sizeof(*h));
	h->ts = bpf_ktime_get_boot_ns();
	h->event_id = id;
	h->retval = 0;
	h->reserved = 0;
	h->argnum = 0;
	return 1;
}

/* ---- files behind descriptors ---- */

/* save_file_kind saves what f is (file, pipe, socket, ...) and returns it. */
static __always_inline __u32 save_file_kind(struct event *e, __u8 index, struct file *f)
{
	__u32 kind = FK_NONE;
	if (f) {
		struct inode *ino = BPF_CORE_READ(f, f_inode);
		switch (BPF_CORE_READ(ino, i_mode) & S_IFMT) {
		case S_IFREG: kind = FK_FILE; break;
		case S_IFDIR: kind = FK_DIR; break;
		case S_IFCHR: kind = FK_CHR; break;
		case S_IFBLK: kind = FK_BLK; break;
		case S_IFLNK: kind = FK_LINK; break;
		case S_IFSOCK: kind = FK_SOCKET; break;
		case S_IFIFO:
			kind = BPF_CORE_READ(ino, i_sb, s_magic) == PIPEFS_MAGIC ? FK_PIPE : FK_FIFO;
			break;
		default: kind = FK_OTHER;
		}
	}
	save_name(e, index, NT_FILE_KIND, kind);
	return kind;
}

#endif

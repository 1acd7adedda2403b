/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sockets as events see them: what a struct sock is (family, type, both
 * ends), addresses written as text straight into the record, and who owns a
 * socket when the kernel touches it from a context that is not the owner's
 * (softirq, the TC classifiers).
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

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define PIPEFS_MAGIC 0x50495045

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
 * network order, 16 bytes (IPv4 in the first 4); AF_UNIX ends are paths. */
struct sock_desc {
	__u64 sk;
	__u16 family, type, protocol;
	__u8 state, lpath_user, rpath_user, pad[3];
	__u16 lport, rport; /* host order */
	__u8 laddr[16], raddr[16];
	const char *lpath, *rpath; /* sun_path of each end, NULL when unnamed */
	__u32 lpath_len, rpath_len; /* bytes of sun_path that are meaningful */
};

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

static __always_inline void unix_name(struct sock *sk, const char **path, __u32 *len)
{
	struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
	*path = NULL;
	*len = 0;
	if (!ua)
		return;
	int l = BPF_CORE_READ(ua, len);
	if (l <= 2)
		return;
	*path = (const char *)ua + bpf_core_field_offset(struct unix_address, name) + 2;
	*len = l - 2;
}

static __always_inline void read_sock(struct sock *sk, struct sock_desc *d)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->sk = (__u64)sk;
	if (!sk)
		return;
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
}

/* desc_set_sockaddr puts the address a caller passed (bind's local end,
 * connect's remote end) into d. */
static __always_inline void desc_set_sockaddr(struct sock_desc *d, const void *sa, int len, int user, int remote)
{
	__u16 fam = 0;
	__u8 *addr = remote ? d->raddr : d->laddr;
	__u16 port = 0;

	if (!sa)
		return;
	if (user)
		bpf_probe_read_user(&fam, sizeof(fam), sa);
	else
		bpf_probe_read_kernel(&fam, sizeof(fam), sa);
	__builtin_memset(addr, 0, 16);
	if (fam == AF_INET) {
		struct sockaddr_in sin = {};
		if (user)
			bpf_probe_read_user(&sin, sizeof(sin), sa);
		else
			bpf_probe_read_kernel(&sin, sizeof(sin), sa);
		port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(addr, &sin.sin_addr.s_addr, 4);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		if (user)
			bpf_probe_read_user(&sin6, sizeof(sin6), sa);
		else
			bpf_probe_read_kernel(&sin6, sizeof(sin6), sa);
		port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(addr, &sin6.sin6_addr, 16);
	} else if (fam == AF_UNIX && len > 2) {
		if (remote) {
			d->rpath = (const char *)sa + 2;
			d->rpath_len = len - 2;
			d->rpath_user = user;
		} else {
			d->lpath = (const char *)sa + 2;
			d->lpath_len = len - 2;
			d->lpath_user = user;
		}
	}
	if (remote)
		d->rport = port;
	else
		d->lport = port;
}

/* ---- writing addresses and names ----
 * Text is written straight into the record. The writers are global
 * functions: the verifier checks them once, and their callers go on with
 * one unknown length instead of one path per number of digits, which would
 * multiply with every address an event carries. */

struct ip16 {
	__u8 b[16];
};

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

/* fmt_dec writes v in decimal at s->buf[at] and returns its length. */
__noinline __u32 fmt_dec(struct scratch *s, __u32 at, __u32 v)
{
	if (!s)
		return 0;
	return put_dec(s, at, v);
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
__noinline __u32 fmt_ip(struct scratch *s, __u32 at, __u32 family, const struct ip16 *a)
{
	if (!s || !a)
		return 0;
	if (family == 2 /* AF_INET */) {
		__u32 n = 0;
		for (int i = 0; i < 4; i++) {
			if (i)
				s->buf[OFF(at + n++)] = '.';
			n += put_dec(s, at + n, a->b[i]);
		}
		return n;
	}
	if (family != 10 /* AF_INET6 */)
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

/* save_ip appends an address argument as text; "" for other families. */
static __always_inline int save_ip(struct event *e, __u8 index, __u16 family, const __u8 *addr)
{
	if (e->off + 2 + 4 + IPSTR_MAX > MAX_RECORD)
		return 0;
	__u32 at = e->off;
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = ARG_STR;
	__u32 n = fmt_ip(e->s, at + 6, family, (const struct ip16 *)addr) & (IPSTR_MAX - 1);
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &n, 4);
	e->off = at + 6 + n;
	e->argnum++;
	return 1;
}

/* save_unix_path saves a sun_path: a file system path, or "@name" for an
 * abstract socket (whose name starts with a NUL byte). Built in the per-CPU
 * path buffer: the stack is short. */
static __always_inline int save_unix_path(struct event *e, __u8 index, const char *path, __u32 len, int user)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct pathbuf *pb = bpf_map_lookup_elem(&pathbufs, &cpu);
	if (!pb)
		return 0;
	pb->buf[0] = 0;
	if (path && len) {
		if (len > 108)
			len = 108;
		if (user)
			bpf_probe_read_user(pb->buf, 108, path);
		else
			bpf_probe_read_kernel(pb->buf, 108, path);
		pb->buf[len & 127] = 0;
		if (pb->buf[0] == 0 && len > 1)
			pb->buf[0] = '@';
	}
	return save_str(e, index, pb->buf, 0);
}

#define NAME(buf, lit) __builtin_memcpy(buf, lit, sizeof(lit))

/* save_prefixed_num saves prefix followed by a number ("AF_42"), for
 * values without a name. Built in the record itself: variable offsets into
 * a stack buffer are refused. */
static __always_inline void save_prefixed_num(struct event *e, __u8 index, const char *prefix, __u32 plen, __u32 v)
{
	if (e->off + 6 + 8 + 5 > MAX_RECORD)
		return;
	__u32 at = e->off, n = 0;
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = ARG_STR;
	for (__u32 i = 0; i < 8 && i < plen; i++)
		e->s->buf[OFF(at + 6 + n++)] = prefix[i];
	n = (n + fmt_dec(e->s, at + 6 + n, v)) & 15;
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &n, 4);
	e->off = at + 6 + n;
	e->argnum++;
}

/* save_family saves an address family by its constant's name ("AF_INET"). */
static __always_inline void save_family(struct event *e, __u8 index, __u32 family)
{
	char n[16] = {};
	switch (family) {
	case AF_UNSPEC: NAME(n, "AF_UNSPEC"); break;
	case AF_UNIX: NAME(n, "AF_UNIX"); break;
	case AF_INET: NAME(n, "AF_INET"); break;
	case AF_INET6: NAME(n, "AF_INET6"); break;
	case AF_NETLINK: NAME(n, "AF_NETLINK"); break;
	case AF_PACKET: NAME(n, "AF_PACKET"); break;
	case AF_VSOCK: NAME(n, "AF_VSOCK"); break;
	case AF_XDP: NAME(n, "AF_XDP"); break;
	default:
		save_prefixed_num(e, index, "AF_", 3, family & 0xffff);
		return;
	}
	save_str(e, index, n, 0);
}

static __always_inline void save_sock_type(struct event *e, __u8 index, __u32 type)
{
	char n[16] = {};
	switch (type & SOCK_TYPE_MASK) {
	case SOCK_STREAM: NAME(n, "SOCK_STREAM"); break;
	case SOCK_DGRAM: NAME(n, "SOCK_DGRAM"); break;
	case SOCK_RAW: NAME(n, "SOCK_RAW"); break;
	case SOCK_RDM: NAME(n, "SOCK_RDM"); break;
	case SOCK_SEQPACKET: NAME(n, "SOCK_SEQPACKET"); break;
	case SOCK_DCCP: NAME(n, "SOCK_DCCP"); break;
	case SOCK_PACKET: NAME(n, "SOCK_PACKET"); break;
	default: NAME(n, "SOCK_OTHER");
	}
	save_str(e, index, n, 0);
}

/* save_tcp_state saves a socket state by the name the kernel gives it
 * without the TCP_ prefix (UDP and AF_UNIX sockets use the same values:
 * ESTABLISHED when connected, CLOSE otherwise). */
static __always_inline void save_tcp_state(struct event *e, __u8 index, int state)
{
	char n[16] = {};
	switch (state) {
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
	default: NAME(n, "UNKNOWN");
	}
	save_str(e, index, n, 0);
}

/* save_sock_desc saves the seven arguments every socket event starts its
 * socket part with: family, type, protocol, local_addr, local_port,
 * remote_addr, remote_port. */
static __always_inline void save_sock_desc(struct event *e, __u8 first, const struct sock_desc *d)
{
	save_family(e, first, d->family);
	save_sock_type(e, first + 1, d->type);
	save_u32(e, first + 2, d->protocol);
	if (d->family == AF_UNIX) {
		save_unix_path(e, first + 3, d->lpath, d->lpath_len, d->lpath_user);
		save_u32(e, first + 4, 0);
		save_unix_path(e, first + 5, d->rpath, d->rpath_len, d->rpath_user);
		save_u32(e, first + 6, 0);
		return;
	}
	save_ip(e, first + 3, d->family, d->laddr);
	save_u32(e, first + 4, d->lport);
	save_ip(e, first + 5, d->family, d->raddr);
	save_u32(e, first + 6, d->rport);
}

static __always_inline void save_origin(struct event *e, __u8 index, __u32 origin)
{
	char n[8] = {};
	switch (origin) {
	case ORIGIN_SOCKET: NAME(n, "socket"); break;
	case ORIGIN_BIND: NAME(n, "bind"); break;
	case ORIGIN_SEND: NAME(n, "send"); break;
	case ORIGIN_LISTEN: NAME(n, "listen"); break;
	case ORIGIN_CONNECT: NAME(n, "connect"); break;
	case ORIGIN_ACCEPT: NAME(n, "accept"); break;
	}
	save_str(e, index, n, 0);
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

/* remember_endpoint makes owner the owner of d's local end, when it has
 * one. flags: BPF_ANY from process context, where the caller is the owner;
 * BPF_NOEXIST from softirq, which must not take a listener's port from it. */
static __always_inline void remember_endpoint(const struct sock_desc *d, const struct record_header *owner, __u64 flags)
{
	if ((d->family != AF_INET && d->family != AF_INET6) || !d->lport)
		return;
	if (d->protocol != IPPROTO_TCP && d->protocol != IPPROTO_UDP)
		return;
	struct endpoint k;
	struct endpoint_val v;
	endpoint_key(&k, d->protocol, d->family, d->lport, d->laddr);
	__builtin_memcpy(&v.owner, owner, sizeof(v.owner));
	v.sk = d->sk;
	bpf_map_update_elem(&endpoint_owners, &k, &v, flags);
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
 * of d's socket (and of its local end). A later bind, listen or send does
 * not hide that a socket was connected or accepted. */
static __always_inline void remember_owner(const struct sock_desc *d, __u32 origin)
{
	struct record_header h;
	if (!d->sk)
		return;
	fill_header(&h, (struct task_struct *)bpf_get_current_task(), 0);
	struct record_header *old = bpf_map_lookup_elem(&sock_owners, &d->sk);
	if (old && origin < ORIGIN_CONNECT && (old->reserved == ORIGIN_CONNECT || old->reserved == ORIGIN_ACCEPT))
		origin = old->reserved;
	h.reserved = origin;
	bpf_map_update_elem(&sock_owners, &d->sk, &h, BPF_ANY);
	remember_endpoint(d, &h, BPF_ANY);
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

/* How an event's process was found, for events seen outside the owner's
 * context. */
enum attribution {
	ATTR_NONE = 0,  /* nobody known: the process fields are zero */
	ATTR_TASK = 1,  /* the current task, in process context */
	ATTR_OWNER = 2, /* the socket's (or local port's) owner, remembered */
};

static __always_inline void save_attribution(struct event *e, __u8 index, int a)
{
	char n[8] = {};
	switch (a) {
	case ATTR_TASK: NAME(n, "task"); break;
	case ATTR_OWNER: NAME(n, "owner"); break;
	default: NAME(n, "none");
	}
	save_str(e, index, n, 0);
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

/* save_file_kind saves what f is (file, pipe, socket, ...) and returns its
 * S_IFMT bits, 0 for a pipe, whose path would mean nothing. */
static __always_inline __u32 save_file_kind(struct event *e, __u8 index, struct file *f)
{
	char kind[8] = {};
	if (!f) {
		NAME(kind, "none");
		save_str(e, index, kind, 0);
		return 0;
	}
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 mode = BPF_CORE_READ(ino, i_mode) & S_IFMT;
	switch (mode) {
	case S_IFREG: NAME(kind, "file"); break;
	case S_IFDIR: NAME(kind, "dir"); break;
	case S_IFCHR: NAME(kind, "chr"); break;
	case S_IFBLK: NAME(kind, "blk"); break;
	case S_IFLNK: NAME(kind, "link"); break;
	case S_IFSOCK: NAME(kind, "socket"); break;
	case S_IFIFO:
		if (BPF_CORE_READ(ino, i_sb, s_magic) == PIPEFS_MAGIC) {
			NAME(kind, "pipe");
			mode = 0;
		} else {
			NAME(kind, "fifo");
		}
		break;
	default: NAME(kind, "other");
	}
	save_str(e, index, kind, 0);
	return mode;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sockets, part 3: saving sockets and files into events, and their owners (included by net.h, not alone). */
#ifndef VIGIL_NET_SAVE_H
#define VIGIL_NET_SAVE_H

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
	fill_header(&v.owner, 0);
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

/* ---- shared by the socket and the UDP programs ---- */

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

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sockets, part 2: addresses and names written as text into the record (included by net.h, not alone). */
#ifndef VIGIL_NET_FMT_H
#define VIGIL_NET_FMT_H

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

#endif

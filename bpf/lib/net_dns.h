/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef VIGIL_NET_DNS_H
#define VIGIL_NET_DNS_H

/*
 * Reading a DNS message for net_packet_dns (tc.bpf.c): the question's name
 * and type, the A/AAAA answers, and where the message sits in a UDP datagram
 * or a TCP segment. Included by tc.bpf.c after the packet and dns_buf
 * definitions it uses.
 */

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

#endif

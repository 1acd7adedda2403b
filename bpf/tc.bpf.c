// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore
// bpf2go-types: endpoint endpoint_val record_header

/*
 * The TC classifiers on every interface: packets and decoded DNS.
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

/* net_packet_dns: direction, ifindex, family, saddr, sport, daddr, dport,
 * id, response, opcode, rcode, qname, qtype, answers, answer_count,
 * attribution. The process is the client's (the sender of a query, the
 * receiver of a response), else the server's, when the local end has a
 * remembered owner. DNS over TCP is not decoded. */
__noinline int tc_emit_dns(struct __sk_buff *skb, const struct pkt *p, __u32 egress, const struct record_header *sender)
{
	__u32 zero = 0;
	struct dns_buf *b = bpf_map_lookup_elem(&dns_bufs, &zero);
	if (!b || !p)
		return 0;
	struct udphdr uh;
	__u32 l4 = p->l4off & 0xff;
	if (bpf_skb_load_bytes_relative(skb, l4, &uh, sizeof(uh), BPF_HDR_START_NET))
		return 0;
	__u32 n = bpf_ntohs(uh.len) & 0xffff;
	if (n < sizeof(uh) + 12)
		return 0;
	n -= sizeof(uh);
	if (n > DNS_BUF)
		n = DNS_BUF;
	/* n is 12..512; written so that every verifier sees both bounds in
	 * the register it checks (the value is 12..523 to it, the buffer has
	 * room for that) */
	__u32 size = 12 + ((n - 12) & (DNS_BUF - 1));
	if (bpf_skb_load_bytes_relative(skb, l4 + sizeof(uh), b->b, size, BPF_HDR_START_NET))
		return 0;

	__u16 id = be16_at(b, 0), flags = be16_at(b, 2), qdcount = be16_at(b, 4), ancount = be16_at(b, 6);
	if (qdcount == 0)
		return 0;
	int response = flags >> 15;

	const struct record_header *owner;
	if (response) {
		owner = endpoint_owner(IPPROTO_UDP, p->family, p->dport, p->daddr);
		if (!owner)
			owner = sender;
		if (!owner)
			owner = endpoint_owner(IPPROTO_UDP, p->family, p->sport, p->saddr);
	} else {
		owner = sender;
		if (!owner)
			owner = endpoint_owner(IPPROTO_UDP, p->family, p->sport, p->saddr);
		if (!owner)
			owner = endpoint_owner(IPPROTO_UDP, p->family, p->dport, p->daddr);
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
	int want_dns = p.protocol == IPPROTO_UDP && (p.sport == 53 || p.dport == 53) &&
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

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

PROBE(NET_PACKET, "tc/ingress+egress", tc_ingress, tc_egress, tp_btf_inet_sock_set_state, sys_enter_save(socket), sys_exit_socket, sys_enter_connect, sys_exit_connect, sys_enter_save(bind), sys_exit_bind);
PROBE(NET_PACKET_DNS, "tc/ingress+egress", tc_ingress, tc_egress, tp_btf_inet_sock_set_state, sys_enter_save(socket), sys_exit_socket, sys_enter_connect, sys_exit_connect, sys_enter_save(bind), sys_exit_bind);

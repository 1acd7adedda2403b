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

#include "lib/net_dns.h"

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
 * of its local address and port too: the answers to an unconnected
 * socket's datagrams (a stub resolver's sendto) find it. A packet leaving
 * from a UDP socket's address and port proves the socket holds them now,
 * so an entry of another socket is stale (a socket whose close no probe
 * saw, on a kernel without one for UDP) and gives way. TCP keeps the first
 * owner: an accepted connection sends from its listener's port, and its
 * close must not take the port from the listener. */
__noinline int learn_endpoint(const struct pkt *p, const struct record_header *owner, __u64 sk)
{
	struct endpoint k;
	struct endpoint_val v;
	if (!p || !owner || !p->sport || (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP))
		return 0;
	endpoint_key(&k, p->protocol, p->family, p->sport, p->saddr);
	struct endpoint_val *old = bpf_map_lookup_elem(&endpoint_owners, &k);
	if (old && (p->protocol == IPPROTO_TCP || (old->sk == sk && old->owner.host_pid == owner->host_pid)))
		return 0;
	__builtin_memcpy(&v.owner, owner, sizeof(v.owner));
	v.sk = sk;
	bpf_map_update_elem(&endpoint_owners, &k, &v, BPF_ANY);
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

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

PROBE(NET_PACKET, "tc/ingress+egress", tc_ingress, tc_egress, tp_btf_inet_sock_set_state, sys_enter_save(socket), sys_exit_socket, sys_enter_connect, sys_exit_connect, sys_enter_save(bind), sys_exit_bind);
PROBE(NET_PACKET_DNS, "tc/ingress+egress", tc_ingress, tc_egress, tp_btf_inet_sock_set_state, sys_enter_save(socket), sys_exit_socket, sys_enter_connect, sys_exit_connect, sys_enter_save(bind), sys_exit_bind);

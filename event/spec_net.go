package event

// Events of the network: sockets, connections, DNS, packets (bpf/net_sock.bpf.c, net_flow.bpf.c, tc.bpf.c).
// Their ids are 400-499; bpf/lib/event_ids.h is generated from them (go generate).
const (
	IDSocket                ID = 400
	IDSecuritySocketCreate  ID = 401
	IDSecuritySocketBind    ID = 402
	IDSecuritySocketListen  ID = 403
	IDSecuritySocketConnect ID = 404
	IDSecuritySocketAccept  ID = 405
	IDDup                   ID = 406
	IDDup2                  ID = 407
	IDDup3                  ID = 408
	IDInetSockSetState      ID = 409
	IDTCPConnect            ID = 410
	IDUDPSendmsg            ID = 411
	IDUDPDisconnect         ID = 412
	IDUDPDestroySock        ID = 413
	IDNetPacket             ID = 414
	IDNetPacketDNS          ID = 415
)

// sockArgs are the arguments every socket-level event starts with (the
// first seven of save_sock_desc in bpf/lib/net.h).
var sockArgs = []Arg{
	{Name: "family", Type: TypeString, Doc: "address family: AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, ... (AF_<number> for others)"},
	{Name: "type", Type: TypeString, Doc: "SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, ..."},
	{Name: "protocol", Type: TypeUint32, Doc: "IP protocol number (6 TCP, 17 UDP) or the family's own"},
	{Name: "local_addr", Type: TypeString, Doc: `local address: "10.0.0.1", "::1", an AF_UNIX path ("@name" when abstract), "" when unnamed`},
	{Name: "local_port", Type: TypeUint32},
	{Name: "remote_addr", Type: TypeString, Doc: "remote address, as local_addr"},
	{Name: "remote_port", Type: TypeUint32},
}

func withSockArgs(more ...Arg) []Arg {
	out := append([]Arg{}, sockArgs...)
	return append(out, more...)
}

// endsArgs are the socket ends of the sock-level events (the tracepoints'
// names: s is the local end).
var endsArgs = []Arg{
	{Name: "family", Type: TypeString},
	{Name: "saddr", Type: TypeString, Doc: "local address"},
	{Name: "sport", Type: TypeUint32, Doc: "local port"},
	{Name: "daddr", Type: TypeString, Doc: "remote address"},
	{Name: "dport", Type: TypeUint32, Doc: "remote port"},
}

var attributionArg = Arg{Name: "attribution", Type: TypeString,
	Doc: `how the process was found: "task" (the current task, in process context), "owner" (the socket's or local port's remembered owner; the hook ran in softirq or a TC classifier), "none" (unknown: process fields are zero)`}

var fdArg = Arg{Name: "fd", Type: TypeInt32, Doc: "the socket's descriptor; -1 where the probe does not know it (kernel hooks)"}

var dupArgs = []Arg{
	{Name: "oldfd", Type: TypeInt32},
	{Name: "newfd", Type: TypeInt32, Doc: "the new descriptor (dup: the return value)"},
	{Name: "flags", Type: TypeInt32, Doc: "dup3 flags (O_CLOEXEC)"},
	{Name: "fd_type", Type: TypeString, Doc: "what oldfd is: socket, pipe, file, chr, fifo, dir, ... (none when it is not open)"},
	{Name: "path", Type: TypeString, Doc: "path of the file behind oldfd when it is not a socket"},
	sockArgs[0], sockArgs[1], sockArgs[2], sockArgs[3], sockArgs[4], sockArgs[5], sockArgs[6],
	{Name: "state", Type: TypeString, Doc: "socket state: ESTABLISHED (connected), LISTEN, CLOSE, SYN_SENT, ... (TCP's names; UDP and AF_UNIX use them too)"},
	{Name: "origin", Type: TypeString, Doc: `how the socket got its owner as far as the sensor saw: "connect", "accept", "listen", "bind", "send", "socket"; "" when it predates the sensor`},
}

var netSpecs = []Spec{
	{
		ID: IDSocket, Name: "socket", Doc: "socket(2): a socket is created (recorded at exit with the new descriptor)",
		Args: []Arg{
			sockArgs[0], sockArgs[1], sockArgs[2],
			{Name: "flags", Type: TypeUint32, Doc: "SOCK_NONBLOCK and SOCK_CLOEXEC bits of type"},
			{Name: "fd", Type: TypeInt32, Doc: "the new descriptor, -1 on failure"},
		},
	},
	{
		ID: IDSecuritySocketCreate, Name: "security_socket_create", Doc: "the LSM check of a socket creation, the kernel's own sockets included (kern)",
		Args: []Arg{
			sockArgs[0], sockArgs[1], sockArgs[2],
			{Name: "kern", Type: TypeBool, Doc: "a socket the kernel makes for itself"},
		},
	},
	{
		ID: IDSecuritySocketBind, Name: "security_socket_bind", Doc: "a socket is bound to a local address (the address asked for: port 0 lets the kernel pick)",
		Args: withSockArgs(fdArg),
	},
	{
		ID: IDSecuritySocketListen, Name: "security_socket_listen", Doc: "a socket starts listening on its bound address",
		Args: withSockArgs(fdArg, Arg{Name: "backlog", Type: TypeInt32}),
	},
	{
		ID: IDSecuritySocketConnect, Name: "security_socket_connect",
		Doc:  "a socket connects to a remote address (remote_* as asked; local_* as known when the probe ran: the kernel hook runs before connect picks a port, the fallback after)",
		Args: withSockArgs(fdArg),
	},
	{
		ID: IDSecuritySocketAccept, Name: "security_socket_accept",
		Doc:  "a connection was accepted: the new socket with its peer. The LSM hook itself runs before the connection leaves the queue, when the peer is unknown; the probe is the exit of do_accept, which calls it and which every accept passes (io_uring's too)",
		Args: withSockArgs(fdArg),
	},
	{
		ID: IDDup, Name: "dup", Doc: "dup(2), with what the duplicated descriptor is (a socket: its family, ends, state)",
		Args: dupArgs,
	},
	{
		ID: IDDup2, Name: "dup2", Doc: "dup2(2), with what the duplicated descriptor is: a socket put on fd 0, 1 or 2 is stdio redirected to it",
		Args: dupArgs,
	},
	{
		ID: IDDup3, Name: "dup3", Doc: "dup3(2), as dup2",
		Args: dupArgs,
	},
	{
		ID: IDInetSockSetState, Name: "inet_sock_set_state",
		Doc: "a TCP socket changes state (SYN_SENT, ESTABLISHED, CLOSE, ...). Most changes run in softirq: the process is the socket's remembered owner (attribution says how it was found); the sensor's own sockets are left out",
		Args: []Arg{
			{Name: "old_state", Type: TypeString, Doc: "state name without the TCP_ prefix"},
			{Name: "new_state", Type: TypeString},
			{Name: "family", Type: TypeString},
			{Name: "protocol", Type: TypeUint32},
			endsArgs[1], endsArgs[2], endsArgs[3], endsArgs[4],
			attributionArg,
		},
	},
	{
		ID: IDTCPConnect, Name: "tcp_connect", Doc: "a TCP connection is started (SYN sent). The fallback sees it as the change to SYN_SENT, before connect picks the local port: sport is 0 there unless the socket was bound",
		Args: endsArgs,
	},
	{
		ID: IDUDPSendmsg, Name: "udp_sendmsg", Off: true,
		Doc:  "a UDP datagram is sent (udp_sendmsg, udpv6_sendmsg). Off by default: one event per datagram (QUIC). The fallback sees sendto, sendmsg and sendmmsg (its first message), not write(2) on a connected socket",
		Args: append(append([]Arg{}, endsArgs...), Arg{Name: "len", Type: TypeUint64, Doc: "bytes to send (the fallback: bytes sent)"}),
	},
	{
		ID: IDUDPDisconnect, Name: "udp_disconnect", Doc: "a UDP (or ping) socket forgets its peer (__udp_disconnect: connect to AF_UNSPEC); daddr/dport are the peer it had",
		Args: endsArgs,
	},
	{
		ID: IDUDPDestroySock, Name: "udp_destroy_sock", Doc: "a UDP socket is destroyed (udp_destroy_sock, udpv6_destroy_sock). No tracepoint is on that path: kernels without fentry and kprobes have no probe for it",
		Args: endsArgs,
	},
	{
		ID: IDNetPacket, Name: "net_packet", Off: true,
		Doc: "an IP packet crosses an interface (TC classifiers; loopback is watched at egress only, where every packet passes once). Off by default: one event per packet. The process is the owner of the socket it leaves from, or of the local port it arrives at, where the sensor knows it; the sensor's own traffic is left out",
		Args: []Arg{
			{Name: "direction", Type: TypeString, Doc: "ingress or egress"},
			{Name: "ifindex", Type: TypeUint32},
			{Name: "family", Type: TypeString},
			{Name: "protocol", Type: TypeUint32, Doc: "IP protocol (IPv6: the first next header)"},
			{Name: "saddr", Type: TypeString, Doc: "source address"},
			{Name: "sport", Type: TypeUint32, Doc: "source port (TCP, UDP)"},
			{Name: "daddr", Type: TypeString, Doc: "destination address"},
			{Name: "dport", Type: TypeUint32},
			{Name: "len", Type: TypeUint32, Doc: "bytes, link header included"},
			{Name: "tcp_flags", Type: TypeUint32, Doc: "TCP flags byte (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, ...)"},
			attributionArg,
		},
	},
	{
		ID: IDNetPacketDNS, Name: "net_packet_dns",
		Doc: "a DNS query or response over UDP or TCP port 53, decoded (TC classifiers). The process is the client's (the querier: the owner of the socket a query leaves from, of the port a response goes to) where the sensor knows it, else the server's",
		Args: []Arg{
			{Name: "direction", Type: TypeString, Doc: "ingress or egress"},
			{Name: "ifindex", Type: TypeUint32},
			{Name: "family", Type: TypeString},
			{Name: "saddr", Type: TypeString},
			{Name: "sport", Type: TypeUint32},
			{Name: "daddr", Type: TypeString},
			{Name: "dport", Type: TypeUint32},
			{Name: "id", Type: TypeUint32, Doc: "DNS message id"},
			{Name: "response", Type: TypeBool, Doc: "a response (QR set), else a query"},
			{Name: "opcode", Type: TypeUint32, Doc: "0 for a standard query"},
			{Name: "rcode", Type: TypeUint32, Doc: "response code: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ..."},
			{Name: "qname", Type: TypeString, Doc: `the question's name as sent, dotted ("." for the root)`},
			{Name: "qtype", Type: TypeString, Doc: "A, AAAA, TXT, MX, ... (TYPE<number> for others)"},
			{Name: "answers", Type: TypeStrArray, Doc: "addresses of the A and AAAA answers (up to 8)"},
			{Name: "answer_count", Type: TypeUint32, Doc: "records in the answer section"},
			attributionArg,
			{Name: "transport", Type: TypeString, Doc: `"udp", or "tcp" for DNS over TCP (port 53: the first message of a segment that starts with one and holds it whole)`},
		},
	},
}

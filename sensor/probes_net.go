package sensor

// Probes of the network events (bpf/net.bpf.c), keyed by event id (see probes.go).

import (
	"slices"

	"github.com/vigil-sec/vigil/event"
)

// Programs of the syscall-layer fallbacks, by syscall.
var (
	socketExit = []Program{{Name: "sys_enter_save", Syscalls: []string{"socket"}}, {Name: "sys_exit_socket", Syscalls: []string{"socket"}}}
	bindExit   = []Program{{Name: "sys_enter_save", Syscalls: []string{"bind"}}, {Name: "sys_exit_bind", Syscalls: []string{"bind"}}}
	listenExit = []Program{{Name: "sys_enter_save", Syscalls: []string{"listen"}}, {Name: "sys_exit_listen", Syscalls: []string{"listen"}}}
	// connect's entry is its own: it sees a UDP disconnect while the peer is still there
	connectExit = []Program{{Name: "sys_enter_connect", Syscalls: []string{"connect"}}, {Name: "sys_exit_connect", Syscalls: []string{"connect"}}}
	acceptExit  = []Program{{Name: "sys_enter_save", Syscalls: []string{"accept", "accept4"}}, {Name: "sys_exit_accept", Syscalls: []string{"accept", "accept4"}}}
	sendExit    = []Program{{Name: "sys_enter_save", Syscalls: []string{"sendto", "sendmsg", "sendmmsg"}}, {Name: "sys_exit_send", Syscalls: []string{"sendto", "sendmsg", "sendmmsg"}}}
	dupExit     = []Program{{Name: "sys_enter_save", Syscalls: []string{"dup", "dup2", "dup3"}}, {Name: "sys_exit_dup", Syscalls: []string{"dup", "dup2", "dup3"}}}
)

// lsmProbes are the probes of a security_socket_* event: the LSM hook
// (fentry, else kprobe), else the syscall exit.
func lsmProbes(hook string, fallback []Program, syscalls string) []Probe {
	return []Probe{
		{Name: "fentry/" + hook, Programs: []Program{{Name: "fentry_" + hook}}},
		{Name: "kprobe/" + hook, Programs: []Program{{Name: "kprobe_" + hook}}},
		{Name: "raw_tracepoint/sys_exit (" + syscalls + ")", Fallback: true, Programs: fallback},
	}
}

var stateProbes = []Probe{
	{Name: "tp_btf/inet_sock_set_state", Programs: []Program{{Name: "tp_btf_inet_sock_set_state"}}},
	{Name: "tracepoint/sock/inet_sock_set_state", Programs: []Program{{Name: "tracepoint_inet_sock_set_state"}}},
}

// tcProbe attaches the classifiers to every interface (tcx on kernels from
// 6.6, clsact and cls_bpf before; see sensor/net_attach.go), with the hooks
// that tell which process owns a socket or a local port: a packet that
// leaves names its socket (skb->sk), whose owner socket(2)'s exit and the
// socket hooks remember; one that arrives names only its port. connect and
// bind exits remember the owners of the ports they pick (the kernel hooks
// run before they are picked); the state change tracepoint remembers TCP
// ports once connected, the sensor's own included, so that its NATS
// traffic can be left out.
var tcProbe = []Probe{{
	Name: "tc/ingress+egress",
	Programs: slices.Concat([]Program{{Name: "tc_ingress"}, {Name: "tc_egress"}, {Name: "tp_btf_inet_sock_set_state"}},
		socketExit, connectExit, bindExit),
}}

var netProbes = map[event.ID][]Probe{
	event.IDSocket:                {{Name: "raw_tracepoint/sys_exit", Programs: socketExit}},
	event.IDSecuritySocketCreate:  lsmProbes("security_socket_create", socketExit, "socket"),
	event.IDSecuritySocketBind:    lsmProbes("security_socket_bind", bindExit, "bind"),
	event.IDSecuritySocketListen:  lsmProbes("security_socket_listen", listenExit, "listen"),
	event.IDSecuritySocketConnect: lsmProbes("security_socket_connect", connectExit, "connect"),
	event.IDSecuritySocketAccept: {
		{Name: "fexit/do_accept", Programs: []Program{{Name: "fexit_do_accept"}}},
		{Name: "kretprobe/do_accept", Programs: []Program{{Name: "kretprobe_do_accept"}}},
		{Name: "raw_tracepoint/sys_exit (accept, accept4)", Fallback: true, Programs: acceptExit},
	},
	event.IDDup:              {{Name: "raw_tracepoint/sys_exit", Programs: dupExit}},
	event.IDDup2:             {{Name: "raw_tracepoint/sys_exit", Programs: dupExit}},
	event.IDDup3:             {{Name: "raw_tracepoint/sys_exit", Programs: dupExit}},
	event.IDInetSockSetState: stateProbes,
	event.IDTCPConnect: {
		{Name: "fentry/tcp_connect", Programs: []Program{{Name: "fentry_tcp_connect"}}},
		{Name: "kprobe/tcp_connect", Programs: []Program{{Name: "kprobe_tcp_connect"}}},
		{Name: "tp_btf/inet_sock_set_state (to SYN_SENT)", Fallback: true, Programs: stateProbes[0].Programs},
		{Name: "tracepoint/sock/inet_sock_set_state (to SYN_SENT)", Fallback: true, Programs: stateProbes[1].Programs},
	},
	event.IDUDPSendmsg: {
		{Name: "fentry/udp_sendmsg+udpv6_sendmsg", Programs: []Program{{Name: "fentry_udp_sendmsg"}, {Name: "fentry_udpv6_sendmsg"}}},
		{Name: "kprobe/udp_sendmsg+udpv6_sendmsg", Programs: []Program{{Name: "kprobe_udp_sendmsg"}, {Name: "kprobe_udpv6_sendmsg"}}},
		{Name: "raw_tracepoint/sys_exit (sendto, sendmsg, sendmmsg)", Fallback: true, Programs: sendExit},
	},
	event.IDUDPDisconnect: {
		{Name: "fentry/__udp_disconnect", Programs: []Program{{Name: "fentry___udp_disconnect"}}},
		{Name: "kprobe/__udp_disconnect", Programs: []Program{{Name: "kprobe___udp_disconnect"}}},
		{Name: "raw_tracepoint/sys_enter (connect to AF_UNSPEC)", Fallback: true, Programs: connectExit},
	},
	event.IDUDPDestroySock: {
		{Name: "fentry/udp_destroy_sock+udpv6_destroy_sock", Programs: []Program{{Name: "fentry_udp_destroy_sock"}, {Name: "fentry_udpv6_destroy_sock"}}},
		{Name: "kprobe/udp_destroy_sock+udpv6_destroy_sock", Programs: []Program{{Name: "kprobe_udp_destroy_sock"}, {Name: "kprobe_udpv6_destroy_sock"}}},
	},
	event.IDNetPacket:    tcProbe,
	event.IDNetPacketDNS: tcProbe,
}

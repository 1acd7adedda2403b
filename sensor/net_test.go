package sensor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load"
)

// netsockReport is what testdata/triggers/netsock prints.
type netsockReport struct {
	Pid  uint32 `json:"pid"`
	Exe  string `json:"exe"`
	TCP  tcpPair
	TCP6 tcpPair
	Dup  struct {
		Old, New, Dup2, Dup3, Pipe int
	}
	UDP struct {
		ServerPort int `json:"server_port"`
		ClientFd   int `json:"client_fd"`
		ClientPort int `json:"client_port"`
		SentBytes  int `json:"sent_bytes"`
	}
	Unix struct {
		Path, Abstract string
	}
}

type tcpPair struct {
	ListenFd   int `json:"listen_fd"`
	ListenPort int `json:"listen_port"`
	ClientFd   int `json:"client_fd"`
	ClientPort int `json:"client_port"`
	AcceptedFd int `json:"accepted_fd"`
}

func runNetsock(t *testing.T) netsockReport {
	t.Helper()
	var r netsockReport
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "netsock")), &r)
	if r.Pid == 0 || r.TCP.ListenPort == 0 || r.TCP6.ListenPort == 0 {
		t.Fatalf("netsock did not run through: %+v", r)
	}
	return r
}

// argsMatch tells whether ev carries every argument in want with that value
// (numbers as the decoder types them: uint64 for unsigned, int64 for signed).
func argsMatch(ev *event.Event, want map[string]any) bool {
	for k, v := range want {
		switch n := v.(type) {
		case int:
			if a, ok := ev.Args[k].(int64); ok {
				if a != int64(n) {
					return false
				}
				continue
			}
			if a, ok := ev.Args[k].(uint64); !ok || n < 0 || a != uint64(n) {
				return false
			}
			continue
		}
		if fmt.Sprint(ev.Args[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// waitArgs waits for an event of name from pid with the arguments in want.
// On failure it shows the events of that name and pid it did see.
func (ls *liveSensor) waitArgs(t *testing.T, name string, pid uint32, want map[string]any) *event.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var seen []string
		ls.mu.Lock()
		for _, ev := range ls.events {
			if ev.Name != name || ev.Process.HostPid != pid {
				continue
			}
			if argsMatch(ev, want) {
				ls.mu.Unlock()
				return ev
			}
			seen = append(seen, fmt.Sprintf("%v (probe %s, return %d)", ev.Args, ev.Probe, ev.ReturnValue))
		}
		ls.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s of pid %d with %v within 10s; its %s events:\n%s", name, pid, want, name, strings.Join(seen, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSensorSeesSockets(t *testing.T) {
	ls := startSensor(t)
	r := runNetsock(t)

	ev := ls.waitArgs(t, "socket", r.Pid, map[string]any{"fd": r.TCP.ListenFd, "family": "AF_INET", "type": "SOCK_STREAM", "protocol": 0})
	if ev.Args["flags"] != uint64(unix.SOCK_CLOEXEC) || ev.ReturnValue != int64(r.TCP.ListenFd) {
		t.Errorf("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC): flags %v, return %d, want %#x and %d", ev.Args["flags"], ev.ReturnValue, unix.SOCK_CLOEXEC, r.TCP.ListenFd)
	}
	ls.waitArgs(t, "socket", r.Pid, map[string]any{"family": "AF_UNIX", "type": "SOCK_DGRAM"})
	ls.waitArgs(t, "security_socket_create", r.Pid, map[string]any{"family": "AF_INET6", "type": "SOCK_STREAM", "kern": false})

	// bind reports the address asked for: port 0 lets the kernel pick
	ls.waitArgs(t, "security_socket_bind", r.Pid, map[string]any{"family": "AF_INET", "type": "SOCK_STREAM", "local_addr": "127.0.0.1", "local_port": 0})
	ls.waitArgs(t, "security_socket_bind", r.Pid, map[string]any{"family": "AF_INET6", "local_addr": "::1", "local_port": 0})
	ls.waitArgs(t, "security_socket_bind", r.Pid, map[string]any{"family": "AF_INET", "type": "SOCK_DGRAM", "local_addr": "127.0.0.1"})
	ls.waitArgs(t, "security_socket_bind", r.Pid, map[string]any{"family": "AF_UNIX", "local_addr": r.Unix.Path})
	ls.waitArgs(t, "security_socket_bind", r.Pid, map[string]any{"family": "AF_UNIX", "type": "SOCK_DGRAM", "local_addr": "@" + r.Unix.Abstract})

	ev = ls.waitArgs(t, "security_socket_listen", r.Pid, map[string]any{"family": "AF_INET", "local_addr": "127.0.0.1", "local_port": r.TCP.ListenPort, "backlog": 8})
	if fd := ev.Args["fd"].(int64); fd != int64(r.TCP.ListenFd) && fd != -1 {
		t.Errorf("listen fd = %d, want %d (or -1 from a kernel hook)", fd, r.TCP.ListenFd)
	}
	ls.waitArgs(t, "security_socket_listen", r.Pid, map[string]any{"family": "AF_INET6", "local_addr": "::1", "local_port": r.TCP6.ListenPort})

	ls.waitArgs(t, "security_socket_connect", r.Pid, map[string]any{"family": "AF_INET", "type": "SOCK_STREAM", "remote_addr": "127.0.0.1", "remote_port": r.TCP.ListenPort})
	ls.waitArgs(t, "security_socket_connect", r.Pid, map[string]any{"family": "AF_INET6", "remote_addr": "::1", "remote_port": r.TCP6.ListenPort})
	ls.waitArgs(t, "security_socket_connect", r.Pid, map[string]any{"family": "AF_UNIX", "remote_addr": r.Unix.Path})

	// the accepted socket, with its peer
	ev = ls.waitArgs(t, "security_socket_accept", r.Pid, map[string]any{"family": "AF_INET", "local_addr": "127.0.0.1", "local_port": r.TCP.ListenPort, "remote_addr": "127.0.0.1", "remote_port": r.TCP.ClientPort})
	if fd := ev.Args["fd"].(int64); fd != int64(r.TCP.AcceptedFd) && fd != -1 {
		t.Errorf("accept fd = %d, want %d (or -1 from a kernel hook)", fd, r.TCP.AcceptedFd)
	}
	ls.waitArgs(t, "security_socket_accept", r.Pid, map[string]any{"family": "AF_INET6", "remote_addr": "::1", "remote_port": r.TCP6.ClientPort})
	t.Logf("probes: socket %s, bind %s, connect %s, accept %s", probeOf(ls, "socket").Probe, probeOf(ls, "security_socket_bind").Probe,
		probeOf(ls, "security_socket_connect").Probe, probeOf(ls, "security_socket_accept").Probe)
}

func TestSensorSeesDup(t *testing.T) {
	ls := startSensor(t)
	r := runNetsock(t)

	// dup, dup2 of the socket the trigger connected, dup3 of the one it accepted
	connected := map[string]any{"fd_type": "socket", "family": "AF_INET", "type": "SOCK_STREAM", "protocol": unix.IPPROTO_TCP,
		"local_addr": "127.0.0.1", "local_port": r.TCP.ClientPort, "remote_addr": "127.0.0.1", "remote_port": r.TCP.ListenPort,
		"state": "ESTABLISHED", "origin": "connect"}
	ev := ls.waitArgs(t, "dup", r.Pid, connected)
	if ev.Args["oldfd"] != int64(r.Dup.Old) || ev.Args["newfd"] != int64(r.Dup.New) || ev.ReturnValue != int64(r.Dup.New) {
		t.Errorf("dup(%d) = %d: event says oldfd %v newfd %v return %d", r.Dup.Old, r.Dup.New, ev.Args["oldfd"], ev.Args["newfd"], ev.ReturnValue)
	}
	ev = ls.waitArgs(t, "dup2", r.Pid, connected)
	if ev.Args["oldfd"] != int64(r.Dup.Old) || ev.Args["newfd"] != int64(r.Dup.Dup2) {
		t.Errorf("dup2(%d, %d): event says %v, %v", r.Dup.Old, r.Dup.Dup2, ev.Args["oldfd"], ev.Args["newfd"])
	}
	if _, ok := ev.Args["path"]; ok {
		t.Errorf("a socket has no path: %v", ev.Args["path"])
	}
	ev = ls.waitArgs(t, "dup3", r.Pid, map[string]any{"fd_type": "socket", "newfd": r.Dup.Dup3, "flags": unix.O_CLOEXEC,
		"local_port": r.TCP.ListenPort, "remote_port": r.TCP.ClientPort, "origin": "accept"})
	if ev.Args["oldfd"] != int64(r.TCP.AcceptedFd) {
		t.Errorf("dup3 oldfd = %v, want the accepted socket %d", ev.Args["oldfd"], r.TCP.AcceptedFd)
	}
	ls.waitArgs(t, "dup2", r.Pid, map[string]any{"fd_type": "pipe", "newfd": r.Dup.Pipe})
}

// Under an interest whose dup conditions all want a socket's descriptor
// (the shell signatures'), the kernel keeps other duplications: the pipe's
// dup2 never leaves it, the sockets' dups still do.
func TestSensorDupSocketOnly(t *testing.T) {
	needRoot(t)
	sock := event.Test{Field: "args.fd_type", Op: event.OpEq, Strings: []string{"socket"}}
	stdio := event.Test{Field: "args.newfd", Op: event.OpEq, Ints: []int64{0, 1, 2}}
	in := &event.Interest{Events: map[string]event.Condition{
		// newfd is no kernel test: widened, the socket test alone decides
		"dup":                {Any: []event.Conjunction{{sock, stdio}}},
		"dup2":               {Any: []event.Conjunction{{sock, stdio}, {stdio, sock}}},
		"dup3":               {Any: []event.Conjunction{{sock}}},
		"sched_process_exit": {Always: true},
	}}
	ls := ownSensor(t, Config{Interest: in})
	r := runNetsock(t)
	ls.waitArgs(t, "dup", r.Pid, map[string]any{"fd_type": "socket", "newfd": r.Dup.New})
	ls.waitArgs(t, "dup2", r.Pid, map[string]any{"fd_type": "socket", "newfd": r.Dup.Dup2})
	ls.waitArgs(t, "dup3", r.Pid, map[string]any{"fd_type": "socket", "newfd": r.Dup.Dup3})
	// the trigger's exit comes after its pipe's dup2, in the same ring
	ls.waitFor(t, "netsock's exit", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exit" && ev.Process.HostPid == r.Pid
	})
	if n := ls.count(func(ev *event.Event) bool {
		return ev.Process.HostPid == r.Pid && strings.HasPrefix(ev.Name, "dup") && ev.Args["fd_type"] != "socket"
	}); n != 0 {
		t.Errorf("%d duplications of a descriptor other than a socket left the kernel", n)
	}
}

func TestSensorSeesTCPStates(t *testing.T) {
	ls := startSensor(t)
	r := runNetsock(t)

	// connect: the caller's own change, in its context
	ls.waitArgs(t, "inet_sock_set_state", r.Pid, map[string]any{"old_state": "CLOSE", "new_state": "SYN_SENT", "family": "AF_INET",
		"protocol": unix.IPPROTO_TCP, "daddr": "127.0.0.1", "dport": r.TCP.ListenPort, "attribution": "task"})
	ls.waitArgs(t, "inet_sock_set_state", r.Pid, map[string]any{"new_state": "LISTEN", "saddr": "::1", "sport": r.TCP6.ListenPort, "attribution": "task"})
	// the SYN-ACK arrives in softirq: the owner remembered at connect
	ev := ls.waitArgs(t, "inet_sock_set_state", r.Pid, map[string]any{"old_state": "SYN_SENT", "new_state": "ESTABLISHED",
		"saddr": "127.0.0.1", "sport": r.TCP.ClientPort, "dport": r.TCP.ListenPort})
	if a := ev.Args["attribution"]; a != "owner" && a != "task" {
		t.Errorf("ESTABLISHED attribution %v", a)
	}
	if ev.Process.Comm != "netsock" {
		t.Errorf("ESTABLISHED reported for comm %q, want the owner netsock", ev.Process.Comm)
	}
	// the accepted side has the listener's owner (through its port)
	ls.waitArgs(t, "inet_sock_set_state", r.Pid, map[string]any{"new_state": "ESTABLISHED", "sport": r.TCP.ListenPort, "dport": r.TCP.ClientPort})

	ev = ls.waitArgs(t, "tcp_connect", r.Pid, map[string]any{"family": "AF_INET", "daddr": "127.0.0.1", "dport": r.TCP.ListenPort})
	// the fallback sees SYN_SENT before connect picked the port
	wantSport := r.TCP.ClientPort
	if probeOf(ls, "tcp_connect").Fallback {
		wantSport = 0
	}
	if ev.Args["sport"] != uint64(wantSport) {
		t.Errorf("tcp_connect via %s: sport %v, want %d", ev.Probe, ev.Args["sport"], wantSport)
	}
	ls.waitArgs(t, "tcp_connect", r.Pid, map[string]any{"family": "AF_INET6", "daddr": "::1", "dport": r.TCP6.ListenPort})
}

func TestSensorSeesUDP(t *testing.T) {
	ls := startSensor(t, "udp_sendmsg")
	r := runNetsock(t)

	ev := ls.waitArgs(t, "udp_sendmsg", r.Pid, map[string]any{"family": "AF_INET", "daddr": "127.0.0.1", "dport": r.UDP.ServerPort,
		"sport": r.UDP.ClientPort, "len": r.UDP.SentBytes})
	t.Logf("udp_sendmsg via %s: %v", ev.Probe, ev.Args)
	// connect to AF_UNSPEC: the peer it had
	ls.waitArgs(t, "udp_disconnect", r.Pid, map[string]any{"family": "AF_INET", "saddr": "127.0.0.1", "sport": r.UDP.ClientPort,
		"daddr": "127.0.0.1", "dport": r.UDP.ServerPort})

	st := probeOf(ls, "udp_destroy_sock")
	if st.Probe == "" {
		// no tracepoint is on that path; TestSensorProbesOnThisKernel
		// checks that only kernels without fentry and kprobes get here
		t.Logf("udp_destroy_sock has no probe on kernel %s: %v", kernelRelease(), st.Err)
		return
	}
	// the bound server socket; the client's port went with its disconnect
	ls.waitArgs(t, "udp_destroy_sock", r.Pid, map[string]any{"family": "AF_INET", "saddr": "127.0.0.1", "sport": r.UDP.ServerPort})
}

func TestSensorSeesDNS(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	// a responder of its own on a loopback address nothing else uses: the
	// classifiers decode port 53 only
	for _, tc := range []struct {
		name, answer string
		unconnected  bool
		tcp          bool
	}{
		{"www.vigil-dns-test.example", "10.1.2.3", false, false},
		{"v6.vigil-dns-test.example", "2001:db8::7", false, false},
		// sendto from a socket never connected: the sender's socket
		// names the owner, and its port is learned for the answer
		{"sendto.vigil-dns-test.example", "10.4.5.6", true, false},
		// DNS over TCP: the message after its 2-byte length
		{"tcp.vigil-dns-test.example", "10.7.8.9", false, true},
	} {
		dnsRound(t, ls, dir, tc.name, tc.answer, tc.unconnected, tc.tcp, 0)
	}
	// a port another process sent from before: the answer is the new
	// sender's, though no probe may have seen the old socket close
	port := freeUDPPort(t)
	dnsRound(t, ls, dir, "reused1.vigil-dns-test.example", "10.4.5.7", true, false, port)
	dnsRound(t, ls, dir, "reused2.vigil-dns-test.example", "10.4.5.8", true, false, port)
}

// freeUDPPort returns a loopback UDP port nothing holds at the moment.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// dnsRound runs dnsquery against its own responder on 127.0.53.53 and
// waits for the query and its answer, both attributed to dnsquery, each
// seen once. port, when not 0, is the local port of an unconnected query.
func dnsRound(t *testing.T, ls *liveSensor, dir, name, answer string, unconnected, tcp bool, port int) {
	t.Helper()
	var r struct {
		Pid       uint32
		Name      string
		ID        int
		LocalPort int `json:"local_port"`
		Answered  bool
	}
	args := []string{"-server", "127.0.53.53:53", "-answer", answer}
	if unconnected {
		args = append(args, "-unconnected")
		if port != 0 {
			args = append(args, "-port", fmt.Sprint(port))
		}
	}
	transport := "udp"
	if tcp {
		args = append(args, "-tcp")
		transport = "tcp"
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "dnsquery"), append(args, name)...), &r)
	if !r.Answered {
		t.Fatalf("dnsquery got no answer from its own responder: %+v", r)
	}
	// on loopback the kernel picks 127.0.0.1 as the query's source
	q := ls.waitArgs(t, "net_packet_dns", r.Pid, map[string]any{"response": false, "qname": name, "qtype": "A", "id": r.ID,
		"direction": "egress", "saddr": "127.0.0.1", "sport": r.LocalPort, "daddr": "127.0.53.53", "dport": 53, "family": "AF_INET",
		"opcode": 0, "attribution": "owner", "transport": transport})
	if q.Process.Comm != "dnsquery" {
		t.Errorf("query attributed to comm %q", q.Process.Comm)
	}
	a := ls.waitArgs(t, "net_packet_dns", r.Pid, map[string]any{"response": true, "qname": name, "id": r.ID, "rcode": 0,
		"answer_count": 1, "answers": []string{answer}, "direction": "egress", "saddr": "127.0.53.53", "sport": 53,
		"daddr": "127.0.0.1", "dport": r.LocalPort, "transport": transport})
	if lo, err := net.InterfaceByName("lo"); err != nil || q.Args["ifindex"] != uint64(lo.Index) || a.Args["ifindex"] != uint64(lo.Index) {
		t.Errorf("DNS on ifindex %v and %v (lo: %v, %v)", q.Args["ifindex"], a.Args["ifindex"], lo, err)
	}
	t.Logf("dns via %s: query %v; response %v", q.Probe, q.Args, a.Args)
	// loopback is watched at egress only: each message once
	time.Sleep(200 * time.Millisecond)
	ls.mu.Lock()
	n := 0
	for _, ev := range ls.events {
		if ev.Name == "net_packet_dns" && ev.Args["id"] == uint64(r.ID) && ev.Args["qname"] == name {
			n++
		}
	}
	ls.mu.Unlock()
	if n != 2 {
		t.Errorf("%d net_packet_dns events for one query and its answer, want 2", n)
	}
}

func TestSensorSeesPackets(t *testing.T) {
	ls := startSensor(t, "net_packet")
	r := runNetsock(t)
	// the SYN leaves from the socket socket(2) made: its owner is known
	ls.waitArgs(t, "net_packet", r.Pid, map[string]any{"direction": "egress", "sport": r.TCP.ClientPort, "dport": r.TCP.ListenPort, "tcp_flags": 0x02, "attribution": "owner"})
	ev := ls.waitArgs(t, "net_packet", r.Pid, map[string]any{"direction": "egress", "family": "AF_INET", "protocol": unix.IPPROTO_TCP,
		"saddr": "127.0.0.1", "sport": r.TCP.ClientPort, "daddr": "127.0.0.1", "dport": r.TCP.ListenPort, "tcp_flags": 0x18, "attribution": "owner"})
	if lo, err := net.InterfaceByName("lo"); err != nil || ev.Args["ifindex"] != uint64(lo.Index) {
		t.Errorf("loopback packet on ifindex %v (lo: %v, %v)", ev.Args["ifindex"], lo, err)
	}
	if l, _ := ev.Args["len"].(uint64); l < 14+20+20+uint64(len("hello over tcp")) {
		t.Errorf("a data segment of %d bytes", l)
	}
	ls.waitArgs(t, "net_packet", r.Pid, map[string]any{"family": "AF_INET6", "saddr": "::1", "sport": r.TCP6.ClientPort, "dport": r.TCP6.ListenPort, "tcp_flags": 0x18})
}

// tcAttachmentOf returns the attachment of a classifier program.
func tcAttachmentOf(t *testing.T, ls *liveSensor, prog string) *load.TCAttachment {
	t.Helper()
	links := ls.s.ld.Links(prog)
	if len(links) != 1 {
		t.Fatalf("%s is not attached", prog)
	}
	a, ok := links[0].(*load.TCAttachment)
	if !ok {
		t.Fatalf("%s is attached as %T", prog, links[0])
	}
	return a
}

// classifierOn tells whether prog is attached to interface index, asking
// the kernel: tcx's program list, or the cls_bpf filters of clsact.
func classifierOn(t *testing.T, a *load.TCAttachment, index int) bool {
	t.Helper()
	info, err := a.Program().Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	if a.Mode() == "tcx" {
		at := ebpf.AttachTCXIngress
		if a.Egress() {
			at = ebpf.AttachTCXEgress
		}
		res, err := link.QueryPrograms(link.QueryOptions{Target: index, Attach: at})
		if err != nil {
			return false
		}
		return slices.ContainsFunc(res.Programs, func(p link.AttachedProgram) bool { return p.ID == id })
	}
	l, err := netlink.LinkByIndex(index)
	if err != nil {
		return false
	}
	parent := uint32(netlink.HANDLE_MIN_INGRESS)
	if a.Egress() {
		parent = netlink.HANDLE_MIN_EGRESS
	}
	fs, err := netlink.FilterList(l, parent)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(fs, func(f netlink.Filter) bool {
		bf, ok := f.(*netlink.BpfFilter)
		return ok && bf.Id == int(id)
	})
}

func TestSensorTCAttachment(t *testing.T) {
	var maj, min int
	fmt.Sscanf(kernelRelease(), "%d.%d", &maj, &min)
	want := "clsact"
	if maj > 6 || (maj == 6 && min >= 6) {
		want = "tcx"
	}
	testTCAttachment(t, want)
}

// The clsact and cls_bpf path of kernels before 6.6, on this kernel.
func TestSensorTCClsact(t *testing.T) {
	load.ForceClsact = true
	defer func() { load.ForceClsact = false }()
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	// Another sensor on the host (an overlapping restart) attached first:
	// the tested one must neither replace its filters nor take them along.
	other := ownSensor(t, Config{})
	qdiscs, err := netlink.QdiscList(lo)
	if err != nil {
		t.Fatal(err)
	}
	hadClsact := slices.ContainsFunc(qdiscs, func(q netlink.Qdisc) bool { return q.Type() == "clsact" })
	testTCAttachment(t, "clsact")
	if qdiscs, err = netlink.QdiscList(lo); err != nil {
		t.Fatal(err)
	}
	if has := slices.ContainsFunc(qdiscs, func(q netlink.Qdisc) bool { return q.Type() == "clsact" }); has && !hadClsact {
		t.Errorf("the clsact qdisc vigil added to lo is still there")
	}
	if !classifierOn(t, tcAttachmentOf(t, other, "tc_egress"), lo.Attrs().Index) {
		t.Errorf("closing one sensor's classifiers removed the other sensor's from lo")
	}
}

func testTCAttachment(t *testing.T, want string) {
	// its own sensor: the attachment mode is chosen at load, and the test
	// closes the attachments
	ls := ownSensor(t, Config{})
	in, out := tcAttachmentOf(t, ls, "tc_ingress"), tcAttachmentOf(t, ls, "tc_egress")
	// an ingress program has nothing to attach to where lo is the only
	// interface (vmtest's guests)
	if out.Mode() != want || (in.Mode() != "" && in.Mode() != want) {
		t.Errorf("kernel %s: classifiers attached with %q/%q, want %s", kernelRelease(), in.Mode(), out.Mode(), want)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if !classifierOn(t, out, lo.Index) {
		t.Errorf("tc_egress is not attached to lo (%v)", out.Interfaces())
	}
	if classifierOn(t, in, lo.Index) {
		t.Errorf("tc_ingress is attached to lo: loopback packets would be seen twice")
	}

	// an interface that comes up later
	t.Run("NewInterface", func(t *testing.T) {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vigiltest0"}, PeerName: "vigiltest1"}
		if err := netlink.LinkAdd(veth); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
				t.Skipf("kernel %s has no veth driver to make an interface with (%v)", kernelRelease(), err)
			}
			t.Fatal(err)
		}
		defer netlink.LinkDel(veth)
		if err := netlink.LinkSetUp(veth); err != nil {
			t.Fatal(err)
		}
		l, err := netlink.LinkByName("vigiltest0")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !(classifierOn(t, in, l.Attrs().Index) && classifierOn(t, out, l.Attrs().Index)) {
			if time.Now().After(deadline) {
				t.Fatalf("the classifiers did not attach to a new interface within 5s (attached to %v)", in.Interfaces())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// Close detaches from every interface
	for _, a := range []*load.TCAttachment{in, out} {
		if err := a.Close(); err != nil {
			t.Errorf("closing %s: %v", a.Name(), err)
		}
	}
	if classifierOn(t, out, lo.Index) {
		t.Errorf("tc_egress still attached to lo after Close")
	}
}

// The sensor's own connections (its NATS traffic) are left out of the
// packet and state events: each event it published would make more.
func TestSensorIgnoresItsOwnTraffic(t *testing.T) {
	needRoot(t)
	// the test process is the sensor's: connections of its own, over
	// loopback, one opened before the sensor starts (as vigil sensor
	// connects to NATS first), one after, with data both ways
	early, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	go func() {
		for {
			c, err := early.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c)
		}
	}()
	ec, err := net.Dial("tcp4", early.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	ls := startSensor(t, "net_packet")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-accepted
	defer s.Close()
	buf := make([]byte, 64)
	for i := 0; i < 20; i++ {
		c.Write([]byte("published event"))
		s.Write([]byte("ack"))
		ec.Write([]byte("published before"))
		ec.Read(buf)
		time.Sleep(5 * time.Millisecond)
	}
	ownPorts := map[uint64]bool{
		uint64(ln.Addr().(*net.TCPAddr).Port):      true,
		uint64(c.LocalAddr().(*net.TCPAddr).Port):  true,
		uint64(early.Addr().(*net.TCPAddr).Port):   true,
		uint64(ec.LocalAddr().(*net.TCPAddr).Port): true,
	}
	// someone else's traffic in the same window is seen: the classifiers work
	r := runNetsock(t)
	ls.waitArgs(t, "net_packet", r.Pid, map[string]any{"sport": r.TCP.ClientPort, "dport": r.TCP.ListenPort})

	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, ev := range ls.events {
		if ev.Name != "net_packet" && ev.Name != "inet_sock_set_state" && ev.Name != "tcp_connect" {
			continue
		}
		sp, _ := ev.Args["sport"].(uint64)
		dp, _ := ev.Args["dport"].(uint64)
		if !ownPorts[sp] && !ownPorts[dp] {
			continue
		}
		t.Errorf("the sensor's own connection was reported: %s %v", ev.Name, ev.Args)
	}
}

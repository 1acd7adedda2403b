package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests talk to a real nats-server process built from the module in go.mod.

var natsServerBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "vigil-nats-server-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

type natsServer struct {
	cmd  *exec.Cmd
	url  string
	port int
	logs *syncBuffer
	done chan struct{}
}

// startNATSServer starts nats-server on 127.0.0.1 (port 0: a free one), with
// extra command-line arguments, and waits until it accepts connections. It is
// stopped when the test ends.
func startNATSServer(t *testing.T, port int, extra ...string) *natsServer {
	t.Helper()
	bin, err := natsServerBin()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := "-1"
	if port > 0 {
		p = fmt.Sprint(port)
	}
	s := &natsServer{logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"-a", "127.0.0.1", "-p", p, "--ports_file_dir", dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("nats-server logs:\n%s", s.logs)
		}
	})
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", s.cmd.Process.Pid))
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, err := os.ReadFile(portsFile)
		if err == nil {
			var ports struct{ Nats []string }
			if json.Unmarshal(data, &ports) == nil && len(ports.Nats) > 0 {
				s.url = ports.Nats[0]
				fmt.Sscanf(s.url[strings.LastIndex(s.url, ":")+1:], "%d", &s.port)
				break
			}
		}
		select {
		case <-s.done:
			t.Fatalf("nats-server exited early:\n%s", s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not write its ports file:\n%s", s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func (s *natsServer) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

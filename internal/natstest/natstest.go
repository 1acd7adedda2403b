// Package natstest runs a real nats-server process for tests, built once per
// test binary from the nats-server module in go.mod. It is imported only by
// tests (sensor, engine, cmd/vigil); nothing in a vigil binary uses it.
package natstest

import (
	"bytes"
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

var serverBin = sync.OnceValues(func() (string, error) {
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

// Server is one running nats-server process.
type Server struct {
	URL  string // nats://127.0.0.1:PORT
	Port int
	Logs *Buffer // what the server printed

	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts nats-server on 127.0.0.1 (port 0: a free one), with extra
// command-line arguments, and waits until it accepts connections. It is
// stopped when the test ends, and its logs are shown if the test failed.
func Start(t testing.TB, port int, extra ...string) *Server {
	t.Helper()
	bin, err := serverBin()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := "-1"
	if port > 0 {
		p = fmt.Sprint(port)
	}
	s := &Server{Logs: &Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"-a", "127.0.0.1", "-p", p, "--ports_file_dir", dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.Logs, s.Logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("nats-server logs:\n%s", s.Logs)
		}
	})
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", s.cmd.Process.Pid))
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, err := os.ReadFile(portsFile)
		if err == nil {
			var ports struct{ Nats []string }
			if json.Unmarshal(data, &ports) == nil && len(ports.Nats) > 0 {
				s.URL = ports.Nats[0]
				fmt.Sscanf(s.URL[strings.LastIndex(s.URL, ":")+1:], "%d", &s.Port)
				break
			}
		}
		select {
		case <-s.done:
			t.Fatalf("nats-server exited early:\n%s", s.Logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not write its ports file:\n%s", s.Logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Stop interrupts the server and waits for it (killing it after 10 s).
func (s *Server) Stop() {
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

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// Buffer is a bytes.Buffer safe for a child process writing while a test
// reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

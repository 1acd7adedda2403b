package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a child process writing and a test
// reading, that can wait for a line to appear.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer contains s, or until timeout or done.
func (b *syncBuffer) waitFor(s string, timeout time.Duration, done <-chan struct{}) bool {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		if strings.Contains(b.buf.String(), s) {
			b.mu.Unlock()
			return true
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return false
		case <-done:
			return strings.Contains(b.String(), s)
		}
	}
}

// child is a process started by a test, its output kept and shown when the
// test fails.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

func startChild(t *testing.T, name string, bin string, args ...string) *child {
	t.Helper()
	c := &child{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("--- %s stderr:\n%s", name, c.stderr)
			t.Logf("--- %s stdout:\n%s", name, c.stdout)
		}
	})
	return c
}

// stop sends SIGINT and waits, then kills. It returns the exit error.
func (c *child) stop(grace time.Duration) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-c.done
	}
	return c.err
}

func (c *child) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %s", c.name, timeout)
		return nil
	}
}

// waitLog waits for s in the child's stderr and fails the test otherwise.
func (c *child) waitLog(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	if !c.stderr.waitFor(s, timeout, c.done) {
		select {
		case <-c.done:
			t.Fatalf("%s exited (%v) before logging %q", c.name, c.err, s)
		default:
			t.Fatalf("%s did not log %q within %s", c.name, s, timeout)
		}
	}
}

var repoRoot = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
})

// buildVigil builds this command once per test binary.
var vigilBin = sync.OnceValues(func() (string, error) {
	return goBuild("vigil", "./cmd/vigil")
})

// goBuild builds a package of the module (path relative to the module root)
// into a fresh temporary folder.
func goBuild(name string, pkgs ...string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "vigil-test-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	if len(pkgs) > 1 || strings.HasSuffix(pkgs[0], "/...") {
		out = dir + "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", out}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{pkgs: pkgs, err: err, out: string(b)}
	}
	return out, nil
}

type buildError struct {
	pkgs []string
	err  error
	out  string
}

func (e *buildError) Error() string {
	return "go build " + strings.Join(e.pkgs, " ") + ": " + e.err.Error() + "\n" + e.out
}

func mustVigil(t *testing.T) string {
	t.Helper()
	bin, err := vigilBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

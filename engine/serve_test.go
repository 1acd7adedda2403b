package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// lockedBuffer collects log lines from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// collectOutput is an Output that keeps findings.
type collectOutput struct {
	mu sync.Mutex
	fs []Finding
}

func (c *collectOutput) Write(f *Finding) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fs = append(c.fs, *f)
	return nil
}

func (c *collectOutput) Close() error { return nil }

func (c *collectOutput) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fs)
}

func startServer(t *testing.T, url string, eng *Engine, out Output, log zerolog.Logger) (*Server, func()) {
	t.Helper()
	return startServerWith(t, url, eng, ServeOptions{Output: out, Logger: log, Workers: 2})
}

func TestServePublishesFindingsAndCountsBadMessages(t *testing.T) {
	ns := natstest.Start(t, 0)
	eng := testEngine(t, writeTempRules(t))
	var logs lockedBuffer
	out := &collectOutput{}
	srv, stop := startServer(t, ns.URL, eng, out, zerolog.New(&logs))

	client := connect(t, ns.URL)
	findings, err := client.SubscribeSync(event.AllFindings)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
	publish := func(subject string, data []byte) {
		t.Helper()
		if err := client.Publish(subject, data); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range []*event.Event{execEvent(10, "/tmp/payload"), execEvent(11, "/usr/bin/ls"), moduleEvent(12)} {
		data, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		publish(event.EventSubject(ev.Name, ev.Host), data)
	}
	publish("vigil.events.execve.broken", []byte(`{"name": "execve", "args": `))
	publish("vigil.events.execve.typed", []byte(`{"name":"execve","args":{"pathname":42}}`))

	got := map[string]Finding{}
	for range 2 {
		msg, err := findings.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("waiting for findings: %v (got %d)", err, len(got))
		}
		var f Finding
		if err := json.Unmarshal(msg.Data, &f); err != nil {
			t.Fatalf("finding on %s: %v", msg.Subject, err)
		}
		if want := event.FindingSubject(f.Signature.ID, "web-1"); msg.Subject != want {
			t.Errorf("finding of %s on %s, want %s", f.Signature.ID, msg.Subject, want)
		}
		got[f.Signature.ID] = f
	}
	if f, ok := got["test-tmp-exec"]; !ok || f.Event.Process.Pid != 10 || f.Fields["path"] != "/tmp/payload" {
		t.Errorf("test-tmp-exec finding = %+v", f)
	}
	if f, ok := got["kernel-module-load"]; !ok || f.Event.Process.Pid != 12 || f.Host != "web-1" {
		t.Errorf("kernel-module-load finding = %+v", f)
	}
	if msg, err := findings.NextMsg(300 * time.Millisecond); err == nil {
		t.Errorf("unexpected extra finding on %s: %s", msg.Subject, msg.Data)
	}

	waitFor(t, "the bad messages to be counted", func() bool { return srv.Stats().BadMessages == 2 })
	stop()
	s := srv.Stats()
	if s.Received != 5 || s.Evaluated != 3 || s.Findings != 2 || s.PublishErrors != 0 || s.Dropped != 0 {
		t.Errorf("stats = %+v, want 5 received, 3 evaluated, 2 findings", s)
	}
	if out.len() != 2 {
		t.Errorf("output got %d findings, want 2", out.len())
	}
	for _, subject := range []string{"vigil.events.execve.broken", "vigil.events.execve.typed"} {
		if !strings.Contains(logs.String(), subject) {
			t.Errorf("the bad message on %s was not logged with its subject; logs:\n%s", subject, logs.String())
		}
	}
}

// Engines in one queue group share the events: each is evaluated once.
func TestServeQueueGroupSharesWork(t *testing.T) {
	ns := natstest.Start(t, 0)
	dir := writeTempRules(t)
	outA, outB := &collectOutput{}, &collectOutput{}
	srvA, stopA := startServer(t, ns.URL, testEngine(t, dir), outA, zerolog.Nop())
	srvB, stopB := startServer(t, ns.URL, testEngine(t, dir), outB, zerolog.Nop())

	client := connect(t, ns.URL)
	const n = 200
	for i := range n {
		data, _ := execEvent(uint32(1000+i), "/tmp/p").Marshal()
		if err := client.Publish(event.EventSubject("execve", "web-1"), data); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event to be evaluated", func() bool {
		return srvA.Stats().Evaluated+srvB.Stats().Evaluated == n
	})
	stopA()
	stopB()
	a, b := outA.len(), outB.len()
	if a+b != n {
		t.Errorf("findings: %d + %d, want %d in all (each event evaluated exactly once)", a, b, n)
	}
	if a == 0 || b == 0 {
		t.Errorf("one engine got no work: %d and %d", a, b)
	}
	pids := map[uint32]bool{}
	for _, f := range append(outA.fs, outB.fs...) {
		if pids[f.Event.Process.Pid] {
			t.Errorf("pid %d evaluated twice", f.Event.Process.Pid)
		}
		pids[f.Event.Process.Pid] = true
	}
}

func TestPublishFindingSubject(t *testing.T) {
	ns := natstest.Start(t, 0)
	nc := connect(t, ns.URL)
	sub, err := nc.SubscribeSync("vigil.findings.>")
	if err != nil {
		t.Fatal(err)
	}
	ev := execEvent(1, "/tmp/a")
	ev.Host = "db.example.com"
	f := &Finding{Signature: SignatureInfo{ID: "some.id"}, Event: ev, Host: ev.Host}
	if err := PublishFinding(nc, f); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The host is escaped in the subject.
	if want := "vigil.findings.some_id.db_example_com"; msg.Subject != want {
		t.Errorf("subject = %s, want %s", msg.Subject, want)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

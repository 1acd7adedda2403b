package sensor

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// A real sensor publishing on a real nats-server: a shell that opens a
// file twenty times sends its context whole once and its opens lean after;
// a consumer that reads them in order resolves every one with an
// event.ContextTable, and one that saw none of the whole events asks the
// sensor's responder and rebuilds the same bytes. Run as root (it loads
// the BPF programs). Not named TestSensor*: make vmtest's guests run those,
// and they have no Go toolchain to build nats-server (internal/natstest).
func TestLiveLeanEventsResolve(t *testing.T) {
	needRoot(t)
	srv := natstest.Start(t, 0)
	const host = "lean-live"
	nc := connect(t, srv.URL)
	consumer := connect(t, srv.URL)
	type rawMsg struct {
		subject string
		data    []byte
	}
	var mu sync.Mutex
	var msgs []rawMsg
	sub, err := consumer.Subscribe("vigil.events.*."+host, func(m *nats.Msg) {
		mu.Lock()
		msgs = append(msgs, rawMsg{m.Subject, m.Data})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	consumer.Flush()

	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	s, err := New(Config{Host: host, Logger: log, ProbeTier: testTier()})
	if err != nil {
		t.Fatalf("starting the sensor: %v", err)
	}
	defer s.Close()
	pub := NewPublisher(nc, PublisherOptions{Host: host, NoAcks: true, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunLanes(ctx, pub.Publish, pub.PublishCritical) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("sensor run: %v", err)
			}
			pub.Close(context.Background())
		}
	}
	defer stop()

	file, err := os.CreateTemp(t.TempDir(), "lean-")
	if err != nil {
		t.Fatal(err)
	}
	file.Close()
	const opens = 20
	var pid uint32
	table := event.NewContextTable(1 << 12)
	var opensOf []*event.Event  // the shell's opens of file, resolved
	var lean, resolved [][]byte // the lean ones as they came, and resolved in order
	seen := 0
	var lastRun time.Time
	deadline := time.Now().Add(30 * time.Second)
	for len(opensOf) < opens {
		if len(opensOf) == 0 && time.Since(lastRun) > 3*time.Second {
			// (again, when the run before came too early for the
			// sensor's programs)
			lastRun = time.Now()
			cmd := exec.Command("/bin/sh", "-c", `i=0; while [ $i -lt 20 ]; do : < "$0"; i=$((i+1)); done`, file.Name())
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			pid, opensOf, lean, resolved = uint32(cmd.Process.Pid), nil, nil, nil
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the shell's %d opens of %s arrived within 30s (pub %+v)", len(opensOf), opens, file.Name(), pub.Stats())
		}
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		batch := msgs[seen:]
		seen = len(msgs)
		mu.Unlock()
		for _, m := range batch {
			// In order, from one connection: every lean event comes
			// after the whole one of its context.
			whole, missing, err := table.Resolve(nil, m.data)
			if err != nil {
				t.Fatalf("%s: %v (context %q) in order:\n%s", m.subject, err, missing, m.data)
			}
			ev, err := event.Unmarshal(whole)
			if err != nil {
				t.Fatalf("%s: %v:\n%s", m.subject, err, whole)
			}
			if ev.Name != "security_file_open" || ev.Process.HostPid != pid || ev.Args["pathname"] != file.Name() {
				continue
			}
			if ev.Process.Exe != "/usr/bin/dash" && ev.Process.Exe != "/bin/sh" && ev.Process.Exe != "/usr/bin/bash" {
				t.Logf("the shell's exe: %s", ev.Process.Exe)
			}
			if ev.Process.Comm != "sh" || len(ev.Process.Argv) < 3 || ev.Process.Argv[len(ev.Process.Argv)-1] != file.Name() {
				t.Errorf("resolved open: comm %q argv %q, want sh with the file as its last argument", ev.Process.Comm, ev.Process.Argv)
			}
			opensOf = append(opensOf, ev)
			if !bytes.Equal(whole, m.data) {
				lean, resolved = append(lean, m.data), append(resolved, whole)
			}
		}
	}
	if len(lean) < opens-1 {
		t.Errorf("%d of the shell's %d opens were lean; want all but the first", len(lean), opens)
	}

	// A consumer that missed the whole events asks the sensor.
	fresh := event.NewContextTable(16)
	for i, data := range lean {
		want := resolved[i]
		got, missing, err := fresh.Resolve(nil, data)
		if missing != "" {
			obj, aerr := askContext(consumer, host, missing)
			if aerr != nil {
				t.Fatalf("asking the sensor for context %s: %v", missing, aerr)
			}
			if _, err := fresh.Add(obj); err != nil {
				t.Fatalf("the sensor's answer for %s: %v:\n%s", missing, err, obj)
			}
			got, _, err = fresh.Resolve(nil, data)
		}
		if err != nil {
			t.Fatal(err)
		}
		// a table that saw no whole event of the kind cannot give the
		// probe back: the rest is the same
		if !bytes.Equal(got, want) && !bytes.Equal(got, dropProbe(t, want)) {
			t.Errorf("lean event %d resolved through the responder:\n got %s\nwant %s", i, got, want)
		}
	}
	st := pub.Stats()
	if st.ContextRequests == 0 || st.ContextAnswers != st.ContextRequests || st.ContextMisses != 0 {
		t.Errorf("publisher stats %+v: want every context request answered", st)
	}
	stop()
	if st := pub.Stats(); st.Lean == 0 || st.Dropped+st.PublishErrors != 0 {
		t.Errorf("publisher stats %+v: want lean events, nothing lost", st)
	}
}

// dropProbe is an event's JSON form without its probe.
func dropProbe(t *testing.T, data []byte) []byte {
	t.Helper()
	ev, err := event.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Probe = ""
	out, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

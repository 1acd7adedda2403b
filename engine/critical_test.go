package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// laneOutput notes, when the module-load finding is written, how many
// routine findings were written before it.
type laneOutput struct {
	mu             sync.Mutex
	routine        int
	critical       int
	routineAtFirst int // routine findings written before the first critical one
}

func (o *laneOutput) Write(f *Finding) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if f.Signature.ID == "kernel-module-load" {
		if o.critical == 0 {
			o.routineAtFirst = o.routine
		}
		o.critical++
	} else {
		o.routine++
	}
	return nil
}

func (o *laneOutput) Close() error { return nil }

func (o *laneOutput) counts() (routine, critical, routineAtFirst int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.routine, o.critical, o.routineAtFirst
}

// A critical event (a kernel module load, selected by a signature of high
// severity) that arrives behind a backlog of routine events is evaluated
// ahead of them: its finding comes out before the backlog is processed,
// once, with JetStream (a second durable consumer) and with core NATS (a
// second queue subscription). One stored before the lane existed is the
// routine consumer's.
func TestServeCriticalEventsFirst(t *testing.T) {
	const backlog = 5000
	for _, mode := range []JetStreamMode{JetStreamOn, JetStreamOff} {
		t.Run(string(mode), func(t *testing.T) {
			ns := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
			client := connect(t, ns.URL)
			routine := func() {
				for i := range backlog {
					data, _ := execEvent(uint32(1000+i), "/tmp/p").Marshal()
					if err := client.Publish(event.EventSubject("execve", "web-1"), data); err != nil {
						t.Fatal(err)
					}
				}
				if err := client.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			out := &laneOutput{}
			opts := ServeOptions{Workers: 1, Output: out, JetStream: mode, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)}
			if mode == JetStreamOn {
				// The backlog waits in the stream before the engine starts.
				js, _ := jetstream.New(client)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if err := EnsureStreams(ctx, js, StreamOptions{}, zerolog.Nop()); err != nil {
					t.Fatal(err)
				}
				routine()
				// A module load stored before the lane exists: the routine
				// consumer's to evaluate, in its turn.
				old, _ := moduleEvent(76).Marshal()
				if err := client.Publish(event.EventSubject("finit_module", "web-1"), old); err != nil {
					t.Fatal(err)
				}
			}
			srv, stop := startServerWith(t, ns.URL, testEngine(t, writeTempRules(t)), opts)
			if mode == JetStreamOff {
				// The backlog waits in the engine's client.
				routine()
			}
			critical, _ := moduleEvent(77).Marshal()
			if err := client.Publish(event.EventSubject("finit_module", "web-1"), critical); err != nil {
				t.Fatal(err)
			}
			client.Flush()
			wantCritical := 1
			if mode == JetStreamOn {
				wantCritical = 2
			}
			waitForLong(t, "the backlog and the critical findings", 120*time.Second, func() bool {
				r, c, _ := out.counts()
				return r >= backlog && c >= wantCritical
			})
			stop()
			r, c, before := out.counts()
			st := srv.Stats()
			t.Logf("%s: the module-load finding came after %d of %d routine findings; critical lane %d, evaluated %d", mode, before, backlog, st.Critical, st.Evaluated)
			if before > backlog/2 {
				t.Errorf("the critical finding waited behind %d of %d routine findings", before, backlog)
			}
			if c != wantCritical || r != backlog {
				t.Errorf("findings written: %d critical, %d routine; want %d and %d", c, r, wantCritical, backlog)
			}
			// Each event evaluated once: the routine lane leaves the lane's
			// events to it.
			if st.Critical != 1 || st.Evaluated != uint64(backlog+wantCritical) || st.Duplicates != 0 {
				t.Errorf("critical lane took %d events (want 1), evaluated %d (want %d), duplicates %d (want 0)", st.Critical, st.Evaluated, backlog+wantCritical, st.Duplicates)
			}
			if mode == JetStreamOn {
				if ids, total := storedFindings(t, ns.URL); total != backlog+wantCritical {
					t.Errorf("%d findings stored for %d ids, want %d", total, len(ids), backlog+wantCritical)
				}
			}
		})
	}
}

// startServerWith starts a server with opts (any JetStream mode).
func startServerWith(t *testing.T, url string, eng *Engine, opts ServeOptions) (*Server, func()) {
	t.Helper()
	nc := connect(t, url)
	srv := NewServer(nc, eng, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("server stopped before ready: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server not ready within 20s")
	}
	return srv, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30s of cancel")
		}
	}
}

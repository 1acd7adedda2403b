package engine

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// A backlog far larger than the engine's in-flight bound: the engine's heap
// stays bounded by flow control (MaxInFlight), not by the backlog.
func TestServeJetStreamBacklogBoundsMemory(t *testing.T) {
	ns := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
	nc := connect(t, ns.URL)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := EnsureStreams(ctx, js, StreamOptions{}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	const backlog = 100_000
	data, _ := execEvent(1, "/usr/bin/ls").Marshal()
	subject := event.EventSubject("execve", "web-1")
	for i := range backlog {
		if _, err := js.PublishAsync(subject, data); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				t.Fatal("publishing the backlog took too long")
			}
		}
	}
	<-js.PublishAsyncComplete()

	eng := testEngine(t, writeTempRules(t))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	srv, stop := startJSServer(t, ns.URL, eng, ServeOptions{Workers: 2, MaxInFlight: 512, Logger: zerolog.Nop()})
	var peak uint64
	deadline := time.Now().Add(90 * time.Second)
	for srv.Stats().Evaluated < 30_000 && time.Now().Before(deadline) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		time.Sleep(50 * time.Millisecond)
	}
	st := srv.Stats()
	stop()
	if st.Evaluated < 30_000 {
		t.Fatalf("only %d events evaluated in 90s", st.Evaluated)
	}
	grew := int64(peak) - int64(base)
	t.Logf("backlog %d events (%d MB); heap in use %d MB before, peak %d MB while evaluating %d (consumer lag %d)",
		backlog, backlog*len(data)>>20, base>>20, peak>>20, st.Evaluated, st.Pending)
	// The engine holds at most MaxInFlight events and the garbage of
	// evaluating them, not the backlog.
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MB while working through the backlog", grew>>20)
	}
}

// Core NATS without JetStream: a flood beyond the client's pending limits
// is dropped and counted; every message is evaluated or counted.
func TestServeCoreFloodCountsDrops(t *testing.T) {
	ns := natstest.Start(t, 0)
	eng := testEngine(t, writeTempRules(t))
	nc := connect(t, ns.URL)
	srv := NewServer(nc, eng, ServeOptions{Workers: 1, PendingMsgs: 1000, PendingBytes: 1 << 20, JetStream: JetStreamOff, Logger: zerolog.Nop(), StopTimeout: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Ready()
	pub := connect(t, ns.URL)
	data, _ := execEvent(1, "/usr/bin/ls").Marshal()
	const n = 100_000
	for range n {
		pub.Publish(event.EventSubject("execve", "web-1"), data)
	}
	pub.Flush()
	waitForLong(t, "every message evaluated or dropped", 60*time.Second, func() bool {
		s := srv.Stats()
		return s.Evaluated+s.Dropped >= n
	})
	cancel()
	<-done
	s := srv.Stats()
	if s.Dropped == 0 {
		t.Errorf("no drop counted: %+v", s)
	}
	if s.Evaluated+s.Dropped != n {
		t.Errorf("evaluated %d + dropped %d != published %d", s.Evaluated, s.Dropped, n)
	}
	t.Logf("core flood of %d: evaluated %d, dropped (counted) %d", n, s.Evaluated, s.Dropped)
}

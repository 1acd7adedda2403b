package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// Records come back in order, replay resumes where it stopped after a
// reopen, a torn record at the end is cut off and counted, and the size
// limit holds.
func TestSpoolOrderRestartDamageLimit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	sp, err := OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := sp.Append(fmt.Sprintf("s.%d", i), []byte(fmt.Sprintf("data %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		subj, data, err := sp.Next()
		if err != nil || subj != fmt.Sprintf("s.%d", i) || string(data) != fmt.Sprintf("data %d", i) {
			t.Fatalf("record %d: %q %q %v", i, subj, data, err)
		}
		if err := sp.Done(); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash while writing: half a record at the end.
	f, err := os.OpenFile(filepath.Join(dir, spoolFileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{5, 0, 0, 0, 9, 0, 0, 0, 1, 2})
	f.Close()

	sp, err = OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Damaged() != 10 {
		t.Errorf("damaged bytes %d, want 10", sp.Damaged())
	}
	for i := 4; i < 10; i++ {
		subj, _, err := sp.Next()
		if err != nil || subj != fmt.Sprintf("s.%d", i) {
			t.Fatalf("after reopening, record %d: %q %v", i, subj, err)
		}
		sp.Done()
	}
	if _, _, err := sp.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last record: %v, want EOF", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, spoolFileName)); st.Size() != 0 {
		t.Errorf("the replayed spool still takes %d bytes", st.Size())
	}
	big := make([]byte, 600<<10)
	if err := sp.Append("a", big); err != nil {
		t.Fatal(err)
	}
	if err := sp.Append("b", big); !errors.Is(err, ErrSpoolFull) {
		t.Errorf("beyond the limit: %v, want ErrSpoolFull", err)
	}
	sp.Close()
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("spool folder mode %v, want 0700", st.Mode().Perm())
	}
}

// NATS down; more events than the client's memory buffer holds; some of
// them spooled, the publisher stopped and started again on the same spool
// while NATS is still down; NATS back: every event arrives, once, and the
// spool's overflow is counted per event.
func TestPublisherSpoolWhileNATSDown(t *testing.T) {
	store := t.TempDir()
	srv := natstest.Start(t, 0, "-js", "-sd", store)
	admin := connect(t, srv.URL)
	js, _ := jetstream.New(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.AllEvents}})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	admin.Close()
	spoolDir := t.TempDir()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	dial := func() *nats.Conn {
		nc, err := nats.Connect(srv.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
			nats.RetryOnFailedConnect(true), nats.ReconnectBufSize(16<<10))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	start := func(nc *nats.Conn) *Publisher {
		sp, err := OpenSpool(spoolDir, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		return NewPublisher(nc, PublisherOptions{Host: "h", Logger: log, Spool: sp, BufferBytes: 16 << 10})
	}
	nc := dial()
	pub := start(nc)
	srv.Stop()
	waitFor(t, "the client to see the server gone", func() bool { return !nc.IsConnected() })

	const first, second = 3000, 2000 // ~400 bytes each: far beyond the 16 KiB memory buffer
	for i := range first {
		pub.Publish(testEvent("execve", uint32(i)))
	}
	waitFor(t, "the first events buffered or spooled", func() bool { return pub.Stats().Spooled > 0 && pub.queue.len() == 0 })
	// The publisher holds at most its 16 KiB of events. Stats.Buffered adds
	// what the client's own reconnect buffer holds, which is not events
	// only: a request or subscription written just before the server went
	// away waits there too (42 bytes once in CI).
	if mem := pub.memBytes.Load(); mem == 0 || mem > 16<<10 {
		t.Errorf("%d bytes of events in the publisher's memory while NATS is down, want some, at most the 16 KiB buffer", mem)
	}
	if s := pub.Stats(); s.Buffered > 16<<10+16<<10 {
		t.Errorf("%d bytes in memory while NATS is down, want at most the 16 KiB buffer and the client's 16 KiB", s.Buffered)
	}
	if err := pub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s1 := pub.Stats()
	nc.Close()
	// What was in memory went to the spool at Close.
	t.Logf("first run: %d spooled bytes", s1.Spooled)
	if s1.Dropped+s1.SpoolDropped != 0 {
		t.Errorf("first run lost events: %+v", s1)
	}

	nc = dial() // NATS still down
	pub = start(nc)
	if pub.Stats().Spooled != s1.Spooled {
		t.Errorf("the restarted publisher finds %d spooled bytes, want %d", pub.Stats().Spooled, s1.Spooled)
	}
	for i := range second {
		pub.Publish(testEvent("sched_process_exec", uint32(first+i)))
	}
	srv = natstest.Start(t, srv.Port, "-js", "-sd", store)
	js, _ = jetstream.New(connect(t, srv.URL))
	waitFor(t, "the spool to be replayed", func() bool { return pub.Stats().Spooled == 0 })
	if err := pub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s2 := pub.Stats()
	if s2.Replayed == 0 || s2.PublishErrors != 0 || s2.SpoolDropped != 0 {
		t.Errorf("second run: %+v", s2)
	}

	// Every pid spooled in the first run and every pid of the second run
	// is in the stream once.
	got := map[uint32]int{}
	cons, err := js.OrderedConsumer(context.Background(), "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			ev, err := event.Unmarshal(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			got[ev.Process.Pid]++
		}
		if n == 0 {
			break
		}
	}
	lostFirst := 0
	for i := range first {
		if got[uint32(i)] == 0 {
			lostFirst++
		}
	}
	for i := range second {
		if got[uint32(first+i)] != 1 {
			t.Fatalf("event %d of the second run arrived %d times", first+i, got[uint32(first+i)])
		}
	}
	for pid, n := range got {
		if n != 1 {
			t.Errorf("event %d arrived %d times", pid, n)
		}
	}
	// The first run lost nothing: what it held in memory at Close went to
	// the spool.
	if lostFirst > 0 {
		t.Errorf("%d of the first run's %d events lost", lostFirst, first)
	}
	t.Logf("%d events in the stream", len(got))
}

// A full spool drops and counts per event.
func TestPublisherSpoolOverflowCounted(t *testing.T) {
	srv := natstest.Start(t, 0)
	nc, err := nats.Connect(srv.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.ReconnectBufSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sp, err := OpenSpool(t.TempDir(), 32<<10)
	if err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(nc, PublisherOptions{Host: "h", Logger: zerolog.Nop(), Spool: sp, BufferBytes: 4096})
	srv.Stop()
	waitFor(t, "the client to see the server gone", func() bool { return !nc.IsConnected() })
	for i := range 500 {
		name := "execve"
		if i%2 == 1 {
			name = "setuid"
		}
		pub.Publish(testEvent(name, uint32(i)))
	}
	waitFor(t, "every event handled", func() bool { return pub.queue.len() == 0 })
	pub.Close(context.Background())
	s := pub.Stats()
	if s.SpoolDropped == 0 || s.DroppedByEvent["execve"] == 0 || s.DroppedByEvent["setuid"] == 0 ||
		s.DroppedByEvent["execve"]+s.DroppedByEvent["setuid"] != s.SpoolDropped {
		t.Errorf("spool overflow not counted per event: %+v", s)
	}
}

// The publisher sends a critical event before the routine ones waiting.
func TestPublisherCriticalFirst(t *testing.T) {
	srv := natstest.Start(t, 0)
	nc := connect(t, srv.URL)
	sub, err := nc.SubscribeSync(event.AllEvents)
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	// Queue before the publishing goroutine runs: a backlog of routine
	// events, then one critical event.
	p := newPublisher(nc, PublisherOptions{Host: "h", Logger: zerolog.Nop(), QueueLen: 1000, CriticalQueueLen: 10})
	for i := range 1000 {
		if i == 250 {
			if b := p.Backlog(); b != 0.25 {
				t.Fatalf("250 events waiting in a queue of 1,000: Backlog %v, want 0.25", b)
			}
		}
		p.Publish(testEvent("execve", uint32(i)))
	}
	if b := p.Backlog(); b != 1 {
		t.Fatalf("a full queue: Backlog %v, want 1", b)
	}
	p.PublishCritical(testEvent("finit_module", 99999))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.loop() }()
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "vigil.events.finit_module.h" {
		t.Errorf("first message %s, want the critical finit_module", msg.Subject)
	}
	p.Close(context.Background())
	wg.Wait()
	if b := p.Backlog(); b != 0 {
		t.Errorf("every event sent: Backlog %v, want 0", b)
	}
	if s := p.Stats(); s.Critical != 1 || s.Published != 1001 {
		t.Errorf("stats %+v", s)
	}
}

// A spooled event keeps its message id: sent after a restart, it carries
// the id it had; a record from before ids were spooled gets a new one.
func TestPublisherSpoolKeepsMessageIDs(t *testing.T) {
	srv := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
	createStream(t, srv.URL)
	dir := t.TempDir()
	sp, err := OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := testEvent("execve", 1).Marshal()
	withID, _ := testEvent("execve", 2).Marshal()
	if err := sp.Append("vigil.events.execve.h", old); err != nil {
		t.Fatal(err)
	}
	if err := sp.Append("vigil.events.execve.h kept-id-2", withID); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, srv.URL)
	pub := NewPublisher(nc, PublisherOptions{Host: "h", Spool: sp, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	waitFor(t, "the spool replayed", func() bool { return pub.Stats().Replayed == 2 })
	if err := pub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := pub.Stats(); s.Acked != 2 {
		t.Errorf("stats %+v: want both acknowledged", s)
	}
	js, _ := jetstream.New(nc)
	cons, err := js.OrderedConsumer(context.Background(), "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for m := range batch.Messages() {
		ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
	}
	if len(ids) != 2 || ids[0] == "" || ids[0] == "kept-id-2" || ids[1] != "kept-id-2" {
		t.Errorf("message ids %q: want a new one for the old record, then kept-id-2", ids)
	}
}

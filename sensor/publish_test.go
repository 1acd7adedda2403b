package sensor

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

func testEvent(name string, pid uint32) *event.Event {
	return &event.Event{
		Name:    name,
		Time:    time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Process: event.Process{Pid: pid, HostPid: pid, Comm: "tester", Exe: "/usr/bin/tester"},
		Args:    map[string]any{"pathname": "/bin/true", "argv": []string{"/bin/true", "x"}},
	}
}

func TestPublisherSubjectsAndBytes(t *testing.T) {
	srv := natstest.Start(t, 0)
	nc := connect(t, srv.URL)
	sub, err := nc.SubscribeSync(event.AllEvents)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	// Every event whole, as JSON stands alone (lean events: publish_ctx_test.go).
	pub := NewPublisher(nc, PublisherOptions{Host: "host-a.example", FullContext: true, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	labelled := testEvent("execve", 10)
	labelled.Host = "other"
	unlabelled := testEvent("sched_process_exec", 11)
	pub.Publish(labelled)
	pub.Publish(unlabelled)
	if unlabelled.Host != "" {
		t.Errorf("Publish changed the caller's event: Host = %q", unlabelled.Host)
	}
	if err := pub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	wants := []struct {
		subject string
		ev      *event.Event
		host    string
	}{
		{"vigil.events.execve.other", labelled, "other"},
		{"vigil.events.sched_process_exec.host-a_example", unlabelled, "host-a.example"},
	}
	for _, w := range wants {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %s: %v", w.subject, err)
		}
		if msg.Subject != w.subject {
			t.Errorf("subject = %q, want %q", msg.Subject, w.subject)
		}
		cp := *w.ev
		cp.Host = w.host
		want, _ := cp.Marshal()
		if !bytes.Equal(msg.Data, want) {
			t.Errorf("data on %s:\n got %s\nwant %s", msg.Subject, msg.Data, want)
		}
		back, err := event.Unmarshal(msg.Data)
		if err != nil {
			t.Fatalf("event.Unmarshal of published data: %v", err)
		}
		if back.Process.Pid != w.ev.Process.Pid || back.Host != w.host {
			t.Errorf("decoded event = pid %d host %q", back.Process.Pid, back.Host)
		}
	}
	if s := pub.Stats(); s.Published != 2 || s.Dropped != 0 || s.PublishErrors != 0 {
		t.Errorf("stats = %+v, want 2 published and nothing lost", s)
	}
	if err := pub.Close(context.Background()); err != ErrPublisherClosed {
		t.Errorf("second Close = %v, want ErrPublisherClosed", err)
	}
}

// A full queue drops and counts instead of blocking the caller (the ring
// buffer reader). The publishing goroutine is not started, so nothing drains.
func TestPublisherQueueFullDropsAndCounts(t *testing.T) {
	p := &Publisher{opts: PublisherOptions{Host: "h", Logger: zerolog.Nop()}, queue: newLane(2), crit: newLane(1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			p.Publish(testEvent("execve", uint32(i)))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a full queue")
	}
	if s := p.Stats(); s.Dropped != 3 || s.DroppedByEvent["execve"] != 3 {
		t.Errorf("Dropped = %d (%v), want 3 execve (queue of 2, 5 events)", s.Dropped, s.DroppedByEvent)
	}
}

// While NATS is down, events wait in the publisher's memory buffer; beyond
// it they are dropped and counted per event. When the server is back, the
// buffered events go out (a stream on the restarted server holds every one
// counted as published) and publishing resumes: with acknowledgements and
// without.
func TestPublisherSurvivesServerOutage(t *testing.T) {
	for _, mode := range publishModes {
		t.Run(mode.name, func(t *testing.T) {
			store := t.TempDir()
			srv := natstest.Start(t, 0, "-js", "-sd", store)
			createStream(t, srv.URL)
			var reconnected sync.WaitGroup
			reconnected.Add(1)
			var once sync.Once
			nc, err := nats.Connect(srv.URL,
				nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
				nats.ReconnectHandler(func(*nats.Conn) { once.Do(reconnected.Done) }))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// what the restarted server did not acknowledge (its stream
			// not yet back when the buffer was flushed) is sent again
			// after AckTimeout: well within the wait below
			opts := PublisherOptions{Host: "h", BufferBytes: 4096, AckTimeout: time.Second, Logger: zerolog.New(zerolog.NewTestWriter(t))}
			mode.set(&opts)
			pub := NewPublisher(nc, opts)
			if !opts.NoAcks {
				waitFor(t, "the publisher to find the stream", pub.stream.Load)
			}

			srv.Stop()
			waitFor(t, "the client to see the server gone", func() bool { return !nc.IsConnected() })
			for i := range 200 { // ~200 * 300 bytes: well beyond the 4 KiB buffer
				name := "execve"
				if i%2 == 1 {
					name = "sched_process_exec"
				}
				pub.Publish(testEvent(name, uint32(i)))
			}
			waitFor(t, "every event buffered or dropped", func() bool { return pub.Stats().Queued == 0 })
			s := pub.Stats()
			if s.Dropped == 0 || s.Published != 0 {
				t.Errorf("stats %+v: want drops beyond the memory buffer, nothing published", s)
			}
			if s.DroppedByEvent["execve"] == 0 || s.DroppedByEvent["sched_process_exec"] == 0 ||
				s.DroppedByEvent["execve"]+s.DroppedByEvent["sched_process_exec"] != s.Dropped {
				t.Errorf("stats %+v: losses per event do not add up", s)
			}
			if s.Buffered == 0 || s.Buffered > 4096 {
				t.Errorf("stats %+v: %d bytes buffered, want some, at most 4096", s, s.Buffered)
			}
			kept := 200 - s.Dropped

			srv2 := natstest.Start(t, srv.Port, "-js", "-sd", store)
			waitChan(t, "the client to reconnect", &reconnected)
			js, _ := jetstream.New(connect(t, srv2.URL))
			var inStream uint64
			var after PublishStats
			waitFor(t, "the buffered events in the stream", func() bool {
				inStream, after = streamMsgs(js), pub.Stats()
				return inStream == kept && after.Published == kept
			}, func() string {
				return fmt.Sprintf("%d of %d kept events in the stream; stats %+v", inStream, kept, after)
			})
			sub, err := nc.SubscribeSync(event.AllEvents)
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			pub.Publish(testEvent("execve", 4242))
			for {
				msg, err := sub.NextMsg(5 * time.Second)
				if err != nil {
					t.Fatalf("no event after reconnecting: %v", err)
				}
				ev, err := event.Unmarshal(msg.Data)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Process.Pid == 4242 {
					break
				}
			}
			if err := pub.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			s = pub.Stats()
			if mode.name == "acks" && (s.Acked != s.Published || s.Unacked != 0) {
				t.Errorf("stats %+v: every event should have been acknowledged", s)
			}
			if mode.name == "core" && s.Acked != 0 {
				t.Errorf("stats %+v: acknowledgements without asking", s)
			}
		})
	}
}

// The NATS server killed (SIGKILL) while events stream out, and started
// again on the same store: with acknowledgements, every event published
// is in the stream, once. (Core NATS publishing loses what the client had
// written towards the dead socket: nats.go drops its write buffer when the
// write fails; the test logs how many for comparison.)
func TestPublisherAcksSurviveServerKill(t *testing.T) {
	for _, mode := range publishModes {
		t.Run(mode.name, func(t *testing.T) {
			store := t.TempDir()
			srv := natstest.Start(t, 0, "-js", "-sd", store)
			createStream(t, srv.URL)
			nc, err := nats.Connect(srv.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			opts := PublisherOptions{Host: "h", QueueLen: 100000, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)}
			mode.set(&opts)
			pub := NewPublisher(nc, opts)
			if !opts.NoAcks {
				waitFor(t, "the publisher to find the stream", pub.stream.Load)
			}
			const n = 20000
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					pub.Publish(testEvent("execve", uint32(i)))
					if i%50 == 0 {
						time.Sleep(time.Millisecond) // ~40k events/s: a busy host
					}
					if i == n/2 {
						close(stop)
					}
				}
			}()
			<-stop // mid-stream
			srv.Kill()
			srv2 := natstest.Start(t, srv.Port, "-js", "-sd", store)
			wg.Wait()
			if err := pub.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			s := pub.Stats()
			t.Logf("stats: published %d, acked %d, retried %d, dropped %d, errors %d", s.Published, s.Acked, s.Retried, s.Dropped, s.PublishErrors)
			if s.Published+s.Dropped+s.PublishErrors != n {
				t.Errorf("stats %+v: %d events not accounted for", s, n-(s.Published+s.Dropped+s.PublishErrors))
			}
			js, _ := jetstream.New(connect(t, srv2.URL))
			got := streamPids(t, js)
			missing := 0
			for i := range n {
				if got[uint32(i)] == 0 {
					missing++
				}
			}
			if mode.name == "core" {
				t.Logf("core NATS: %d of %d events not in the stream after the kill (%d counted lost)", missing, n, s.Dropped+s.PublishErrors)
				return
			}
			if s.Dropped+s.PublishErrors != 0 || s.Acked != n {
				t.Errorf("stats %+v: want every event acknowledged", s)
			}
			if s.Retried == 0 {
				t.Errorf("stats %+v: nothing sent again: the kill did not hit events in flight", s)
			}
			if missing > 0 {
				t.Errorf("%d of %d acknowledged events missing from the stream", missing, n)
			}
			for pid, c := range got {
				if c != 1 {
					t.Errorf("event %d stored %d times", pid, c)
				}
			}
		})
	}
}

func createStream(t testing.TB, url string) {
	t.Helper()
	admin := connect(t, url)
	js, _ := jetstream.New(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.AllEvents}}); err != nil {
		t.Fatal(err)
	}
	admin.Close()
}

func streamMsgs(js jetstream.JetStream) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		return 0
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// streamPids counts the events in EVENTS by pid.
func streamPids(t *testing.T, js jetstream.JetStream) map[uint32]int {
	t.Helper()
	got := map[uint32]int{}
	cons, err := js.OrderedConsumer(context.Background(), "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		batch, err := cons.Fetch(2000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for m := range batch.Messages() {
			k++
			ev, err := event.Unmarshal(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			got[ev.Process.Pid]++
		}
		if k == 0 {
			return got
		}
	}
}

// waitFor waits up to 10 s for cond; state, if given, says what was seen
// when it did not come.
func waitFor(t testing.TB, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, s := range state {
				t.Errorf("%s", s())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitChan(t *testing.T, what string, wg *sync.WaitGroup) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Buffer classes hold what is asked, waste under a quarter, and a slice
// comes back from the pool only for its own class.
func TestBufferClasses(t *testing.T) {
	last, sizes := -1, map[int]int{}
	for n := 1; n <= 1<<maxBufferShift; n++ {
		c, size := bufferClass(n)
		if s, ok := sizes[c]; ok && s != size {
			t.Fatalf("class %d has sizes %d and %d", c, s, size)
		}
		sizes[c] = size
		if c < last || c >= numBufferClasses || size < n || n > 1<<minBufferShift && size-n > size/4 {
			t.Fatalf("bufferClass(%d) = %d, %d (previous class %d)", n, c, size, last)
		}
		if c2, size2 := bufferClass(size); c2 != c || size2 != size {
			t.Fatalf("class %d of size %d: its size is in class %d, %d", c, size, c2, size2)
		}
		last = c
	}
	if c, _ := bufferClass(1<<maxBufferShift + 1); c != -1 {
		t.Errorf("a slice beyond the largest class has class %d", c)
	}
	var p bufferPool
	b := p.get(1000)
	if cap(b) < 1000 || len(b) != 0 {
		t.Fatalf("get(1000): len %d cap %d", len(b), cap(b))
	}
	p.put(b)
	p.put(make([]byte, 0, 1001)) // not a class size: not kept
	if again := p.get(900); cap(again) != cap(b) || &again[:1][0] != &b[:1][0] {
		t.Error("the slice put back was not reused for the next of its class")
	}
	if p.bytes != 0 {
		t.Errorf("pool holds %d bytes after taking back what it had", p.bytes)
	}
}

// The fifo keeps its order through pushes, pops and pushes at the front,
// and its slice stays within twice what it held at once.
func TestFifoOrderAndBound(t *testing.T) {
	var q fifo
	next, want := uint64(0), uint64(0)
	for round := 0; round < 20000; round++ {
		for q.len() < 8192 {
			next++
			q.push(message{seq: next})
		}
		for range 1 + round%7 {
			if m := q.pop(); m.seq != want+1 {
				t.Fatalf("popped %d, want %d", m.seq, want+1)
			}
			want++
		}
		if round%5000 == 0 {
			// taken back in front, as a resend does
			ms := q.take()
			q.pushFront(ms)
		}
		if c := cap(q.items); c > 2*8192+1 {
			t.Fatalf("round %d: slice of %d for at most 8192 messages", round, c)
		}
	}
	for q.len() > 0 {
		if m := q.pop(); m.seq != want+1 {
			t.Fatalf("popped %d, want %d", m.seq, want+1)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d of %d", want, next)
	}
}

// A lane hands events over in order, from concurrent producers too, holds
// at most its limit (put says no beyond, and yes again once the publishing
// goroutine settled what it took), and ends once closed and emptied.
func TestLaneOrderBoundAndClose(t *testing.T) {
	l := newLane(100)
	for i := range 100 {
		if !l.put(message{seq: uint64(i + 1)}) {
			t.Fatalf("put %d of a limit of 100 refused", i+1)
		}
	}
	if l.put(message{seq: 101}) || l.len() != 100 {
		t.Fatalf("a full lane took one more, or says it holds %d", l.len())
	}
	for i := range 60 {
		if m, ok := l.take(); !ok || m.seq != uint64(i+1) {
			t.Fatalf("take %d: %d %v", i, m.seq, ok)
		}
	}
	if l.put(message{seq: 101}) {
		t.Fatal("a lane took more before what was taken was settled")
	}
	l.settle()
	if l.len() != 40 || !l.waiting() {
		t.Fatalf("after taking 60 of 100 the lane holds %d (waiting %v)", l.len(), l.waiting())
	}

	// four producers at once, each in its own order
	const each = 5000
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				for !l.put(message{seq: uint64(1000000*(w+1) + i)}) {
					time.Sleep(10 * time.Microsecond)
				}
			}
		}()
	}
	last := map[uint64]uint64{}
	got, first := 0, uint64(60)
	for got < 40+4*each {
		m, ok := l.take()
		if !ok {
			l.settle()
			select {
			case <-l.note:
			case <-time.After(5 * time.Second):
				t.Fatalf("no note with %d of %d taken", got, 40+4*each)
			}
			continue
		}
		got++
		if m.seq <= 100 {
			if first++; m.seq != first {
				t.Fatalf("took %d, want %d", m.seq, first)
			}
			continue
		}
		w := m.seq / 1000000
		if prev, seen := last[w]; seen && m.seq != prev+1 {
			t.Fatalf("producer %d: %d after %d", w, m.seq, prev)
		}
		last[w] = m.seq
	}
	wg.Wait()
	l.settle()
	if l.waiting() || l.len() != 0 || l.ended() {
		t.Fatalf("emptied: waiting %v, len %d, ended %v before close", l.waiting(), l.len(), l.ended())
	}
	l.put(message{seq: 7})
	l.close()
	if l.ended() {
		t.Fatal("ended with an event in it")
	}
	if m, ok := l.take(); !ok || m.seq != 7 {
		t.Fatalf("the event put before close: %d %v", m.seq, ok)
	}
	if !l.ended() {
		t.Fatal("closed and empty, not ended")
	}
	l.settle()
	if l.put(message{seq: 8}) || l.len() != 0 || !l.ended() {
		t.Fatalf("a closed lane took an event (len %d, ended %v)", l.len(), l.ended())
	}
}

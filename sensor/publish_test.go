package sensor

import (
	"bytes"
	"context"
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

	pub := NewPublisher(nc, PublisherOptions{Host: "host-a.example", Logger: zerolog.New(zerolog.NewTestWriter(t))})
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
	p := &Publisher{opts: PublisherOptions{Host: "h", Logger: zerolog.Nop()}, queue: make(chan message, 2)}
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

// While NATS is down, nats.go buffers; beyond its buffer, publishing fails and
// is counted per event. When the server is back, the buffered events go out
// (a stream on the restarted server holds every one counted as published)
// and publishing resumes.
func TestPublisherSurvivesServerOutage(t *testing.T) {
	store := t.TempDir()
	srv := natstest.Start(t, 0, "-js", "-sd", store)
	{
		admin := connect(t, srv.URL)
		js, _ := jetstream.New(admin)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.AllEvents}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		admin.Close()
	}
	var reconnected sync.WaitGroup
	reconnected.Add(1)
	var once sync.Once
	nc, err := nats.Connect(srv.URL,
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectBufSize(4096),
		nats.ReconnectHandler(func(*nats.Conn) { once.Do(reconnected.Done) }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub := NewPublisher(nc, PublisherOptions{Host: "h", Logger: zerolog.New(zerolog.NewTestWriter(t))})

	srv.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for nc.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if nc.IsConnected() {
		t.Fatal("client still connected after the server stopped")
	}
	for i := range 200 { // ~200 * 300 bytes: well beyond the 4 KiB reconnect buffer
		name := "execve"
		if i%2 == 1 {
			name = "sched_process_exec"
		}
		pub.Publish(testEvent(name, uint32(i)))
	}
	waitFor(t, "every event to be published, dropped or counted as an error", func() bool {
		s := pub.Stats()
		return s.Published+s.PublishErrors+s.Dropped == 200
	})
	s := pub.Stats()
	if s.PublishErrors == 0 {
		t.Errorf("stats %+v: no publish error counted beyond the reconnect buffer", s)
	}
	if s.DroppedByEvent["execve"] == 0 || s.DroppedByEvent["sched_process_exec"] == 0 ||
		s.DroppedByEvent["execve"]+s.DroppedByEvent["sched_process_exec"] != s.PublishErrors+s.Dropped {
		t.Errorf("stats %+v: losses per event do not add up", s)
	}
	if s.Buffered == 0 {
		t.Errorf("stats %+v: nothing buffered while disconnected", s)
	}

	srv2 := natstest.Start(t, srv.Port, "-js", "-sd", store)
	waitChan(t, "the client to reconnect", &reconnected)
	{
		js, _ := jetstream.New(connect(t, srv2.URL))
		waitFor(t, "the buffered events in the stream", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			st, err := js.Stream(ctx, "EVENTS")
			if err != nil {
				return false
			}
			info, err := st.Info(ctx)
			return err == nil && info.State.Msgs == s.Published
		})
	}
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
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
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

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

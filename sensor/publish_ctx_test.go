package sensor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// ctxProcess says what form an event's process object has on the wire:
// its ctx key, and whether it holds the context in full ("pid" is there).
func ctxProcess(t *testing.T, data []byte) (key string, full bool) {
	t.Helper()
	var ev struct {
		Process map[string]any `json:"process"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	k, _ := ev.Process["ctx"].(string)
	_, full = ev.Process["pid"]
	return k, full
}

// wholeForm is ev as the publisher labels it, in its full JSON form with
// the context key key.
func wholeForm(t *testing.T, ev *event.Event, host, key string) []byte {
	t.Helper()
	cp := *ev
	cp.Host = host
	cp.Process.Ctx = key
	data, err := cp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// askContext requests a context of host's sensor; the answer's data, or
// its Vigil-Error header as an error.
func askContext(nc *nats.Conn, host, key string) ([]byte, error) {
	msg, err := nc.Request(event.ContextSubject(host), []byte(key), 5*time.Second)
	if err != nil {
		return nil, err
	}
	if why := msg.Header.Get(event.ContextErrorHeader); why != "" || len(msg.Data) == 0 {
		return nil, errors.New("error answer: " + why)
	}
	return msg.Data, nil
}

// The routine events of a process go out whole once, then lean (without
// their probe); critical ones always whole; a changed context (a new argv)
// is whole again. A
// consumer that never saw the whole events asks the publisher for the
// contexts on event.ContextSubject, and event.ContextTable rebuilds each
// lean event byte for byte as the whole form. Unknown keys get an error
// answer; the counters add up; Close stops the responder. With core NATS
// and with acknowledgements.
func TestPublisherLeanEventsAndContextResponder(t *testing.T) {
	for _, mode := range publishModes {
		t.Run(mode.name, func(t *testing.T) {
			srv := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
			createStream(t, srv.URL)
			nc := connect(t, srv.URL)
			consumer := connect(t, srv.URL)
			sub, err := consumer.SubscribeSync(event.AllEvents)
			if err != nil {
				t.Fatal(err)
			}
			consumer.Flush()
			const host = "web-1.example"
			opts := PublisherOptions{Host: host, Logger: zerolog.New(zerolog.NewTestWriter(t))}
			mode.set(&opts)
			pub := NewPublisher(nc, opts)
			if !opts.NoAcks {
				waitFor(t, "the publisher to find the stream", pub.stream.Load)
			}

			// One process: two threads' opens, a critical event, an open
			// after its argv changed (a new context), another open. Each
			// event has a name of its own to find it on the wire; each is
			// delivered before the next is published (the lanes do not
			// order against each other).
			base := testEvent("security_file_open", 4100)
			base.Process.Tid, base.Process.HostTid = 4100, 4100
			base.Process.Argv = []string{"tester", "--once"}
			base.Process.Ancestors = []event.Ancestor{{Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd", Argv: []string{"/sbin/init"}}}
			base.Probe = "raw_tracepoint/sys_exit (open, openat, openat2, creat)"
			thread := *base
			thread.Name = "security_file_mprotect"
			thread.Process.Tid, thread.Process.HostTid = 4107, 4107
			crit := *base
			crit.Name = "finit_module"
			changed := *base
			changed.Name = "chmod"
			changed.Process.Argv = []string{"tester", "--twice"}
			after := changed
			after.Name = "unlink"
			after.Process.Tid, after.Process.HostTid = 4108, 4108
			steps := []struct {
				ev       *event.Event
				critical bool
				full     bool
				ctxOf    int // the step whose context it has
			}{
				{base, false, true, 0},
				{&thread, false, false, 0},
				{&crit, true, true, 0},
				{&changed, false, true, 3},
				{&after, false, false, 3},
			}
			tab := event.NewContextTable(64)
			raw := make([][]byte, len(steps))
			keys := make([]string, len(steps))
			for i, st := range steps {
				if st.critical {
					pub.PublishCritical(st.ev)
				} else {
					pub.Publish(st.ev)
				}
				msg, err := sub.NextMsg(10 * time.Second)
				if err != nil {
					t.Fatalf("step %d (%s): %v", i, st.ev.Name, err)
				}
				if want := event.EventSubject(st.ev.Name, host); msg.Subject != want {
					t.Fatalf("step %d: subject %s, want %s", i, msg.Subject, want)
				}
				raw[i] = msg.Data
				key, full := ctxProcess(t, msg.Data)
				keys[i] = key
				if len(key) != 16 || full != st.full {
					t.Errorf("step %d (%s): ctx %q, whole %v; want a 16-digit key, whole %v:\n%s", i, st.ev.Name, key, full, st.full, msg.Data)
				}
				if keys[i] != keys[st.ctxOf] {
					t.Errorf("step %d (%s): key %s, want step %d's %s", i, st.ev.Name, keys[i], st.ctxOf, keys[st.ctxOf])
				}
				// a whole context's ancestry may refer to one sent before
				// (ancestors_ctx): made whole as a consumer does
				resolved, _, rerr := tab.Resolve(nil, msg.Data)
				if rerr != nil {
					t.Fatalf("step %d: %v", i, rerr)
				}
				if full {
					if want := wholeForm(t, st.ev, host, key); !bytes.Equal(resolved, want) {
						t.Errorf("step %d: the whole form is not the event with its key:\n got %s\nwant %s", i, resolved, want)
					}
				} else {
					if len(msg.Data) >= len(raw[st.ctxOf])/2 {
						t.Errorf("step %d: lean event of %d bytes, its whole one %d", i, len(msg.Data), len(raw[st.ctxOf]))
					}
					if bytes.Contains(msg.Data, []byte(`"probe"`)) {
						t.Errorf("step %d: a lean event with its probe:\n%s", i, msg.Data)
					}
				}
			}
			if keys[0] == keys[3] {
				t.Error("the context did not change with the argv")
			}

			// A consumer that saw none of the whole events.
			table := event.NewContextTable(16)
			for i, st := range steps {
				if st.full {
					continue
				}
				if _, missing, err := table.Resolve(nil, raw[i]); !errors.Is(err, event.ErrUnknownContext) || missing != keys[i] {
					t.Fatalf("step %d: Resolve before asking = %q, %v; want ErrUnknownContext for %s", i, missing, err, keys[i])
				}
				obj, err := askContext(consumer, host, keys[i])
				if err != nil {
					t.Fatalf("step %d: asking for context %s: %v", i, keys[i], err)
				}
				if k, err := table.Add(obj); err != nil || k != keys[i] {
					t.Fatalf("step %d: ContextTable.Add of the answer = %q, %v; want %s:\n%s", i, k, err, keys[i], obj)
				}
				got, _, err := table.Resolve(nil, raw[i])
				if err != nil {
					t.Fatal(err)
				}
				// the whole form but for the probe, which lean events leave out
				noProbe := *st.ev
				noProbe.Probe = ""
				if want := wholeForm(t, &noProbe, host, keys[i]); !bytes.Equal(got, want) {
					t.Errorf("step %d: resolved through the responder:\n got %s\nwant %s", i, got, want)
				}
			}
			// What the publisher never sent, and no key at all.
			for _, bad := range []string{"0123456789abcdef", "", "not a key"} {
				if obj, err := askContext(consumer, host, bad); err == nil {
					t.Errorf("asking for %q: answered %s", bad, obj)
				}
			}
			if err := pub.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			s := pub.Stats()
			if s.Published != 5 || s.Lean != 2 || s.Critical != 1 || s.Dropped+s.PublishErrors != 0 {
				t.Errorf("stats %+v: want 5 published, 2 lean, 1 critical, nothing lost", s)
			}
			if s.ContextRequests != 5 || s.ContextAnswers != 2 || s.ContextMisses != 3 || s.ContextDropped != 0 {
				t.Errorf("stats %+v: want 5 context requests, 2 answered, 3 missed", s)
			}
			var sum uint64
			for _, r := range raw {
				sum += uint64(len(r))
			}
			if s.Bytes != sum {
				t.Errorf("stats: %d bytes delivered, the messages hold %d", s.Bytes, sum)
			}
			if _, err := consumer.Request(event.ContextSubject(host), []byte(keys[1]), time.Second); !errors.Is(err, nats.ErrNoResponders) {
				t.Errorf("after Close, a request for a context: %v, want no responders", err)
			}
		})
	}
}

// --full-context: every event whole and without a ctx, byte for byte its
// JSON form; nothing answers on the context subject.
func TestPublisherFullContext(t *testing.T) {
	srv := natstest.Start(t, 0)
	nc := connect(t, srv.URL)
	sub, err := nc.SubscribeSync(event.AllEvents)
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	pub := NewPublisher(nc, PublisherOptions{Host: "h", FullContext: true, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	ev := testEvent("security_file_open", 77)
	for range 3 {
		pub.Publish(ev)
	}
	want, _ := (&event.Event{Name: ev.Name, Time: ev.Time, Host: "h", Process: ev.Process, Args: ev.Args}).Marshal()
	for i := range 3 {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(msg.Data, want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, msg.Data, want)
		}
	}
	if _, err := nc.Request(event.ContextSubject("h"), []byte("0123456789abcdef"), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("a request for a context with --full-context: %v, want no responders", err)
	}
	pub.Close(context.Background())
	if s := pub.Stats(); s.Published != 3 || s.Lean != 0 {
		t.Errorf("stats %+v: want 3 published, none lean", s)
	}
}

// An event labelled with another host than the publisher's goes out whole:
// its consumers would ask that host's sensor for the context.
func TestPublisherOtherHostWhole(t *testing.T) {
	srv := natstest.Start(t, 0)
	nc := connect(t, srv.URL)
	sub, _ := nc.SubscribeSync(event.AllEvents)
	nc.Flush()
	pub := NewPublisher(nc, PublisherOptions{Host: "h", NoAcks: true, Logger: zerolog.Nop()})
	ev := testEvent("security_file_open", 78)
	ev.Host = "elsewhere"
	pub.Publish(ev)
	pub.Publish(ev)
	for range 2 {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if key, full := ctxProcess(t, msg.Data); key != "" || !full {
			t.Errorf("another host's event: ctx %q, whole %v:\n%s", key, full, msg.Data)
		}
	}
	pub.Close(context.Background())
}

// Lean events that go to the spool are written whole: the spool outlives
// the publisher's memory of the contexts (it is read after a restart).
func TestPublisherSpoolsLeanEventsWhole(t *testing.T) {
	dir := t.TempDir()
	sp, err := OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	srv := natstest.Start(t, 0)
	nc, err := nats.Connect(srv.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub := NewPublisher(nc, PublisherOptions{Host: "h", NoAcks: true, Spool: sp, BufferBytes: 1, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	srv.Stop()
	waitFor(t, "the client to see the server gone", func() bool { return !nc.IsConnected() })
	ev := testEvent("security_file_open", 79)
	for range 4 {
		pub.Publish(ev)
	}
	waitFor(t, "the events in the spool", func() bool { return pub.Stats().Spooled > 0 && pub.Stats().Queued == 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pub.Close(ctx)

	// A new publisher (a restart) sends them; they are whole, the same
	// context's key each time.
	srv2 := natstest.Start(t, srv.Port)
	nc2 := connect(t, srv2.URL)
	sub, _ := nc2.SubscribeSync(event.AllEvents)
	nc2.Flush()
	sp2, err := OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	pub2 := NewPublisher(nc2, PublisherOptions{Host: "h", NoAcks: true, Spool: sp2, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	defer pub2.Close(context.Background())
	var first string
	for i := range 4 {
		msg, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("spooled event %d: %v (files: %v)", i, err, spoolFiles(dir))
		}
		key, full := ctxProcess(t, msg.Data)
		if !full || key == "" || first != "" && key != first {
			t.Errorf("spooled event %d: ctx %q, whole %v:\n%s", i, key, full, msg.Data)
		}
		first = key
		if want := wholeForm(t, ev, "h", key); !bytes.Equal(msg.Data, want) {
			t.Errorf("spooled event %d:\n got %s\nwant %s", i, msg.Data, want)
		}
	}
}

func spoolFiles(dir string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for i, n := range names {
		if st, err := os.Stat(n); err == nil {
			names[i] = n + " " + st.Mode().String()
		}
	}
	return names
}

// A flood of context requests (a consumer gone wrong) does not hold up the
// events: they all go out while the responder answers what it can, and
// every request is either answered or counted dropped.
func TestContextRequestFloodLeavesEventsAlone(t *testing.T) {
	srv := natstest.Start(t, 0)
	nc := connect(t, srv.URL)
	flooder := connect(t, srv.URL)
	sink := connect(t, srv.URL)
	sub, _ := sink.SubscribeSync(event.AllEvents)
	sub.SetPendingLimits(-1, -1)
	sink.Flush()
	pub := NewPublisher(nc, PublisherOptions{Host: "h", NoAcks: true, Logger: zerolog.Nop()})
	ev := testEvent("security_file_open", 80)
	pub.Publish(ev)
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ctxProcess(t, msg.Data)

	const requests, events = 50000, 5000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range requests {
			k := key
			if i%2 == 1 {
				k = "0123456789abcdef"
			}
			// answers go to an inbox nobody reads: the responder's work only
			flooder.PublishRequest(event.ContextSubject("h"), "_INBOX.nobody", []byte(k))
		}
		flooder.Flush()
	}()
	for i := range events {
		pub.Publish(testEvent("security_file_open", uint32(1000+i%10)))
	}
	<-done
	waitFor(t, "every event delivered", func() bool { return pub.Stats().Published == events+1 })
	waitFor(t, "every request answered or counted dropped", func() bool {
		s := pub.Stats()
		return s.ContextRequests+s.ContextDropped == requests
	})
	pub.Close(context.Background())
	s := pub.Stats()
	if s.Dropped+s.PublishErrors != 0 || s.ContextAnswers+s.ContextMisses != s.ContextRequests {
		t.Errorf("stats %+v: want no event lost, every request taken answered", s)
	}
	if s.ContextAnswers == 0 || s.ContextMisses == 0 {
		t.Errorf("stats %+v: want answers and misses", s)
	}
	t.Logf("%d requests: %d answered, %d missed, %d dropped by the client", requests, s.ContextAnswers, s.ContextMisses, s.ContextDropped)
}

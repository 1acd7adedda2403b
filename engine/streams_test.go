package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// EventsPersist sets how VIGIL_EVENTS writes (async only where the server
// allows it: a file stream of one replica); findings are always written
// before they are acknowledged; a value that is neither is refused by name.
func TestStreamConfigsPersist(t *testing.T) {
	for _, c := range []struct {
		o    StreamOptions
		want jetstream.PersistModeType
	}{
		{StreamOptions{}, jetstream.DefaultPersistMode},
		{StreamOptions{EventsPersist: "sync"}, jetstream.DefaultPersistMode},
		{StreamOptions{EventsPersist: "async"}, jetstream.AsyncPersistMode},
		{StreamOptions{EventsPersist: "async", Memory: true}, jetstream.DefaultPersistMode},
		{StreamOptions{EventsPersist: "async", Replicas: 3}, jetstream.DefaultPersistMode},
	} {
		cfgs, err := c.o.StreamConfigs()
		if err != nil {
			t.Fatalf("%+v: %v", c.o, err)
		}
		if cfgs[0].Name != EventsStream || cfgs[0].PersistMode != c.want {
			t.Errorf("%+v: %s persist mode %v, want %v", c.o, cfgs[0].Name, cfgs[0].PersistMode, c.want)
		}
		if cfgs[1].PersistMode != jetstream.DefaultPersistMode {
			t.Errorf("%+v: findings persist mode %v", c.o, cfgs[1].PersistMode)
		}
	}
	if _, err := (StreamOptions{EventsPersist: "lazy"}).StreamConfigs(); err == nil || !strings.Contains(err.Error(), `"lazy"`) {
		t.Errorf("a bad persistence mode gave %v", err)
	}
}

// With async writes, the events a real server acknowledged are all there
// after it stops and starts again over the same store.
func TestEventsAsyncPersistSurvivesRestart(t *testing.T) {
	store := t.TempDir()
	ns := natstest.Start(t, 0, "-js", "-sd", store)
	nc, err := nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := EnsureStreams(ctx, js, StreamOptions{EventsPersist: "async"}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if pm := st.CachedInfo().Config.PersistMode; pm != jetstream.AsyncPersistMode {
		t.Fatalf("the server made VIGIL_EVENTS with persist mode %v", pm)
	}
	const n = 500
	for i := range n {
		data, _ := execEvent(uint32(1000+i), "/tmp/p").Marshal()
		if _, err := js.Publish(ctx, event.EventSubject("execve", "web-1"), data); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	nc.Close()
	ns.Stop()

	ns = natstest.Start(t, ns.Port, "-js", "-sd", store)
	nc, err = nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	// Declaring again over the store keeps the stream as it is, without
	// an error.
	if err := EnsureStreams(ctx, js, StreamOptions{EventsPersist: "async"}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	st, err = js.Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != n {
		t.Errorf("VIGIL_EVENTS holds %d events after the restart, want %d", info.State.Msgs, n)
	}
}

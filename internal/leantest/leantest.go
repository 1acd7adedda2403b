// Package leantest helps tests of lean events (event.ContextEncoder): it
// encodes events as a sensor does and answers context requests as a
// sensor's responder does, on a real NATS connection.
package leantest

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/vigil-sec/vigil/event"
)

// Encode encodes evs in order with enc, as a sensor sending contexts by
// reference does: critical events (event.Rare) always whole.
func Encode(t testing.TB, enc *event.ContextEncoder, evs []*event.Event) [][]byte {
	t.Helper()
	out := make([][]byte, 0, len(evs))
	for _, ev := range evs {
		data, err := enc.AppendEvent(nil, ev, event.Rare(ev.Name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// Respond answers requests for host's contexts (event.ContextSubject) from
// enc until nc closes: the context, or an empty message with
// event.ContextErrorHeader for one enc does not have. asked, when not nil,
// is called with each key asked for, on the subscription's goroutine.
func Respond(t testing.TB, nc *nats.Conn, host string, enc *event.ContextEncoder, asked func(key string)) {
	t.Helper()
	_, err := nc.Subscribe(event.ContextSubject(host), func(m *nats.Msg) {
		if asked != nil {
			asked(string(m.Data))
		}
		obj, ok := enc.Context(string(m.Data))
		if !ok {
			r := nats.NewMsg(m.Reply)
			r.Header.Set(event.ContextErrorHeader, "unknown context")
			m.RespondMsg(r)
			return
		}
		m.Respond(obj)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

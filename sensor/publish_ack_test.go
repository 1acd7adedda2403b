package sensor

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-sec/vigil/internal/natstest"
)

// libraryAck reads an acknowledgement as nats.go's jetstream package does
// (publish.go: a pubAckResponse decoded with encoding/json; an error in it
// is the stream's refusal; no stream named is ErrInvalidJSAck): the
// reading readAck must agree with.
func libraryAck(data []byte) error {
	var resp struct {
		Error *jetstream.APIError `json:"error"`
		*jetstream.PubAck
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return jetstream.ErrInvalidJSAck
	}
	if resp.Error != nil {
		return resp.Error
	}
	if resp.PubAck == nil || resp.Stream == "" {
		return jetstream.ErrInvalidJSAck
	}
	return nil
}

// realAcks are the answers a real nats-server gives to publishes on the
// acknowledged path: stored, duplicate (the same Nats-Msg-Id again),
// refused (a wrong expected last sequence; a message above the stream's
// size limit) and nothing taking the subject (503).
func realAcks(t *testing.T) map[string]*nats.Msg {
	srv := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
	nc := connect(t, srv.URL)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"vigil.events.>"}, MaxMsgSize: 1024}); err != nil {
		t.Fatal(err)
	}
	inbox := nc.NewInbox()
	replies := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe(inbox+".*", replies); err != nil {
		t.Fatal(err)
	}
	send := func(name, subject, data string, hdr nats.Header) *nats.Msg {
		t.Helper()
		if err := nc.PublishMsg(&nats.Msg{Subject: subject, Reply: inbox + "." + name, Header: hdr, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-replies:
			if m.Subject != inbox+"."+name {
				t.Fatalf("the answer to %s came on %s", name, m.Subject)
			}
			return m
		case <-time.After(5 * time.Second):
			t.Fatalf("no answer to %s", name)
			return nil
		}
	}
	id := func(v string) nats.Header { return nats.Header{jetstream.MsgIDHeader: []string{v}} }
	acks := map[string]*nats.Msg{}
	acks["stored"] = send("stored", "vigil.events.open.h", `{"name":"open"}`, id("h-1"))
	acks["stored-2"] = send("stored2", "vigil.events.open.h", `{"name":"open"}`, id("h-2"))
	acks["duplicate"] = send("duplicate", "vigil.events.open.h", `{"name":"open"}`, id("h-1"))
	acks["wrong-last-seq"] = send("wrongseq", "vigil.events.open.h", `{}`, nats.Header{jetstream.MsgIDHeader: []string{"h-3"}, jetstream.ExpectedLastSeqHeader: []string{"999"}})
	acks["too-large"] = send("large", "vigil.events.open.h", strings.Repeat("x", 2048), id("h-4"))
	acks["no-stream"] = send("nostream", "other.subject", `{}`, id("h-5"))
	return acks
}

// readAck, with its scan of the server's usual answer, reads real
// acknowledgements, refusals and malformed answers as nats.go's jetstream
// package reads them, and names what was wrong with a malformed one.
func TestReadAck(t *testing.T) {
	acks := realAcks(t)
	for _, name := range []string{"stored", "stored-2", "duplicate"} {
		m := acks[name]
		if !plainAck(m.Data) {
			t.Errorf("%s: the server's answer %q is not read by the scan", name, m.Data)
		}
		if err := readAck(m); err != nil {
			t.Errorf("%s: %q read as %v, want stored", name, m.Data, err)
		}
	}
	for _, name := range []string{"wrong-last-seq", "too-large"} {
		m := acks[name]
		var apiErr *jetstream.APIError
		if err := readAck(m); !errors.As(err, &apiErr) || apiErr.ErrorCode == 0 {
			t.Errorf("%s: %q read as %v, want the stream's refusal", name, m.Data, err)
		}
	}
	if err := readAck(acks["no-stream"]); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Errorf("no stream: %q (%v) read as %v, want ErrNoStreamResponse", acks["no-stream"].Data, acks["no-stream"].Header, err)
	}

	// Every real answer, every one of its prefixes and random one-byte
	// changes of it, and hand-made answers: readAck agrees with the
	// library's reading.
	var inputs []string
	for name, m := range acks {
		if name == "no-stream" {
			continue
		}
		for i := 0; i <= len(m.Data); i++ {
			inputs = append(inputs, string(m.Data[:i]))
		}
		r := rand.New(rand.NewPCG(1, uint64(len(name))))
		for range 2000 {
			b := []byte(string(m.Data))
			b[r.IntN(len(b))] = `{}":,\ 0123456789aszE-+.`[r.IntN(24)]
			inputs = append(inputs, string(b))
		}
	}
	inputs = append(inputs,
		`garbage`, `{}`, `[]`, `null`, `{"stream":""}`, `{"stream":"","seq":1}`, `{"seq":1}`,
		`{"stream":"EVENTS","seq":1}`, `{"stream":"EVENTS","seq":0}`, `{"stream":"EVENTS","seq":01}`,
		`{"stream":"EVENTS","seq":1}x`, `{"stream":"EVENTS","seq":1} `, ` {"stream":"EVENTS","seq":1}`,
		`{"stream":"EVENTS","seq":18446744073709551615}`, `{"stream":"EVENTS","seq":18446744073709551616}`,
		`{"stream":"EVENTS","seq":-1}`, `{"stream":"EVENTS","seq":1.5}`, `{"stream":"EVENTS","seq":"1"}`,
		`{"stream":"EV\"ENTS","seq":1}`, `{"stream":"EV\nENTS","seq":1}`, "{\"stream\":\"EV\nENTS\",\"seq\":1}",
		`{"stream":"EVENTS","domain":"hub","seq":7}`, `{"stream":"EVENTS","domain":"","seq":7}`,
		`{"stream":"EVENTS","seq":7,"duplicate": true}`, `{"stream":"EVENTS","seq":7,"duplicate":true}`,
		`{"stream":"EVENTS","seq":7,"duplicate":false}`, `{"STREAM":"EVENTS","seq":7}`,
		`{"stream":"EVENTS","seq":7,"error":{"code":503,"err_code":10077,"description":"stream is sealed"}}`,
		`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 1"},"stream":"EVENTS","seq":0}`,
		`{"error":null,"stream":"EVENTS","seq":3}`, `{"error":"x"}`,
	)
	for _, in := range inputs {
		msg := &nats.Msg{Subject: "_INBOX.test.1", Data: []byte(in)}
		if len(in) == 0 {
			continue // an empty answer is a status (503) or malformed: above and below
		}
		got, want := readAck(msg), libraryAck(msg.Data)
		switch {
		case want == nil:
			if got != nil {
				t.Errorf("%q: read as %v, the library reads it as stored", in, got)
			}
		case errors.Is(want, jetstream.ErrInvalidJSAck):
			if !errors.Is(got, errMalformedAck) || !strings.Contains(got.Error(), msg.Subject) {
				t.Errorf("%q: read as %v, want a malformed acknowledgement naming %s", in, got, msg.Subject)
			}
		default:
			var wantAPI, gotAPI *jetstream.APIError
			errors.As(want, &wantAPI)
			if !errors.As(got, &gotAPI) || *gotAPI != *wantAPI {
				t.Errorf("%q: read as %v, the library reads the refusal %v", in, got, want)
			}
		}
		if plainAck(msg.Data) && want != nil {
			t.Errorf("%q: the scan takes it for stored, the library reads %v", in, want)
		}
	}
	if err := readAck(&nats.Msg{Subject: "_INBOX.test.2"}); !errors.Is(err, errMalformedAck) || !strings.Contains(err.Error(), "_INBOX.test.2") {
		t.Errorf("an empty answer without a status read as %v", err)
	}
}

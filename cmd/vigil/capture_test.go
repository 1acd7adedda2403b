package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// capture keeps going past malformed messages (counted) and writes a
// message spread over several lines as one line.
func TestCaptureSkipsMalformedMessages(t *testing.T) {
	ns := natstest.Start(t, 0)
	out := filepath.Join(t.TempDir(), "c.jsonl")
	capture := startChild(t, "vigil capture", mustVigil(t), "capture", "--nats", ns.URL, "-o", out, "--count", "3", "--log-format", "json")
	capture.waitLog(t, "capturing", 30*time.Second)
	nc, err := nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ev := sampleEvents()[0]
	data, _ := ev.Marshal()
	subject := event.EventSubject(ev.Name, ev.Host)
	nc.Publish(subject, data)
	nc.Publish(subject, []byte("{\"name\": \"execve\",\n\"args\": "))            // broken, with a newline
	nc.Publish(subject, []byte(strings.Replace(string(data), ",", ",\n  ", -1))) // pretty-printed: kept
	nc.Publish(subject, []byte("not json"))
	nc.Publish(subject, data)
	nc.Flush()
	if err := capture.wait(t, 20*time.Second); err != nil {
		t.Fatalf("capture: %v", err)
	}
	lines := readCapture(t, out)
	if len(lines) != 3 {
		t.Fatalf("%d lines captured, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		if _, err := event.Unmarshal([]byte(l)); err != nil {
			t.Errorf("line %d: %v", i+1, err)
		}
	}
	if !strings.Contains(capture.stderr.String(), `"bad_messages":2`) {
		t.Errorf("capture did not count 2 bad messages:\n%s", capture.stderr)
	}
	_ = os.Remove(out)
}

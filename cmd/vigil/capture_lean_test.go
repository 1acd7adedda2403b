package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/leantest"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// checkStandsAlone checks that the first line of each context in the file
// is full.
func checkStandsAlone(t *testing.T, lines []string) (lean int) {
	t.Helper()
	seen := map[string]bool{}
	for i, l := range lines {
		k := ctxKey([]byte(l))
		if k == "" {
			continue
		}
		if leanKey([]byte(l)) != "" {
			lean++
			if !seen[k] {
				t.Errorf("line %d: lean, and its context's full event is not earlier", i+1)
			}
		}
		seen[k] = true
	}
	return lean
}

// capture from NATS writes a file that replays on its own: the first event
// of a context in the file is in full (asked of the sensor when capture
// never saw it in full), later ones stay lean as they came; an event whose
// context no sensor has is not written, and counted.
func TestCaptureLeanEventsStandAlone(t *testing.T) {
	ns := natstest.Start(t, 0)
	dir := t.TempDir()
	evs := leanSample()
	enc := event.NewContextEncoder(64)
	var lines [][]byte
	for _, ev := range evs {
		data, err := enc.AppendEvent(nil, ev, event.Rare(ev.Name))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, data)
	}
	// host-c's sensor is gone: its lean event cannot be resolved.
	orphanEv := sampleEvents()[0]
	orphanEv.Host = "host-c"
	other := event.NewContextEncoder(4)
	other.AppendEvent(nil, orphanEv, false)
	orphan, _ := other.AppendEvent(nil, orphanEv, false)
	if leanKey(orphan) == "" {
		t.Fatal("want a lean orphan")
	}
	// The first line (the execve's process in full) is lost before capture.
	msgs := append([][]byte{orphan}, lines[1:]...)

	nc, err := nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	asked := 0
	leantest.Respond(t, nc, "host-a", enc, func(string) { asked++ })
	leantest.Respond(t, nc, "host-b", enc, func(string) { asked++ })

	out := filepath.Join(dir, "lean.jsonl.gz")
	c := startChild(t, "capture", mustVigil(t), "capture", "--nats", ns.URL, "-o", out, "--count", fmt.Sprint(len(msgs)-1), "--log-format", "json")
	c.waitLog(t, "capturing", 30*time.Second)
	for _, m := range msgs {
		ev, err := event.Unmarshal(m) // lean: name and host only
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish(event.EventSubject(ev.Name, ev.Host), m); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	if err := c.wait(t, 30*time.Second); err != nil {
		t.Fatalf("capture: %v\n%s", err, c.stderr)
	}
	got := readCapture(t, out)
	if len(got) != len(msgs)-1 {
		t.Fatalf("%d lines captured, want %d", len(got), len(msgs)-1)
	}
	// lean as published: all but the lost execve's next one, written full
	wantLean := -1
	for _, m := range msgs[1:] {
		if leanKey(m) != "" {
			wantLean++
		}
	}
	if lean := checkStandsAlone(t, got); lean != wantLean || lean < 4 {
		t.Errorf("%d lean lines kept, want %d", lean, wantLean)
	}
	// Every line is what was published, but for a context's first line in
	// the file, which is that event in full.
	for i, l := range got {
		sent := msgs[i+1]
		if leanKey([]byte(l)) != "" && l != string(sent) {
			t.Errorf("line %d: lean, and not as published:\n%s\n%s", i+1, l, sent)
		}
	}
	if asked != 1 {
		t.Errorf("the sensors were asked %d times, want once (the lost execve's context)", asked)
	}
	if !strings.Contains(c.stderr.String(), `"unresolved_lean_events":1`) || !strings.Contains(c.stderr.String(), "no sensor answers on vigil.context.host-c") {
		t.Errorf("capture did not report the unresolvable event:\n%s", c.stderr)
	}

	// The file replays to what the same events in full give.
	full := filepath.Join(dir, "full.jsonl")
	writeEvents(t, full, evs[1:])
	outFull, errFull, err := runVigil(t, "replay", full, "--output", "json")
	if err != nil {
		t.Fatal(err, errFull)
	}
	outLean, errLean, err := runVigil(t, "replay", out, "--output", "json", "--strict")
	if err != nil {
		t.Fatalf("replay of the capture: %v\n%s", err, errLean)
	}
	if a, b := comparableFindings(t, outLean), comparableFindings(t, outFull); !slices.Equal(a, b) || len(a) != 9 {
		t.Errorf("findings of the capture\n%s\nof the events in full\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// capture --local encodes its sensor's events lean with an encoder of its
// own: the file is lean and replays on its own. (The sensor itself needs
// root: TestCaptureLocal; here the events go to the sink as the sensor
// hands them over.)
func TestCaptureLocalSinkEncodesLean(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "local.jsonl")
	w, err := createCapture(out)
	if err != nil {
		t.Fatal(err)
	}
	filter, _ := newEventFilter(&captureFlags{})
	sink := newCaptureSink(w, filter, 0, zerolog.Nop())
	evs := leanSample()
	for _, ev := range evs {
		sink.addEvent(ev)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readCapture(t, out)
	if len(got) != len(evs) {
		t.Fatalf("%d lines, want %d", len(got), len(evs))
	}
	if lean := checkStandsAlone(t, got); lean != 2*len(sampleEvents()) {
		t.Errorf("%d lean lines, want %d (every event of the second and third rounds)", lean, 2*len(sampleEvents()))
	}
	var fullSize, leanSize int
	for i, ev := range evs {
		data, _ := ev.Marshal()
		fullSize += len(data)
		leanSize += len(got[i])
	}
	full := filepath.Join(dir, "full.jsonl")
	writeEvents(t, full, evs)
	outFull, _, err := runVigil(t, "replay", full, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	outLean, errLean, err := runVigil(t, "replay", out, "--output", "json", "--strict")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, errLean)
	}
	if a, b := comparableFindings(t, outLean), comparableFindings(t, outFull); !slices.Equal(a, b) || len(a) != 9 {
		t.Errorf("findings of the lean file\n%s\nof the full file\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if leanSize >= fullSize {
		t.Errorf("the lean file (%d bytes) is not smaller than the full one (%d)", leanSize, fullSize)
	}
}

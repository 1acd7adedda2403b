package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// TestCaptureReplayRoundTrip sends a capture file through NATS with
// replay --publish-events and records it again with capture: the new file is
// byte for byte the old one. A second capture with filters keeps only what
// they select.
func TestCaptureReplayRoundTrip(t *testing.T) {
	bin := mustVigil(t)
	srv := natstest.Start(t, 0)
	dir := t.TempDir()

	// The sample events, many times over with distinct pids, so the file is
	// more than a handful of lines.
	var evs []*event.Event
	for i := range 40 {
		for _, ev := range sampleEvents() {
			ev.Process.Pid += uint32(i * 100)
			ev.Process.HostPid += uint32(i * 100)
			ev.Time = ev.Time.Add(time.Duration(i) * time.Second)
			evs = append(evs, ev)
		}
	}
	in := filepath.Join(dir, "in.jsonl")
	want := writeEvents(t, in, evs)
	for i, line := range bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n")) {
		ev, err := event.Unmarshal(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		again, _ := ev.Marshal()
		if !bytes.Equal(again, line) {
			t.Fatalf("line %d does not survive Unmarshal+Marshal:\n%s\n%s", i+1, line, again)
		}
	}

	out := filepath.Join(dir, "out.jsonl.gz")
	all := startChild(t, "capture", bin, "capture", "-o", out, "--nats", srv.URL, "--count", fmt.Sprint(len(evs)), "--log-format", "json")
	filtered := filepath.Join(dir, "filtered.jsonl")
	some := startChild(t, "filtered capture", bin, "capture", "-o", filtered, "--nats", srv.URL,
		"--event", "execve,finit_module", "--pid", "11", "--pid", "5010", "--comm", "bash", "--comm", "insmod", "--log-format", "json")
	all.waitLog(t, "capturing", 30*time.Second)
	some.waitLog(t, "capturing", 30*time.Second)

	replay := exec.Command(bin, "replay", in, "--publish", srv.URL, "--publish-events", "--output", "json", "--log-format", "json")
	var rout, rerr bytes.Buffer
	replay.Stdout, replay.Stderr = &rout, &rerr
	if err := replay.Run(); err != nil {
		t.Fatalf("replay --publish: %v\n%s", err, rerr.String())
	}
	if !strings.Contains(rerr.String(), fmt.Sprintf("%d events, 0 bad line(s), %d finding(s)", len(evs), 3*40)) {
		t.Errorf("replay summary: %s", rerr.String())
	}
	if err := all.wait(t, 30*time.Second); err != nil {
		t.Fatalf("capture --count: %v", err)
	}
	got := readAll(t, out)
	if !bytes.Equal(got, want) {
		t.Errorf("capture of the replayed events differs from the original (%d vs %d bytes)\nfirst got line:  %.200s\nfirst want line: %.200s",
			len(got), len(want), firstLine(got), firstLine(want))
	}

	// The filtered capture: pid 11 (namespace pid) or host pid 5010, comm
	// bash or insmod, event execve or finit_module.
	time.Sleep(200 * time.Millisecond)
	if err := some.stop(10 * time.Second); err != nil {
		t.Fatalf("filtered capture: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(readAll(t, filtered))), "\n")
	var summary []string
	for _, l := range lines {
		ev, err := event.Unmarshal([]byte(l))
		if err != nil {
			t.Fatalf("filtered capture line %q: %v", l, err)
		}
		summary = append(summary, fmt.Sprintf("%s/%d/%s", ev.Name, ev.Process.Pid, ev.Process.Comm))
	}
	// One subscription per selected event: order holds within an event only.
	slices.Sort(summary)
	if w := "execve/10/bash finit_module/11/insmod"; strings.Join(summary, " ") != w {
		t.Errorf("filtered capture holds %v, want %s", summary, w)
	}
	if !strings.Contains(some.stderr.String(), `"events":2`) {
		t.Errorf("the filtered capture did not report 2 events:\n%s", some.stderr)
	}
}

func TestCaptureRejectsUnknownEvent(t *testing.T) {
	_, _, err := runVigil(t, "capture", "-o", filepath.Join(t.TempDir(), "x.jsonl"), "--event", "exceve", "--nats", "nats://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "exceve") {
		t.Errorf("capture --event exceve: %v", err)
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, l := range readCapture(t, path) {
		buf.WriteString(l + "\n")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func firstLine(b []byte) []byte {
	l, _, _ := bytes.Cut(b, []byte("\n"))
	return l
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/leantest"
)

// leanSample is the sample events three times over (same processes, later
// times): as a sensor sends them by reference, most of the second and
// third rounds are lean.
func leanSample() []*event.Event {
	var evs []*event.Event
	for i := range 3 {
		for _, ev := range sampleEvents() {
			ev.Time = ev.Time.Add(time.Duration(i) * time.Second)
			evs = append(evs, ev)
		}
	}
	return evs
}

// leanKey is a lean line's context key ("" for a full line).
func leanKey(line []byte) string {
	var e struct {
		Process map[string]any `json:"process"`
	}
	json.Unmarshal(line, &e)
	if _, full := e.Process["pid"]; full {
		return ""
	}
	k, _ := e.Process["ctx"].(string)
	return k
}

func ctxKey(line []byte) string {
	var e struct {
		Process struct{ Ctx string } `json:"process"`
	}
	json.Unmarshal(line, &e)
	return e.Process.Ctx
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// comparableFindings describes findings in order: signature, fields and
// the whole event, its ctx member aside.
func comparableFindings(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, f := range parseFindings(t, out) {
		f.Event.Process.Ctx = ""
		data, _ := json.Marshal(f)
		got = append(got, string(data))
	}
	return got
}

// A lean capture file replays to the findings of the same events in full,
// with the whole process in each; a lean line whose context is not
// earlier in the file is reported as FILE:LINE, counted and not evaluated.
func TestReplayLeanFile(t *testing.T) {
	dir := t.TempDir()
	evs := leanSample()
	full := filepath.Join(dir, "full.jsonl")
	writeEvents(t, full, evs)
	enc := event.NewContextEncoder(64)
	enc.WholeAncestry() // as vigil capture writes files
	leanLines := leantest.Encode(t, enc, evs)
	nLean := 0
	for _, l := range leanLines {
		if leanKey(l) != "" {
			nLean++
		}
	}
	if nLean < 6 {
		t.Fatalf("only %d lean lines", nLean)
	}
	lean := filepath.Join(dir, "lean.jsonl")
	writeLines(t, lean, leanLines)
	want := fmt.Sprintf("%d events, 0 bad line(s), 9 finding(s)", len(evs))
	for _, workers := range []string{"1", "4"} {
		outFull, errFull, err := runVigil(t, "replay", full, "--output", "json", "--workers", workers)
		if err != nil || !strings.Contains(errFull, want) {
			t.Fatalf("replay of the full file (err %v): %s", err, errFull)
		}
		outLean, errLean, err := runVigil(t, "replay", lean, "--output", "json", "--workers", workers, "--strict")
		if err != nil || !strings.Contains(errLean, want) {
			t.Fatalf("replay of the lean file (err %v): %s", err, errLean)
		}
		if a, b := comparableFindings(t, outLean), comparableFindings(t, outFull); !slices.Equal(a, b) {
			t.Errorf("--workers %s: findings of the lean file\n%s\nof the full file\n%s", workers, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
		for _, f := range parseFindings(t, outLean) {
			if f.Event.Process.Exe == "" || len(f.Event.Process.Ancestors) != 2 || f.Event.Process.Ctx == "" {
				t.Errorf("a finding's process is not whole: %+v", f.Event.Process)
			}
		}
	}

	// Without the line that holds the first event of the execve's
	// process in full, that process's lean lines are bad lines.
	first := ctxKey(leanLines[0])
	cut := leanLines[1:]
	var wantBad []string
	for i, l := range cut {
		if leanKey(l) == first {
			wantBad = append(wantBad, fmt.Sprintf("%s:%d: lean event: its process context %s is not in an earlier line", filepath.Join(dir, "cut.jsonl"), i+1, first))
		}
	}
	if len(wantBad) != 2 {
		t.Fatalf("%d lean lines of the first context, want 2", len(wantBad))
	}
	path := filepath.Join(dir, "cut.jsonl")
	writeLines(t, path, cut)
	for _, workers := range []string{"1", "4"} {
		_, errOut, err := runVigil(t, "replay", path, "--output", "none", "--workers", workers, "--strict")
		if !errors.Is(err, errSilent) {
			t.Errorf("--strict with unresolvable lean lines: err %v", err)
		}
		for _, w := range wantBad {
			if !strings.Contains(errOut, w) {
				t.Errorf("--workers %s: stderr lacks %q:\n%s", workers, w, errOut)
			}
		}
		for _, w := range []string{fmt.Sprintf("%d events, 2 bad line(s)", len(cut)-2), "2 lean event(s) whose process context is not in an earlier line"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("--workers %s: summary lacks %q:\n%s", workers, w, errOut)
			}
		}
	}
}

package event

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/corpus"
)

func ctxTestEvent() *Event {
	st := time.Date(2026, 12, 5, 14, 17, 2, 183717389, time.UTC)
	return &Event{
		Name: "security_file_open", ID: 300, Time: st.Add(time.Second), Host: "vm",
		Process: Process{
			Pid: 7855, Tid: 7855, Ppid: 7853, HostPid: 7855, HostTid: 7855, HostPpid: 7853,
			Comm: "bash", Exe: "/usr/bin/bash", Argv: []string{"bash", "-c", `echo "hi"`},
			CgroupID: 1, MntNS: 4026531832, PidNS: 4026531836, StartTime: &st,
			Ancestors: []Ancestor{{Pid: 7853, HostPid: 7853, Comm: "sshd", Exe: "/usr/sbin/sshd", Argv: []string{"sshd"}}},
		},
		ReturnValue: 3,
		Args:        map[string]any{"pathname": "/etc/passwd", "flags": int64(0)},
	}
}

// fullWithCtx is the full JSON form of ev with its process's context key.
func fullWithCtx(t *testing.T, ev *Event, key string) []byte {
	t.Helper()
	cp := *ev
	cp.Process.Ctx = key
	data, err := cp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func processCtx(t testing.TB, data []byte) (string, bool) {
	t.Helper()
	ps, found, err := findProcess(data, false)
	if err != nil || !found {
		t.Fatalf("no process object (%v) in %s", err, data)
	}
	return string(ps.ctx), ps.full
}

func TestContextEncoderSendsEachContextOnce(t *testing.T) {
	enc := NewContextEncoder(64)
	ev := ctxTestEvent()
	first, err := enc.AppendEvent(nil, ev, false)
	if err != nil {
		t.Fatal(err)
	}
	key, full := processCtx(t, first)
	if !full || len(key) != 16 {
		t.Fatalf("first event: full %v, key %q; want full with a 16-digit key:\n%s", full, key, first)
	}
	if want := fullWithCtx(t, ev, key); !bytes.Equal(first, want) {
		t.Fatalf("first event is not the full form with its key:\n got %s\nwant %s", first, want)
	}

	// Another thread of the same process: lean, same key.
	ev2 := ctxTestEvent()
	ev2.Process.Tid, ev2.Process.HostTid = 7860, 7860
	second, _ := enc.AppendEvent(nil, ev2, false)
	if k, full := processCtx(t, second); full || k != key {
		t.Fatalf("second event: full %v key %q, want lean with %q:\n%s", full, k, key, second)
	}
	if !bytes.Contains(second, []byte(`"process":{"tid":7860,"ctx":"`+key+`"}`)) {
		t.Fatalf("lean process object not as documented:\n%s", second)
	}
	if len(second) >= len(first)/2 {
		t.Errorf("lean event %d bytes, full %d: not lean", len(second), len(first))
	}

	// A critical event stands alone.
	crit, _ := enc.AppendEvent(nil, ev2, true)
	if _, full := processCtx(t, crit); !full {
		t.Fatalf("critical event is lean:\n%s", crit)
	}

	// A changed context (setuid, a new argv, a new ancestry) is a new key,
	// sent in full.
	for name, change := range map[string]func(p *Process){
		"euid":      func(p *Process) { p.EUID = 1000 },
		"argv":      func(p *Process) { p.Argv = []string{"bash", "-c", "id"} },
		"ancestors": func(p *Process) { p.Ancestors = nil },
		"start":     func(p *Process) { st := p.StartTime.Add(1); p.StartTime = &st },
	} {
		ev3 := ctxTestEvent()
		change(&ev3.Process)
		out, _ := enc.AppendEvent(nil, ev3, false)
		k, full := processCtx(t, out)
		if !full || k == key {
			t.Errorf("%s changed: full %v, key %q (old %q)", name, full, k, key)
		}
	}

	// The encoder answers for what it sent.
	obj, ok := enc.Context(key)
	if !ok || !bytes.Contains(obj, []byte(`"tid":0,`)) || !bytes.HasSuffix(obj, []byte(`"ctx":"`+key+`"}`)) {
		t.Fatalf("Context(%q) = %s, %v", key, obj, ok)
	}
	enc.Forget()
	again, _ := enc.AppendEvent(nil, ev2, false)
	if _, full := processCtx(t, again); !full {
		t.Fatalf("after Forget the context is not sent again:\n%s", again)
	}
}

func TestContextTableResolvesLeanEvents(t *testing.T) {
	enc := NewContextEncoder(64)
	ev := ctxTestEvent()
	first, _ := enc.AppendEvent(nil, ev, false)
	ev2 := ctxTestEvent()
	ev2.Process.Tid, ev2.Process.HostTid = 7861, 7862
	lean, _ := enc.AppendEvent(nil, ev2, false)
	key, _ := processCtx(t, first)

	// A table that missed the full event asks for the context.
	late := NewContextTable(16)
	out, missing, err := late.Resolve(nil, lean)
	if !errors.Is(err, ErrUnknownContext) || missing != key || out != nil {
		t.Fatalf("unknown context: %q %q %v", out, missing, err)
	}
	obj, _ := enc.Context(key)
	if k, err := late.Add(obj); err != nil || k != key {
		t.Fatalf("Add: %q %v", k, err)
	}
	want := fullWithCtx(t, ev2, key)
	if out, _, err = late.Resolve(nil, lean); err != nil || !bytes.Equal(out, want) {
		t.Fatalf("resolved from an answer:\n got %s (%v)\nwant %s", out, err, want)
	}

	// A table that saw the full event resolves from it.
	tab := NewContextTable(16)
	if out, _, err := tab.Resolve(nil, first); err != nil || !bytes.Equal(out, first) {
		t.Fatalf("full event changed: %s %v", out, err)
	}
	if out, _, err = tab.Resolve(nil, lean); err != nil || !bytes.Equal(out, want) {
		t.Fatalf("resolved from the full event:\n got %s (%v)\nwant %s", out, err, want)
	}

	// Events without ctx pass unchanged; bad ones are errors, not panics.
	plain, _ := ev.Marshal()
	if out, _, err := tab.Resolve(nil, plain); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("event without ctx changed: %s %v", out, err)
	}
	for _, bad := range []string{``, `[]`, `{"name":`, `{"process":{"ctx":5}}`, `{"process":{"tid":1,"ctx":"x`} {
		if _, _, err := tab.Resolve(nil, []byte(bad)); err == nil {
			t.Errorf("Resolve(%q): no error", bad)
		}
	}
	if _, err := tab.Add([]byte(`{"tid":1,"ctx":"abc"}`)); err == nil {
		t.Error("Add took a lean object")
	}
}

// Every event of the captured corpus, encoded by reference and resolved,
// is its full form with its key: nothing a rule reads is lost.
func TestContextRoundTripOnCorpus(t *testing.T) {
	lines := corpus.Lines(t, "../testdata/corpus/host-work.jsonl.gz", 7)
	enc := NewContextEncoder(1 << 12)
	tab := NewContextTable(1 << 12)
	var fullBytes, wireBytes int
	var sizes []int
	probes := map[string]string{}
	leanCount := 0
	for i, line := range lines {
		ev, err := Unmarshal(line)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		wire, err := enc.AppendEvent(nil, ev, false)
		if err != nil {
			t.Fatal(err)
		}
		key, full := processCtx(t, wire)
		if !full {
			leanCount++
		}
		got, missing, err := tab.Resolve(nil, wire)
		if err != nil {
			t.Fatalf("line %d: %v (missing %q)", i, err, missing)
		}
		// a lean event leaves its probe out; the table puts back the one a
		// whole event of its kind named
		if full {
			probes[ev.Name] = ev.Probe
		} else {
			ev.Probe = probes[ev.Name]
		}
		if want := fullWithCtx(t, ev, key); !bytes.Equal(got, want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, got, want)
		}
		fullBytes += len(line)
		wireBytes += len(wire)
		sizes = append(sizes, len(wire))
	}
	slices.Sort(sizes)
	if leanCount < len(lines)/2 {
		t.Errorf("only %d of %d events lean", leanCount, len(lines))
	}
	t.Logf("%d events, %d lean; %d bytes full, %d by reference (%.0f%%); median event %d bytes", len(lines), leanCount,
		fullBytes, wireBytes, 100*float64(wireBytes)/float64(fullBytes), sizes[len(sizes)/2])
	if !strings.Contains(string(lines[0]), `"process"`) {
		t.Fatal("corpus without process objects")
	}
}

func BenchmarkContextResolve(b *testing.B) {
	enc := NewContextEncoder(64)
	ev := ctxTestEvent()
	tab := NewContextTable(64)
	first, _ := enc.AppendEvent(nil, ev, false)
	tab.Resolve(nil, first)
	lean, _ := enc.AppendEvent(nil, ev, false)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = tab.Resolve(buf[:0], lean)
	}
}

func BenchmarkContextEncode(b *testing.B) {
	enc := NewContextEncoder(64)
	ev := ctxTestEvent()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = enc.AppendEvent(buf[:0], ev, false)
	}
}

// A full event with its key, of a context the table holds: what most
// whole events in a lean stream cost the consumer.
func BenchmarkContextResolveFull(b *testing.B) {
	enc := NewContextEncoder(64)
	ev := ctxTestEvent()
	tab := NewContextTable(64)
	first, _ := enc.AppendEvent(nil, ev, false)
	tab.Resolve(nil, first)
	b.ReportAllocs()
	for b.Loop() {
		tab.Resolve(nil, first)
	}
}

// A lean event leaves its probe out; the table gives it back the probe a
// whole event of the same kind from the same host named, and no other.
func TestContextTableRestoresProbes(t *testing.T) {
	enc := NewContextEncoder(64)
	tab := NewContextTable(64)
	ev := ctxTestEvent()
	ev.Probe = "raw_tracepoint/sys_exit (openat)"
	whole, _ := enc.AppendEvent(nil, ev, false)
	if _, _, err := tab.Resolve(nil, whole); err != nil {
		t.Fatal(err)
	}
	lean, isLean, _ := enc.Encode(nil, ev, false)
	if !isLean || bytes.Contains(lean, []byte(`"probe"`)) {
		t.Fatalf("lean event keeps its probe or is whole: %s", lean)
	}
	got, _, err := tab.Resolve(nil, lean)
	key, _ := processCtx(t, whole)
	if want := fullWithCtx(t, ev, key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("probe not given back:\n got %s (%v)\nwant %s", got, err, want)
	}
	for name, change := range map[string]func(e *Event){
		"another kind": func(e *Event) { e.Name, e.ID = "security_inode_unlink", 301 },
		"another host": func(e *Event) { e.Host = "db1" },
	} {
		other := ctxTestEvent()
		change(other)
		other.Probe = "raw_tracepoint/sys_exit (unlinkat)"
		lean, _, _ := enc.Encode(nil, other, false)
		got, _, err := tab.Resolve(nil, lean)
		if err != nil || bytes.Contains(got, []byte(`"probe"`)) {
			t.Errorf("%s: got a probe no whole event of its named: %s (%v)", name, got, err)
		}
	}
}

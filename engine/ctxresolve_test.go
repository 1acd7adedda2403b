package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/leantest"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// leanScenario is a few processes' events: execs (one under /tmp per
// process fires test-tmp-exec), a module load (critical: always full).
func leanScenario() []*event.Event {
	var evs []*event.Event
	for i, pid := range []uint32{10, 20, 30} {
		a := execEvent(pid, "/usr/bin/ls")
		a.Host = "web-1"
		a.Process.Ancestors = []event.Ancestor{
			{Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd", Argv: []string{"/sbin/init"}},
			{Pid: 900 + pid, HostPid: 900 + pid, Comm: "sshd", Exe: "/usr/sbin/sshd", Argv: []string{"sshd: admin"}, UID: 0},
		}
		a.Process.Argv = []string{"bash", "-c", fmt.Sprintf("job %d", i)}
		b := *a
		b.Args = map[string]any{"pathname": fmt.Sprintf("/tmp/payload-%d", i), "argv": []string{"x"}}
		b.Process.Tid = pid + 1 // another thread of the process
		b.Process.HostTid = pid + 1
		c := *a
		c.Args = map[string]any{"pathname": "/usr/bin/id", "argv": []string{"id"}}
		evs = append(evs, a, &b, &c)
	}
	m := moduleEvent(40)
	m.Process.Ancestors = []event.Ancestor{{Pid: 1, HostPid: 1, Comm: "systemd"}}
	return append(evs, m)
}

func isLean(data []byte) bool {
	var e struct {
		Process map[string]any `json:"process"`
	}
	json.Unmarshal(data, &e)
	_, full := e.Process["pid"]
	return e.Process["ctx"] != nil && !full
}

// findingKeys describes findings comparably: signature, fields and the
// whole event (its ctx member aside).
func findingKeys(t testing.TB, fs []Finding) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		ev := *f.Event
		ev.Process.Ctx = ""
		data, err := json.Marshal(struct {
			ID     string
			Fields map[string]any
			Event  event.Event
		}{f.Signature.ID, f.Fields, ev})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	sort.Strings(out)
	return out
}

func (c *collectOutput) all() []Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Finding(nil), c.fs...)
}

// serveAndPublish runs a server (mode) on a fresh nats-server, publishes
// data in order, and returns the findings and the server's counters once
// want events were handled one way or another.
func serveAndPublish(t *testing.T, mode JetStreamMode, msgs [][]byte, setup func(nc *nats.Conn), done func(ServeStats) bool) ([]Finding, ServeStats) {
	t.Helper()
	ns := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
	client := connect(t, ns.URL)
	if setup != nil {
		setup(client)
	}
	out := &collectOutput{}
	eng := testEngine(t, writeTempRules(t))
	srv, stop := startServerWith(t, ns.URL, eng, ServeOptions{Workers: 2, Output: out, JetStream: mode,
		ContextTimeout: 500 * time.Millisecond, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)})
	publishEvents(t, client, msgs...)
	waitFor(t, "every event handled", func() bool { return done(srv.Stats()) })
	time.Sleep(100 * time.Millisecond) // nothing more is coming
	stop()
	return out.all(), srv.Stats()
}

// publishEvents publishes each event on its subject (from its name and
// host) and flushes.
func publishEvents(t *testing.T, client *nats.Conn, msgs ...[]byte) {
	t.Helper()
	for _, data := range msgs {
		ev, err := event.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Publish(event.EventSubject(ev.Name, ev.Host), data); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
}

// The engine fed lean events finds what it finds fed the same events in
// full, and its findings carry the whole process (exe, argv, ancestry).
func TestServeLeanEventsSameFindings(t *testing.T) {
	evs := leanScenario()
	var full [][]byte
	for _, ev := range evs {
		data, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, data)
	}
	lean := leantest.Encode(t, event.NewContextEncoder(64), evs)
	nLean := 0
	for _, l := range lean {
		if isLean(l) {
			nLean++
		}
	}
	if nLean != 6 {
		t.Fatalf("%d lean events in the scenario, want 6 (two per process)", nLean)
	}
	for _, mode := range []JetStreamMode{JetStreamOff, JetStreamOn} {
		t.Run(string(mode), func(t *testing.T) {
			handled := func(s ServeStats) bool { return s.Evaluated+s.Unresolved+s.BadMessages == uint64(len(evs)) }
			wantF, _ := serveAndPublish(t, mode, full, nil, handled)
			gotF, st := serveAndPublish(t, mode, lean, nil, handled)
			if len(wantF) != 4 {
				t.Fatalf("%d findings from full events, want 4 (3 tmp execs, 1 module load)", len(wantF))
			}
			want, got := findingKeys(t, wantF), findingKeys(t, gotF)
			if len(got) != len(want) {
				t.Fatalf("lean: %d findings, full: %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("finding %d from lean events:\n%s\nfrom full events:\n%s", i, got[i], want[i])
				}
			}
			for _, f := range gotF {
				if f.Signature.ID == "test-tmp-exec" && (f.Event.Process.Exe != "/usr/bin/bash" || len(f.Event.Process.Ancestors) != 2 || f.Event.Process.Ctx == "") {
					t.Errorf("finding's process is not whole: %+v", f.Event.Process)
				}
			}
			if st.Resolved != uint64(nLean) || st.Unresolved != 0 || st.ContextRequests != 0 || st.Contexts != 4 {
				t.Errorf("resolved %d, unresolved %d, requests %d, contexts %d; want %d, 0, 0, 4", st.Resolved, st.Unresolved, st.ContextRequests, st.Contexts, nLean)
			}
		})
	}
}

// A lean event whose full event the engine never saw is resolved through
// the sensor's answer on vigil.context.<host>.
func TestServeAsksSensorForUnknownContext(t *testing.T) {
	evs := leanScenario()[:3] // one process: full, lean, lean
	enc := event.NewContextEncoder(64)
	lean := leantest.Encode(t, enc, evs)
	if isLean(lean[0]) || !isLean(lean[1]) || !isLean(lean[2]) {
		t.Fatal("want full, lean, lean")
	}
	var asked []string
	fs, st := serveAndPublish(t, JetStreamOff, lean[1:], func(nc *nats.Conn) {
		leantest.Respond(t, nc, "web-1", enc, func(k string) { asked = append(asked, k) })
	}, func(s ServeStats) bool { return s.Evaluated+s.Unresolved == 2 })
	if st.Unresolved != 0 || st.ContextRequests != 1 || st.ContextAnswers != 1 || st.Resolved != 2 {
		t.Errorf("unresolved %d, requests %d, answers %d, resolved %d; want 0, 1, 1, 2", st.Unresolved, st.ContextRequests, st.ContextAnswers, st.Resolved)
	}
	if len(asked) != 1 {
		t.Errorf("the sensor was asked %d times (%q), want once", len(asked), asked)
	}
	if len(fs) != 1 || fs[0].Event.Process.Exe != "/usr/bin/bash" || fs[0].Event.Process.Tid != 11 || len(fs[0].Event.Process.Argv) != 3 {
		t.Fatalf("findings %+v, want one with the whole process of thread 11", fs)
	}
}

// With no sensor answering, or one that no longer has the context, a
// lean event is counted and not evaluated; a later full event of the
// context makes its next lean events resolvable.
func TestServeCountsUnresolvableLeanEvents(t *testing.T) {
	evs := leanScenario()
	for _, ev := range evs[3:6] {
		ev.Host = "web-2"
	}
	enc := event.NewContextEncoder(64)
	lean := leantest.Encode(t, enc, evs)
	full2, err := event.NewContextEncoder(64).AppendEvent(nil, evs[3], false)
	if err != nil || isLean(full2) || !isLean(lean[4]) {
		t.Fatal("want a full event and a lean one", err)
	}
	// web-1's process: its full event is lost and no sensor answers for
	// web-1. web-2's: its sensor no longer has the context, then sends it
	// in full again.
	msgs := [][]byte{lean[1], lean[2], lean[4], full2, lean[4]}
	var asked []string
	var logs lockedBuffer
	ns := natstest.Start(t, 0)
	client := connect(t, ns.URL)
	leantest.Respond(t, client, "web-2", event.NewContextEncoder(64), func(k string) { asked = append(asked, k) })
	out := &collectOutput{}
	eng := testEngine(t, writeTempRules(t))
	srv, stop := startServerWith(t, ns.URL, eng, ServeOptions{Workers: 2, Output: out, JetStream: JetStreamOff, Logger: zerolog.New(&logs)})
	for i, data := range msgs {
		if i == 3 {
			waitFor(t, "the first lean events counted", func() bool { return srv.Stats().Unresolved == 3 })
		}
		publishEvents(t, client, data)
	}
	waitFor(t, "every event handled", func() bool { s := srv.Stats(); return s.Evaluated+s.Unresolved == 5 })
	stop()
	st := srv.Stats()
	if st.Unresolved != 3 || st.UnresolvedByEvent["execve"] != 3 || st.Evaluated != 2 || st.Resolved != 1 {
		t.Errorf("unresolved %d (%v), evaluated %d, resolved %d; want 3 (execve), 2, 1", st.Unresolved, st.UnresolvedByEvent, st.Evaluated, st.Resolved)
	}
	if len(asked) != 1 {
		t.Errorf("web-2's sensor was asked %d times, want once", len(asked))
	}
	fs := out.all()
	if len(fs) != 1 || fs[0].Host != "web-2" || fs[0].Event.Process.Exe != "/usr/bin/bash" || fs[0].Fields["path"] != "/tmp/payload-1" {
		t.Errorf("findings %+v, want web-2's /tmp exec once, with its whole process", fs)
	}
	for _, want := range []string{"no sensor answers on vigil.context.web-1", "unknown context", "not evaluating a lean event"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
}

// processContextRule fires on what only the process context tells: a
// file opened by a program whose parent is a shell, with the thread.
const processContextRule = `package vigil.signatures.test_process_context

metadata := {
	"id": "test-process-context",
	"name": "File opened by a shell's child",
	"version": "1.0.0",
	"severity": "low",
	"description": "The process context as a signature sees it.",
	"tactics": ["TA0002"],
	"techniques": ["T1059"],
	"events": ["security_file_open", "sched_process_exit"],
}

finding contains {"exe": input.process.exe, "argv": input.process.argv, "parent": input.process.ancestors[0].exe, "uid": input.process.uid, "tid": input.process.tid, "start": input.process.start_time} if {
	endswith(input.process.ancestors[0].exe, "/bash")
	not startswith(input.process.exe, "/usr/local/go")
}
`

// The captured corpus, encoded lean as a sensor sends it and resolved
// line by line with a ContextTable, gives back every event's full form
// byte for byte and the same verdicts as the original lines.
func TestLeanCorpusSameVerdicts(t *testing.T) {
	k := 1
	if testing.Short() {
		k = 10
	}
	lines := append(corpusLines(t, k), fixtureEvents(t)...)
	dir := writeTempRules(t)
	writeRule(t, dir, "process_context.rego", processContextRule)
	eng := testEngine(t, dir)
	ctx := context.Background()
	enc := event.NewContextEncoder(4096)
	table := event.NewContextTable(4096)
	var nLean, fullBytes, leanBytes, fired int
	probes := map[string]string{}
	for i, line := range lines {
		where := "corpus line " + itoa(i*k+1)
		ev, err := event.Unmarshal(line)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		lean, err := enc.AppendEvent(nil, ev, event.Rare(ev.Name))
		if err != nil {
			t.Fatal(err)
		}
		// the full form a sensor would send with the context's key (a
		// lean event leaves its probe out)
		ref := *ev
		if isLean(lean) {
			nLean++
			// the table puts back the probe a whole event of the kind named
			ref.Probe = probes[ev.Name]
		} else {
			probes[ev.Name] = ev.Probe
		}
		full, err := event.NewContextEncoder(1).AppendEvent(nil, &ref, true)
		if err != nil {
			t.Fatal(err)
		}
		fullBytes += len(full)
		leanBytes += len(lean)
		got, missing, err := table.Resolve(nil, lean)
		if err != nil {
			t.Fatalf("%s: resolving: %v (missing %s)", where, err, missing)
		}
		if !bytes.Equal(got, full) {
			t.Fatalf("%s: resolved\n%s\nwant\n%s", where, got, full)
		}
		// the original, with the probe the resolved event has (a lean event
		// of a kind no whole event named yet has none; no rule reads it)
		orig, err := ref.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		want, err := eng.EvaluateJSON(ctx, orig)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		have, err := eng.EvaluateJSON(ctx, got)
		if err != nil {
			t.Fatalf("%s: resolved: %v", where, err)
		}
		fired += len(want)
		if w, h := findingKeys(t, want), findingKeys(t, have); !slices.Equal(w, h) {
			t.Fatalf("%s: findings from the resolved lean event\n%q\nfrom the original\n%q", where, h, w)
		}
	}
	if nLean < len(lines)/2 || fired == 0 {
		t.Fatalf("%d of %d lines lean, %d findings: the comparison proves little", nLean, len(lines), fired)
	}
	t.Logf("%d events, %d lean; %d findings alike; %.0f bytes per event in full, %.0f lean", len(lines), nLean, fired,
		float64(fullBytes)/float64(len(lines)), float64(leanBytes)/float64(len(lines)))
}

// Routine lean events waiting for a sensor that does not answer do not
// hold back the critical lane: a module load is evaluated while they wait.
func TestServeCriticalLaneNotBehindContextRequests(t *testing.T) {
	ns := natstest.Start(t, 0)
	client := connect(t, ns.URL)
	// web-9's sensor takes requests and never answers
	if _, err := client.Subscribe(event.ContextSubject("web-9"), func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	client.Flush()
	out := &collectOutput{}
	eng := testEngine(t, writeTempRules(t))
	srv, stop := startServerWith(t, ns.URL, eng, ServeOptions{Workers: 2, Output: out, JetStream: JetStreamOff,
		ContextTimeout: 3 * time.Second, ContextRequests: 1, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)})
	defer stop()
	enc := event.NewContextEncoder(64)
	for i := range 3 { // three contexts: the first request takes the one slot, the second waits for it
		ev := execEvent(uint32(100+i), "/tmp/x")
		ev.Host = "web-9"
		enc.AppendEvent(nil, ev, false)
		lean, _ := enc.AppendEvent(nil, ev, false)
		if err := client.Publish(event.EventSubject(ev.Name, ev.Host), lean); err != nil {
			t.Fatal(err)
		}
	}
	client.Flush()
	waitFor(t, "a context request in flight", func() bool { return srv.Stats().ContextRequests == 1 })
	mod := moduleEvent(7)
	mod.Host = "web-9"
	data, _ := enc.AppendEvent(nil, mod, true)
	if err := client.Publish(event.EventSubject(mod.Name, mod.Host), data); err != nil {
		t.Fatal(err)
	}
	client.Flush()
	waitFor(t, "the module load's finding", func() bool { return out.len() == 1 })
	if st := srv.Stats(); st.Unresolved != 0 || st.Evaluated != 1 {
		t.Errorf("unresolved %d, evaluated %d when the critical finding came: want 0 and 1 (the routine events still waiting)", st.Unresolved, st.Evaluated)
	}
	// then the routine ones are counted: the first timed out, the others
	// are not asked for (the sensor did not answer lately)
	waitForLong(t, "the routine events counted", 20*time.Second, func() bool { return srv.Stats().Unresolved == 3 })
	if st := srv.Stats(); st.ContextRequests != 1 || out.len() != 1 {
		t.Errorf("requests %d, findings %d; want 1, 1", st.ContextRequests, out.len())
	}
}

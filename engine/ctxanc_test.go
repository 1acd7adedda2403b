package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/leantest"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// grandparentRule reads the ancestry beyond the parent: what a context
// whose ancestry refers to its parent's (ancestors_ctx) leaves out.
const grandparentRule = `package vigil.signatures.test_grandparent

metadata := {
	"id": "test-grandparent",
	"name": "Exec two generations below init",
	"version": "1.0.0",
	"severity": "low",
	"description": "Reads the third ancestor.",
	"tactics": ["TA0002"],
	"techniques": ["T1059"],
	"events": ["execve"],
}

finding contains {"grandparent": input.process.ancestors[1].comm, "third": input.process.ancestors[2].exe, "n": count(input.process.ancestors)} if {
	input.process.ancestors[2].exe == "/usr/lib/systemd/systemd"
}
`

// A child's context refers to its parent's for its ancestry; the engine,
// which never saw the parent's event, asks the sensor for the parent's
// context and evaluates the child whole: a signature reading the third
// ancestor fires with its value.
func TestServeResolvesAncestryFromSensor(t *testing.T) {
	ancestry := []event.Ancestor{
		{Pid: 700, HostPid: 700, Comm: "sshd", Exe: "/usr/sbin/sshd", Argv: []string{"sshd: admin@pts/0"}},
		{Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd", Argv: []string{"/sbin/init"}},
	}
	parent := execEvent(50, "/usr/bin/bash")
	parent.Process.Ppid, parent.Process.HostPpid = 700, 700
	parent.Process.Ancestors = ancestry
	child := execEvent(60, "/usr/bin/id")
	child.Process.Ppid, child.Process.HostPpid = 50, 50
	child.Process.Comm, child.Process.Exe, child.Process.Argv = "id", "/usr/bin/id", []string{"id", "-u"}
	child.Process.Ancestors = append([]event.Ancestor{{Pid: 50, HostPid: 50, Comm: "bash", Exe: "/usr/bin/bash", UID: 1000}}, ancestry...)

	enc := event.NewContextEncoder(64)
	wire := leantest.Encode(t, enc, []*event.Event{parent, child})
	pkey := ctxOf(t, wire[0])
	if !bytes.Contains(wire[1], []byte(`"ancestors_ctx":"`+pkey+`"`)) || bytes.Contains(wire[1], []byte("sshd")) {
		t.Fatalf("the child's event does not refer to its parent's context %s:\n%s", pkey, wire[1])
	}
	for _, mode := range []JetStreamMode{JetStreamOff, JetStreamOn} {
		t.Run(string(mode), func(t *testing.T) {
			ns := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
			client := connect(t, ns.URL)
			var asked []string
			leantest.Respond(t, client, "web-1", enc, func(k string) { asked = append(asked, k) })
			dir := t.TempDir()
			writeRule(t, dir, "grandparent.rego", grandparentRule)
			out := &collectOutput{}
			srv, stop := startServerWith(t, ns.URL, testEngine(t, dir), ServeOptions{Workers: 2, Output: out, JetStream: mode,
				ContextTimeout: 2 * time.Second, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)})
			publishEvents(t, client, wire[1]) // the parent's event never reaches this engine
			waitFor(t, "the child's event handled", func() bool { s := srv.Stats(); return s.Evaluated+s.Unresolved == 1 })
			time.Sleep(100 * time.Millisecond)
			stop()
			st := srv.Stats()
			if st.Unresolved != 0 || st.ContextRequests != 1 || st.ContextAnswers != 1 || st.Resolved != 1 {
				t.Errorf("unresolved %d, requests %d, answers %d, resolved %d; want 0, 1, 1, 1", st.Unresolved, st.ContextRequests, st.ContextAnswers, st.Resolved)
			}
			if len(asked) != 1 || asked[0] != pkey {
				t.Errorf("the sensor was asked %q, want the parent's context %s once", asked, pkey)
			}
			var got []Finding
			for _, f := range out.all() {
				if f.Signature.ID == "test-grandparent" {
					got = append(got, f)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%d test-grandparent findings, want 1: %+v", len(got), out.all())
			}
			f := got[0]
			if f.Fields["third"] != "/usr/lib/systemd/systemd" || f.Fields["grandparent"] != "sshd" || fmt.Sprint(f.Fields["n"]) != "3" {
				t.Errorf("finding's fields %v, want third /usr/lib/systemd/systemd, grandparent sshd, n 3", f.Fields)
			}
			if a := f.Event.Process.Ancestors; len(a) != 3 || a[2].Comm != "systemd" || f.Event.Process.Ctx != ctxOf(t, wire[1]) {
				t.Errorf("finding's process not whole: %+v", f.Event.Process)
			}
		})
	}
}

// ctxOf is the ctx member of an event's process object.
func ctxOf(t *testing.T, data []byte) string {
	t.Helper()
	ev, err := event.Unmarshal(data)
	if err != nil || ev.Process.Ctx == "" {
		t.Fatalf("no ctx (%v) in %s", err, data)
	}
	return ev.Process.Ctx
}

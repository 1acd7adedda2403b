package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// tmpExecRule is a user signature for the tests: an execve of a program
// under /tmp.
const tmpExecRule = `package vigil.signatures.test_tmp_exec

metadata := {
	"id": "test-tmp-exec",
	"name": "Program run from /tmp",
	"version": "1.0.0",
	"severity": "medium",
	"description": "An execve of a program under /tmp.",
	"tactics": ["TA0002"],
	"techniques": ["T1059"],
	"events": ["execve"],
}

finding contains {"path": input.args.pathname, "argc": count(input.args.argv)} if {
	startswith(input.args.pathname, "/tmp/")
}
`

// writeRule writes a rule file into dir and returns its path.
func writeRule(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testEngine loads the shipped signatures plus dir and starts an engine.
func testEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	set, err := rules.Load(rules.LoadOptions{Builtin: true, Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(set, Options{Logger: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func execEvent(pid uint32, path string) *event.Event {
	return &event.Event{
		Name: "execve",
		ID:   event.IDExecve,
		Time: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC),
		Host: "web-1",
		Process: event.Process{
			Pid: pid, Tid: pid, HostPid: pid, HostTid: pid, Ppid: 1, HostPpid: 1,
			UID: 1000, EUID: 1000, Comm: "bash", Exe: "/usr/bin/bash",
		},
		Args: map[string]any{"pathname": path, "argv": []string{path, "-x"}},
	}
}

func moduleEvent(pid uint32) *event.Event {
	return &event.Event{
		Name:        "finit_module",
		ID:          event.IDFinitModule,
		Time:        time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC),
		Host:        "web-1",
		Process:     event.Process{Pid: pid, HostPid: pid, Comm: "insmod", Exe: "/usr/sbin/insmod"},
		ReturnValue: -1,
		Args:        map[string]any{"fd": int64(3), "pathname": "/tmp/rk.ko", "param_values": "", "flags": int64(0)},
	}
}

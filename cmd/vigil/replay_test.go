package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// runVigil runs the command in this process and returns its output.
func runVigil(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var o, e bytes.Buffer
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetArgs(append(args, "--log-format", "json", "--log-level", "warn"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = root.ExecuteContext(ctx)
	return o.String(), e.String(), err
}

// sampleEvents are events of the kinds the shipped signatures look at, with
// arguments of every type, some matching and some benign.
func sampleEvents() []*event.Event {
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	proc := func(pid uint32, comm, exe string, uid uint32) event.Process {
		start := t0.Add(-time.Minute)
		return event.Process{
			Pid: pid, Tid: pid, Ppid: 100, HostPid: pid + 5000, HostTid: pid + 5000, HostPpid: 5100,
			UID: uid, GID: uid, EUID: uid, EGID: uid, Comm: comm, Exe: exe, Argv: []string{exe, "--flag", "ünïcode \"quoted\" \t tab"},
			CgroupID: 1234, ContainerID: "0123456789abcdef", MntNS: 4026531840, PidNS: 4026531836, StartTime: &start,
			Ancestors: []event.Ancestor{{Pid: 100, HostPid: 5100, Comm: "bash", Exe: "/usr/bin/bash", Argv: []string{"-bash"}, UID: uid}, {Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd"}},
		}
	}
	return []*event.Event{
		{Name: "execve", ID: event.IDExecve, Time: t0, Host: "host-a", Probe: "raw_tracepoint/sys_enter", Process: proc(10, "bash", "/usr/bin/bash", 1000),
			Args: map[string]any{"pathname": "/usr/bin/ls", "argv": []string{"ls", "-la", "<&>"}}},
		{Name: "finit_module", ID: event.IDFinitModule, Time: t0.Add(time.Millisecond), Host: "host-a", Probe: "raw_tracepoint/sys_exit", Process: proc(11, "insmod", "/usr/sbin/insmod", 0),
			ReturnValue: -38, Args: map[string]any{"fd": int64(3), "pathname": "/tmp/rootkit.ko", "param_values": "", "flags": int64(0)}},
		{Name: "sched_process_exec", ID: event.IDSchedProcessExec, Time: t0.Add(2 * time.Millisecond), Host: "host-b", Probe: "tp_btf/sched_process_exec", Process: proc(12, "memfd:x", "/memfd:x (deleted)", 0),
			Args: map[string]any{"pathname": "/memfd:x (deleted)", "filename": "/dev/fd/3", "interpreter": "", "argv": []string{"x"}, "dev": uint64(1), "inode": uint64(18446744073709551615),
				"mode": uint64(0o100777), "memfd": true, "deleted": true, "fs_type": "tmpfs", "stdin_type": "pipe", "old_pid": uint64(12), "setuid": false}},
		{Name: "commit_creds", ID: event.IDCommitCreds, Time: t0.Add(3 * time.Millisecond), Host: "host-b", Process: proc(13, "exploit", "/home/u/exploit", 1000),
			Args: map[string]any{"old_uid": uint64(1000), "new_uid": uint64(0), "old_euid": uint64(1000), "new_euid": uint64(0), "old_cap_effective": uint64(0), "new_cap_effective": uint64(0x1ffffffffff), "syscall": "setuid"}},
		{Name: "sched_process_exit", ID: event.IDSchedProcessExit, Time: t0.Add(4 * time.Millisecond), Host: "host-a", Process: proc(10, "ls", "/usr/bin/ls", 1000),
			Args: map[string]any{"exit_code": int64(0), "group_exit": true}},
	}
}

// writeEvents writes events as capture lines and returns the file's bytes.
func writeEvents(t *testing.T, path string, evs []*event.Event, extra ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, ev := range evs {
		data, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(data)
		buf.WriteByte('\n')
	}
	for _, l := range extra {
		buf.WriteString(l + "\n")
	}
	data := buf.Bytes()
	if strings.HasSuffix(path, ".gz") {
		var z bytes.Buffer
		gz := gzip.NewWriter(&z)
		gz.Write(data)
		gz.Close()
		if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

type jsonFinding struct {
	Signature struct{ ID string } `json:"signature"`
	Event     *event.Event        `json:"event"`
	Fields    map[string]any      `json:"fields"`
}

func parseFindings(t *testing.T, out string) []jsonFinding {
	t.Helper()
	var fs []jsonFinding
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var f jsonFinding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		fs = append(fs, f)
	}
	return fs
}

func TestReplayFindsShippedBehaviours(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "events.jsonl")
	packed := filepath.Join(dir, "events.jsonl.gz")
	writeEvents(t, plain, sampleEvents())
	writeEvents(t, packed, sampleEvents())

	out, errOut, err := runVigil(t, "replay", plain, "--output", "json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut)
	}
	fs := parseFindings(t, out)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s/%d", f.Signature.ID, f.Event.Process.Pid))
	}
	want := []string{"kernel-module-load/11", "fileless-exec/12", "creds-raised-to-root/13"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("findings in order: %v, want %v", got, want)
	}
	for _, w := range []string{"1 file(s), 5 events, 0 bad line(s), 3 finding(s)", "kernel-module-load", "fileless-exec", "creds-raised-to-root"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("summary lacks %q:\n%s", w, errOut)
		}
	}

	// The gzip file gives the same findings; two files add up.
	outGz, errGz, err := runVigil(t, "replay", packed, "--output", "json")
	if err != nil {
		t.Fatalf("replay of the .gz: %v\n%s", err, errGz)
	}
	var gotGz []string
	for _, f := range parseFindings(t, outGz) {
		gotGz = append(gotGz, fmt.Sprintf("%s/%d", f.Signature.ID, f.Event.Process.Pid))
	}
	if strings.Join(gotGz, " ") != strings.Join(want, " ") {
		t.Errorf("findings of the .gz: %v, want %v", gotGz, want)
	}
	_, errBoth, err := runVigil(t, "replay", plain, packed, "--output", "none")
	if err != nil || !strings.Contains(errBoth, "2 file(s), 10 events, 0 bad line(s), 6 finding(s)") {
		t.Errorf("replay of two files (err %v): %s", err, errBoth)
	}

	// Text output: one readable line per finding.
	text, _, err := runVigil(t, "replay", plain)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "kernel-module-load") || !strings.Contains(lines[0], "pid=11") || !strings.Contains(lines[0], "comm=insmod") {
		t.Errorf("text output:\n%s", text)
	}
}

func TestReplayReportsMalformedLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.jsonl")
	good := sampleEvents()[:2]
	writeEvents(t, path, good,
		`{not json`,
		``,
		`{"name":"no_such_event","args":{}}`,
		`{"name":"setuid","args":{"uid":"root"}}`,
		`[1,2,3]`,
		`{"name":"execve","args":{}} {"name":"execve"}`,
		`{"args":{}}`,
	)
	// After the bad ones, a good line again: replay goes on.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	data, _ := sampleEvents()[3].Marshal()
	f.Write(append(data, '\n'))
	f.Close()

	out, errOut, err := runVigil(t, "replay", path, "--output", "json")
	if err != nil {
		t.Fatalf("replay failed on bad lines (they must be skipped): %v\n%s", err, errOut)
	}
	wantBad := []string{
		path + ":3: ",
		path + ":4: empty line",
		path + ":5: unknown event \"no_such_event\"",
		path + ":6: argument \"uid\" of setuid",
		path + ":7: ",
		path + ":8: trailing data",
		path + ":9: event has no name",
	}
	for _, w := range wantBad {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	for _, n := range []string{":1:", ":2:", ":10:"} {
		if strings.Contains(errOut, path+n) {
			t.Errorf("a good line was reported bad (%s):\n%s", n, errOut)
		}
	}
	if !strings.Contains(errOut, "3 events, 7 bad line(s), 2 finding(s)") {
		t.Errorf("summary wrong:\n%s", errOut)
	}
	if fs := parseFindings(t, out); len(fs) != 2 {
		t.Errorf("got %d findings, want 2 (module load, creds raised)", len(fs))
	}

	// --strict turns bad lines into a failure, after the whole run.
	_, errStrict, err := runVigil(t, "replay", path, "--output", "none", "--strict")
	if !errors.Is(err, errSilent) || !strings.Contains(errStrict, "7 bad line(s)") {
		t.Errorf("--strict: err %v\n%s", err, errStrict)
	}
}

func TestReplayErrors(t *testing.T) {
	if _, _, err := runVigil(t, "replay", filepath.Join(t.TempDir(), "missing.jsonl")); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := runVigil(t, "replay"); err == nil {
		t.Error("replay without a file succeeded")
	}
	path := filepath.Join(t.TempDir(), "e.jsonl")
	writeEvents(t, path, sampleEvents())
	if _, _, err := runVigil(t, "replay", path, "--publish-events"); err == nil || !strings.Contains(err.Error(), "--publish") {
		t.Errorf("--publish-events without --publish: %v", err)
	}
	if _, _, err := runVigil(t, "replay", path, "--output", "yaml"); err == nil {
		t.Error("--output yaml accepted")
	}
	// A user rule folder that does not compile stops replay with the place.
	rules := t.TempDir()
	os.WriteFile(filepath.Join(rules, "broken.rego"), []byte("package vigil.signatures.broken\n\nmetadata := {\n"), 0o644)
	if _, _, err := runVigil(t, "replay", path, "--rules", rules); err == nil || !strings.Contains(err.Error(), "broken.rego:") {
		t.Errorf("broken rules: %v", err)
	}
}

func TestReplayProgressBar(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.jsonl")
	writeEvents(t, path, sampleEvents())
	_, errOut, err := runVigil(t, "replay", path, "--output", "none", "--progress", "always")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "replaying") {
		t.Errorf("no progress bar on stderr with --progress always:\n%q", errOut)
	}
	_, errOut, _ = runVigil(t, "replay", path, "--output", "none")
	if strings.Contains(errOut, "replaying") {
		t.Errorf("progress bar shown off a terminal:\n%q", errOut)
	}
}

func TestReplayUserRules(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ls.rego"), []byte(lsRule), 0o644)
	path := filepath.Join(t.TempDir(), "e.jsonl")
	writeEvents(t, path, sampleEvents())
	out, errOut, err := runVigil(t, "replay", path, "--rules", dir, "--no-builtin", "--output", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	fs := parseFindings(t, out)
	if len(fs) != 1 || fs[0].Signature.ID != "test-ls" || fs[0].Event.Process.Pid != 10 {
		t.Errorf("findings: %+v", fs)
	}
}

// replay --strict fails when a signature's evaluation fails; without
// --strict the failure is reported in the summary and replay succeeds.
func TestReplayStrictFailsOnRuleErrors(t *testing.T) {
	dir := t.TempDir()
	broken := strings.Replace(lsRule, "package vigil.signatures.test_ls", "package vigil.signatures.test_conflict", 1)
	broken = strings.Replace(broken, `"id": "test-ls"`, `"id": "test-conflict"`, 1)
	broken = strings.Replace(broken, `finding contains {"argv": input.args.argv} if input.args.pathname == "/usr/bin/ls"`,
		"kind := \"a\" if input.args.pathname != \"\"\n\nkind := \"b\" if input.process.pid > 0\n\nfinding contains {\"kind\": kind} if true", 1)
	os.WriteFile(filepath.Join(dir, "conflict.rego"), []byte(broken), 0o644)
	path := filepath.Join(t.TempDir(), "e.jsonl")
	writeEvents(t, path, sampleEvents())
	_, errOut, err := runVigil(t, "replay", path, "--rules", dir, "--no-builtin", "-q")
	if err != nil {
		t.Fatalf("without --strict: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "1 evaluation error(s)") {
		t.Errorf("the summary does not report the evaluation error:\n%s", errOut)
	}
	if _, errOut, err = runVigil(t, "replay", path, "--rules", dir, "--no-builtin", "-q", "--strict"); err == nil {
		t.Errorf("replay --strict exited 0 after an evaluation error:\n%s", errOut)
	}
}

package main

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

const lsRule = `package vigil.signatures.test_ls

metadata := {
	"id": "test-ls",
	"name": "ls was run",
	"version": "1.0.0",
	"severity": "low",
	"description": "Someone listed a folder.",
	"tactics": ["TA0007"],
	"techniques": ["T1083"],
	"events": ["execve"],
}

finding contains {"argv": input.args.argv} if input.args.pathname == "/usr/bin/ls"
`

func TestTestCommand(t *testing.T) {
	out, _, err := runVigil(t, "test")
	if err != nil || !strings.HasPrefix(strings.TrimSpace(out), "ok: ") || strings.Contains(out, "ok: 0 passed") {
		t.Errorf("vigil test over the shipped signatures: %v\n%s", err, out)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ls.rego"), []byte(lsRule), 0o644)
	// No test at all is an error, not a pass.
	if _, _, err := runVigil(t, "test", dir); err == nil || !strings.Contains(err.Error(), "no tests") {
		t.Errorf("vigil test on rules without tests: %v", err)
	}
	// A failing test fails the command and says which.
	os.WriteFile(filepath.Join(dir, "ls_test.rego"), []byte(`package vigil.signatures.test_ls_test

import data.vigil.signatures.test_ls

test_fires_on_ls if {
	count(test_ls.finding) == 1 with input as {"name": "execve", "args": {"pathname": "/usr/bin/ls", "argv": ["ls"]}}
}

test_wrong_on_purpose if {
	count(test_ls.finding) == 1 with input as {"name": "execve", "args": {"pathname": "/usr/bin/cat", "argv": ["cat"]}}
}
`), 0o644)
	out, _, err = runVigil(t, "test", dir)
	if !errors.Is(err, errSilent) {
		t.Errorf("a failing test did not fail the command: %v", err)
	}
	if !strings.Contains(out, "FAIL "+filepath.Join(dir, "ls_test.rego")) || !strings.Contains(out, "test_wrong_on_purpose") || strings.Contains(out, "test_fires_on_ls") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(out, "1 passed, 1 failed") {
		t.Errorf("summary:\n%s", out)
	}
	jsonOut, _, _ := runVigil(t, "test", dir, "-o", "json")
	var report struct{ Passed, Failed int }
	if err := json.Unmarshal([]byte(jsonOut), &report); err != nil || report.Passed != 1 || report.Failed != 1 {
		t.Errorf("json report %+v (%v):\n%s", report, err, jsonOut)
	}
}

func TestRulesValidateAndList(t *testing.T) {
	out, errOut, err := runVigil(t, "rules", "validate")
	if err != nil || out != "" || !strings.Contains(errOut, "no problems") {
		t.Errorf("validate of the shipped signatures: %v\n%s%s", err, out, errOut)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ls.rego"), []byte(lsRule), 0o644)
	os.WriteFile(filepath.Join(dir, "typo.rego"), []byte(strings.NewReplacer(
		"test_ls", "test_typo", `"test-ls"`, `"test-typo"`, `["execve"]`, `["exceve"]`).Replace(lsRule)), 0o644)
	os.WriteFile(filepath.Join(dir, "syntax.rego"), []byte("package vigil.signatures.syntax\n\nmetadata := {\n\t\"id\": \n"), 0o644)
	out, _, err = runVigil(t, "rules", "validate", dir)
	if !errors.Is(err, errSilent) {
		t.Errorf("validate of broken rules: %v", err)
	}
	place := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(dir) + `/(typo|syntax)\.rego:\d+(:\d+)?: .+$`)
	if got := place.FindAllString(out, -1); len(got) < 2 {
		t.Errorf("want a file:line[:col] line for typo.rego and syntax.rego:\n%s", out)
	}
	if !strings.Contains(out, "exceve") || !strings.Contains(out, "execve") {
		t.Errorf("the unknown event and its closest name are not named:\n%s", out)
	}

	out, _, err = runVigil(t, "rules", "list", "--rules", filepath.Join(dir, "ls.rego"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"ID", "SEVERITY", "test-ls", "ls was run", "execve", "ls.rego:1", "kernel-module-load", "signatures/persistence/kernel_module_load.rego"} {
		if !strings.Contains(out, w) {
			t.Errorf("rules list lacks %q:\n%s", w, out)
		}
	}
	out, _, err = runVigil(t, "rules", "list", "--rules", filepath.Join(dir, "ls.rego"), "--no-builtin", "-o", "json")
	var rows []struct {
		ID, File string
		Events   []string
	}
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].ID != "test-ls" {
		t.Errorf("rules list -o json: %v\n%s", err, out)
	}
}

func TestEventsCommand(t *testing.T) {
	out, _, err := runVigil(t, "events", "--probes", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range event.Names() {
		if !strings.Contains(out, "\n"+name+" (id ") {
			t.Errorf("events lacks %s", name)
		}
	}
	for _, w := range []string{"would try tp_btf/sched_process_exec, then raw_tracepoint/sched_process_exec", "argv", "string[]", "input.process", "input.unreadable"} {
		if !strings.Contains(out, w) {
			t.Errorf("events lacks %q", w)
		}
	}
	out, _, err = runVigil(t, "events", "execve", "-o", "json", "--probes", "list")
	var docs []eventDoc
	if err != nil || json.Unmarshal([]byte(out), &docs) != nil || len(docs) != 1 || docs[0].Name != "execve" || len(docs[0].Args) == 0 {
		t.Errorf("events execve -o json: %v\n%s", err, out)
	}
	if _, _, err := runVigil(t, "events", "exceve"); err == nil {
		t.Error("events exceve succeeded")
	}
}

// As root, vigil events reports the probe attached on this kernel.
func TestEventsAttached(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading the sensor to report attached probes needs root: run as root (CI does)")
	}
	out, _, err := runVigil(t, "events", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var docs []eventDoc
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		t.Fatal(err)
	}
	attached := 0
	for _, d := range docs {
		if d.Attached != "" {
			attached++
			found := false
			for _, p := range d.Probes {
				found = found || p.Name == d.Attached
			}
			if !found {
				t.Errorf("%s: attached probe %q is not one of its probes %+v", d.Name, d.Attached, d.Probes)
			}
		}
	}
	if attached == 0 {
		t.Errorf("no event reports an attached probe:\n%s", out)
	}
}

// capture --local reads from a sensor in the same process (root).
func TestCaptureLocal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capture --local loads BPF programs and needs root: run as root (CI does)")
	}
	out := filepath.Join(t.TempDir(), "local.jsonl")
	c := startChild(t, "capture --local", mustVigil(t), "capture", "--local", "-o", out, "--event", "sched_process_exec", "--comm", "true", "--count", "2", "--log-format", "json")
	c.waitLog(t, "capturing from the local sensor", 60*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		exec.Command("/bin/true").Run()
		select {
		case <-c.done:
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("capture --local did not stop after 2 events")
		}
		break
	}
	if c.err != nil {
		t.Fatalf("capture --local: %v", c.err)
	}
	lines := readCapture(t, out)
	if len(lines) != 2 {
		t.Fatalf("capture holds %d lines, want 2", len(lines))
	}
	for _, l := range lines {
		ev, err := event.Unmarshal([]byte(l))
		if err != nil || ev.Name != "sched_process_exec" || ev.Process.Comm != "true" {
			t.Errorf("captured %v: %s", err, l)
		}
	}

	// Several events of one process: the first in full, the next lean,
	// and the file replays on its own.
	out = filepath.Join(t.TempDir(), "opens.jsonl")
	c = startChild(t, "capture --local", mustVigil(t), "capture", "--local", "-o", out, "--event", "security_file_open", "--comm", "cat", "--count", "6", "--log-format", "json")
	c.waitLog(t, "capturing from the local sensor", 60*time.Second)
	deadline = time.Now().Add(30 * time.Second)
	for {
		exec.Command("cat", "/etc/hostname", "/etc/hostname", "/etc/hostname", "/etc/hostname", "/etc/hostname", "/etc/hostname").Run()
		select {
		case <-c.done:
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("capture --local did not stop after 6 events")
		}
		break
	}
	if c.err != nil {
		t.Fatalf("capture --local: %v", c.err)
	}
	lines = readCapture(t, out)
	if lean := checkStandsAlone(t, lines); lean == 0 {
		t.Errorf("no lean line among %d opens of cat", len(lines))
	}
	if _, errOut, err := runVigil(t, "replay", out, "--output", "none", "--strict"); err != nil || !strings.Contains(errOut, "6 events, 0 bad line(s)") {
		t.Errorf("replay of the lean capture (err %v): %s", err, errOut)
	}
}

func TestRulesExplain(t *testing.T) {
	out, _, err := runVigil(t, "rules", "explain", "fileless-exec")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"fast path: yes", `args.pathname prefix ["/memfd:"]`, `args.memfd eq true`} {
		if !strings.Contains(out, w) {
			t.Errorf("explain fileless-exec lacks %q:\n%s", w, out)
		}
	}
	// every shipped signature is on the fast path: one of the user's is not
	// (arithmetic on two arguments is nothing the derivation follows)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "off.rego"), []byte(offFastPathRule), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runVigil(t, "rules", "explain", "test-off-fast-path", "--rules", dir)
	if err != nil || !strings.Contains(out, "fast path: no") || !strings.Contains(out, "why: ") {
		t.Errorf("explain of a signature off the fast path: %v\n%s", err, out)
	}
	out, _, err = runVigil(t, "rules", "explain", "fileless-exec", "-o", "json")
	var ex struct {
		FastPath  bool `json:"fast_path"`
		Condition struct {
			Any [][]struct{ Field, Op string }
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &ex) != nil || !ex.FastPath || len(ex.Condition.Any) == 0 {
		t.Errorf("explain -o json: %v\n%s", err, out)
	}
	if _, _, err := runVigil(t, "rules", "explain", "no-such-signature"); err == nil || !strings.Contains(err.Error(), "no-such-signature") {
		t.Errorf("explain of an unknown id: %v", err)
	}
	out, _, err = runVigil(t, "rules", "list", "--rules", dir)
	if err != nil {
		t.Fatal(err)
	}
	fast := regexp.MustCompile(`(?m)^(\S+)\s.*\s(yes|no)\s+\S+\.rego:`)
	marks := map[string]string{}
	for _, m := range fast.FindAllStringSubmatch(out, -1) {
		marks[m[1]] = m[2]
	}
	if marks["fileless-exec"] != "yes" || marks["self-deleting-program"] != "yes" || marks["test-off-fast-path"] != "no" {
		t.Errorf("rules list FAST column: fileless-exec %q, self-deleting-program %q, test-off-fast-path %q:\n%s",
			marks["fileless-exec"], marks["self-deleting-program"], marks["test-off-fast-path"], out)
	}
}

const offFastPathRule = `package vigil.signatures.off_fast_path

metadata := {
	"id": "test-off-fast-path",
	"name": "A write larger than twice its offset",
	"version": "1.0.0",
	"severity": "low",
	"description": "Arithmetic on two arguments: nothing the derivation follows.",
	"tactics": ["TA0005"],
	"techniques": ["T1070"],
	"tags": ["test"],
	"events": ["vfs_write"],
}

finding contains {"count": input.args.count} if {
	input.args.count > 2 * input.args.pos
}
`

// --cpu-profile writes a CPU profile of the command, also when the command
// fails, and a path it cannot create is an error naming the flag.
func TestCPUProfileFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"rules", "validate"}, 0},
		{[]string{"rules", "validate", filepath.Join(dir, "missing")}, 1},
	} {
		prof := filepath.Join(dir, "cpu.prof")
		os.Remove(prof)
		if code := execute(append(c.args, "--log-level", "error", "--cpu-profile", prof)); code != c.code {
			t.Errorf("vigil %v: exit code %d, want %d", c.args, code, c.code)
		}
		f, err := os.Open(prof)
		if err != nil {
			t.Fatalf("vigil %v --cpu-profile: %v", c.args, err)
		}
		// a profile is a gzipped protocol buffer
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("vigil %v --cpu-profile: not gzip: %v", c.args, err)
		}
		body, err := io.ReadAll(zr)
		f.Close()
		if err != nil || len(body) == 0 {
			t.Errorf("vigil %v --cpu-profile: %d bytes of profile, %v", c.args, len(body), err)
		}
	}
	root := newRootCmd()
	root.SetArgs([]string{"rules", "validate", "--cpu-profile", filepath.Join(dir, "no", "such", "dir", "cpu.prof")})
	root.SetOut(io.Discard)
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--cpu-profile") {
		t.Errorf("an uncreatable profile path: %v, want an error naming --cpu-profile", err)
	}
}

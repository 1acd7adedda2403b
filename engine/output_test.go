package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTextOutput(t *testing.T) {
	eng := testEngine(t, writeTempRules(t))
	fs := eng.Evaluate(context.Background(), moduleEvent(4242))
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	f := &fs[0]
	line := FormatText(f, false)
	for _, want := range []string{"HIGH", "kernel-module-load", `"Kernel module load"`, "pid=4242", "comm=insmod", "exe=/usr/sbin/insmod", "event=finit_module", "host=web-1", "source=/tmp/rk.ko", "syscall=finit_module", "succeeded=false"} {
		if !strings.Contains(line, want) {
			t.Errorf("text line lacks %q:\n%s", want, line)
		}
	}
	if strings.Contains(line, "\n") || strings.Contains(line, "\x1b") {
		t.Errorf("text line has a newline or colour codes: %q", line)
	}
	if colored := FormatText(f, true); !strings.Contains(colored, "\x1b[31m") {
		t.Errorf("coloured line lacks the high-severity colour: %q", colored)
	}

	var buf bytes.Buffer
	out, err := NewOutput(&buf, "text", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Write(f); err != nil {
		t.Fatal(err)
	}
	if buf.String() != line+"\n" {
		t.Errorf("text output wrote %q, want %q", buf.String(), line+"\n")
	}
	if _, err := NewOutput(&buf, "yaml", false); err == nil {
		t.Error("NewOutput accepted the format yaml")
	}
}

func TestTextSummaryIsBounded(t *testing.T) {
	f := &Finding{Signature: SignatureInfo{ID: "x", Severity: "low"}, Fields: map[string]any{
		"long":   strings.Repeat("a", 500),
		"nested": map[string]any{"skipped": true},
		"list":   []any{"a", "b c"},
		"quote":  `say "hi"`,
	}}
	line := FormatText(f, false)
	if strings.Contains(line, "skipped") {
		t.Errorf("nested object rendered in the text line: %s", line)
	}
	if strings.Contains(line, strings.Repeat("a", maxFieldValue+1)) {
		t.Errorf("long value not truncated: %s", line)
	}
	if !strings.Contains(line, `list=["a","b c"]`) && !strings.Contains(line, `list=[a,"b c"]`) {
		t.Errorf("list not rendered: %s", line)
	}
	if !strings.Contains(line, `quote="say \"hi\""`) {
		t.Errorf("value with quotes not quoted: %s", line)
	}
}

func TestJSONAndFileOutputs(t *testing.T) {
	eng := testEngine(t, writeTempRules(t))
	fs := eng.Evaluate(context.Background(), execEvent(77, "/tmp/x"))
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	path := filepath.Join(t.TempDir(), "findings.jsonl")
	file, err := OpenFileOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	out := Outputs{NewJSONOutput(&buf), file}
	for range 2 {
		if err := out.Write(&fs[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	want, _ := fs[0].Marshal()
	wantLines := string(want) + "\n" + string(want) + "\n"
	if buf.String() != wantLines {
		t.Errorf("JSON output:\n%s\nwant:\n%s", buf.String(), wantLines)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != wantLines {
		t.Errorf("file output:\n%s\nwant:\n%s", got, wantLines)
	}
	var back struct {
		Signature struct{ ID string }
		Event     struct{ Process struct{ Pid int } }
		Fields    map[string]any
	}
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if back.Signature.ID != "test-tmp-exec" || back.Event.Process.Pid != 77 || back.Fields["path"] != "/tmp/x" {
		t.Errorf("finding JSON = %s", want)
	}

	// The file output appends.
	file2, err := OpenFileOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	file2.Write(&fs[0])
	file2.Close()
	got, _ = os.ReadFile(path)
	if n := strings.Count(string(got), "\n"); n != 3 {
		t.Errorf("after reopening, the file has %d lines, want 3", n)
	}
}

func writeTempRules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeRule(t, dir, "tmp_exec.rego", tmpExecRule)
	return dir
}

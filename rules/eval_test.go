package rules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

func loadOne(t *testing.T, body string) *Signature {
	t.Helper()
	dir := writeFiles(t, map[string]string{"sig.rego": body})
	set, err := Load(LoadOptions{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Signatures()) != 1 {
		t.Fatalf("signatures: %v", set.Signatures())
	}
	return set.Signatures()[0]
}

func sigWithBody(body string) string {
	return `package vigil.signatures.t

metadata := {"id": "t", "name": "t", "version": "1.0.0", "severity": "low", "description": "t", "events": ["execve"]}

` + body
}

func execve(pathname string) *event.Event {
	return &event.Event{Name: "execve", Host: "h", Process: event.Process{Pid: 42, Comm: "sh"}, Args: map[string]any{"pathname": pathname, "argv": []string{pathname}}}
}

func TestEvalFindings(t *testing.T) {
	sig := loadOne(t, sigWithBody(`
finding contains {"path": input.args.pathname, "n": 1} if startswith(input.args.pathname, "/tmp/")

finding contains {"path": input.args.pathname, "n": 2} if endswith(input.args.pathname, ".sh")
`))
	ctx := context.Background()
	fs, err := sig.Eval(ctx, Input(execve("/tmp/x.sh")))
	if err != nil || len(fs) != 2 {
		t.Fatalf("Eval = %v, %v; want 2 findings", fs, err)
	}
	if fs[0]["path"] != "/tmp/x.sh" {
		t.Errorf("fields %v", fs[0])
	}
	fs, err = sig.Eval(ctx, Input(execve("/usr/bin/id")))
	if err != nil || fs != nil {
		t.Fatalf("Eval = %v, %v; want nothing", fs, err)
	}
}

func TestEvalTimeLimit(t *testing.T) {
	// 25 million iterations: seconds of work, stopped by the deadline.
	sig := loadOne(t, sigWithBody(`
r := numbers.range(1, 5000)

finding contains {"n": n} if {
	n := count([1 | some i in r; some j in r; i + j < 0])
}
`))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sig.Eval(ctx, Input(execve("/x")))
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Eval error %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), "signature t") {
		t.Errorf("error does not name the signature: %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("evaluation stopped after %v, want about 50ms", took)
	}
	// An already expired context does not evaluate at all.
	if _, err := sig.Eval(ctx, Input(execve("/x"))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: %v", err)
	}
}

func TestEvalRuntimeErrors(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"conflict": {`
kind := "a" if input.args.pathname != ""

kind := "b" if input.process.pid == 42

finding contains {"kind": kind} if true
`, "sig.rego:8: eval_conflict_error: rule data.vigil.signatures.t.kind produced conflicting values"},
		"builtin": {`
finding contains {"n": to_number(input.args.pathname)} if true
`, "sig.rego:6: eval_builtin_error: to_number: strconv.ParseFloat"},
		"not an object": {`
finding contains input.args.pathname if true
`, "finding is not an object: got string"},
	} {
		t.Run(name, func(t *testing.T) {
			sig := loadOne(t, sigWithBody(tc.body))
			_, err := sig.Eval(context.Background(), Input(execve("/x")))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "signature t: ") {
				t.Fatalf("Eval error %v, want one naming the signature and containing %q", err, tc.want)
			}
			if name == "not an object" && !errors.Is(err, ErrBadFinding) {
				t.Errorf("error %v is not ErrBadFinding", err)
			}
		})
	}
}

func TestRunTestsReportsFailures(t *testing.T) {
	sig := goodSig("mine", "my-sig", `["execve"]`)
	dir := writeFiles(t, map[string]string{
		"mine.rego": sig,
		"mine_test.rego": `package vigil.signatures.mine

test_fires_for_bash if {
	count(finding) == 1 with input as {"process": {"comm": "bash", "exe": "/bin/bash"}}
}

test_wrong_expectation if {
	print("findings:", finding) with input as {"process": {"comm": "bash"}}
	count(finding) == 0 with input as {"process": {"comm": "bash"}}
}

todo_test_later if false
`,
		"mine.fixtures.jsonl": `# comment
{"name": "bash fires", "fire": true, "fields": {"comm": "bash", "ancestry": []}, "event": {"name": "execve", "process": {"pid": 9, "comm": "bash", "exe": "/usr/bin/bash"}, "args": {"pathname": "/usr/bin/bash"}}}
{"name": "wrong field", "fire": true, "fields": {"comm": "zsh"}, "event": {"name": "execve", "process": {"pid": 9, "comm": "bash"}, "args": {}}}
{"name": "must not fire", "fire": false, "event": {"name": "execve", "process": {"pid": 10, "comm": "ls"}, "args": {}}}
{"name": "not selected", "fire": true, "event": {"name": "sched_process_exit", "process": {"pid": 11, "comm": "ls"}, "args": {}}}
{"name": "broken", "fire": true}
`,
	})
	rep, err := RunTests(context.Background(), TestOptions{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]TestResult{}
	for _, r := range rep.Results {
		byName[r.Name] = r
	}
	expect := func(name string, pass bool, msgParts ...string) {
		t.Helper()
		r, ok := byName[name]
		if !ok {
			t.Errorf("no result for %q; results %v", name, rep.Results)
			return
		}
		if r.Pass != pass {
			t.Errorf("%s: pass=%v, want %v (%s)", name, r.Pass, pass, r)
		}
		for _, p := range msgParts {
			if !strings.Contains(r.String(), p) {
				t.Errorf("%s: result %q does not contain %q", name, r, p)
			}
		}
	}
	expect("test_fires_for_bash", true, "mine_test.rego:3: my-sig: test_fires_for_bash")
	expect("test_wrong_expectation", false, "FAIL", "mine_test.rego:7", "false or undefined", "findings:")
	expect("bash fires", true)
	expect("wrong field", false, "mine.fixtures.jsonl:3", "my-sig", "event execve (pid 9", `field "comm": want "zsh", got "bash"`)
	expect("must not fire", false, "want no finding, got 1", `"comm":"ls"`)
	expect("not selected", false, "want a finding, got none (the signature does not select sched_process_exit events")
	expect("malformed fixture", false, `mine.fixtures.jsonl:6: malformed fixture`, `fixture case "broken" has no "event"`)
	if r := byName["todo_test_later"]; !r.Skip {
		t.Errorf("todo_test_later not skipped: %v", r)
	}
	if rep.OK() || rep.Failed != 5 || rep.Passed != 2 || rep.Skipped != 1 {
		t.Errorf("report: passed %d failed %d skipped %d", rep.Passed, rep.Failed, rep.Skipped)
	}

	// -run keeps only the matching tests.
	rep, err = RunTests(context.Background(), TestOptions{Dirs: []string{dir}, Run: "bash"})
	if err != nil {
		t.Fatal(err)
	}
	// test_fires_for_bash, "bash fires", and the malformed line (always reported)
	if len(rep.Results) != 3 || rep.Failed != 1 {
		t.Errorf("filtered results: %v", rep.Results)
	}
}

func TestRunTestsErrors(t *testing.T) {
	noTests := writeFiles(t, map[string]string{"a.rego": goodSig("a", "a", `["execve"]`)})
	if _, err := RunTests(context.Background(), TestOptions{Dirs: []string{noTests}}); !errors.Is(err, ErrNoTests) {
		t.Errorf("no tests: %v, want ErrNoTests", err)
	}
	brokenTest := writeFiles(t, map[string]string{
		"a.rego":      goodSig("a", "a", `["execve"]`),
		"a_test.rego": "package vigil.signatures.a\n\ntest_x if y\n",
	})
	_, err := RunTests(context.Background(), TestOptions{Dirs: []string{brokenTest}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "a_test.rego:3:11: unsafe variable: var y is unsafe") {
		t.Errorf("broken test: %v", err)
	}
	netTest := writeFiles(t, map[string]string{
		"a.rego":      goodSig("a", "a", `["execve"]`),
		"a_test.rego": "package vigil.signatures.a\n\ntest_x if http.send({\"method\": \"get\", \"url\": \"http://x\"})\n",
	})
	if _, err := RunTests(context.Background(), TestOptions{Dirs: []string{netTest}}); err == nil || !strings.Contains(err.Error(), "a_test.rego:3:11: built-in http.send is not allowed") {
		t.Errorf("test using http.send: %v", err)
	}
}

func TestEvalRecoversFromPanics(t *testing.T) {
	// A signature that was never prepared makes the evaluator dereference
	// nil: the panic must come back as an error.
	var s Signature
	s.ID = "unprepared"
	_, err := s.Eval(context.Background(), Input(execve("/x")))
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "signature unprepared") {
		t.Fatalf("Eval of an unprepared signature: %v", err)
	}
}

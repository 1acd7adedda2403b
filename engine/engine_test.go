package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// userSet loads signatures from Rego sources (name -> body) without the
// shipped ones.
func userSet(t *testing.T, files map[string]string) *rules.Set {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := rules.Load(rules.LoadOptions{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// sig is a signature selecting events with a finding rule body.
func sig(id, events, body string) string {
	pkg := strings.ReplaceAll(id, "-", "_")
	return `package vigil.signatures.` + pkg + `

metadata := {"id": "` + id + `", "name": "` + id + `", "version": "1.0.0", "severity": "low", "description": "test", "events": ` + events + `}

` + body + "\n"
}

func execve(pid uint32, path string) *event.Event {
	return &event.Event{
		Name: "execve", ID: event.IDExecve, Host: "h1", Time: time.Unix(1700000000, 0).UTC(),
		Process: event.Process{Pid: pid, Comm: "sh", Exe: "/usr/bin/dash"},
		Args:    map[string]any{"pathname": path, "argv": []string{path}},
	}
}

func TestFindingJSON(t *testing.T) {
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 2, 12, 0, 1, 0, time.UTC)
	eng, err := New(set, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.Unmarshal([]byte(`{"name":"sched_process_exec","time":"2025-03-02T12:00:00Z","host":"web-1",` +
		`"process":{"pid":8123,"tid":8123,"ppid":8100,"host_pid":8123,"host_tid":8123,"host_ppid":8100,"uid":33,"gid":33,"euid":33,"egid":33,"comm":"3","exe":"/memfd:x (deleted)","cgroup_id":9,"mnt_ns":1,"pid_ns":1,` +
		`"ancestors":[{"pid":8100,"host_pid":8100,"comm":"php-fpm8.2","exe":"/usr/sbin/php-fpm8.2","uid":33},{"pid":812,"host_pid":812,"comm":"nginx","exe":"/usr/sbin/nginx","uid":0}]},` +
		`"return_value":0,"args":{"pathname":"/memfd:x (deleted)","filename":"/proc/self/fd/3","argv":["x"],"memfd":true,"deleted":true,"fs_type":"tmpfs","inode":77}}`))
	if err != nil {
		t.Fatal(err)
	}
	fs := eng.Evaluate(context.Background(), ev)
	if len(fs) != 1 {
		t.Fatalf("findings %v, want 1", fs)
	}
	f := &fs[0]
	if got := f.Subject(); got != "vigil.findings.fileless-exec.web-1" {
		t.Errorf("subject %q", got)
	}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if keys := sortedKeys(doc); !slices.Equal(keys, []string{"event", "fields", "host", "signature", "time"}) {
		t.Errorf("finding keys %v", keys)
	}
	var sigDoc map[string]any
	json.Unmarshal(doc["signature"], &sigDoc)
	if keys := sortedKeys(sigDoc); !slices.Equal(keys, []string{"description", "id", "name", "severity", "tactics", "tags", "techniques", "version"}) {
		t.Errorf("signature keys %v", keys)
	}
	if sigDoc["id"] != "fileless-exec" || sigDoc["severity"] != "high" {
		t.Errorf("signature %v", sigDoc)
	}
	back, err := event.Unmarshal(doc["event"])
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Process.Ancestors) != 2 || back.Process.Ancestors[1].Comm != "nginx" || back.Process.Pid != 8123 {
		t.Errorf("event in finding lost its process context: %+v", back.Process)
	}
	var fields map[string]any
	json.Unmarshal(doc["fields"], &fields)
	if r, _ := fields["reasons"].([]any); len(r) != 1 || r[0] != "memfd" {
		t.Errorf("fields %v", fields)
	}
	if a, _ := fields["ancestry"].([]any); len(a) != 2 || a[0] != "php-fpm8.2(8100)" {
		t.Errorf("ancestry field %v", fields["ancestry"])
	}
	if string(doc["host"]) != `"web-1"` || string(doc["time"]) != `"2025-03-02T12:00:01Z"` {
		t.Errorf("host %s time %s", doc["host"], doc["time"])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestDispatchByEventName(t *testing.T) {
	set := userSet(t, map[string]string{
		"a.rego": sig("on-exec", `["execve"]`, `finding contains {"path": input.args.pathname} if true`),
		"b.rego": sig("on-exit", `["sched_process_exit"]`, `finding contains {} if true`),
	})
	eng, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fs := eng.Evaluate(ctx, execve(1, "/bin/ls"))
	if len(fs) != 1 || fs[0].Signature.ID != "on-exec" || fs[0].Fields["path"] != "/bin/ls" || fs[0].Host != "h1" {
		t.Fatalf("findings %+v", fs)
	}
	if fs := eng.Evaluate(ctx, &event.Event{Name: "sched_process_fork"}); fs != nil {
		t.Fatalf("fork: %v", fs)
	}
	st := eng.Stats()
	if st.Events != 2 || st.Unselected != 1 || st.Evaluations != 1 || st.Findings != 1 || st.Signatures != 2 {
		t.Errorf("stats %+v", st)
	}
	if st.PerSignature["on-exec"].Evaluations != 1 || st.PerSignature["on-exit"].Evaluations != 0 {
		t.Errorf("per signature %+v", st.PerSignature)
	}
}

func TestFailingSignaturesDoNotStopOthers(t *testing.T) {
	set := userSet(t, map[string]string{
		"broken.rego": sig("broken", `["execve"]`, `
kind := "a" if input.args.pathname != ""

kind := "b" if input.process.pid > 0

finding contains {"kind": kind} if true`),
		"slow.rego": sig("slow", `["execve"]`, `
r := numbers.range(1, 5000)

finding contains {"n": n} if {
	n := count([1 | some i in r; some j in r; i + j < 0])
}`),
		"good.rego": sig("good", `["execve"]`, `finding contains {"pid": input.process.pid} if true`),
	})
	var logs bytes.Buffer
	eng, err := New(set, Options{Timeout: 30 * time.Millisecond, Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		start := time.Now()
		fs := eng.Evaluate(context.Background(), execve(uint32(100+i), "/x"))
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("evaluation took %v with a 30ms limit", took)
		}
		if len(fs) != 1 || fs[0].Signature.ID != "good" {
			t.Fatalf("findings %+v, want good's only", fs)
		}
	}
	st := eng.Stats()
	if st.Errors != 3 || st.Timeouts != 3 || st.Findings != 3 {
		t.Errorf("stats %+v", st)
	}
	if ps := st.PerSignature["broken"]; ps.Errors != 3 || ps.Timeouts != 0 {
		t.Errorf("broken: %+v", ps)
	}
	if ps := st.PerSignature["slow"]; ps.Timeouts != 3 || ps.Errors != 0 {
		t.Errorf("slow: %+v", ps)
	}
	// One line per failing signature: the repeats are counted, not logged.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log lines %d, want 2:\n%s", len(lines), logs.String())
	}
	var sawBroken, sawSlow bool
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec["signature"] {
		case "broken":
			sawBroken = rec["kind"] == "error" && strings.Contains(rec["error"].(string), "eval_conflict_error") &&
				strings.HasSuffix(rec["file"].(string), "broken.rego") && rec["event"] == "execve"
		case "slow":
			sawSlow = rec["kind"] == "timeout" && strings.Contains(rec["error"].(string), "deadline exceeded")
		}
	}
	if !sawBroken || !sawSlow {
		t.Errorf("log does not describe both failures:\n%s", logs.String())
	}
}

func TestSwapWhileEvaluating(t *testing.T) {
	setA := userSet(t, map[string]string{"a.rego": sig("sig-a", `["execve"]`, `finding contains {"set": "a"} if true`)})
	setB := userSet(t, map[string]string{
		"b.rego": sig("sig-b", `["execve"]`, `finding contains {"set": "b"} if true`),
		"c.rego": sig("sig-c", `["execve"]`, `finding contains {"set": "b"} if true`),
	})
	eng, err := New(setA, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds, swaps = 4, 500, 100
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				fs := eng.Evaluate(context.Background(), execve(uint32(w*rounds+i), "/x"))
				// Each evaluation sees one whole set: one finding from A, or
				// two from B, never a mix.
				ok := (len(fs) == 1 && fs[0].Signature.ID == "sig-a") ||
					(len(fs) == 2 && fs[0].Fields["set"] == "b" && fs[1].Fields["set"] == "b")
				if !ok {
					errs <- "mixed or missing findings"
					return
				}
			}
		})
	}
	for i := range swaps {
		if i%2 == 0 {
			eng.Swap(setB)
		} else {
			eng.Swap(setA)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := eng.Stats()
	if st.Swaps != swaps || st.Events != workers*rounds || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	eng.Swap(nil) // ignored
	if eng.Set() != setB && eng.Set() != setA {
		t.Error("Swap(nil) replaced the set")
	}
}

func TestCanceledContext(t *testing.T) {
	set := userSet(t, map[string]string{
		"a.rego": sig("a", `["execve"]`, `finding contains {} if true`),
		"b.rego": sig("b", `["execve"]`, `finding contains {} if true`),
	})
	eng, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if fs := eng.Evaluate(ctx, execve(1, "/x")); fs != nil {
		t.Errorf("findings after cancel: %v", fs)
	}
	if st := eng.Stats(); st.Canceled != 2 || st.Errors != 0 || st.Evaluations != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestNewWithoutRules(t *testing.T) {
	if _, err := New(nil, Options{}); !errors.Is(err, ErrNoRules) {
		t.Errorf("New(nil): %v", err)
	}
}

func TestDedupe(t *testing.T) {
	set := userSet(t, map[string]string{"a.rego": sig("dup", `["execve"]`, `finding contains {"path": input.args.pathname} if true`)})
	now := time.Unix(1700000000, 0)
	eng, err := New(set, Options{Dedupe: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	count := func(ev *event.Event) int { return len(eng.Evaluate(ctx, ev)) }
	if count(execve(1, "/a")) != 1 {
		t.Fatal("first finding dropped")
	}
	if count(execve(1, "/a")) != 0 {
		t.Error("identical finding within the window was not dropped")
	}
	if count(execve(1, "/b")) != 1 {
		t.Error("finding with other fields was dropped")
	}
	if count(execve(2, "/a")) != 1 {
		t.Error("finding of another pid was dropped")
	}
	ev := execve(3, "/a")
	ev.Process.HostPid = 3
	if count(ev) != 1 {
		t.Error("finding of another process was dropped")
	}
	other := execve(1, "/a")
	other.Host = "h2"
	if count(other) != 1 {
		t.Error("finding of another host was dropped")
	}
	now = now.Add(time.Minute)
	if count(execve(1, "/a")) != 1 {
		t.Error("finding after the window was dropped")
	}
	st := eng.Stats()
	if st.Suppressed != 1 || st.PerSignature["dup"].Suppressed != 1 {
		t.Errorf("stats %+v", st)
	}

	// Off by default: every finding goes out.
	plain, _ := New(set, Options{})
	for range 3 {
		if len(plain.Evaluate(ctx, execve(1, "/a"))) != 1 {
			t.Fatal("finding dropped without Dedupe")
		}
	}
}

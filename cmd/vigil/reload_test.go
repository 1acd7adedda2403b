package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// vigil engine reloads its rule folder on edits and on SIGHUP; a broken edit
// is reported with its place and the running signatures keep working.
func TestEngineHotReload(t *testing.T) {
	srv := natstest.Start(t, 0)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ls.rego"), []byte(lsRule), 0o644)
	// the same event is published twice: keep every finding
	eng := startChild(t, "vigil engine", mustVigil(t), "engine", "--nats", srv.URL, "--rules", dir, "--dedupe", "0", "--output", "json", "--log-format", "json")
	eng.waitLog(t, "engine ready", 60*time.Second)
	eng.waitLog(t, "watching rule files", 10*time.Second)

	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(event.AllFindings)
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	expectFinding := func(id string, ev *event.Event) {
		t.Helper()
		data, _ := ev.Marshal()
		if err := nc.Publish(event.EventSubject(ev.Name, ev.Host), data); err != nil {
			t.Fatal(err)
		}
		msg, err := sub.NextMsg(15 * time.Second)
		if err != nil {
			t.Fatalf("no %s finding: %v", id, err)
		}
		if !strings.HasPrefix(msg.Subject, "vigil.findings."+id+".") {
			t.Fatalf("finding on %s, want %s", msg.Subject, id)
		}
	}
	lsEvent := sampleEvents()[0]

	// A broken edit: reported with file and line, the old set keeps running.
	broken := filepath.Join(dir, "broken.rego")
	os.WriteFile(broken, []byte("package vigil.signatures.broken\n\nmetadata := {\n"), 0o644)
	eng.waitLog(t, "reload failed", 15*time.Second)
	if !regexp.MustCompile(regexp.QuoteMeta(broken) + `:\d+`).MatchString(eng.stderr.String()) {
		t.Errorf("the reload error does not name %s with a line:\n%s", broken, eng.stderr)
	}
	expectFinding("test-ls", lsEvent)

	// Fixing it brings the new signature in.
	os.WriteFile(broken, []byte(strings.NewReplacer("test_ls", "broken", `"test-ls"`, `"test-ls-again"`).Replace(lsRule)), 0o644)
	eng.waitLog(t, "signatures reloaded", 15*time.Second)
	data, _ := lsEvent.Marshal()
	nc.Publish(event.EventSubject(lsEvent.Name, lsEvent.Host), data)
	got := map[string]bool{}
	for range 2 {
		msg, err := sub.NextMsg(15 * time.Second)
		if err != nil {
			t.Fatalf("after the fix, findings %v: %v", got, err)
		}
		got[msg.Subject] = true
	}
	if !got["vigil.findings.test-ls.host-a"] || !got["vigil.findings.test-ls-again.host-a"] {
		t.Errorf("after the fix, findings on %v", got)
	}

	// SIGHUP reloads too.
	before := strings.Count(eng.stderr.String(), "signatures reloaded")
	eng.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(eng.stderr.String(), "signatures reloaded") == before {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", eng.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := eng.stop(15 * time.Second); err != nil {
		t.Errorf("engine exit after SIGINT: %v", err)
	}
}

// vigil engine --dedupe reports a repeated identical finding once.
func TestEngineDedupe(t *testing.T) {
	srv := natstest.Start(t, 0)
	eng := startChild(t, "vigil engine", mustVigil(t), "engine", "--nats", srv.URL, "--dedupe", "1m", "--output", "json", "--log-format", "json")
	eng.waitLog(t, "engine ready", 60*time.Second)
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync(event.AllFindings)
	nc.Flush()
	ev := sampleEvents()[1] // finit_module
	data, _ := ev.Marshal()
	for range 3 {
		nc.Publish(event.EventSubject(ev.Name, ev.Host), data)
	}
	other := sampleEvents()[1]
	other.Process.Pid, other.Process.HostPid = 99, 5099
	data2, _ := other.Marshal()
	nc.Publish(event.EventSubject(other.Name, other.Host), data2)
	var pids []uint32
	for {
		msg, err := sub.NextMsg(2 * time.Second)
		if err != nil {
			break
		}
		var f finding
		if err := json.Unmarshal(msg.Data, &f); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, f.Event.Process.Pid)
	}
	slices.Sort(pids)
	if !slices.Equal(pids, []uint32{11, 99}) {
		t.Errorf("findings for pids %v, want one for 11 and one for 99", pids)
	}
	if err := eng.stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(eng.stderr.String(), `"suppressed":2`) {
		t.Errorf("the engine did not count 2 suppressed findings:\n%s", eng.stderr)
	}
}

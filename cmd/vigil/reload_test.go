package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-sec/vigil/sensor/event"
)

// vigil engine reloads its rule folder on edits and on SIGHUP; a broken edit
// is reported with its place and the running signatures keep working.
func TestEngineHotReload(t *testing.T) {
	srv := startNATSServer(t, 0)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ls.rego"), []byte(lsRule), 0o644)
	eng := startChild(t, "vigil engine", mustVigil(t), "engine", "--nats", srv.url, "--rules", dir, "--output", "json", "--log-format", "json")
	eng.waitLog(t, "engine ready", 60*time.Second)
	eng.waitLog(t, "watching rule files", 10*time.Second)

	nc, err := nats.Connect(srv.url)
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

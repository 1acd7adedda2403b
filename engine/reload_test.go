package engine

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/rules"
)

const varTmpRule = `package vigil.signatures.test_var_tmp_exec

metadata := {
	"id": "test-var-tmp-exec",
	"name": "Program run from /var/tmp",
	"version": "1.0.0",
	"severity": "low",
	"description": "An execve of a program under /var/tmp.",
	"tactics": ["TA0002"],
	"techniques": ["T1059"],
	"events": ["execve"],
}

finding contains {"path": input.args.pathname} if {
	startswith(input.args.pathname, "/var/tmp/")
}
`

func startReloader(t *testing.T, eng *Engine, opts ReloadOptions) *Reloader {
	t.Helper()
	r := NewReloader(eng, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Reloader.Run: %v", err)
		}
	})
	return r
}

func hasSignature(eng *Engine, id string) bool {
	_, ok := eng.Set().Lookup(id)
	return ok
}

func TestReloadOnFileChangeKeepsSetOnBrokenEdit(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "team")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRule(t, sub, "tmp_exec.rego", tmpExecRule)
	load := func() (*rules.Set, error) { return rules.Load(rules.LoadOptions{Builtin: true, Dirs: []string{dir}}) }
	set, err := load()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(set, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	r := startReloader(t, eng, ReloadOptions{Load: load, Paths: []string{dir}, Debounce: 50 * time.Millisecond, NoSIGHUP: true, Logger: zerolog.New(&logs)})
	waitFor(t, "the watcher to start", func() bool { return strings.Contains(logs.String(), "watching rule files") })

	// A new rule file in a subfolder is picked up.
	writeRule(t, sub, "var_tmp_exec.rego", varTmpRule)
	waitFor(t, "the new signature to be loaded", func() bool { return hasSignature(eng, "test-var-tmp-exec") })
	if fs := eng.Evaluate(context.Background(), execEvent(1, "/var/tmp/x")); len(fs) != 1 || fs[0].Signature.ID != "test-var-tmp-exec" {
		t.Fatalf("after reload: findings %+v", fs)
	}

	// A broken edit is reported with its place and the engine keeps the
	// previous set.
	okBefore, _, _ := r.Counts()
	writeRule(t, sub, "var_tmp_exec.rego", strings.Replace(varTmpRule, `startswith(input.args.pathname, "/var/tmp/")`, `startswith(input.args.pathname, `, 1))
	waitFor(t, "the failed reload", func() bool { _, failed, _ := r.Counts(); return failed > 0 })
	ok, _, last := r.Counts()
	if ok != okBefore || last == nil {
		t.Errorf("counts after a broken edit: ok %d (was %d), last error %v", ok, okBefore, last)
	}
	place := regexp.MustCompile(`var_tmp_exec\.rego:\d+(:\d+)?`)
	if !place.MatchString(last.Error()) || !place.MatchString(logs.String()) {
		t.Errorf("the error does not name the file and line:\nerror: %v\nlogs:\n%s", last, logs.String())
	}
	if !hasSignature(eng, "test-var-tmp-exec") || !hasSignature(eng, "test-tmp-exec") {
		t.Error("the previous set was not kept after a broken edit")
	}
	if fs := eng.Evaluate(context.Background(), execEvent(1, "/tmp/x")); len(fs) != 1 {
		t.Errorf("the engine stopped working after a broken edit: %+v", fs)
	}

	// Removing the file reloads without it.
	if err := os.Remove(filepath.Join(sub, "var_tmp_exec.rego")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed signature to go", func() bool { return !hasSignature(eng, "test-var-tmp-exec") })
	if _, _, last := r.Counts(); last != nil {
		t.Errorf("last error after a good reload: %v", last)
	}
}

func TestReloadWatchesSingleFile(t *testing.T) {
	dir := t.TempDir()
	file := writeRule(t, dir, "tmp_exec.rego", tmpExecRule)
	load := func() (*rules.Set, error) { return rules.Load(rules.LoadOptions{Builtin: true, Dirs: []string{file}}) }
	set, err := load()
	if err != nil {
		t.Fatal(err)
	}
	eng, _ := New(set, Options{Logger: zerolog.Nop()})
	var logs lockedBuffer
	r := startReloader(t, eng, ReloadOptions{Load: load, Paths: []string{file}, Debounce: 50 * time.Millisecond, NoSIGHUP: true, Logger: zerolog.New(&logs)})
	waitFor(t, "the watcher to start", func() bool { return strings.Contains(logs.String(), "watching rule files") })

	// Another file in the same folder is not ours: no reload.
	writeRule(t, dir, "other.rego", "package other\n")
	time.Sleep(300 * time.Millisecond)
	if ok, failed, _ := r.Counts(); ok+failed != 0 {
		t.Errorf("a change to another file caused a reload (%d ok, %d failed)", ok, failed)
	}
	// Replacing the file by rename, as editors do, is seen.
	tmp := filepath.Join(dir, ".tmp_exec.rego.swp")
	os.WriteFile(tmp, []byte(strings.Replace(tmpExecRule, `"severity": "medium"`, `"severity": "critical"`, 1)), 0o644)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload", func() bool {
		s, ok := eng.Set().Lookup("test-tmp-exec")
		return ok && s.Severity == "critical"
	})
}

func TestReloadOnSIGHUP(t *testing.T) {
	// Keep SIGHUP from ending the test binary before the reloader listens.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	dir := t.TempDir()
	writeRule(t, dir, "var_tmp_exec.rego", varTmpRule)
	load := func() (*rules.Set, error) { return rules.Load(rules.LoadOptions{Builtin: true, Dirs: []string{dir}}) }
	set, err := load()
	if err != nil {
		t.Fatal(err)
	}
	eng, _ := New(set, Options{Logger: zerolog.Nop()})
	r := startReloader(t, eng, ReloadOptions{Load: load, Logger: zerolog.Nop()})
	// No watch on dir: only SIGHUP can bring the new file in.
	writeRule(t, dir, "tmp_exec.rego", tmpExecRule)
	deadline := time.Now().Add(15 * time.Second)
	for !hasSignature(eng, "test-tmp-exec") {
		if time.Now().After(deadline) {
			ok, failed, last := r.Counts()
			t.Fatalf("no reload after SIGHUP (%d ok, %d failed, last %v)", ok, failed, last)
		}
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		time.Sleep(100 * time.Millisecond)
	}
}

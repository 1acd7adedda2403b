package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Impact: data destroyed so that it cannot be recovered.
func init() {
	scenarios = append(scenarios, scenario{"file shredded beyond recovery", scenarioShred})
	benignWorkloads = append(benignWorkloads,
		// dd writing a test file from /dev/zero, and reading into
		// /dev/null: neither writes a disk
		[]string{"sh", "-c", `f=$(mktemp); dd if=/dev/zero of="$f" bs=4k count=1 2>/dev/null; dd if="$f" of=/dev/null bs=4k 2>/dev/null; rm -f "$f"`},
		// a scratch tree removed recursively
		[]string{"sh", "-c", `d=$(mktemp -d); mkdir -p "$d/a/b"; touch "$d/a/b/c"; rm -rf "$d"`},
	)
	// wipefs without -a only lists signatures (here of a file, which has
	// none)
	if _, err := exec.LookPath("wipefs"); err == nil {
		benignWorkloads = append(benignWorkloads, []string{"sh", "-c", `f=$(mktemp); wipefs "$f" >/dev/null 2>&1; rm -f "$f"; true`})
	}
}

// scenarioShred: shred overwrites a file and unlinks it (-u), as an
// intruder does with a dump they took or the logs of what they did.
func scenarioShred(t *testing.T, _ *e2eEnv) []expectation {
	f := filepath.Join(t.TempDir(), "customers.sql")
	if err := os.WriteFile(f, []byte("INSERT INTO customers VALUES (1, 'ann', 'ann@example.com');\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shred := resolved(t, "shred")
	pid := runQuiet(t, exec.Command(shred, "-u", f))
	if _, err := os.Stat(f); !os.IsNotExist(err) {
		t.Errorf("shred -u %s left the file (stat: %v)", f, err)
	}
	return []expectation{{what: "shred -u FILE", sigID: "data-destruction", pid: pid,
		exe: isExe(shred), exeDoc: shred, comm: filepath.Base(shred), event: "sched_process_exec"}}
}

package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// Anti-debugging: a process makes itself its parent's tracee with
// ptrace(PTRACE_TRACEME).
func init() {
	scenarios = append(scenarios, scenario{"PTRACE_TRACEME to resist debuggers", scenarioTraceme})
	// debuggers start programs with the same call, from the child they fork
	// (strace also to probe what ptrace supports): where they are
	// installed, that must stay quiet. Whether they manage to trace here
	// (a sandbox may forbid it) is not the point.
	if _, err := exec.LookPath("gdb"); err == nil {
		benignWorkloads = append(benignWorkloads, []string{"sh", "-c", "gdb -batch -nx -ex run --args /bin/true || true"})
	}
	if _, err := exec.LookPath("strace"); err == nil {
		benignWorkloads = append(benignWorkloads, []string{"sh", "-c", "strace -o /dev/null /bin/true || true"})
	}
}

// scenarioTraceme: traceme calls PTRACE_TRACEME twice. The first call
// succeeds (the test is its parent, and no debugger); the second is refused
// since the process is traced already, which is what the "am I being
// debugged?" test sees under a debugger. Both are reported.
func scenarioTraceme(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid    uint32 `json:"pid"`
		Exe    string `json:"exe"`
		First  string `json:"first"`
		Second string `json:"second"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "traceme")), &r)
	t.Logf("traceme: pid %d exe %s first: %s second: %s", r.Pid, r.Exe, r.First, r.Second)
	exe := isExe(r.Exe)
	traceme := func(rv int64) func(*event.Event) bool {
		return func(ev *event.Event) bool {
			return ev.Args["request_name"] == "PTRACE_TRACEME" && ev.ReturnValue == rv
		}
	}
	return []expectation{
		{what: "PTRACE_TRACEME", sigID: "anti-debugging", pid: r.Pid, exe: exe, exeDoc: r.Exe, comm: "traceme", event: "ptrace", also: traceme(0)},
		{what: "PTRACE_TRACEME refused (EPERM) once traced", sigID: "anti-debugging", pid: r.Pid, exe: exe, exeDoc: r.Exe, comm: "traceme", event: "ptrace", also: traceme(-1)},
	}
}

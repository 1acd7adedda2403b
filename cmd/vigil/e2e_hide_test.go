package main

import (
	"fmt"
	"os/exec"
	"testing"
)

// Behaviours that hide something from the host's own tools.
func init() {
	scenarios = append(scenarios,
		scenario{"process hidden by a mount over /proc/<pid>", scenarioHideProcess},
	)
}

// scenarioHideProcess: mount binds an empty folder over a running
// process's /proc entry (ps no longer lists it), then the mount is undone.
func scenarioHideProcess(t *testing.T, _ *e2eEnv) []expectation {
	victim := exec.Command(resolved(t, "sleep"), "30")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	target := fmt.Sprintf("/proc/%d", victim.Process.Pid)
	mount := resolved(t, "mount")
	cmd := exec.Command(mount, "--bind", t.TempDir(), target)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount --bind over %s: %v: %s", target, err, out)
	}
	if out, err := exec.Command("umount", target).CombinedOutput(); err != nil {
		t.Errorf("umount %s: %v: %s", target, err, out)
	}
	return []expectation{{what: "mount --bind DIR " + target, sigID: "process-hidden-by-mount", pid: uint32(cmd.Process.Pid),
		exe: isExe(mount), exeDoc: mount, comm: "mount", event: "security_sb_mount"}}
}

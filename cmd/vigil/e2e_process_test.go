package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// The walking skeleton's three behaviours: kernel module loads, fileless
// execution, credentials raised to root.
func init() {
	scenarios = append(scenarios,
		scenario{"kernel module load", scenarioKmod},
		scenario{"fileless execution", scenarioMemfdExec},
		scenario{"credentials raised to root", scenarioSetuidRoot},
	)
	// an unprivileged user running the installed set-user-id mount: the
	// euid becomes 0 the sanctioned way (where setpriv and mount exist)
	benignWorkloads = append(benignWorkloads, []string{"sh", "-c",
		"! command -v setpriv >/dev/null || ! command -v mount >/dev/null || setpriv --reuid=65534 --regid=65534 --clear-groups mount >/dev/null"})
}

// scenarioKmod: init_module and finit_module attempts, both expected to fail.
func scenarioKmod(t *testing.T, env *e2eEnv) []expectation {
	var kmod struct {
		Pid         uint32 `json:"pid"`
		Exe         string `json:"exe"`
		InitModule  string `json:"init_module"`
		FinitModule string `json:"finit_module"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "kmod")), &kmod)
	t.Logf("kmod: pid %d, init_module: %s, finit_module: %s", kmod.Pid, kmod.InitModule, kmod.FinitModule)
	kmodExe := isExe(kmod.Exe)
	return []expectation{
		{what: "init_module attempt", sigID: "kernel-module-load", pid: kmod.Pid, exe: kmodExe, exeDoc: kmod.Exe, comm: "kmod", event: "init_module"},
		{what: "finit_module attempt", sigID: "kernel-module-load", pid: kmod.Pid, exe: kmodExe, exeDoc: kmod.Exe, comm: "kmod", event: "finit_module"},
	}
}

// scenarioMemfdExec: /bin/true run from a memfd.
func scenarioMemfdExec(t *testing.T, env *e2eEnv) []expectation {
	var memfd struct {
		Pid   uint32 `json:"pid"`
		Memfd string `json:"memfd"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "memfdexec")), &memfd)
	return []expectation{{what: "exec of a memfd", sigID: "fileless-exec", pid: memfd.Pid,
		exe:    func(exe string) bool { return strings.Contains(exe, "memfd:"+memfd.Memfd) },
		exeDoc: "memfd:" + memfd.Memfd, comm: "memfd:" + memfd.Memfd[:min(len(memfd.Memfd), 9)], event: "sched_process_exec"}}
}

// scenarioSetuidRoot: a set-user-id-root copy run by nobody calls setuid(0).
func scenarioSetuidRoot(t *testing.T, env *e2eEnv) []expectation {
	suid := installSetuidRoot(t, filepath.Join(env.triggers, "setuidroot"))
	cmd := exec.Command(suid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var setuid struct {
		Pid    uint32 `json:"pid"`
		Before struct{ UID, EUID int }
		After  struct{ UID, EUID int }
	}
	runTrigger(t, cmd, &setuid)
	t.Logf("setuidroot: pid %d, before %+v, after %+v", setuid.Pid, setuid.Before, setuid.After)
	// The exec of the set-user-id file raises the effective uid of a task
	// that had no root id: that is the finding. The setuid(0) after it
	// gains nothing the task did not have (its effective uid is 0).
	return []expectation{{what: "exec of a set-user-id-root program by uid 65534", sigID: "creds-raised-to-root", pid: setuid.Pid,
		exe: isExe(suid), exeDoc: suid, comm: "setuidroot", event: "commit_creds",
		also: func(ev *event.Event) bool {
			return ev.Args["old_uid"] == uint64(65534) && ev.Args["old_euid"] == uint64(65534) && ev.Args["new_euid"] == uint64(0)
		}}}
}

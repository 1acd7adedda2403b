package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
)

// The kernel-facilities family's behaviours: process injection, a way out of
// a container's namespaces, unprivileged user namespaces, BPF programs and
// kexec.
func init() {
	scenarios = append(scenarios,
		scenario{"process injection with ptrace and process_vm_writev", scenarioPtraceInject},
		scenario{"joining the host's namespaces again", scenarioNamespaceEscape},
		scenario{"unprivileged user and network namespace", scenarioUserNamespace},
		scenario{"BPF kprobe program loaded", scenarioBPFLoad},
		scenario{"kexec of a new kernel", scenarioKexec},
		scenario{"kernel tunables opened for writing", scenarioKernelTunables},
		scenario{"ASLR setting probed", scenarioASLRProbe},
	)
	// root making a user namespace of its own is no exploit's first step,
	// and entering new namespaces is no escape
	benignWorkloads = append(benignWorkloads, []string{"unshare", "--user", "--map-root-user", "--net", "--mount", "true"},
		// reading the tunables is no tampering
		[]string{"sh", "-c", "cat /proc/sys/kernel/core_pattern; sysctl -n kernel.randomize_va_space kernel.kptr_restrict"})
}

// installForNobody copies a trigger where uid 65534 can run it: the build
// folder is private to root.
func installForNobody(t *testing.T, src string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigil-e2e-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func triggerExe(name string) (func(string) bool, string) {
	return func(exe string) bool { return strings.HasSuffix(exe, "/"+name) }, "…/" + name
}

// scenarioPtraceInject: ptraceinject attaches to the child it started,
// pokes a word into it, sets its registers, and writes into it with
// process_vm_writev. Attaching to its own child is not reported; the writes
// are.
func scenarioPtraceInject(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid       uint32            `json:"pid"`
		VictimPid uint32            `json:"victim_pid"`
		PokeAddr  uint64            `json:"poke_addr"`
		Steps     map[string]string `json:"steps"`
		Saw       bool              `json:"victim_saw_both"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "ptraceinject")), &r)
	t.Logf("ptraceinject: pid %d victim %d steps %v victim saw both: %v", r.Pid, r.VictimPid, r.Steps, r.Saw)
	exe, doc := triggerExe("ptraceinject")
	return []expectation{
		{what: "PTRACE_POKEDATA into the child", sigID: "process-injection", pid: r.Pid, exe: exe, exeDoc: doc, comm: "ptraceinject", event: "ptrace",
			also: func(ev *event.Event) bool {
				return ev.Args["request_name"] == "PTRACE_POKEDATA" && ev.Args["addr"] == r.PokeAddr && ev.Args["pid"] == int64(r.VictimPid)
			}},
		{what: "PTRACE_SETREGSET of the child", sigID: "process-injection", pid: r.Pid, exe: exe, exeDoc: doc, comm: "ptraceinject", event: "ptrace",
			also: func(ev *event.Event) bool { return ev.Args["request_name"] == "PTRACE_SETREGSET" }},
		{what: "process_vm_writev into the child", sigID: "process-injection", pid: r.Pid, exe: exe, exeDoc: doc, comm: "ptraceinject", event: "process_vm_writev",
			also: func(ev *event.Event) bool { return ev.Args["pid"] == int64(r.VictimPid) && ev.ReturnValue == 8 }},
	}
}

// scenarioNamespaceEscape: nsjoin leaves the host's namespaces (unshare) and
// joins them again with setns, the mount namespace through /proc/self/ns/mnt
// saved beforehand. The machine is left as it was.
func scenarioNamespaceEscape(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid   uint32            `json:"pid"`
		Steps map[string]string `json:"steps"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "nsjoin")), &r)
	t.Logf("nsjoin: pid %d steps %v", r.Pid, r.Steps)
	exe, doc := triggerExe("nsjoin")
	return []expectation{{what: "setns back into the host's mount namespace", sigID: "namespace-escape", pid: r.Pid, exe: exe, exeDoc: doc,
		comm: "nsjoin", event: "switch_task_namespaces",
		also: func(ev *event.Event) bool {
			return ev.Args["flags"] == uint64(unix.CLONE_NEWNS) && ev.Args["fd_kind"] == "nsfs"
		}}}
}

// scenarioUserNamespace: userns, run as nobody, starts a child that unshares
// a user and a network namespace and one cloned into new user and uts
// namespaces; the first is the exploit pattern, the second (no network or
// mount namespace) is not reported.
func scenarioUserNamespace(t *testing.T, env *e2eEnv) []expectation {
	cmd := exec.Command(installForNobody(t, filepath.Join(env.triggers, "userns")))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var r struct {
		Pid        uint32 `json:"pid"`
		UnsharePid uint32 `json:"unshare_pid"`
		Unshare    string `json:"unshare"`
	}
	runTrigger(t, cmd, &r)
	t.Logf("userns: pid %d, child %d unshare: %s", r.Pid, r.UnsharePid, r.Unshare)
	// the child reports before it runs anything: it still has its parent's
	// program and name
	exe, doc := triggerExe("userns")
	return []expectation{{what: "unshare(CLONE_NEWUSER|CLONE_NEWNET) by uid 65534", sigID: "unprivileged-user-namespace", pid: r.UnsharePid,
		exe: exe, exeDoc: doc, comm: "userns", event: "switch_task_namespaces"}}
}

// scenarioBPFLoad: bpfload loads a kprobe program (attached nowhere).
func scenarioBPFLoad(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid      uint32 `json:"pid"`
		ProgName string `json:"prog_name"`
		ProgLoad string `json:"prog_load"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "bpfload")), &r)
	t.Logf("bpfload: pid %d, load: %s", r.Pid, r.ProgLoad)
	exe, doc := triggerExe("bpfload")
	return []expectation{{what: "BPF_PROG_LOAD of a kprobe program", sigID: "bpf-program-load", pid: r.Pid, exe: exe, exeDoc: doc,
		comm: "bpfload", event: "security_bpf",
		also: func(ev *event.Event) bool {
			return ev.Args["prog_name"] == r.ProgName && ev.Args["prog_type"] == "kprobe"
		}}}
}

// scenarioKexec: kexec asks for two kernel loads the kernel must refuse.
func scenarioKexec(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid           uint32 `json:"pid"`
		File          string `json:"file"`
		KexecLoad     string `json:"kexec_load"`
		KexecFileLoad string `json:"kexec_file_load"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "kexec")), &r)
	t.Logf("kexec: pid %d, kexec_load: %s, kexec_file_load: %s", r.Pid, r.KexecLoad, r.KexecFileLoad)
	exe, doc := triggerExe("kexec")
	return []expectation{
		{what: "kexec_load attempt", sigID: "kexec-load", pid: r.Pid, exe: exe, exeDoc: doc, comm: "kexec", event: "kexec_load"},
		{what: "kexec_file_load attempt", sigID: "kexec-load", pid: r.Pid, exe: exe, exeDoc: doc, comm: "kexec", event: "kexec_file_load",
			also: func(ev *event.Event) bool { return ev.Args["kernel_path"] == r.File }},
	}
}

// scenarioKernelTunables: the file of a usermode helper the kernel runs as
// root (core_pattern) and of a protection (randomize_va_space) are opened
// for writing. Nothing is written: the open is the behaviour, and the
// machine keeps its settings.
func scenarioKernelTunables(t *testing.T, env *e2eEnv) []expectation {
	var out []expectation
	for _, c := range []struct{ path, tunable string }{
		{"/proc/sys/kernel/core_pattern", "core_pattern"},
		{"/proc/sys/kernel/randomize_va_space", "aslr"},
	} {
		var r triggerReport
		runTrigger(t, exec.Command(filepath.Join(env.triggers, "openfile"), "-write", c.path), &r)
		out = append(out, expectation{what: c.path + " opened for writing", sigID: "kernel-tunable-tampering", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "openfile", event: "security_file_open", also: argIs("pathname", c.path)})
	}
	return out
}

// scenarioASLRProbe: cat reads whether ASLR is on, as an exploit's first
// check does.
func scenarioASLRProbe(t *testing.T, _ *e2eEnv) []expectation {
	cat := resolved(t, "cat")
	cmd := exec.Command(cat, "/proc/sys/kernel/randomize_va_space")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return []expectation{{what: "cat /proc/sys/kernel/randomize_va_space", sigID: "kernel-recon", pid: uint32(cmd.Process.Pid),
		exe: isExe(cat), exeDoc: cat, comm: "cat", event: "security_file_open",
		also: argIs("pathname", "/proc/sys/kernel/randomize_va_space")}}
}

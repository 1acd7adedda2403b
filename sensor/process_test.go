package sensor

import (
	"bufio"
	"github.com/vigil-sec/vigil/sensor/load"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
)

// A script's whole life: the fork that makes it, the exec of its interpreter
// (binfmt_script), the LSM check of the file exec settled on, and the exit
// with its status, each argument checked against what the test knows from
// the outside (stat, the clock, the pid it started).
func TestSensorSeesProcessLifecycle(t *testing.T) {
	ls := startSensor(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "lifecycle.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	shell, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	var shellSt, scriptSt unix.Stat_t
	if err := unix.Stat(shell, &shellSt); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(script, &scriptSt); err != nil {
		t.Fatal(err)
	}
	var before, after unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &before)
	// the sensor leaves out what its own process does, the test's forks
	// included: a shell forks the script and says its pid
	cmd := exec.Command("/bin/sh", "-c", `"$0" & echo $!; wait $!; exit $?`, script)
	out, err := cmd.Output()
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &after)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("running %s: %v, want exit status 3", script, err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 32)
	if err != nil {
		t.Fatalf("the shell's output %q: %v", out, err)
	}
	pid, parent := uint32(n), uint32(cmd.Process.Pid)

	fork := event.SchedProcessForkArgs(ls.waitFor(t, "sched_process_fork of the script", func(ev *event.Event) bool {
		return ev.Name == "sched_process_fork" && event.SchedProcessForkArgs(ev.Args).ChildPid() == pid
	}).Args)
	if fork.ParentPid() != parent || fork.ParentTid() != parent || fork.Thread() || fork.ChildTid() != pid || fork.ChildNSPid() != pid {
		t.Errorf("fork: parent_pid/tid %d/%d (want %d), thread %v, child_tid %d, child_ns_pid %d (want %d)",
			fork.ParentPid(), fork.ParentTid(), parent, fork.Thread(), fork.ChildTid(), fork.ChildNSPid(), pid)
	}
	if st := fork.StartTime(); st < uint64(before.Nano()) || st > uint64(after.Nano()) {
		t.Errorf("fork: start_time %d not between %d and %d (CLOCK_BOOTTIME around the run)", st, before.Nano(), after.Nano())
	}

	exec := event.SchedProcessExecArgs(ls.waitFor(t, "sched_process_exec of the script", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == pid
	}).Args)
	if exec.Pathname() != shell || exec.Filename() != script || exec.Interpreter() != "/bin/sh" {
		t.Errorf("exec: pathname %q filename %q interpreter %q, want %q %q /bin/sh", exec.Pathname(), exec.Filename(), exec.Interpreter(), shell, script)
	}
	if exec.Dev() != uint32(shellSt.Dev) || exec.Inode() != shellSt.Ino || exec.Mode() != shellSt.Mode || exec.Setuid() {
		t.Errorf("exec: dev/inode/mode/setuid %d/%d/%#o/%v, want %d/%d/%#o/false", exec.Dev(), exec.Inode(), exec.Mode(), exec.Setuid(), shellSt.Dev, shellSt.Ino, shellSt.Mode)
	}
	if want := fsTypeOf(t, shell); exec.FsType() != want {
		t.Errorf("exec: fs_type %q, want %q", exec.FsType(), want)
	}
	if exec.OldPid() != pid {
		t.Errorf("exec: old_pid %d, want %d", exec.OldPid(), pid)
	}
	// the script itself, which the kernel dropped for its interpreter
	if exec.ScriptPathname() != script || exec.ScriptDev() != uint32(scriptSt.Dev) || exec.ScriptInode() != scriptSt.Ino {
		t.Errorf("exec: script_pathname %q script_dev %d script_inode %d, want %q %d %d",
			exec.ScriptPathname(), exec.ScriptDev(), exec.ScriptInode(), script, scriptSt.Dev, scriptSt.Ino)
	}

	// the fallback sees the file exec settled on (the interpreter), the
	// kernel hook each file tried (the script first)
	check := event.SecurityBprmCheckArgs(ls.waitFor(t, "security_bprm_check of the script", func(ev *event.Event) bool {
		return ev.Name == "security_bprm_check" && ev.Process.HostPid == pid
	}).Args)
	switch check.Inode() {
	case shellSt.Ino:
		if check.Dev() != uint32(shellSt.Dev) || check.Pathname() != shell {
			t.Errorf("bprm_check of the interpreter: dev %d pathname %q, want %d %q", check.Dev(), check.Pathname(), shellSt.Dev, shell)
		}
	case scriptSt.Ino:
		if check.Dev() != uint32(scriptSt.Dev) || check.Pathname() != script {
			t.Errorf("bprm_check of the script: dev %d pathname %q, want %d %q", check.Dev(), check.Pathname(), scriptSt.Dev, script)
		}
	default:
		t.Errorf("bprm_check: inode %d is neither the script's %d nor the interpreter's %d", check.Inode(), scriptSt.Ino, shellSt.Ino)
	}

	exit := event.SchedProcessExitArgs(ls.waitFor(t, "sched_process_exit of the script", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exit" && ev.Process.HostPid == pid
	}).Args)
	if exit.ExitCode() != 3<<8 || !exit.GroupExit() {
		t.Errorf("exit: exit_code %d group_exit %v, want %d true", exit.ExitCode(), exit.GroupExit(), 3<<8)
	}
}

// fsTypeOf is the file system type of the mount holding path (the longest
// mount point that is a prefix of it, the last such mount winning).
func fsTypeOf(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	best, typ := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		mp := fields[1]
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, typ = mp, fields[2]
		}
	}
	return typ
}

// Execs that fail are reported by execve and execveat at syscall exit with
// their error and what the caller passed; a successful exec only by
// sched_process_exec, whose argc is the caller's.
func TestSensorSeesFailedExecs(t *testing.T) {
	ls := startSensor(t)
	dir := t.TempDir()
	var r struct {
		Pid    uint32 `json:"pid"`
		Dirfd  int32  `json:"dirfd"`
		Flags  int32  `json:"flags"`
		Failed []struct {
			Name  string   `json:"name"`
			Path  string   `json:"path"`
			Argv  []string `json:"argv"`
			Errno int      `json:"errno"`
		} `json:"failed"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "execfail"), dir, "/bin/true"), &r)
	if len(r.Failed) != 3 {
		t.Fatalf("execfail reported %d failed execs, want 3", len(r.Failed))
	}
	for _, f := range r.Failed {
		if f.Errno == 0 {
			t.Fatalf("execfail: the %s exec did not fail", f.Name)
		}
		if f.Name == "at" {
			ev := ls.waitFor(t, "execveat that failed", func(ev *event.Event) bool {
				return ev.Name == "execveat" && ev.Process.HostPid == r.Pid
			})
			a := event.ExecveatArgs(ev.Args)
			if ev.ReturnValue != -int64(f.Errno) || ev.Args["dirfd"] != int64(r.Dirfd) || a.Pathname() != f.Path || ev.Args["flags"] != int64(r.Flags) || !slices.Equal(a.Argv(), f.Argv) {
				t.Errorf("execveat: return %d dirfd %d pathname %q flags %#x argv %q (unreadable %q), want %d %d %q %#x %q",
					ev.ReturnValue, a.Dirfd(), a.Pathname(), a.Flags(), a.Argv(), ev.Unreadable, -f.Errno, r.Dirfd, f.Path, r.Flags, f.Argv)
			}
			continue
		}
		ev := ls.waitFor(t, "execve that failed ("+f.Name+")", func(ev *event.Event) bool {
			return ev.Name == "execve" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == f.Path
		})
		if a := event.ExecveArgs(ev.Args); ev.ReturnValue != -int64(f.Errno) || !slices.Equal(a.Argv(), f.Argv) || len(ev.Unreadable) > 0 {
			t.Errorf("execve of %s: return %d argv %q (unreadable %q), want %d %q", f.Path, ev.ReturnValue, a.Argv(), ev.Unreadable, -f.Errno, f.Argv)
		}
	}
	ex := event.SchedProcessExecArgs(ls.waitFor(t, "sched_process_exec of the exec that succeeded", func(ev *event.Event) bool {
		a, _ := ev.Args["argv"].([]string)
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == r.Pid && len(a) > 0 && a[0] == "execfail-ok"
	}).Args)
	if !slices.Equal(ex.Argv(), []string{"execfail-ok", "--ran"}) || ex.Argc() != 2 {
		t.Errorf("sched_process_exec: argv %q argc %d, want [execfail-ok --ran] 2", ex.Argv(), ex.Argc())
	}
	// the exit follows the exec's own syscall exit in the ring: by then
	// an execve record of the success would have been read
	ls.waitFor(t, "sched_process_exit of the trigger", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exit" && ev.Process.HostPid == r.Pid
	})
	n := 0
	for _, ev := range ls.snapshot() {
		if (ev.Name == "execve" || ev.Name == "execveat") && ev.Process.HostPid == r.Pid {
			n++
			if ev.ReturnValue >= 0 {
				t.Errorf("%s event for an exec that succeeded (return %d, args %v): a successful exec is sched_process_exec's", ev.Name, ev.ReturnValue, ev.Args)
			}
		}
	}
	if n != len(r.Failed) {
		t.Errorf("%d execve/execveat events from the trigger, want %d (one per failed exec)", n, len(r.Failed))
	}
}

// An exec with an empty argv: sched_process_exec's argc is the caller's 0,
// although Linux 5.18 and later run the program with {""} (argc 1).
func TestSensorSeesEmptyArgvExec(t *testing.T) {
	ls := startSensor(t)
	var r struct {
		Pid uint32 `json:"pid"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "noargv"), "/bin/true"), &r)
	ev := ls.waitFor(t, "sched_process_exec of true started with no argv", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == r.Pid && ev.Args["filename"] == "/bin/true"
	})
	if argc := event.SchedProcessExecArgs(ev.Args).Argc(); argc != 0 {
		t.Errorf("sched_process_exec argc %d, want the caller's 0 (argv %q)", argc, ev.Args["argv"])
	}
}

// sched_process_exec's argc needs the exec entries whatever else is on:
// every probe of the event brings them.
func TestExecProbesSeeTheCallersArgv(t *testing.T) {
	for _, pb := range load.EventProbes(event.IDSchedProcessExec) {
		for _, want := range []string{"sys_enter_execve", "sys_enter_execveat"} {
			if !slices.ContainsFunc(pb.Programs, func(p load.Program) bool { return p.Name == want }) {
				t.Errorf("sched_process_exec probe %s lacks %s: argc would read 1 for an empty argv on 5.18+", pb.Name, want)
			}
		}
	}
}

// A script written during this boot and then run: sched_process_exec loads
// its interpreter, and must still name the script (script_pathname, its
// device and inode) and who wrote it, as it does for a program. The script
// is written by a shell (not the test: the sensor leaves its own process
// out) into a scratch folder, then run by path from another shell, once
// directly and once by a symbolic link; a program run directly has no
// script arguments.
func TestSensorSeesScriptWriters(t *testing.T) {
	ls := startSensor(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "dropped.sh")
	link := filepath.Join(dir, "link.sh")
	writer := exec.Command("/bin/sh", "-c", `printf '#!/bin/sh\nexit 0\n' > "$0" && chmod 755 "$0" && ln -s "$0" "$1"`, script, link)
	if out, err := writer.CombinedOutput(); err != nil {
		t.Fatalf("writing %s: %v: %s", script, err, out)
	}
	var st unix.Stat_t
	if err := unix.Stat(script, &st); err != nil {
		t.Fatal(err)
	}
	run := func(path string) uint32 {
		cmd := exec.Command("/bin/sh", "-c", `"$0" & echo $!; wait $!`, path)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("running %s: %v", path, err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 32)
		if err != nil {
			t.Fatalf("the shell's output %q: %v", out, err)
		}
		return uint32(n)
	}
	for _, path := range []string{script, link} {
		pid := run(path)
		ev := ls.waitFor(t, "sched_process_exec of "+path, func(ev *event.Event) bool {
			return ev.Name == "sched_process_exec" && ev.Process.HostPid == pid
		})
		if ev.Args["filename"] != path || ev.Args["interpreter"] != "/bin/sh" {
			t.Errorf("%s: filename %v interpreter %v, want %s /bin/sh", path, ev.Args["filename"], ev.Args["interpreter"], path)
		}
		if ev.Args["script_pathname"] != script || ev.Args["script_dev"] != uint64(st.Dev) || ev.Args["script_inode"] != st.Ino {
			t.Errorf("%s: script_pathname %v script_dev %v script_inode %v, want %s %d %d",
				path, ev.Args["script_pathname"], ev.Args["script_dev"], ev.Args["script_inode"], script, st.Dev, st.Ino)
		}
		if _, ok := ev.Args["script_written_ns_ago"].(uint64); !ok || ev.Args["script_writer_pid"] != uint64(writer.Process.Pid) ||
			ev.Args["script_writer_comm"] != "sh" || ev.Args["script_writer_created"] != true {
			t.Errorf("%s: script_written_ns_ago %v writer %v %v created %v, want the shell %d that created it",
				path, ev.Args["script_written_ns_ago"], ev.Args["script_writer_pid"], ev.Args["script_writer_comm"], ev.Args["script_writer_created"], writer.Process.Pid)
		}
	}
	// a program is no script
	cmd := exec.Command("/bin/sh", "-c", `/bin/true & echo $!; wait $!`)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 32)
	ev := ls.waitFor(t, "sched_process_exec of /bin/true", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == uint32(n)
	})
	for _, name := range []string{"script_pathname", "script_inode", "script_written_ns_ago"} {
		if v, ok := ev.Args[name]; ok {
			t.Errorf("the exec of /bin/true has %s %v", name, v)
		}
	}
}

// The two ends of a pipe, each an exec of its own (a shell pipeline): each
// exec names the pipe's inode on its stdin or stdout, and the one that
// comes second names the program on the other end (pipes.go). Both orders:
// the reader first (cat, then echo writes into it), then the writer first
// (sleep holds the pipe, then cat reads from it).
func TestSensorJoinsPipelineEnds(t *testing.T) {
	ls := startSensor(t)
	execOf := func(what string, pid int) *event.Event {
		return ls.waitFor(t, "sched_process_exec of "+what, func(ev *event.Event) bool {
			return ev.Name == "sched_process_exec" && ev.Process.HostPid == uint32(pid)
		})
	}
	inode := func(f *os.File) uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}

	// reader first
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ino := inode(r)
	reader := exec.Command("/bin/cat")
	reader.Stdin = r
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	rev := execOf("cat", reader.Process.Pid)
	if rev.Args["stdin_type"] != "pipe" || rev.Args["stdin_pipe"] != ino {
		t.Errorf("cat reading the pipe: stdin_type %v stdin_pipe %v, want pipe %d", rev.Args["stdin_type"], rev.Args["stdin_pipe"], ino)
	}
	writer := exec.Command("/bin/echo", "vigil-pipe")
	writer.Stdout = w
	if err := writer.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	reader.Wait()
	r.Close()
	wev := execOf("echo", writer.Process.Pid)
	if wev.Args["stdout_type"] != "pipe" || wev.Args["stdout_pipe"] != ino {
		t.Errorf("echo writing the pipe: stdout_type %v stdout_pipe %v, want pipe %d", wev.Args["stdout_type"], wev.Args["stdout_pipe"], ino)
	}
	if wev.Args["stdout_reader_pid"] != uint64(reader.Process.Pid) || wev.Args["stdout_reader_comm"] != "cat" ||
		!slices.Equal(strs(wev.Args["stdout_reader_argv"]), []string{"/bin/cat"}) {
		t.Errorf("echo's exec names reader %v %v %v, want cat %d [/bin/cat]",
			wev.Args["stdout_reader_pid"], wev.Args["stdout_reader_comm"], wev.Args["stdout_reader_argv"], reader.Process.Pid)
	}
	if _, ok := rev.Args["stdin_writer_pid"]; ok {
		t.Errorf("cat's exec names a writer before any: %v", rev.Args["stdin_writer_comm"])
	}

	// writer first
	r, w, err = os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ino = inode(r)
	writer = exec.Command("/bin/sleep", "0.5")
	writer.Stdout = w
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	execOf("sleep", writer.Process.Pid)
	w.Close()
	reader = exec.Command("/bin/cat")
	reader.Stdin = r
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	writer.Wait()
	reader.Wait()
	rev = execOf("cat", reader.Process.Pid)
	if rev.Args["stdin_pipe"] != ino || rev.Args["stdin_writer_pid"] != uint64(writer.Process.Pid) || rev.Args["stdin_writer_comm"] != "sleep" ||
		!slices.Equal(strs(rev.Args["stdin_writer_argv"]), []string{"/bin/sleep", "0.5"}) {
		t.Errorf("cat's exec after sleep's: stdin_pipe %v (want %d), writer %v %v %v, want sleep %d [/bin/sleep 0.5]",
			rev.Args["stdin_pipe"], ino, rev.Args["stdin_writer_pid"], rev.Args["stdin_writer_comm"], rev.Args["stdin_writer_argv"], writer.Process.Pid)
	}
}

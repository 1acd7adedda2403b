package sensor

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
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

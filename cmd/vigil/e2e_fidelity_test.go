package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Fidelity: what the sensor reports is what happened, and findings follow
// what was gained or run. Everyday work that used to be reported (execs
// whose strings the sensor could not read, root's seteuid dance, clones
// full of BPF objects, account tools) must stay quiet; a program copied
// into a scratch folder and run must not.
func init() {
	scenarios = append(scenarios,
		scenario{"programs executed from strings in untouched pages", scenarioLazyArgv},
		scenario{"program executed through a file descriptor", scenarioFexecve},
		scenario{"root lends its effective uid and takes it back", scenarioSeteuidDance},
		scenario{"repository cloned and archive unpacked with BPF objects", scenarioCloneObjects},
		scenario{"users added and removed", scenarioUserAddDel},
		scenario{"build output run where it was built", scenarioBuildOutputRun},
		scenario{"program copied with cp into a scratch folder and run", scenarioCopiedAndRun},
		scenario{"file times set by a program through utimensat and futimens", scenarioStompSyscall},
	)
}

// lazyRuns is how many children the spawner starts: the issue measured
// 30 of 30 execs reported as argc 0.
const lazyRuns = 10

// scenarioLazyArgv: children that execute /bin/true with literal arguments
// the kernel reads from pages the child has not touched. No finding, and
// the events say what ran: the exec event has the arguments and argc, and
// no execve event stands for an exec that succeeded.
func scenarioLazyArgv(t *testing.T, env *e2eEnv) []expectation {
	tru := resolved(t, "true")
	var r struct {
		Pid      uint32   `json:"pid"`
		Children []uint32 `json:"children"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "spawner"), "lazy", fmt.Sprint(lazyRuns), tru, "true", "--some", "args"), &r)
	if len(r.Children) != lazyRuns {
		t.Fatalf("spawner started %d children, want %d", len(r.Children), lazyRuns)
	}
	env.benign = append(env.benign, r.Pid)
	want := []string{"true", "--some", "args"}
	// each child execs twice: the spawner re-executing itself
	// (/proc/self/exe child-lazy), then true from the mapped strings
	for _, pid := range r.Children {
		ex, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
			return ev.Name == "sched_process_exec" && ev.Process.HostPid == pid && ev.Args["pathname"] == tru
		})
		if !ok {
			t.Errorf("lazy exec: no sched_process_exec for child %d", pid)
			continue
		}
		if argv, _ := ex.Args["argv"].([]string); !reflect.DeepEqual(argv, want) {
			t.Errorf("lazy exec: child %d sched_process_exec argv %q, want %q", pid, ex.Args["argv"], want)
		}
		if argc := ex.Args["argc"]; argc != uint64(len(want)) {
			t.Errorf("lazy exec: child %d sched_process_exec argc %v, want %d", pid, argc, len(want))
		}
	}
	// the spawner and its children exited by now: a successful exec's
	// execve record would have been read before the exec's own events
	for _, ev := range env.events.snapshot() {
		if (ev.Name == "execve" || ev.Name == "execveat") && slices.Contains(r.Children, ev.Process.HostPid) {
			t.Errorf("lazy exec: %s event from child %d (return %d) for an exec that succeeded", ev.Name, ev.Process.HostPid, ev.ReturnValue)
		}
	}
	return nil
}

// scenarioFailedExecs: execs that fail (no such file, no x bit, execveat of
// a missing name) are execve/execveat events with their error and what the
// caller passed; the exec that succeeds after them is sched_process_exec
// alone. Nothing here is a finding.
func scenarioFailedExecs(t *testing.T, env *e2eEnv) []expectation {
	tru := resolved(t, "true")
	var r struct {
		Pid    uint32 `json:"pid"`
		Failed []struct {
			Name  string   `json:"name"`
			Path  string   `json:"path"`
			Argv  []string `json:"argv"`
			Errno int      `json:"errno"`
		} `json:"failed"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "execfail"), t.TempDir(), tru), &r)
	env.benign = append(env.benign, r.Pid)
	if len(r.Failed) != 3 {
		t.Fatalf("failed execs: the trigger reports %d failed execs, want 3", len(r.Failed))
	}
	wantErr := map[string]int{"missing": 2, "noexec": 13, "at": 2} // ENOENT, EACCES
	for _, f := range r.Failed {
		if f.Errno != wantErr[f.Name] {
			t.Errorf("failed execs: the trigger's %s exec got errno %d, want %d", f.Name, f.Errno, wantErr[f.Name])
		}
		name := "execve"
		if f.Name == "at" {
			name = "execveat"
		}
		ev, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
			return ev.Name == name && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == f.Path
		})
		if !ok {
			t.Errorf("failed execs: no %s event for %s (pid %d)", name, f.Path, r.Pid)
			continue
		}
		if argv, _ := ev.Args["argv"].([]string); ev.ReturnValue != -int64(f.Errno) || !slices.Equal(argv, f.Argv) {
			t.Errorf("failed execs: %s of %s has return_value %d argv %q, want %d %q", name, f.Path, ev.ReturnValue, ev.Args["argv"], -f.Errno, f.Argv)
		}
	}
	if _, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
		argv, _ := ev.Args["argv"].([]string)
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == tru && slices.Equal(argv, []string{"execfail-ok", "--ran"})
	}); !ok {
		t.Errorf("failed execs: no sched_process_exec of %s for the exec that succeeded (pid %d)", tru, r.Pid)
	}
	if _, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
		return ev.Name == "sched_process_exit" && ev.Process.HostPid == r.Pid
	}); !ok {
		t.Errorf("failed execs: no sched_process_exit of pid %d", r.Pid)
	}
	n := 0
	for _, ev := range env.events.snapshot() {
		if (ev.Name == "execve" || ev.Name == "execveat") && ev.Process.HostPid == r.Pid {
			n++
			if ev.ReturnValue >= 0 {
				t.Errorf("failed execs: %s event with return_value %d: a successful exec must be sched_process_exec alone", ev.Name, ev.ReturnValue)
			}
		}
	}
	if n != len(r.Failed) {
		t.Errorf("failed execs: %d execve/execveat events from pid %d, want %d", n, r.Pid, len(r.Failed))
	}
	return nil
}

// scenarioFexecve: fexecve(3) of /bin/true, the way sandboxes and
// self-re-executing daemons start a program they opened first.
func scenarioFexecve(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid uint32 `json:"pid"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "spawner"), "fexec", resolved(t, "true"), "true", "--via-fd"), &r)
	env.benign = append(env.benign, r.Pid)
	return nil
}

// scenarioSeteuidDance: root sets its effective uid to nobody and back, as
// apt's download methods do with _apt. Real and saved uid stay 0.
func scenarioSeteuidDance(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid uint32 `json:"pid"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "seteuid"), "65534"), &r)
	env.benign = append(env.benign, r.Pid)
	// the credential changes were seen: the quiet is the rule's judgement
	if _, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
		return ev.Name == "commit_creds" && ev.Process.HostPid == r.Pid && ev.Args["old_euid"] == uint64(65534) && ev.Args["new_euid"] == uint64(0)
	}); !ok {
		t.Errorf("seteuid: no commit_creds event for the effective uid coming back to 0 (pid %d)", r.Pid)
	}
	return nil
}

// scenarioCloneObjects: a repository holding compiled BPF objects (ELF
// relocatable objects for the BPF machine: vigil's own) cloned into a
// scratch folder, and the same objects unpacked from a tar archive.
func scenarioCloneObjects(t *testing.T, env *e2eEnv) []expectation {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := filepath.Glob(filepath.Join(root, "bpf", "*_bpfel.o"))
	if err != nil || len(objs) == 0 {
		t.Fatalf("no BPF objects in %s/bpf: %v", root, err)
	}
	src := t.TempDir()
	for _, o := range objs {
		copyFile(t, o, filepath.Join(src, filepath.Base(o)), 0o644)
	}
	git := func(dir string, args ...string) *exec.Cmd {
		cmd := exec.Command("git", append([]string{"-c", "user.name=vigil", "-c", "user.email=vigil@example.invalid", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		return cmd
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "objects"}} {
		if out, err := git(src, args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	dst := filepath.Join(t.TempDir(), "clone")
	clone := git("/", "clone", "-q", "--no-hardlinks", src, dst)
	if out, err := clone.CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	env.benign = append(env.benign, uint32(clone.Process.Pid))
	if _, err := os.Stat(filepath.Join(dst, filepath.Base(objs[0]))); err != nil {
		t.Fatalf("the clone has no %s: %v", filepath.Base(objs[0]), err)
	}

	archive := filepath.Join(t.TempDir(), "objects.tar")
	if out, err := exec.Command("tar", "-cf", archive, "-C", src, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar -c: %v\n%s", err, out)
	}
	unpack := exec.Command("tar", "-xf", archive, "-C", t.TempDir())
	if out, err := unpack.CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, out)
	}
	env.benign = append(env.benign, uint32(unpack.Process.Pid))
	return nil
}

// scenarioUserAddDel: an account added and removed with the shadow tools.
func scenarioUserAddDel(t *testing.T, env *e2eEnv) []expectation {
	add, errAdd := exec.LookPath("useradd")
	del, errDel := exec.LookPath("userdel")
	if errAdd != nil || errDel != nil {
		t.Logf("users added and removed: skipped, useradd or userdel is not installed (%v, %v)", errAdd, errDel)
		return nil
	}
	name := fmt.Sprintf("vigil-e2e-%d", os.Getpid()%100000)
	cmd := exec.Command(add, "-M", "-N", "-s", "/usr/sbin/nologin", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	env.benign = append(env.benign, uint32(cmd.Process.Pid))
	cmd = exec.Command(del, name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("userdel: %v\n%s", err, out)
	}
	env.benign = append(env.benign, uint32(cmd.Process.Pid))
	return nil
}

// scenarioBuildOutputRun: a program built into a scratch folder by the Go
// toolchain and run there: written this boot, by the linker.
func scenarioBuildOutputRun(t *testing.T, env *e2eEnv) []expectation {
	bin, err := goBuild("tool", "./testdata/triggers/seteuid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(bin)) })
	// seteuid 0 changes nothing: the run is the workload
	run := exec.Command(bin, "0")
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	env.benign = append(env.benign, uint32(run.Process.Pid))
	return nil
}

// scenarioCopiedAndRun: cp /bin/true into a scratch folder, and into a
// hidden file there, then run the copies. cp copies with copy_file_range:
// no write(2) carries the ELF header, only the exec shows the drop.
func scenarioCopiedAndRun(t *testing.T, env *e2eEnv) []expectation {
	tru := resolved(t, "true")
	dir := t.TempDir()
	var expect []expectation
	for _, name := range []string{"payload", ".payload"} {
		dst := filepath.Join(dir, name)
		if out, err := exec.Command("cp", tru, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		pid := runQuiet(t, exec.Command(dst))
		expect = append(expect, expectation{what: "a copy of true made by cp in " + dst + " and run", sigID: "executable-dropped", pid: pid,
			exe: isExe(dst), exeDoc: dst, comm: name, event: "sched_process_exec",
			also: func(ev *event.Event) bool { return ev.Args["writer_comm"] == "cp" }})
	}
	return expect
}

// scenarioStompSyscall: a program (not touch) sets an old modification
// time on a file in a system folder with utimensat, then with futimens.
func scenarioStompSyscall(t *testing.T, env *e2eEnv) []expectation {
	dir, err := os.MkdirTemp("/opt", "vigil-e2e-stomp-")
	if err != nil {
		t.Fatalf("a folder under /opt for the target: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	target := filepath.Join(dir, "libhelper.so")
	if err := os.WriteFile(target, []byte("not a library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	trig := filepath.Join(env.triggers, "stomp")
	var r struct {
		Pid uint32 `json:"pid"`
	}
	runTrigger(t, exec.Command(trig, target), &r)
	const stamp = int64(1420070400)
	var expect []expectation
	for _, c := range []struct {
		what  string
		atime bool
	}{{"utimensat on the path", true}, {"futimens on a descriptor", false}} {
		c := c
		expect = append(expect, expectation{what: c.what + " of " + target, sigID: "timestomp", pid: r.Pid,
			exe: isExe(trig), exeDoc: trig, comm: "stomp", event: "utimensat",
			also: func(ev *event.Event) bool {
				_, hasAtime := ev.Args["atime"]
				return ev.Args["pathname"] == target && ev.Args["mtime"] == stamp && hasAtime == c.atime
			}})
	}
	return expect
}

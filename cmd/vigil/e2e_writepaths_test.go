package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Write paths other than write(2), and operations that bypass their
// syscalls: a program that reaches a scratch folder by copy_file_range,
// sendfile, splice, a shared mapping or an io_uring and then runs is a
// dropped executable; a mount made with the new mount API is seen; copies
// of data files and install(1) run by a build tool stay quiet.
func init() {
	scenarios = append(scenarios,
		scenario{"program copied by copy_file_range, sendfile, splice and a shared mapping, and run", scenarioCopyPathsRun},
		scenario{"program written through an io_uring and run", scenarioIoUringDrop},
		scenario{"tmpfs and bind mount made with the new mount API", scenarioNewMountAPI},
		scenario{"data file copied with cp, program installed by make with install(1) and run", scenarioCopyBenign},
	)
}

// comm is what the kernel keeps of a program's name.
func comm(path string) string {
	b := filepath.Base(path)
	if len(b) > 15 {
		b = b[:15]
	}
	return b
}

func scenarioCopyPathsRun(t *testing.T, env *e2eEnv) []expectation {
	trig := filepath.Join(env.triggers, "copyops")
	var r struct {
		Pid    uint32 `json:"pid"`
		Copies map[string]struct {
			Path   string `json:"path"`
			RunPid uint32 `json:"run_pid"`
			Error  string `json:"error"`
		} `json:"copies"`
	}
	runTrigger(t, exec.Command(trig, "-run", resolved(t, "true"), t.TempDir()), &r)
	var expect []expectation
	for _, sys := range []string{"copy_file_range", "sendfile", "splice", "mmap"} {
		c := r.Copies[sys]
		if c.Error != "" || c.RunPid == 0 {
			t.Fatalf("copyops %s: %q (run pid %d)", sys, c.Error, c.RunPid)
		}
		expect = append(expect, expectation{what: "a copy of true made by " + sys + " in " + c.Path + " and run", sigID: "executable-dropped",
			pid: c.RunPid, exe: isExe(c.Path), exeDoc: c.Path, comm: comm(c.Path), event: "sched_process_exec",
			also: func(ev *event.Event) bool {
				return ev.Args["writer_comm"] == "copyops" && ev.Args["writer_pid"] == uint64(r.Pid)
			}})
		if sys == "mmap" {
			continue
		}
		// the copy itself is an event signatures can select
		path := c.Path
		if _, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
			return ev.Name == "file_copy" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == path && ev.Args["syscall"] == sys
		}); !ok {
			t.Errorf("no file_copy event for %s into %s", sys, path)
		}
	}
	return expect
}

func scenarioIoUringDrop(t *testing.T, env *e2eEnv) []expectation {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	trig := filepath.Join(env.triggers, "uringops")
	var r struct {
		Pid    uint32 `json:"pid"`
		Path   string `json:"path"`
		RunPid uint32 `json:"run_pid"`
		Error  string `json:"error"`
	}
	port := l.Addr().(*net.TCPAddr).Port
	runTrigger(t, exec.Command(trig, "-run", resolved(t, "true"), t.TempDir(), strconv.Itoa(port)), &r)
	if r.Error != "" {
		t.Fatalf("uringops: %s", r.Error)
	}
	for _, op := range []string{"OPENAT", "SETXATTR", "LINKAT", "CONNECT"} {
		if _, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
			return ev.Name == "io_uring_submit_req" && ev.Process.HostPid == r.Pid && ev.Args["op"] == op
		}); !ok {
			t.Errorf("no io_uring_submit_req event for %s", op)
		}
	}
	return []expectation{
		{what: "an ELF written through an io_uring into " + r.Path, sigID: "executable-dropped", pid: r.Pid,
			exe: isExe(trig), exeDoc: trig, comm: "uringops", event: "io_uring_submit_req",
			also: func(ev *event.Event) bool { return ev.Args["op"] == "WRITE" && ev.Args["pathname"] == r.Path }},
		{what: "the program written through an io_uring, run", sigID: "executable-dropped", pid: r.RunPid,
			exe: isExe(r.Path), exeDoc: r.Path, comm: "dropped", event: "sched_process_exec",
			also: func(ev *event.Event) bool { return ev.Args["writer_pid"] == uint64(r.Pid) }},
	}
}

func scenarioNewMountAPI(t *testing.T, env *e2eEnv) []expectation {
	dir := t.TempDir()
	var r struct {
		Pid    uint32 `json:"pid"`
		FsPath string `json:"fs_path"`
		Bind   string `json:"bind"`
		Error  string `json:"error"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "newmount"), dir), &r)
	if r.Error != "" {
		t.Fatalf("newmount: %s", r.Error)
	}
	env.benign = append(env.benign, r.Pid)
	for _, w := range []struct {
		name string
		ok   func(*event.Event) bool
	}{
		{"fsopen", func(ev *event.Event) bool { return ev.Args["fs_type"] == "tmpfs" }},
		{"fsconfig", func(ev *event.Event) bool { return ev.Args["key"] == "size" && ev.Args["value"] == "1m" }},
		{"fsmount", func(ev *event.Event) bool { return ev.Args["fs_type"] == "tmpfs" }},
		{"move_mount", func(ev *event.Event) bool { return ev.Args["pathname"] == r.FsPath && ev.Args["fs_type"] == "tmpfs" }},
		{"open_tree", func(*event.Event) bool { return true }},
		{"move_mount", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Bind }},
	} {
		if _, ok := env.events.waitMatch(15*time.Second, func(ev *event.Event) bool {
			return ev.Name == w.name && ev.Process.HostPid == r.Pid && w.ok(ev)
		}); !ok {
			t.Errorf("no %s event from newmount", w.name)
		}
	}
	return nil
}

// scenarioCopyBenign: cp of a text file into a scratch folder, and make
// running install(1) to put a program it built into a scratch folder, then
// running it: no finding (install is the copy step of builds).
func scenarioCopyBenign(t *testing.T, env *e2eEnv) []expectation {
	dir := t.TempDir()
	src := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(src, []byte("nothing to run here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cp := exec.Command("cp", src, filepath.Join(dir, "notes-copy.txt"))
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	env.benign = append(env.benign, uint32(cp.Process.Pid))

	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed for the install(1) workload: %v", err)
	}
	built := filepath.Join(dir, "build")
	if err := os.Mkdir(built, 0o755); err != nil {
		t.Fatal(err)
	}
	// the build: its output is a copy of true; make installs it
	dest := filepath.Join(dir, "stage", "bin")
	mk := "install: build/tool\n\tinstall -D -m 0755 build/tool " + dest + "/tool\n" +
		"build/tool:\n\tcp " + resolved(t, "true") + " build/tool\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	m := exec.Command("make", "-s", "install")
	m.Dir = dir
	if out, err := m.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	env.benign = append(env.benign, uint32(m.Process.Pid))
	env.benign = append(env.benign, runQuiet(t, exec.Command(filepath.Join(dest, "tool"))))
	return nil
}

package proc

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// emptyTable has an empty proc file system: it knows only what events say.
func emptyTable(t *testing.T, max int) *Table {
	return New(Config{Root: t.TempDir(), MaxEntries: max})
}

func forkEv(parent, child uint32, thread bool) *event.Event {
	a := event.SchedProcessForkArgs{}
	a.SetParentPid(parent)
	a.SetParentTid(parent)
	a.SetChildPid(child)
	a.SetChildTid(child)
	a.SetChildNSPid(child)
	a.SetThread(thread)
	return &event.Event{ID: event.IDSchedProcessFork, Name: "sched_process_fork", Process: event.Process{HostPid: parent, Pid: parent, Comm: "parent"}, Args: a}
}

func execEv(pid uint32, comm, path string, argv ...string) *event.Event {
	a := event.SchedProcessExecArgs{}
	a.SetPathname(path)
	a.SetArgv(argv)
	return &event.Event{ID: event.IDSchedProcessExec, Name: "sched_process_exec", Process: event.Process{HostPid: pid, Pid: pid, Comm: comm}, Args: a}
}

func exitEv(pid uint32, group bool) *event.Event {
	a := event.SchedProcessExitArgs{}
	a.SetGroupExit(group)
	return &event.Event{ID: event.IDSchedProcessExit, Name: "sched_process_exit", Process: event.Process{HostPid: pid, Pid: pid}, Args: a}
}

func TestAncestry(t *testing.T) {
	pt := emptyTable(t, 0)
	pt.procs[1] = &proc{hostPid: 1, nsPid: 1, comm: "init", exe: "/sbin/init"}
	pt.procs[100] = &proc{hostPid: 100, hostPpid: 1, nsPid: 100, comm: "nginx", exe: "/usr/sbin/nginx", argv: []string{"nginx", "-g", "daemon off;"}}
	long := make([]string, 40)
	for i := range long {
		long[i] = "arg"
	}
	pt.procs[200] = &proc{hostPid: 200, hostPpid: 100, nsPid: 200, comm: "sh", exe: "/bin/sh", argv: long}
	ev := &event.Event{ID: event.IDExecve, Name: "execve", Process: event.Process{HostPid: 300, Pid: 300, HostPpid: 200, Comm: "id"}}
	pt.Enrich(ev)
	got := []string{}
	for _, a := range ev.Process.Ancestors {
		got = append(got, a.Comm)
	}
	if !reflect.DeepEqual(got, []string{"sh", "nginx", "init"}) {
		t.Fatalf("ancestry = %v, want sh, nginx, init", got)
	}
	if n := len(ev.Process.Ancestors[0].Argv); n != ancestorArgs+1 {
		t.Errorf("a long ancestor argv kept %d elements, want %d and a marker", n, ancestorArgs)
	}
}

// The lifecycle: fork copies the parent, exec replaces the program, a thread
// is no process, commit_creds of an exec names the new program early, exit of
// the last thread starts the linger and Sweep ends it.
func TestLifecycle(t *testing.T) {
	pt := emptyTable(t, 0)
	pt.procs[100] = &proc{hostPid: 100, hostPpid: 1, nsPid: 100, comm: "bash", exe: "/bin/bash", argv: []string{"bash"}, containerID: "c1"}

	pt.Update(forkEv(100, 101, true))
	if pt.procs[101] != nil {
		t.Fatal("a new thread made a process entry")
	}
	pt.Update(forkEv(100, 400, false))
	if p := pt.procs[400]; p == nil || p.exe != "/bin/bash" || p.hostPpid != 100 || p.containerID != "c1" || p.nsPid != 400 {
		t.Fatalf("after fork: %+v", p)
	}

	creds := event.CommitCredsArgs{}
	creds.SetExe("/usr/bin/sudo")
	pt.Update(&event.Event{ID: event.IDCommitCreds, Process: event.Process{HostPid: 400, Comm: "bash"}, Args: creds})
	if p := pt.procs[400]; p.exe != "/usr/bin/sudo" {
		t.Fatalf("commit_creds of an exec: exe %q", p.exe)
	}
	pt.Update(&event.Event{ID: event.IDCommitCreds, Process: event.Process{HostPid: 400}, Args: event.CommitCredsArgs{}})
	if p := pt.procs[400]; p.exe != "/usr/bin/sudo" {
		t.Fatalf("commit_creds outside an exec changed exe to %q", p.exe)
	}

	pt.Update(execEv(400, "curl", "/usr/bin/curl", "curl", "x"))
	if p := pt.procs[400]; p.exe != "/usr/bin/curl" || p.comm != "curl" || !reflect.DeepEqual(p.argv, []string{"curl", "x"}) {
		t.Fatalf("after exec: %+v", p)
	}
	ev := &event.Event{ID: event.IDExecve, Process: event.Process{HostPid: 400, Pid: 400, HostPpid: 100}}
	pt.Enrich(ev)
	if ev.Process.Exe != "/usr/bin/curl" || len(ev.Process.Ancestors) != 1 || ev.Process.Ancestors[0].Exe != "/bin/bash" {
		t.Fatalf("enriched: %+v", ev.Process)
	}

	pt.Update(exitEv(400, false))
	if !pt.procs[400].exitedAt.IsZero() {
		t.Fatal("a thread's exit ended the process")
	}
	pt.Update(exitEv(400, true))
	if pt.procs[400].exitedAt.IsZero() {
		t.Fatal("the last thread's exit was not recorded")
	}
	pt.Sweep(time.Now())
	if pt.procs[400] == nil {
		t.Fatal("an exited process was forgotten before its linger")
	}
	pt.Sweep(time.Now().Add(DefaultLinger + time.Second))
	if pt.procs[400] != nil || pt.procs[100] == nil {
		t.Fatalf("after the linger: 400 kept %v, 100 kept %v", pt.procs[400] != nil, pt.procs[100] != nil)
	}
	if st := pt.Stats(); st.Expired != 1 || st.Entries != 1 {
		t.Fatalf("stats %+v, want 1 expired, 1 entry", st)
	}
}

// The table stays within MaxEntries, evicting exited processes first, then
// the least recently used, and counts every eviction.
func TestBounded(t *testing.T) {
	const max = 64
	pt := emptyTable(t, max)
	pt.procs[1] = &proc{hostPid: 1, comm: "init"}
	for pid := uint32(2); pid < 40; pid++ {
		pt.Update(forkEv(1, pid, false))
	}
	// processes 2..9 exit; process 10 is used again and again
	for pid := uint32(2); pid < 10; pid++ {
		pt.Update(exitEv(pid, true))
	}
	for pid := uint32(40); pid < 1000; pid++ {
		pt.Update(forkEv(1, pid, false))
		pt.Enrich(&event.Event{Process: event.Process{HostPid: 10, Pid: 10}})
		if n := len(pt.procs); n > max {
			t.Fatalf("%d entries, bound %d", n, max)
		}
		if ev := pt.stats.Evictions; ev > 0 && ev <= 8 {
			// the first evictions take the 8 exited processes only
			for live := uint32(10); live <= pid; live++ {
				if pt.procs[live] == nil {
					t.Fatalf("live process %d evicted while exited ones were kept (%d evictions)", live, ev)
				}
			}
		}
	}
	if pt.procs[10] == nil {
		t.Error("the most used process was evicted")
	}
	if pt.procs[999] == nil {
		t.Error("the newest process was evicted")
	}
	st := pt.Stats()
	// pids 1 (init) to 999 went in; what is not in the table was evicted
	if want := uint64(999 - st.Entries); st.Evictions != want {
		t.Errorf("evictions %d, want %d (entries %d)", st.Evictions, want, st.Entries)
	}
}

// The cgroup id cache is bounded too.
func TestCgroupCacheBounded(t *testing.T) {
	root := t.TempDir()
	pt := New(Config{Root: root, MaxEntries: 8})
	if err := os.MkdirAll(filepath.Join(root, "5"), 0o755); err != nil {
		t.Fatal(err)
	}
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(filepath.Join(root, "5", "cgroup"), []byte("0::/system.slice/docker-"+id+".scope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for cg := uint64(1); cg <= 100; cg++ {
		ev := &event.Event{Process: event.Process{HostPid: 5, CgroupID: cg}}
		pt.Enrich(ev)
		if ev.Process.ContainerID != id {
			t.Fatalf("cgroup %d: container %q", cg, ev.Process.ContainerID)
		}
		if len(pt.cgroups) > 8 {
			t.Fatalf("%d cgroups cached, bound 8", len(pt.cgroups))
		}
	}
	if st := pt.Stats(); st.CgroupResets == 0 {
		t.Errorf("no cgroup cache reset counted: %+v", st)
	}
}

// The ancestry is built once per parent and shared by the events of its
// children while nothing it is made of changes; an ancestor's exec, its renaming, a new
// parent in the event's header or an ancestor forgotten builds it again.
func TestAncestryCache(t *testing.T) {
	pt := emptyTable(t, 0)
	pt.procs[1] = &proc{hostPid: 1, nsPid: 1, comm: "init", exe: "/sbin/init"}
	pt.procs[100] = &proc{hostPid: 100, hostPpid: 1, nsPid: 100, comm: "bash", exe: "/bin/bash", argv: []string{"bash"}}
	pt.Update(forkEv(100, 200, false))
	pt.Update(execEv(200, "cat", "/bin/cat", "cat", "f"))
	open := func(pid, ppid uint32, comm string) *event.Event {
		ev := &event.Event{ID: event.IDSecurityFileOpen, Name: "security_file_open", Process: event.Process{HostPid: pid, Pid: pid, HostPpid: ppid, Comm: comm}}
		pt.Enrich(ev)
		return ev
	}
	chain := func(ev *event.Event) (s []string) {
		for _, a := range ev.Process.Ancestors {
			s = append(s, a.Comm+"="+a.Exe)
		}
		return s
	}
	want := func(ev *event.Event, w ...string) {
		t.Helper()
		if got := chain(ev); !reflect.DeepEqual(got, w) {
			t.Errorf("ancestry %v, want %v", got, w)
		}
	}
	first, second := open(200, 100, "cat"), open(200, 100, "cat")
	want(second, "bash=/bin/bash", "init=/sbin/init")
	if &first.Process.Ancestors[0] != &second.Process.Ancestors[0] {
		t.Error("two events of an unchanged process built the ancestry twice")
	}
	pt.Update(forkEv(100, 201, false)) // a sibling: the table changed
	third, sibling := open(200, 100, "cat"), open(201, 100, "bash")
	if &third.Process.Ancestors[0] != &sibling.Process.Ancestors[0] {
		t.Error("two children of one parent carry two copies of the same ancestry")
	}
	// a thread of a leaf process with a name of its own changes nothing
	gen := pt.gen
	open(200, 100, "cat-worker")
	open(200, 100, "cat")
	if pt.gen != gen {
		t.Errorf("renaming a thread of a leaf process invalidated the ancestries (gen %d -> %d)", gen, pt.gen)
	}
	// the parent runs another program
	pt.Update(execEv(100, "python3", "/usr/bin/python3", "python3"))
	want(open(200, 100, "cat"), "python3=/usr/bin/python3", "init=/sbin/init")
	// the parent renames itself (an event of its own says so)
	open(100, 1, "worker")
	want(open(200, 100, "cat"), "worker=/usr/bin/python3", "init=/sbin/init")
	// reparented to init: the header names the new parent
	want(open(200, 1, "cat"), "init=/sbin/init")
	// the list handed out before is not changed by later builds
	want(first, "bash=/bin/bash", "init=/sbin/init")
	// an ancestor forgotten (exited, swept) is no longer listed
	pt.Update(exitEv(100, true))
	pt.Sweep(time.Now().Add(time.Hour))
	want(open(200, 100, "cat"))
}

// A parent forking and running short programs one after another (a shell
// loop, a build tool): its children's events share one ancestry list, built
// once, however many come and go; a process taking an ancestor's pid, or
// one an ancestry stopped short for want of, builds it again.
func TestAncestrySharedAcrossChildren(t *testing.T) {
	pt := emptyTable(t, 0)
	pt.procs[1] = &proc{hostPid: 1, nsPid: 1, comm: "init", exe: "/sbin/init"}
	pt.procs[100] = &proc{hostPid: 100, hostPpid: 1, nsPid: 100, comm: "make", exe: "/usr/bin/make", argv: []string{"make"}}
	execOf := func(pid uint32) *event.Event {
		ev := execEv(pid, "true", "/bin/true", "true")
		ev.Process.HostPpid, ev.Process.Ppid = 100, 100
		pt.Update(ev)
		pt.Enrich(ev)
		return ev
	}
	var first *event.Ancestor
	for pid := uint32(200); pid < 240; pid++ {
		pt.Update(forkEv(100, pid, false))
		ev := execOf(pid)
		if len(ev.Process.Ancestors) != 2 || ev.Process.Ancestors[0].Comm != "make" {
			t.Fatalf("child %d: ancestry %+v", pid, ev.Process.Ancestors)
		}
		if first == nil {
			first = &ev.Process.Ancestors[0]
		} else if &ev.Process.Ancestors[0] != first {
			t.Fatalf("child %d built the ancestry again: nothing it is made of changed", pid)
		}
		pt.Update(exitEv(pid, true))
		pt.Sweep(time.Now().Add(time.Hour)) // children gone: not ancestors
	}
	// the parent's pid taken by another process (the table sees its fork)
	pt.Update(exitEv(100, true))
	pt.Sweep(time.Now().Add(time.Hour))
	pt.Update(forkEv(1, 100, false))
	pt.Update(execEv(100, "ninja", "/usr/bin/ninja", "ninja"))
	if ev := execOf(300); len(ev.Process.Ancestors) == 0 || ev.Process.Ancestors[0].Comm != "ninja" {
		t.Errorf("after the parent's pid was reused: ancestry %+v, want ninja's", ev.Process.Ancestors)
	}
	// an ancestry that stopped at an unknown process is completed once the
	// table learns it
	pt.procs[400] = &proc{hostPid: 400, hostPpid: 399, nsPid: 400, comm: "sh", exe: "/bin/sh"}
	ev := &event.Event{ID: event.IDSecurityFileOpen, Name: "security_file_open", Process: event.Process{HostPid: 401, Pid: 401, HostPpid: 400, Ppid: 400, Comm: "cat"}}
	pt.Enrich(ev)
	if len(ev.Process.Ancestors) != 1 {
		t.Fatalf("ancestry %+v, want sh alone (399 unknown)", ev.Process.Ancestors)
	}
	pt.Update(forkEv(1, 399, false))
	ev = &event.Event{ID: event.IDSecurityFileOpen, Name: "security_file_open", Process: event.Process{HostPid: 401, Pid: 401, HostPpid: 400, Ppid: 400, Comm: "cat"}}
	pt.Enrich(ev)
	if len(ev.Process.Ancestors) != 3 {
		t.Errorf("ancestry %+v, want sh, 399 and init once 399 is known", ev.Process.Ancestors)
	}
}

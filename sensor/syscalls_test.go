package sensor

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
)

// TestSensorSyscallLayerRunsOnlyForSelectedSyscalls checks, from the kernel's side,
// that the syscall layer costs a syscall nothing unless a wanted event needs
// that syscall: vigil's syscall handlers hang on the trace events of the
// syscalls they handle and nowhere else, and do not run for other syscalls.
//
// The process table's events (sched_process_exec keeps execve's arguments at
// entry, commit_creds' fallback compares credentials around set*id) are
// disabled here so that the interest alone decides.
func TestSensorSyscallLayerRunsOnlyForSelectedSyscalls(t *testing.T) {
	needRoot(t)
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatalf("enabling BPF run statistics: %v", err)
	}
	defer stats.Close()
	noProcTable := []string{"sched_process_exec", "commit_creds"}

	t.Run("no syscall event", func(t *testing.T) {
		ls := ownSensor(t, Config{Interest: &event.Interest{Events: map[string]event.Condition{"cgroup_mkdir": {}}}, Disable: noProcTable})
		if st := probeOf(ls, "cgroup_mkdir"); st.Probe == "" {
			t.Fatalf("cgroup_mkdir has no probe: %v", st.Err)
		}
		if got := ls.s.ld.SyscallLinks(); len(got) != 0 {
			t.Errorf("the loader attached syscall handlers: %v", got)
		}
		if tps, n := syscallAttachments(t, ls); n != 0 {
			t.Errorf("the kernel has %d of vigil's programs on syscall trace events (%v), want none", n, tps)
		}
		for name, p := range syscallHandlers(t, ls) {
			t.Errorf("syscall handler %s (%v) is loaded, though no wanted event needs it", name, p)
		}
	})

	t.Run("memfd_create only", func(t *testing.T) {
		ls := ownSensor(t, Config{Interest: &event.Interest{Events: map[string]event.Condition{"memfd_create": {}}}, Disable: noProcTable})
		if st := probeOf(ls, "memfd_create"); st.Probe == "" {
			t.Fatalf("memfd_create has no probe: %v", st.Err)
		}
		want := map[string]string{"sys_enter_memfd_create": "sys_enter_save", "sys_exit_memfd_create": "sys_exit_memfd_create"}
		if got := ls.s.ld.SyscallLinks(); !maps.Equal(got, want) {
			t.Errorf("the loader attached %v, want %v", got, want)
		}
		tps, n := syscallAttachments(t, ls)
		if n != 2 {
			t.Errorf("the kernel has %d of vigil's programs on syscall trace events (%v), want 2", n, tps)
		}
		if tps != nil { // the kernel names them (6.6 and later)
			if w := []string{"sys_enter_memfd_create", "sys_exit_memfd_create"}; !slices.Equal(tps, w) {
				t.Errorf("vigil's programs hang on %v, want %v", tps, w)
			}
		}
		handlers := syscallHandlers(t, ls)
		if len(handlers) != 2 {
			t.Fatalf("loaded syscall handlers %v, want sys_enter_save and sys_exit_memfd_create", slices.Sorted(maps.Keys(handlers)))
		}
		runs := func() map[string]uint64 {
			out := map[string]uint64{}
			for name, p := range handlers {
				st, err := p.Stats()
				if err != nil {
					t.Fatalf("run count of %s: %v", name, err)
				}
				out[name] = st.RunCount
			}
			return out
		}
		before := runs()
		// syscalls memfd_create is not: the handlers must not run (the
		// sensor's own process still runs them, then skips itself)
		for range 2000 {
			unix.Getppid()
			if fd, err := unix.Open("/proc/self/stat", unix.O_RDONLY, 0); err == nil {
				unix.Close(fd)
			}
		}
		// (other processes' memfd_create calls run them too: a handler run
		// for every syscall would have run 2,000 times at least)
		after := runs()
		for name := range handlers {
			if d := after[name] - before[name]; d > 100 {
				t.Errorf("%s ran %d times during 2,000 getppid and 2,000 open+close: it runs for other syscalls than memfd_create", name, d)
			}
		}
		before = after
		fd, err := unix.MemfdCreate("vigil-test", 0)
		if err != nil {
			t.Fatalf("memfd_create: %v", err)
		}
		unix.Close(fd)
		after = runs()
		for name := range handlers {
			if after[name] <= before[name] {
				t.Errorf("%s did not run for memfd_create: run count %d, then %d", name, before[name], after[name])
			}
		}
	})
}

// syscallAttachments returns the syscall trace events the kernel has vigil's
// programs on (sorted), and how many attachments of vigil's programs to
// tracepoints it holds. Kernels before 6.6 do not name a perf event link's
// tracepoint: the names are nil there and the count still holds.
func syscallAttachments(t *testing.T, ls *liveSensor) ([]string, int) {
	t.Helper()
	ours := map[ebpf.ProgramID]string{}
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		for name, ps := range o.Spec.Programs {
			if !isSyscallHandler(ps) {
				continue
			}
			if p := ls.s.ld.Prog(name); p != nil {
				info, err := p.Info()
				if err != nil {
					t.Fatal(err)
				}
				if id, ok := info.ID(); ok {
					ours[id] = name
				}
			}
		}
	}
	var names []string
	n, named := 0, true
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil {
			if errors.Is(err, ebpf.ErrNotSupported) {
				continue
			}
			t.Fatal(err)
		}
		if _, ok := ours[info.Program]; !ok || info.Type != link.PerfEventType {
			continue
		}
		pe := info.PerfEvent()
		var tp *link.TracepointInfo
		if pe != nil {
			tp = pe.Tracepoint()
		}
		if tp == nil {
			named = false
			n++
			continue
		}
		names = append(names, tp.Tracepoint)
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatalf("listing the kernel's BPF links: %v", err)
	}
	if !named {
		return nil, n
	}
	sort.Strings(names)
	return names, n
}

// syscallHandlers returns the syscall handlers the sensor has loaded.
func syscallHandlers(t *testing.T, ls *liveSensor) map[string]*ebpf.Program {
	t.Helper()
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ebpf.Program{}
	for _, o := range objs {
		for name, ps := range o.Spec.Programs {
			if isSyscallHandler(ps) {
				if p := ls.s.ld.Prog(name); p != nil {
					out[name] = p
				}
			}
		}
	}
	return out
}

func isSyscallHandler(ps *ebpf.ProgramSpec) bool {
	return ps.Type == ebpf.TracePoint && (ps.SectionName == "tracepoint/syscalls/sys_enter" || ps.SectionName == "tracepoint/syscalls/sys_exit")
}

// TestSensorRoutesOpenExitsThroughRawSysExit checks the routed exits
// (bpf/lib/raw_exit.h): where the kernel has no trace events for the
// module syscalls, the raw sys_exit program that watches their ENOSYS runs
// for every syscall anyway, and the open family's exit handler runs from it
// instead of from the open syscalls' own trace events (which would cost
// each open a trace record more). Opens are still reported, refusals and
// O_TRUNC truncations too. Where the kernel has those trace events, nothing
// is routed and the handler hangs on the open syscalls' trace events.
func TestSensorRoutesOpenExitsThroughRawSysExit(t *testing.T) {
	needRoot(t)
	noModules := !traceEventExists("syscalls/sys_exit_init_module")
	ls := ownSensor(t, Config{
		Interest: &event.Interest{Events: map[string]event.Condition{"security_file_open": {}, "do_truncate": {}, "init_module": {}, "security_mmap_file": {}, "dup2": {}}},
		Disable:  []string{"sched_process_exec", "commit_creds"},
	})
	routed := ls.s.ld.RoutedExits()
	links := ls.s.ld.SyscallLinks()
	if !noModules {
		if len(routed) != 0 {
			t.Errorf("the kernel has trace events for init_module, yet exits are routed through the raw sys_exit: %v", routed)
		}
		if links["sys_exit_openat"] != "sys_exit_open" {
			t.Errorf("sys_exit_openat has handler %q, want sys_exit_open (links %v)", links["sys_exit_openat"], links)
		}
	} else {
		want := map[string]string{"sys_exit_openat": "sys_exit_open", "sys_exit_open": "sys_exit_open", "sys_exit_openat2": "sys_exit_open",
			"sys_exit_creat": "sys_exit_open", "sys_exit_mmap": "sys_exit_mmap", "sys_exit_dup2": "sys_exit_dup"}
		for sc, h := range want {
			if routed[sc] != h {
				t.Errorf("%s is not routed to %s through the raw sys_exit (routed %v)", sc, h, routed)
			}
			if h, ok := links[sc]; ok {
				t.Errorf("%s still has %s on its trace event", sc, h)
			}
		}
		if tps, _ := syscallAttachments(t, ls); slices.Contains(tps, "sys_exit_openat") {
			t.Errorf("the kernel has one of vigil's programs on sys_exit_openat: %v", tps)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "routed.txt")
	if err := os.WriteFile(path, []byte("some bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// a child opens it for reading, then truncates it with an O_TRUNC open;
	// then nobody fails to read it (the sensor skips its own process)
	script := fmt.Sprintf("cat %[1]s >/dev/null; : > %[1]s", path)
	cmd := exec.Command("/bin/sh", "-c", script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", script, err, out)
	}
	refused := exec.Command("/bin/cat", path)
	refused.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := refused.CombinedOutput(); err == nil {
		t.Fatalf("nobody read %s: %s", path, out)
	}
	nobody := uint32(refused.Process.Pid)
	pid := uint32(cmd.Process.Pid)
	isChild := func(ev *event.Event) bool { return ev.Process.HostPid == pid || ev.Process.HostPpid == pid }
	ls.waitFor(t, "the read open of "+path, func(ev *event.Event) bool {
		return ev.Name == "security_file_open" && isChild(ev) && ev.Args["pathname"] == path && ev.ReturnValue >= 0
	})
	ls.waitFor(t, "the O_TRUNC open's do_truncate of "+path, func(ev *event.Event) bool {
		return ev.Name == "do_truncate" && isChild(ev) && ev.Args["pathname"] == path
	})
	if noModules {
		// mmap's exit handler feeds the event only where no kernel hook
		// does: on this kernel it runs from the raw sys_exit
		ls.waitFor(t, "cat's executable mapping of a library", func(ev *event.Event) bool {
			return ev.Name == "security_mmap_file" && isChild(ev) && strings.Contains(fmt.Sprint(ev.Args["pathname"]), "lib")
		})
	}
	ls.waitFor(t, "nobody's refused open of "+path, func(ev *event.Event) bool {
		return ev.Name == "security_file_open" && ev.Process.HostPid == nobody && ev.Args["pathname"] == path && ev.ReturnValue == -int64(unix.EACCES)
	})
}

// traceEventExists tells whether the kernel has the trace event group/name.
func traceEventExists(event string) bool {
	for _, root := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(root, "events", event)); err == nil {
			return true
		}
	}
	return false
}

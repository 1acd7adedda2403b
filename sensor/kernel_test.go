package sensor

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load"
)

// Privileged tests of the kernel-facilities family (bpf/namespaces.bpf.c, kernel.bpf.c, sched.bpf.c). Each
// runs a trigger (testdata/triggers) or a stock program and checks the
// events' arguments against what the trigger reports it did. On the
// development kernel the events come through their fallback probes, inside
// make vmtest through the preferred ones; the assertions hold for both
// unless a probe cannot see something, which is then said where it matters.

func strs(v any) []string {
	s, _ := v.([]string)
	return s
}

func (ls *liveSensor) count(ok func(*event.Event) bool) int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	n := 0
	for _, ev := range ls.events {
		if ok(ev) {
			n++
		}
	}
	return n
}

func asUser(cmd *exec.Cmd, uid uint32) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	return cmd
}

func TestSensorSeesNamespaceSwitches(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	var r struct {
		Pid       uint32            `json:"pid"`
		HelperPid uint32            `json:"helper_pid"`
		Host      map[string]uint64 `json:"host"`
		Unshared  map[string]uint64 `json:"unshared"`
		Steps     map[string]string `json:"steps"`
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "nsjoin")), &r)
	for _, s := range []string{"unshare", "setns_uts", "setns_pidfd", "setns_mnt", "clone"} {
		if r.Steps[s] != "ok" {
			t.Fatalf("nsjoin step %s: %q (report %+v)", s, r.Steps[s], r)
		}
	}
	ns := func(ev *event.Event, which, kind string) uint64 { v, _ := ev.Args[which+"_"+kind].(uint64); return v }
	of := func(syscall string, more func(*event.Event) bool) func(*event.Event) bool {
		return func(ev *event.Event) bool {
			return ev.Name == "switch_task_namespaces" && ev.Process.HostPid == r.Pid && ev.Args["syscall"] == syscall && more(ev)
		}
	}
	all := func(*event.Event) bool { return true }

	ev := ls.waitFor(t, "switch_task_namespaces of unshare", of("unshare", all))
	kinds := []string{"mnt", "uts", "ipc", "net", "cgroup"}
	if got := strs(ev.Args["changed"]); !slices.Equal(got, kinds) {
		t.Errorf("unshare changed %q, want %q", got, kinds)
	}
	if got := strs(ev.Args["entered_host"]); len(got) != 0 {
		t.Errorf("unshare entered_host %q, want none", got)
	}
	// every namespace before and after, those unshare kept too, as the
	// trigger saw them in /proc/thread-self/ns
	want := map[string]any{"syscall_nr": unix.SYS_UNSHARE,
		"old_mnt": r.Host["mnt"], "new_mnt": r.Unshared["mnt"],
		"old_uts": r.Host["uts"], "new_uts": r.Unshared["uts"],
		"old_ipc": r.Host["ipc"], "new_ipc": r.Unshared["ipc"],
		"old_net": r.Host["net"], "new_net": r.Unshared["net"],
		"old_cgroup": r.Host["cgroup"], "new_cgroup": r.Unshared["cgroup"],
		"old_pid_for_children": r.Host["pid_for_children"], "new_pid_for_children": r.Unshared["pid_for_children"],
		"old_time": r.Host["time"], "new_time": r.Unshared["time"],
		"old_time_for_children": r.Host["time_for_children"], "new_time_for_children": r.Unshared["time_for_children"],
		"old_user": r.Host["user"], "new_user": r.Unshared["user"],
	}
	if !argsMatch(ev, want) {
		t.Errorf("unshare: arguments %v, want %v", ev.Args, want)
	}
	for _, k := range kinds {
		if r.Host[k] == 0 || r.Host[k] == r.Unshared[k] {
			t.Errorf("the trigger's %s namespace: %d -> %d, want a new one", k, r.Host[k], r.Unshared[k])
		}
	}
	if f := ev.Args["flags"].(uint64); f&unix.CLONE_NEWNET == 0 || f&unix.CLONE_NEWNS == 0 || ev.ReturnValue != 0 {
		t.Errorf("unshare flags %#x return %d", f, ev.ReturnValue)
	}

	// back into the host's namespaces, one file at a time and by pidfd
	for _, c := range []struct {
		what, fdKind string
		kinds        []string
		flags        uint64
		target       uint32
	}{
		{"setns of the uts file", "nsfs", []string{"uts"}, unix.CLONE_NEWUTS, 0},
		{"setns of the helper's pidfd", "pidfd", []string{"ipc", "net", "cgroup"}, unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP, r.HelperPid},
		{"setns of the mnt file", "nsfs", []string{"mnt"}, unix.CLONE_NEWNS, 0},
	} {
		ev := ls.waitFor(t, c.what, of("setns", func(ev *event.Event) bool { return ev.Args["flags"] == c.flags }))
		if got := strs(ev.Args["changed"]); !slices.Equal(got, c.kinds) {
			t.Errorf("%s: changed %q, want %q", c.what, got, c.kinds)
		}
		if got := strs(ev.Args["entered_host"]); !slices.Equal(got, c.kinds) {
			t.Errorf("%s: entered_host %q, want %q (the trigger started in the host's namespaces)", c.what, got, c.kinds)
		}
		if ev.Args["fd_kind"] != c.fdKind || ev.Args["target_pid"] != uint64(c.target) || ev.ReturnValue != 0 {
			t.Errorf("%s: fd_kind %v target_pid %v return %d, want %s %d 0", c.what, ev.Args["fd_kind"], ev.Args["target_pid"], ev.ReturnValue, c.fdKind, c.target)
		}
		for _, k := range c.kinds {
			if ns(ev, "old", k) != r.Unshared[k] || ns(ev, "new", k) != r.Host[k] {
				t.Errorf("%s: %s %d -> %d, want %d -> %d", c.what, k, ns(ev, "old", k), ns(ev, "new", k), r.Unshared[k], r.Host[k])
			}
		}
	}
	// each setns is reported once: the kernel hook leaves them to the
	// syscall layer
	time.Sleep(200 * time.Millisecond)
	if n := ls.count(of("setns", all)); n != 3 {
		t.Errorf("%d switch_task_namespaces events of setns, want 3", n)
	}

	// the grandchild's pid is the one sched_process_fork reports: the
	// child that is pid 1 of a new pid namespace
	fork := ls.waitFor(t, "sched_process_fork of the grandchild", func(ev *event.Event) bool {
		return ev.Name == "sched_process_fork" && ev.Process.HostPid == r.Pid && ev.Args["thread"] == false && ev.Args["child_ns_pid"] == uint64(1)
	})
	ev = ls.waitFor(t, "switch_task_namespaces of clone(CLONE_NEW*)", func(ev *event.Event) bool {
		return ev.Name == "switch_task_namespaces" && ev.Process.HostPid == r.Pid && ev.Args["target_pid"] == fork.Args["child_pid"]
	})
	if sc := ev.Args["syscall"]; sc != "clone" && sc != "clone3" {
		t.Errorf("clone: syscall %v", sc)
	}
	if want := []string{"uts", "ipc", "net", "pid_for_children"}; !slices.Equal(strs(ev.Args["changed"]), want) {
		t.Errorf("clone: changed %q, want %q", strs(ev.Args["changed"]), want)
	}
	if f := ev.Args["flags"].(uint64); f&unix.CLONE_NEWPID == 0 || f&unix.CLONE_NEWUTS == 0 {
		t.Errorf("clone: flags %#x lack CLONE_NEWPID|CLONE_NEWUTS", f)
	}
	t.Logf("via %s", ev.Probe)
}

// An unprivileged user creating user namespaces: unshare(2) in one child,
// clone(2) for the other.
func TestSensorSeesUserNamespaces(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	var r struct {
		Pid        uint32 `json:"pid"`
		UID        uint32 `json:"uid"`
		UnsharePid uint32 `json:"unshare_pid"`
		Unshare    string `json:"unshare"`
		ClonePid   uint32 `json:"clone_pid"`
		Clone      string `json:"clone"`
	}
	runTrigger(t, asUser(exec.Command(filepath.Join(dir, "userns")), 65534), &r)
	if r.UID != 65534 {
		t.Fatalf("userns ran as uid %d", r.UID)
	}
	ev := ls.waitFor(t, "unshare(CLONE_NEWUSER|CLONE_NEWNET)", func(ev *event.Event) bool {
		return ev.Name == "switch_task_namespaces" && ev.Process.HostPid == r.UnsharePid && ev.Args["syscall"] == "unshare"
	})
	if ev.Process.UID != 65534 {
		t.Errorf("unshare by uid %d, want 65534", ev.Process.UID)
	}
	if r.Unshare == "ok" {
		if got := strs(ev.Args["changed"]); !slices.Equal(got, []string{"net", "user"}) || ev.ReturnValue != 0 {
			t.Errorf("unshare: changed %q return %d, want [net user] 0", got, ev.ReturnValue)
		}
	} else if ev.ReturnValue >= 0 || len(strs(ev.Args["changed"])) != 0 {
		t.Errorf("refused unshare (%s): return %d changed %q", r.Unshare, ev.ReturnValue, strs(ev.Args["changed"]))
	}
	if r.Clone == "ok" {
		ev = ls.waitFor(t, "clone(CLONE_NEWUSER|CLONE_NEWUTS)", func(ev *event.Event) bool {
			return ev.Name == "switch_task_namespaces" && ev.Process.HostPid == r.Pid && ev.Args["target_pid"] == uint64(r.ClonePid)
		})
		if got := strs(ev.Args["changed"]); !slices.Equal(got, []string{"uts", "user"}) {
			t.Errorf("clone: changed %q, want [uts user]", got)
		}
	} else {
		t.Logf("clone(CLONE_NEWUSER) refused on this kernel: %s", r.Clone)
	}
}

// The kernel hook of switch_task_namespaces is for calls outside setns and
// unshare (a kernel exploit's payload calls the function itself); it fires
// for unshare too (ksys_unshare calls it) and leaves that one to the syscall
// layer. Nothing legitimate calls it elsewhere, so the hook is shown firing
// through BPF run statistics, and the unshare reported once.
func TestSensorNamespaceHookLeavesUnshareToSyscallLayer(t *testing.T) {
	ls := startSensor(t)
	st := probeOf(ls, "switch_task_namespaces")
	// the hook is the first program of the preferred probes
	var hook *ebpf.Program
	spec, _ := event.Lookup("switch_task_namespaces")
	for _, pb := range load.EventProbes(spec.ID) {
		if pb.Name == st.Probe && !pb.Fallback {
			hook = ls.s.ld.Prog(pb.Programs[0].Name)
			if hook == nil {
				t.Fatalf("switch_task_namespaces attached %s but %s is not loaded", st.Probe, pb.Programs[0].Name)
			}
		}
	}
	var before uint64
	if hook != nil {
		stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
		if err != nil {
			t.Fatalf("enabling BPF run statistics: %v", err)
		}
		defer stats.Close()
		s, err := hook.Stats()
		if err != nil {
			t.Fatal(err)
		}
		before = s.RunCount
	}
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWUTS | unix.CLONE_NEWIPC}
	if err := cmd.Run(); err != nil {
		t.Fatalf("/bin/true in new uts and ipc namespaces: %v", err)
	}
	pid := uint32(cmd.Process.Pid)
	unshare := func(ev *event.Event) bool {
		return ev.Name == "switch_task_namespaces" && ev.Process.HostPid == pid
	}
	ev := ls.waitFor(t, "unshare(CLONE_NEWUTS|CLONE_NEWIPC)", unshare)
	if got := strs(ev.Args["changed"]); ev.Args["syscall"] != "unshare" || !slices.Equal(got, []string{"uts", "ipc"}) {
		t.Errorf("unshare(CLONE_NEWUTS|CLONE_NEWIPC): syscall %v changed %q, want unshare [uts ipc]", ev.Args["syscall"], got)
	}
	time.Sleep(200 * time.Millisecond)
	if n := ls.count(unshare); n != 1 {
		t.Errorf("%d switch_task_namespaces events for one unshare, want 1", n)
	}
	if hook == nil {
		t.Logf("%s: no kernel hook on this kernel, the syscall layer reported the unshare", st.Probe)
		return
	}
	s, err := hook.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.RunCount <= before {
		t.Errorf("%s did not run for the unshare (run count %d, before %d)", st.Probe, s.RunCount, before)
	}
}

func TestSensorSeesPtraceInjection(t *testing.T) {
	ls := startSensor(t, "process_vm_readv")
	dir := triggers(t)
	var r struct {
		Pid       uint32            `json:"pid"`
		VictimPid uint32            `json:"victim_pid"`
		PokeAddr  uint64            `json:"poke_addr"`
		VMAddr    uint64            `json:"vm_addr"`
		Steps     map[string]string `json:"steps"`
		Saw       bool              `json:"victim_saw_both"`
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "ptraceinject")), &r)
	if !r.Saw {
		t.Fatalf("the injection did not reach the victim: %+v", r)
	}
	req := func(name string) func(*event.Event) bool {
		return func(ev *event.Event) bool {
			return ev.Name == "ptrace" && ev.Process.HostPid == r.Pid && ev.Args["request_name"] == name
		}
	}
	requests := map[string]int64{"PTRACE_ATTACH": unix.PTRACE_ATTACH, "PTRACE_POKEDATA": unix.PTRACE_POKEDATA, "PTRACE_SETREGSET": unix.PTRACE_SETREGSET}
	for _, name := range []string{"PTRACE_ATTACH", "PTRACE_POKEDATA", "PTRACE_SETREGSET"} {
		ev := ls.waitFor(t, name, req(name))
		if ev.Args["request"] != requests[name] {
			t.Errorf("%s: request %v, want %d", name, ev.Args["request"], requests[name])
		}
		if ev.Args["pid"] != int64(r.VictimPid) || ev.ReturnValue != 0 {
			t.Errorf("%s: pid %v return %d, want %d 0", name, ev.Args["pid"], ev.ReturnValue, r.VictimPid)
		}
		if ev.Args["target_pid"] != uint64(r.VictimPid) || ev.Args["target_is_child"] != true || ev.Args["target_comm"] != "ptraceinject" {
			t.Errorf("%s: target %v child %v comm %v", name, ev.Args["target_pid"], ev.Args["target_is_child"], ev.Args["target_comm"])
		}
		if exe, _ := ev.Args["target_exe"].(string); !strings.HasSuffix(exe, "/ptraceinject") {
			t.Errorf("%s: target_exe %q", name, exe)
		}
		if name == "PTRACE_POKEDATA" && (ev.Args["addr"] != r.PokeAddr || ev.Args["data"] != uint64(0x7669676c_706f6b65)) {
			t.Errorf("POKEDATA addr %#x data %#x, want %#x and the word", ev.Args["addr"], ev.Args["data"], r.PokeAddr)
		}
	}
	// reads and detach are not reported
	if n := ls.count(func(ev *event.Event) bool {
		return ev.Name == "ptrace" && ev.Process.HostPid == r.Pid && ev.Args["request_name"] != "PTRACE_ATTACH" &&
			ev.Args["request_name"] != "PTRACE_POKEDATA" && ev.Args["request_name"] != "PTRACE_SETREGSET"
	}); n != 0 {
		t.Errorf("%d other ptrace events (GETREGS, DETACH are not reported)", n)
	}
	for _, name := range []string{"process_vm_writev", "process_vm_readv"} {
		ev := ls.waitFor(t, name, func(ev *event.Event) bool { return ev.Name == name && ev.Process.HostPid == r.Pid })
		if ev.Args["pid"] != int64(r.VictimPid) || ev.Args["remote_addr"] != r.VMAddr || ev.Args["remote_len"] != uint64(8) ||
			ev.Args["remote_iovcnt"] != uint64(1) || ev.Args["local_iovcnt"] != uint64(1) || ev.Args["flags"] != uint64(0) || ev.ReturnValue != 8 {
			t.Errorf("%s: %v return %d, want pid %d remote %#x len 8, 8 bytes", name, ev.Args, ev.ReturnValue, r.VictimPid, r.VMAddr)
		}
	}
}

func TestSensorSeesBPFLoads(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	var r struct {
		Pid        uint32 `json:"pid"`
		MapName    string `json:"map_name"`
		MapCreate  string `json:"map_create"`
		ProgName   string `json:"prog_name"`
		ProgType   string `json:"prog_type"`
		ProgLoad   string `json:"prog_load"`
		PinPath    string `json:"pin_path"`
		MapID      uint32 `json:"map_id"`
		Tracepoint string `json:"tracepoint"`
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "bpfload")), &r)
	if r.MapCreate != "ok" || r.ProgLoad != "ok" {
		t.Fatalf("bpfload: %+v", r)
	}
	ev := ls.waitFor(t, "security_bpf BPF_MAP_CREATE", func(ev *event.Event) bool {
		return ev.Name == "security_bpf" && ev.Process.HostPid == r.Pid && ev.Args["cmd"] == "BPF_MAP_CREATE"
	})
	if ev.Args["map_type"] != "array" || ev.Args["map_name"] != r.MapName || ev.Args["cmd_id"] != uint64(0) {
		t.Errorf("BPF_MAP_CREATE: %v", ev.Args)
	}
	// the fallback sees the syscall's result (a descriptor), the hook its verdict
	if st := probeOf(ls, "security_bpf"); (st.Fallback && ev.ReturnValue < 0) || (!st.Fallback && ev.ReturnValue != 0) {
		t.Errorf("BPF_MAP_CREATE via %s returned %d", st.Probe, ev.ReturnValue)
	}
	ev = ls.waitFor(t, "security_bpf BPF_PROG_LOAD", func(ev *event.Event) bool {
		return ev.Name == "security_bpf" && ev.Process.HostPid == r.Pid && ev.Args["cmd"] == "BPF_PROG_LOAD"
	})
	if ev.Args["prog_type"] != r.ProgType || ev.Args["prog_name"] != r.ProgName || ev.Args["insn_cnt"] != uint64(2) {
		t.Errorf("BPF_PROG_LOAD: %v", ev.Args)
	}
	// requests the kernel refuses still say what they asked for
	ls.waitArgs(t, "security_bpf", r.Pid, map[string]any{"cmd": "BPF_OBJ_PIN", "pathname": r.PinPath})
	ls.waitArgs(t, "security_bpf", r.Pid, map[string]any{"cmd": "BPF_MAP_GET_FD_BY_ID", "id": r.MapID})
	ls.waitArgs(t, "security_bpf", r.Pid, map[string]any{"cmd": "BPF_RAW_TRACEPOINT_OPEN", "tracepoint": r.Tracepoint})
	ls.waitArgs(t, "security_bpf", r.Pid, map[string]any{"cmd": "BPF_LINK_CREATE", "attach_type": "trace_fentry"})
	ev = ls.waitFor(t, "security_bpf_map of the new map", func(ev *event.Event) bool {
		return ev.Name == "security_bpf_map" && ev.Process.HostPid == r.Pid && ev.Args["map_name"] == r.MapName
	})
	if ev.Args["map_type"] != "array" || ev.Args["fmode"] != uint64(3) || ev.Args["map_id"] == uint64(0) {
		t.Errorf("security_bpf_map: %v", ev.Args)
	}

	// the sensor's own bpf() calls are not reported
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "vigil_self", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	exec.Command(filepath.Join(dir, "bpfload")).Run()
	ls.waitFor(t, "a second bpfload", func(ev *event.Event) bool {
		return ev.Name == "security_bpf" && ev.Process.HostPid != r.Pid && ev.Args["prog_name"] == r.ProgName
	})
	if n := ls.count(func(ev *event.Event) bool {
		return (ev.Name == "security_bpf" || ev.Name == "security_bpf_map") && ev.Process.HostPid == uint32(os.Getpid())
	}); n != 0 {
		t.Errorf("%d security_bpf events of the sensor itself", n)
	}
}

func TestSensorSeesCapabilityChecks(t *testing.T) {
	ls := startSensor(t, "cap_capable")
	dir := triggers(t)
	var userNS unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &userNS); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		uid     uint32
		granted bool
	}{{0, true}, {65534, false}} {
		var r struct {
			Pid         uint32 `json:"pid"`
			UID         uint32 `json:"uid"`
			Unshare     string `json:"unshare"`
			Sethostname string `json:"sethostname"`
		}
		runTrigger(t, asUser(exec.Command(filepath.Join(dir, "capcheck")), c.uid), &r)
		if (r.Unshare == "ok") != c.granted {
			t.Fatalf("capcheck as uid %d: %+v", c.uid, r)
		}
		ev := ls.waitFor(t, fmt.Sprintf("cap_capable CAP_SYS_ADMIN of uid %d", c.uid), func(ev *event.Event) bool {
			return ev.Name == "cap_capable" && ev.Process.HostPid == r.Pid && ev.Args["cap_name"] == "CAP_SYS_ADMIN"
		})
		if want := int64(0); !c.granted {
			want = -int64(unix.EPERM)
			if ev.ReturnValue != want {
				t.Errorf("uid %d: CAP_SYS_ADMIN returned %d, want %d", c.uid, ev.ReturnValue, want)
			}
		} else if ev.ReturnValue != want {
			t.Errorf("uid %d: CAP_SYS_ADMIN returned %d, want %d", c.uid, ev.ReturnValue, want)
		}
		if ev.Args["cap"] != int64(21) || ev.Args["user_ns"] != userNS.Ino || ev.Args["user_ns_level"] != uint64(0) {
			t.Errorf("uid %d: %v, want cap 21 in user namespace %d (level 0)", c.uid, ev.Args, userNS.Ino)
		}
		if st := probeOf(ls, "cap_capable"); !st.Fallback && ev.Args["audit"] != true {
			t.Errorf("via %s: audit %v, want true", st.Probe, ev.Args["audit"])
		}
	}
}

// cgroup2 returns where the unified hierarchy is mounted and this process's
// cgroup in it.
func cgroup2(t *testing.T) (mount, self string) {
	t.Helper()
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 2 && fs[2] == "cgroup2" {
			mount = fs[1]
			break
		}
	}
	if mount == "" {
		t.Fatal("no cgroup2 file system mounted")
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return mount, p
		}
	}
	t.Fatal("no cgroup v2 line in /proc/self/cgroup")
	return
}

// cgroupRoundTrip has a shell create a cgroup, move itself in and back out,
// and remove it; it returns the shell's pid and both cgroup paths.
func cgroupRoundTrip(t *testing.T) (pid uint32, path, home string) {
	t.Helper()
	mount, home := cgroup2(t)
	path = filepath.Join(home, fmt.Sprintf("vigil-test-%d", time.Now().UnixNano()))
	dir, back := filepath.Join(mount, path), filepath.Join(mount, home, "cgroup.procs")
	t.Cleanup(func() { os.Remove(dir) })
	cmd := exec.Command("/bin/sh", "-c", `mkdir "$1" && echo $$ > "$1/cgroup.procs" && echo $$ > "$2" && rmdir "$1"`, "sh", dir, back)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("moving a shell through %s: %v: %s", dir, err, out)
	}
	return uint32(cmd.Process.Pid), path, home
}

func checkCgroupEvents(t *testing.T, ls *liveSensor, pid uint32, path, home string, fallback bool) {
	t.Helper()
	for _, name := range []string{"cgroup_mkdir", "cgroup_rmdir"} {
		ev := ls.waitFor(t, name+" "+path, func(ev *event.Event) bool { return ev.Name == name && ev.Args["path"] == path })
		// mkdir and rmdir are programs the shell runs (or, in busybox,
		// may run itself)
		if (ev.Process.HostPpid != pid && ev.Process.HostPid != pid) ||
			ev.Args["hierarchy_id"] != uint64(0) || ev.Args["level"] != uint64(strings.Count(path, "/")) {
			t.Errorf("%s: by %s (parent %d) %v", name, ev.Process.Comm, ev.Process.HostPpid, ev.Args)
		}
		if ev.Args["id"] == uint64(0) {
			t.Errorf("%s: no cgroup id", name)
		}
	}
	for _, dst := range []string{path, home} {
		ev := ls.waitFor(t, "cgroup_attach_task into "+dst, func(ev *event.Event) bool {
			return ev.Name == "cgroup_attach_task" && ev.Args["path"] == dst && ev.Args["pid"] == uint64(pid)
		})
		if ev.Process.HostPid != pid || ev.Args["comm"] != "sh" {
			t.Errorf("cgroup_attach_task into %s: by %d, comm %v", dst, ev.Process.HostPid, ev.Args["comm"])
		}
		if tg, ok := ev.Args["threadgroup"]; fallback == ok || (ok && tg != true) {
			t.Errorf("cgroup_attach_task into %s: threadgroup %v (present %v)", dst, tg, ok)
		}
	}
}

func TestSensorSeesCgroupLifecycle(t *testing.T) {
	ls := startSensor(t)
	pid, path, home := cgroupRoundTrip(t)
	checkCgroupEvents(t, ls, pid, path, home, false)
}

// forceProbe attaches the programs of an event's probe number i that this
// kernel did not choose and sets the event's mode as the loader would have,
// to test a fallback twin where the preferred probe works.
func forceProbe(t *testing.T, ls *liveSensor, name string, i int) {
	t.Helper()
	if ls.shared {
		t.Fatal("forceProbe changes the sensor: give the test one of its own (ownSensor)")
	}
	spec, _ := event.Lookup(name)
	pb := load.EventProbes(spec.ID)[i]
	for _, pr := range pb.Programs {
		if err := ls.s.ld.Ensure(pr); err != nil {
			t.Fatalf("%s probe %s: %v", name, pb.Name, err)
		}
	}
	if err := ls.s.ld.SetMode(spec.ID, pb.Fallback); err != nil {
		t.Fatal(err)
	}
}

// The classic cgroup tracepoints, fed alone: the tp_btf programs stay quiet
// once the mode says fallback, so each event comes once.
func TestSensorCgroupTracepointFallback(t *testing.T) {
	ls := ownSensor(t, Config{})
	for _, name := range []string{"cgroup_mkdir", "cgroup_rmdir", "cgroup_attach_task"} {
		forceProbe(t, ls, name, 1)
	}
	pid, path, home := cgroupRoundTrip(t)
	checkCgroupEvents(t, ls, pid, path, home, true)
	time.Sleep(200 * time.Millisecond)
	if n := ls.count(func(ev *event.Event) bool { return ev.Name == "cgroup_mkdir" && ev.Args["path"] == path }); n != 1 {
		t.Errorf("%d cgroup_mkdir events, want 1", n)
	}
}

func TestSensorSeesDoExit(t *testing.T) {
	ls := startSensor(t, "do_exit")
	cmd := exec.Command("/bin/sh", "-c", "exit 3")
	if err := cmd.Run(); err == nil {
		t.Fatal("sh -c 'exit 3' succeeded")
	}
	pid := uint32(cmd.Process.Pid)
	ev := ls.waitFor(t, "do_exit of sh", func(ev *event.Event) bool { return ev.Name == "do_exit" && ev.Process.HostPid == pid })
	if ev.Args["exit_code"] != int64(3<<8) || ev.Args["group_dead"] != true {
		t.Errorf("do_exit via %s: %v, want exit_code 768 group_dead", ev.Probe, ev.Args)
	}
}

func TestSensorSeesSchedSwitch(t *testing.T) {
	ls := startSensor(t, "sched_switch")
	checkSchedSwitch(t, ls)
}

// checkSchedSwitch runs two processes pinned to one CPU that wake each other
// through pipes: the CPU goes from one, asleep in read, to the other.
func checkSchedSwitch(t *testing.T, ls *liveSensor) {
	t.Helper()
	var r struct {
		Pid        uint32 `json:"pid"`
		PartnerPid uint32 `json:"partner_pid"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "pingpong")), &r)
	for _, c := range [][2]uint32{{r.Pid, r.PartnerPid}, {r.PartnerPid, r.Pid}} {
		from, to := c[0], c[1]
		ev := ls.waitFor(t, fmt.Sprintf("sched_switch %d -> %d", from, to), func(ev *event.Event) bool {
			return ev.Name == "sched_switch" && ev.Args["prev_pid"] == uint64(from) && ev.Args["next_pid"] == uint64(to) &&
				ev.Args["prev_state"].(uint64)&1 == 1
		})
		if ev.Process.HostPid != from || ev.Args["prev_comm"] != "pingpong" || ev.Args["next_comm"] != "pingpong" ||
			ev.Args["preempt"] != false || ev.Args["prev_tid"] == uint64(0) || ev.Args["next_tid"] == uint64(0) {
			t.Errorf("sched_switch %d -> %d: by %d %v", from, to, ev.Process.HostPid, ev.Args)
		}
	}
}

func TestSensorSchedSwitchRawTracepoint(t *testing.T) {
	ls := startSensor(t, "sched_switch")
	forceProbe(t, ls, "sched_switch", 1)
	checkSchedSwitch(t, ls)
}

func TestSensorSeesKexecLoads(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	var r struct {
		Pid           uint32 `json:"pid"`
		File          string `json:"file"`
		Cmdline       string `json:"cmdline"`
		KexecLoad     string `json:"kexec_load"`
		KexecFileLoad string `json:"kexec_file_load"`
		Entry         uint64 `json:"entry"`
		KernelFd      int    `json:"kernel_fd"`
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "kexec")), &r)
	if r.KexecLoad == "ok" || r.KexecFileLoad == "ok" {
		t.Fatalf("the kernel accepted a bogus kexec request: %+v", r)
	}
	ev := ls.waitFor(t, "kexec_load", func(ev *event.Event) bool { return ev.Name == "kexec_load" && ev.Process.HostPid == r.Pid })
	if ev.Args["flags"] != uint64(0x8000) || ev.Args["nr_segments"] != uint64(0) || ev.Args["entry"] != r.Entry || ev.ReturnValue >= 0 {
		t.Errorf("kexec_load (%s): %v return %d", r.KexecLoad, ev.Args, ev.ReturnValue)
	}
	ev = ls.waitFor(t, "kexec_file_load", func(ev *event.Event) bool { return ev.Name == "kexec_file_load" && ev.Process.HostPid == r.Pid })
	if ev.Args["kernel_path"] != r.File || ev.Args["kernel_fd"] != int64(r.KernelFd) || ev.Args["cmdline"] != r.Cmdline || ev.Args["initrd_fd"] != int64(-1) ||
		ev.Args["flags"] != uint64(4) || ev.ReturnValue >= 0 {
		t.Errorf("kexec_file_load (%s): %v return %d", r.KexecFileLoad, ev.Args, ev.ReturnValue)
	}
	if _, ok := ev.Args["initrd_path"]; ok {
		t.Errorf("kexec_file_load without an initrd has initrd_path %v", ev.Args["initrd_path"])
	}
	if r.KexecFileLoad == "ENOSYS" {
		return
	}
	// the kernel read the file before refusing it
	if st := probeOf(ls, "security_kernel_read_file"); !st.Fallback {
		ev = ls.waitFor(t, "security_kernel_read_file of the kexec image", func(ev *event.Event) bool {
			return ev.Name == "security_kernel_read_file" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == r.File
		})
		if ev.Args["type"] != "kexec-image" {
			t.Errorf("security_kernel_read_file type %v, want kexec-image", ev.Args["type"])
		}
	}
}

// startCapturingSensor is startSensor with a capture directory.
func startCapturingSensor(t *testing.T, dir string) *liveSensor {
	t.Helper()
	return ownSensor(t, Config{CaptureDir: dir})
}

// checkCaptured checks a module_image_captured event against the file it
// names: named by the sha256 of its bytes, of the size it says.
func checkCaptured(t *testing.T, ev *event.Event, dir string) []byte {
	t.Helper()
	sum, _ := ev.Args["sha256"].(string)
	if ev.Args["complete"] != true || ev.Args["file"] != filepath.Join(dir, sum) || ev.Args["received"] != ev.Args["size"] {
		t.Fatalf("module_image_captured: %v", ev.Args)
	}
	data, err := os.ReadFile(filepath.Join(dir, sum))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sum || uint64(len(data)) != ev.Args["size"] {
		t.Errorf("kept %d bytes hashing to %x, the event says %v", len(data), h, ev.Args)
	}
	return data
}

// The kmod trigger loads a bogus module from memory (init_module: its buffer
// is captured on every kernel) and from a file (finit_module: the kernel
// reads the file, then refuses it; only the kernel hook of
// security_kernel_post_read_file sees those bytes, and only a kernel with
// module support reads them).
func TestSensorCapturesModuleImages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modules")
	ls := startCapturingSensor(t, dir)
	var r struct {
		Pid         uint32 `json:"pid"`
		File        string `json:"file"`
		FinitModule string `json:"finit_module"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "kmod")), &r)
	captured := func(source string) func(*event.Event) bool {
		return func(ev *event.Event) bool {
			return ev.Name == "module_image_captured" && ev.Process.HostPid == r.Pid && ev.Args["source"] == source
		}
	}
	ev := ls.waitFor(t, "the capture of init_module's buffer", captured("init_module"))
	if data := checkCaptured(t, ev, dir); len(data) != 64 || !bytes.HasPrefix(data, []byte("\x7fELF")) {
		t.Errorf("init_module image: %q", data)
	}
	if _, ok := ev.Args["pathname"]; ok || ev.Process.Comm != "kmod" {
		t.Errorf("init_module capture: comm %s %v", ev.Process.Comm, ev.Args)
	}
	if n := ls.count(func(ev *event.Event) bool { return ev.Name == "module_image_chunk" }); n != 0 {
		t.Errorf("%d module_image_chunk events were published", n)
	}

	st := probeOf(ls, "security_kernel_post_read_file")
	if r.FinitModule == "ENOSYS" || st.Fallback {
		// no module support, or no hook: nothing read the file's bytes
		time.Sleep(300 * time.Millisecond)
		if n := ls.count(captured("security_kernel_post_read_file")); n != 0 {
			t.Errorf("%d captures of a file the kernel did not read (%s, %s)", n, r.FinitModule, st.Probe)
		}
		t.Logf("finit_module %s via %s: only init_module's buffer can be captured", r.FinitModule, st.Probe)
		return
	}
	read := ls.waitFor(t, "security_kernel_post_read_file of the module file", func(ev *event.Event) bool {
		return ev.Name == "security_kernel_post_read_file" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == r.File
	})
	ev = ls.waitFor(t, "the capture of the file finit_module loads", captured("security_kernel_post_read_file"))
	data := checkCaptured(t, ev, dir)
	if read.Args["type"] != "module" || read.Args["size"] != uint64(len(data)) || ev.Args["pathname"] != r.File ||
		!bytes.HasPrefix(data, []byte("this is not a kernel module")) {
		t.Errorf("post_read_file %v, capture %v of %q", read.Args, ev.Args, data)
	}
}

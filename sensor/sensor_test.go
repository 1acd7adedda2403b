package sensor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load"
	"github.com/vigil-sec/vigil/sensor/load/sysevent"
)

// Privileged tests: they load the BPF objects into the running kernel and
// trigger real behaviour. CI runs them as root; so does make vmtest, inside
// qemu on stock distribution kernels.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: loading BPF programs needs root (run the tests as root, as CI does)")
	}
}

// liveSensor runs a sensor for the test and collects every event it emits.
type liveSensor struct {
	s      *Sensor
	mu     sync.Mutex
	events []*event.Event
	cancel context.CancelFunc
	done   chan error
	shared bool // the package's shared sensor: a test must not change its state
}

// The sensor most tests share: loading every program takes seconds on a
// slow (emulated) machine, and the default configuration serves most tests.
// It starts with the first test that asks for it and stops in TestMain.
var shared struct {
	once sync.Once
	ls   *liveSensor
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ls := shared.ls; ls != nil {
		ls.cancel()
		if err := <-ls.done; err != nil {
			fmt.Fprintf(os.Stderr, "the shared sensor's run: %v\n", err)
			code = 1
		}
		ls.s.Close()
	}
	os.Exit(code)
}

// startSensor gives the test a sensor with the default events and those in
// enable, collecting from now on: the shared one when enable is empty, a
// sensor of its own otherwise.
func startSensor(t *testing.T, enable ...string) *liveSensor {
	t.Helper()
	needRoot(t)
	if len(enable) > 0 {
		return ownSensor(t, Config{Enable: enable})
	}
	shared.once.Do(func() {
		log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel)
		var s *Sensor
		if s, shared.err = New(Config{Logger: log, ProbeTier: testTier()}); shared.err == nil {
			shared.ls = runSensor(s)
			shared.ls.shared = true
		}
	})
	if shared.err != nil {
		t.Fatalf("starting the shared sensor: %v", shared.err)
	}
	ls := shared.ls
	ls.mu.Lock()
	ls.events = nil // what earlier tests caused is not this test's
	ls.mu.Unlock()
	return ls
}

// ownSensor starts a sensor with cfg for this test alone (its logs go to
// the test's log), stopped when the test ends.
func ownSensor(t *testing.T, cfg Config) *liveSensor {
	t.Helper()
	needRoot(t)
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	if cfg.ProbeTier == "" {
		cfg.ProbeTier = testTier()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("starting the sensor: %v", err)
	}
	ls := runSensor(s)
	t.Cleanup(func() {
		ls.cancel()
		if err := <-ls.done; err != nil {
			t.Errorf("sensor run: %v", err)
		}
		s.Close()
	})
	return ls
}

// testTier is the probe tier the tests' sensors use: VIGIL_PROBE_TIER
// ("kprobe" in make vmtest's kprobe run), else every probe in order.
func testTier() string { return os.Getenv("VIGIL_PROBE_TIER") }

func runSensor(s *Sensor) *liveSensor {
	ctx, cancel := context.WithCancel(context.Background())
	ls := &liveSensor{s: s, cancel: cancel, done: make(chan error, 1)}
	go func() {
		ls.done <- s.Run(ctx, func(ev *event.Event) {
			ls.mu.Lock()
			ls.events = append(ls.events, ev)
			ls.mu.Unlock()
		})
	}()
	return ls
}

// probeOf returns the probe status of the event called name.
func probeOf(ls *liveSensor, name string) ProbeStatus {
	for _, st := range ls.s.Probes() {
		if st.Event == name {
			return st
		}
	}
	return ProbeStatus{}
}

// snapshot returns the events collected so far.
func (ls *liveSensor) snapshot() []*event.Event {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return slices.Clone(ls.events)
}

// waitFor waits until an event matching ok arrives, failing after 10 s. It
// looks at each event once, so busy events (sched_switch) do not hold up
// the reader, and says what the ring buffer dropped when it fails.
func (ls *liveSensor) waitFor(t *testing.T, what string, ok func(*event.Event) bool) *event.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	seen := 0
	for time.Now().Before(deadline) {
		ls.mu.Lock()
		batch := ls.events[min(seen, len(ls.events)):]
		seen = len(ls.events)
		ls.mu.Unlock()
		for _, ev := range batch {
			if ok(ev) {
				return ev
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var names []string
	for _, ev := range ls.events[max(0, len(ls.events)-60):] {
		names = append(names, ev.Name+"/"+ev.Process.Comm)
	}
	st := ls.s.Stats()
	t.Fatalf("no %s event within 10s (%d events; kernel drops %v, decode errors %d %s); last events: %s",
		what, len(ls.events), st.KernelDrops, st.DecodeErrors, st.LastError, strings.Join(names, " "))
	return nil
}

// triggers returns the directory with the trigger programs: VIGIL_TRIGGERS_DIR
// (the vmtest guest has them prebuilt), else they are built here.
func triggers(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("VIGIL_TRIGGERS_DIR"); d != "" {
		return d
	}
	dir, err := os.MkdirTemp("", "vigil-triggers-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// the set-uid helper is run by an unprivileged user: it must reach it
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	cmd := exec.Command("go", "build", "-o", dir+"/", "./testdata/triggers/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the triggers: %v\n%s", err, out)
	}
	return dir
}

func runTrigger(t *testing.T, cmd *exec.Cmd, report any) {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Logf("%s stderr: %s", cmd.Path, ee.Stderr)
		}
	}
	line := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
	if err := json.Unmarshal([]byte(line), report); err != nil {
		t.Fatalf("%s printed %q: %v", cmd.Path, out, err)
	}
}

func TestSensorProbesOnThisKernel(t *testing.T) {
	// every event, off-by-default ones too: each must attach somewhere
	ls := startSensor(t, event.Names()...)
	// "preferred" inside make vmtest, "kprobe" in its kprobe-tier run
	expect := os.Getenv("VIGIL_EXPECT_PROBES")
	if expect == "kprobe" && testTier() != load.TierKprobe {
		t.Fatalf("VIGIL_EXPECT_PROBES=kprobe needs VIGIL_PROBE_TIER=kprobe (have %q)", testTier())
	}
	byName := map[string]ProbeStatus{}
	for _, st := range ls.s.Probes() {
		byName[st.Event] = st
		t.Logf("%-20s %-45s fallback=%v", st.Event, st.Probe, st.Fallback)
	}
	for _, spec := range event.All() {
		st, ok := byName[spec.Name]
		if !ok {
			t.Errorf("event %s: no probe status", spec.Name)
			continue
		}
		// a probe tried here may be refused (no such hook or tracepoint),
		// never for a CO-RE relocation the C does not guard: the verifier
		// refusal is logged as an error at every start (an op struct of a
		// newer kernel, as io_ftrunc on 6.1)
		if st.Err != nil && strings.Contains(st.Err.Error(), "bad CO-RE relocation") {
			t.Errorf("kernel %s: event %s: a probe failed on an unguarded CO-RE relocation: %v", kernelRelease(), spec.Name, st.Err)
		}
		if st.Probe == "" {
			if expect == "kprobe" && !slices.ContainsFunc(load.EventProbes(spec.ID), load.Probe.Kprobe) {
				// no kprobe variant, and the rest does not load here
				// (cap_capable on a kernel without the capability tracepoint)
				t.Logf("kprobe tier: event %s has no kprobe variant and nothing else attached: %v", spec.Name, st.Err)
				continue
			}
			if missing := missingTracepoints(t, spec); missing != "" {
				// every probe hangs on a tracepoint this kernel does not
				// have (io_uring_submit_req before Linux 6.4's io_uring
				// tracepoints): the event does not exist here
				t.Logf("event %s: this kernel has no tracepoint %s: %v", spec.Name, missing, st.Err)
				continue
			}
			if absent := absentSyscalls(spec); absent != "" && expect != "preferred" {
				t.Logf("event %s: this kernel has no syscall %s: %v", spec.Name, absent, st.Err)
				continue
			}
			if expect != "preferred" && expect != "kprobe" && hooksOnly(spec) {
				// no fallback exists for it (udp_destroy_sock): on a
				// kernel without fentry and kprobes it has no probe
				t.Logf("event %s has no probe but kernel hooks, none of which loads here: %v", spec.Name, st.Err)
				continue
			}
			t.Errorf("event %s: nothing attached: %v", spec.Name, st.Err)
			continue
		}
		if want := preferredHere(t, spec, false); expect == "preferred" && st.Probe != want.Name {
			t.Errorf("kernel %s: event %s got probe %q, want the preferred %q (%v)", kernelRelease(), spec.Name, st.Probe, want.Name, st.Err)
		}
		// the kprobe tier: the first probe that is no trampoline, which is
		// the kprobe variant wherever there is one
		if expect == "kprobe" {
			if want := preferredHere(t, spec, true); st.Probe != want.Name {
				t.Errorf("kernel %s, kprobe tier: event %s got probe %q, want %q (%v)", kernelRelease(), spec.Name, st.Probe, want.Name, st.Err)
			}
		}
	}
	// This development kernel refuses fentry and has no kprobes: the
	// credential change must come from the syscall-layer fallback.
	if expect == "" || expect == "fallback" {
		for _, spec := range event.All() {
			first := load.EventProbes(spec.ID)[0].Name
			if !strings.HasPrefix(first, "fentry/") && !strings.HasPrefix(first, "kprobe/") || hooksOnly(spec) {
				continue
			}
			if st := byName[spec.Name]; !st.Fallback && absentSyscalls(spec) == "" {
				t.Errorf("kernel %s: %s attached %q, expected its fallback here", kernelRelease(), spec.Name, st.Probe)
			}
		}
		if !byName["commit_creds"].Fallback {
			t.Errorf("commit_creds is not on its fallback")
		}
	}
}

// hooksOnly tells whether every probe of an event is a kernel-function hook
// (fentry, fexit, kprobe, kretprobe): such an event has no fallback.
// missingTracepoints returns the tracepoints an event's probes hang on when
// every probe is a tracepoint probe and none of them is in the running
// kernel's BTF (btf_trace_<name>); "" otherwise.
// preferredHere is the probe an event attaches by preference on this
// kernel: its first, passing over the tracepoint probes whose tracepoint the
// kernel does not have (io_uring_submit_req before Linux 6.4, whose
// io_uring_submit_sqe is the same tracepoint by its old name), and in the
// kprobe tier (noTrampolines) the trampoline probes.
func preferredHere(t *testing.T, spec event.Spec, noTrampolines bool) load.Probe {
	t.Helper()
	probes := load.EventProbes(spec.ID)
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatalf("kernel BTF: %v", err)
	}
	for _, pb := range probes {
		if noTrampolines && pb.Trampoline() {
			continue
		}
		if kind := pb.Kind(); kind != "tp_btf" && kind != "raw_tracepoint" {
			return pb
		}
		_, rest, _ := strings.Cut(pb.Name, "/")
		name, _, _ := strings.Cut(rest, "+")
		var td *btf.Typedef
		if err := kernel.TypeByName("btf_trace_"+name, &td); err == nil {
			return pb
		}
	}
	return probes[0]
}

func missingTracepoints(t *testing.T, spec event.Spec) string {
	t.Helper()
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatalf("kernel BTF: %v", err)
	}
	var names []string
	for _, pb := range load.EventProbes(spec.ID) {
		if kind := pb.Kind(); kind != "tp_btf" && kind != "raw_tracepoint" {
			return ""
		}
		_, rest, _ := strings.Cut(pb.Name, "/")
		name, _, _ := strings.Cut(rest, "+")
		var td *btf.Typedef
		if err := kernel.TypeByName("btf_trace_"+name, &td); err == nil {
			return ""
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

// absentSyscalls returns the syscalls (comma separated) an event's
// syscall-layer probes need and this kernel does not have, when every such
// probe needs one (init_module on a kernel built without module support: the
// syscall returns ENOSYS and has no trace event); "" when the event has a
// syscall-layer probe this kernel can attach, or none at all.
func absentSyscalls(spec event.Spec) string {
	var absent []string
	for _, pb := range load.EventProbes(spec.ID) {
		if pb.Trampoline() || pb.Kprobe() {
			continue
		}
		lacks := false
		for _, pr := range pb.Programs {
			if len(pr.Syscalls) == 0 {
				continue
			}
			if missing := missingSyscalls(pr.Syscalls...); len(missing) == len(pr.Syscalls) {
				lacks = true
				for _, sc := range missing {
					if !slices.Contains(absent, sc) {
						absent = append(absent, sc)
					}
				}
			}
		}
		if !lacks {
			return ""
		}
	}
	return strings.Join(absent, ", ")
}

// missingSyscalls returns those of syscalls that have no trace event on this
// kernel (tracefs lists syscalls/sys_enter_<name> for each it has).
func missingSyscalls(syscalls ...string) []string {
	var out []string
	for _, sc := range syscalls {
		if _, err := os.Stat("/sys/kernel/tracing/events/syscalls/" + sysevent.Event("sys_enter", sc)); err != nil {
			out = append(out, sc)
		}
	}
	return out
}

func hooksOnly(spec event.Spec) bool {
	for _, pb := range load.EventProbes(spec.ID) {
		switch pb.Kind() {
		case "fentry", "fexit", "kprobe", "kretprobe":
		default:
			return false
		}
	}
	return true
}

func TestSensorSeesModuleLoads(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	var r struct {
		Pid         uint32 `json:"pid"`
		File        string `json:"file"`
		InitModule  string `json:"init_module"`
		FinitModule string `json:"finit_module"`
		Fd          int    `json:"fd"`
		Params      string `json:"params"`
		Flags       int    `json:"flags"`
		Dev         uint64 `json:"dev"`
		Inode       uint64 `json:"inode"`
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "kmod")), &r)
	if r.Params == "" || r.Flags == 0 {
		t.Fatalf("kmod passed no parameters or flags: %+v", r)
	}
	ev := ls.waitFor(t, "init_module", func(ev *event.Event) bool {
		return ev.Name == "init_module" && ev.Process.HostPid == r.Pid
	})
	if ev.Args["len"] != uint64(64) || ev.Args["param_values"] != r.Params {
		t.Errorf("init_module len %v param_values %q, want 64 %q", ev.Args["len"], ev.Args["param_values"], r.Params)
	}
	if r.InitModule != "ok" && ev.ReturnValue >= 0 {
		t.Errorf("init_module failed with %s but the event says %d", r.InitModule, ev.ReturnValue)
	}
	ev = ls.waitFor(t, "finit_module", func(ev *event.Event) bool {
		return ev.Name == "finit_module" && ev.Process.HostPid == r.Pid
	})
	if !argsMatch(ev, map[string]any{"pathname": r.File, "fd": r.Fd, "param_values": r.Params, "flags": r.Flags}) {
		t.Errorf("finit_module %v, want pathname %s fd %d param_values %q flags %d", ev.Args, r.File, r.Fd, r.Params, r.Flags)
	}
	if !strings.HasSuffix(ev.Process.Exe, "/kmod") {
		t.Errorf("exe = %q, want the kmod trigger", ev.Process.Exe)
	}
	// the trigger shares the test's namespaces
	for _, ns := range []struct {
		name string
		got  uint32
	}{{"pid", ev.Process.PidNS}, {"mnt", ev.Process.MntNS}} {
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/self/ns/"+ns.name, &st); err != nil {
			t.Fatal(err)
		}
		if uint64(ns.got) != st.Ino {
			t.Errorf("%s namespace = %d, want %d", ns.name, ns.got, st.Ino)
		}
	}
	ev = ls.waitFor(t, "security_kernel_read_file of the module file", func(ev *event.Event) bool {
		return ev.Name == "security_kernel_read_file" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == r.File
	})
	if ev.Args["type"] != "module" || argU(ev, "dev") != r.Dev || argU(ev, "inode") != r.Inode {
		t.Errorf("security_kernel_read_file type %v dev %v inode %v, want module %d %d", ev.Args["type"], ev.Args["dev"], ev.Args["inode"], r.Dev, r.Inode)
	}
}

func TestSensorSeesMemfdExec(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	var r struct {
		Pid   uint32 `json:"pid"`
		Memfd string `json:"memfd"`
	}
	runTrigger(t, exec.Command(filepath.Join(dir, "memfdexec"), "/bin/true"), &r)
	ev := ls.waitFor(t, "memfd_create", func(ev *event.Event) bool {
		return ev.Name == "memfd_create" && ev.Process.HostPid == r.Pid && ev.Args["name"] == r.Memfd
	})
	if argU(ev, "flags") != unix.MFD_CLOEXEC {
		t.Errorf("memfd_create flags %v, want MFD_CLOEXEC", ev.Args["flags"])
	}
	// the same pid first execs the trigger, then the memfd (argv[0] is its name)
	ev = ls.waitFor(t, "sched_process_exec of the memfd", func(ev *event.Event) bool {
		a, _ := ev.Args["argv"].([]string)
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == r.Pid && len(a) > 0 && a[0] == r.Memfd
	})
	if ev.Args["memfd"] != true || ev.Args["deleted"] != true {
		t.Errorf("exec of a memfd: memfd=%v deleted=%v, want both true (args %v)", ev.Args["memfd"], ev.Args["deleted"], ev.Args)
	}
	if p, _ := ev.Args["pathname"].(string); !strings.Contains(p, "memfd:"+r.Memfd) {
		t.Errorf("pathname = %q, want it to name memfd:%s", p, r.Memfd)
	}
	ls.waitFor(t, "security_bprm_check of the memfd", func(ev *event.Event) bool {
		p, _ := ev.Args["pathname"].(string)
		return ev.Name == "security_bprm_check" && ev.Process.HostPid == r.Pid && strings.Contains(p, "memfd:"+r.Memfd)
	})
	// and an ordinary exec is not a memfd
	exec.Command("/bin/true").Run()
	ev = ls.waitFor(t, "exec of /bin/true", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Args["filename"] == "/bin/true"
	})
	if ev.Args["memfd"] != false || ev.Args["deleted"] != false {
		t.Errorf("/bin/true: memfd=%v deleted=%v", ev.Args["memfd"], ev.Args["deleted"])
	}
}

func TestSensorSeesCredentialsRaisedToRoot(t *testing.T) {
	ls := startSensor(t)
	dir := triggers(t)
	// a set-uid-root copy, run by an unprivileged user
	helper := filepath.Join(dir, "setuidroot-suid")
	data, err := os.ReadFile(filepath.Join(dir, "setuidroot"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(helper, data, 0o755); err != nil {
		t.Fatal(err)
	}
	// os.FileMode's set-uid flag is os.ModeSetuid, not the octal 04000
	if err := os.Chmod(helper, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helper)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var r struct {
		Pid    uint32 `json:"pid"`
		Before struct{ UID, EUID int }
		After  struct{ UID, EUID int }
	}
	runTrigger(t, cmd, &r)
	if r.After.UID != 0 {
		t.Fatalf("the set-uid helper did not become root (nosuid mount?): %+v", r)
	}
	ev := ls.waitFor(t, "commit_creds raising uid to 0", func(ev *event.Event) bool {
		return ev.Name == "commit_creds" && ev.Process.HostPid == r.Pid &&
			ev.Args["old_uid"] == uint64(65534) && ev.Args["new_uid"] == uint64(0)
	})
	t.Logf("commit_creds via %s: %v", ev.Probe, ev.Args)
	ev = ls.waitFor(t, "commit_creds at exec (euid 65534 -> 0)", func(ev *event.Event) bool {
		return ev.Name == "commit_creds" && ev.Process.HostPid == r.Pid &&
			ev.Args["old_euid"] == uint64(65534) && ev.Args["new_euid"] == uint64(0)
	})
	if ev.Process.Exe != helper || ev.Args["exe"] != helper {
		t.Errorf("credential change at exec names exe %q (argument exe %v), want the new program %q", ev.Process.Exe, ev.Args["exe"], helper)
	}
	ls.waitFor(t, "setuid(0)", func(ev *event.Event) bool {
		return ev.Name == "setuid" && ev.Process.HostPid == r.Pid && ev.Args["uid"] == uint64(0) && ev.ReturnValue == 0
	})
}

// A long argv is one event: the caller's, in a failed execve, and the
// kernel's copy, in sched_process_exec.
func TestSensorLongArgvIsOneEvent(t *testing.T) {
	ls := startSensor(t)
	args := []string{"-c", "exit 0", "vigil-argv-test"}
	for i := 0; i < 300; i++ {
		args = append(args, strings.Repeat("x", 50))
	}
	missing := filepath.Join(t.TempDir(), "missing-sh")
	for _, prog := range []string{"/bin/sh", missing} {
		exec.Command(prog, args...).Run()
	}
	ev := ls.waitFor(t, "sched_process_exec with a long argv", func(ev *event.Event) bool {
		a, _ := ev.Args["argv"].([]string)
		return ev.Name == "sched_process_exec" && len(a) > 3 && a[3] == "vigil-argv-test"
	})
	// the kernel's copy is read as one area of at most 8 KiB
	if argv := ev.Args["argv"].([]string); len(argv) < 100 || !slices.Equal(argv[1:4], args[:3]) {
		t.Errorf("sched_process_exec argv has %d elements starting %q, want at least 100 starting %q", len(argv), argv[:min(4, len(argv))], args[:3])
	}
	// header: the first 64 bytes of the program the kernel loaded
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ev.Args["header"].([]byte); !bytes.Equal(h, sh[:64]) {
		t.Errorf("sched_process_exec header %q, want /bin/sh's first 64 bytes %q", h, sh[:64])
	}
	ev = ls.waitFor(t, "failed execve with a long argv", func(ev *event.Event) bool {
		a, _ := ev.Args["argv"].([]string)
		return ev.Name == "execve" && len(a) > 3 && a[3] == "vigil-argv-test"
	})
	if argv := ev.Args["argv"].([]string); len(argv) != len(args)+1 {
		t.Errorf("execve argv has %d elements, want %d in one event", len(argv), len(args)+1)
	}
	if p := event.ExecveArgs(ev.Args).Pathname(); p != missing || ev.ReturnValue != -int64(unix.ENOENT) {
		t.Errorf("execve pathname %q return %d, want %q as passed, -ENOENT", p, ev.ReturnValue, missing)
	}
}

// A malformed record in the ring buffer is counted and reported, and the
// sensor goes on decoding what follows.
func TestSensorSurvivesMalformedRecord(t *testing.T) {
	ls := startSensor(t)
	events := ls.s.ld.Map("events")
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.SocketFilter,
		License: "GPL",
		Instructions: asm.Instructions{
			// 16 bytes of junk on the stack, far shorter than a header
			asm.StoreImm(asm.R10, -16, 0x0bad0bad, asm.Word),
			asm.StoreImm(asm.R10, -12, 0x0bad0bad, asm.Word),
			asm.StoreImm(asm.R10, -8, 0x0bad0bad, asm.Word),
			asm.StoreImm(asm.R10, -4, 0x0bad0bad, asm.Word),
			asm.LoadMapPtr(asm.R1, events.FD()),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -16),
			asm.Mov.Imm(asm.R3, 16),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnRingbufOutput.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatalf("loading the junk writer: %v", err)
	}
	defer prog.Close()
	before := ls.s.Stats().DecodeErrors
	if _, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
		t.Fatalf("running the junk writer: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ls.s.Stats().DecodeErrors == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := ls.s.Stats()
	if st.DecodeErrors != before+1 || st.ErrorKinds[ErrShortRecord.Error()] == 0 {
		t.Fatalf("malformed record not counted: %+v", st)
	}
	if !strings.Contains(st.LastError, "record at offset") {
		t.Errorf("last error %q does not name the offset", st.LastError)
	}
	exec.Command("/bin/true", "after-junk").Run()
	ls.waitFor(t, "an exec after the junk record", func(ev *event.Event) bool {
		a, _ := ev.Args["argv"].([]string)
		return ev.Name == "sched_process_exec" && len(a) == 2 && a[1] == "after-junk"
	})
}

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func TestSensorEventSelection(t *testing.T) {
	needRoot(t)
	if _, err := New(Config{Logger: zerolog.Nop(), Enable: []string{"execv"}}); !errors.Is(err, ErrUnknownEventName) || !strings.Contains(err.Error(), `"execv"`) {
		t.Fatalf("enabling an unknown event: %v, want ErrUnknownEventName naming it", err)
	}
	s, err := New(Config{Logger: zerolog.Nop(), Disable: []string{"execve"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, st := range s.Probes() {
		spec, _ := event.Lookup(st.Event)
		want := spec.Off || st.Event == "execve"
		if st.Disabled != want {
			t.Errorf("%s: disabled=%v, want %v", st.Event, st.Disabled, want)
		}
		if st.Disabled && st.Probe != "" {
			t.Errorf("%s is disabled but attached %s", st.Event, st.Probe)
		}
	}
}

// A syscall has one handler per direction: a second program claiming it is
// an error of the event table, not a second handler saving state for it.
func TestSensorSyscallSlotHasOneOwner(t *testing.T) {
	ls := startSensor(t)
	err := ls.s.ld.Ensure(load.Program{Name: "sys_enter_save", Syscalls: []string{"execve"}})
	if err == nil || !strings.Contains(err.Error(), "already has handler sys_enter_execve") {
		t.Fatalf("claiming execve's sys_enter slot twice: %v", err)
	}
}

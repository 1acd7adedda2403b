package vmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// probeKind is one kind of BPF attachment the sensor uses, with a real hook
// to attach it to and an action that makes the hook run.
type probeKind struct {
	name string // kind/target, as the failure message names it
	// preferred kinds are the ones only a kernel with kprobes, BPF
	// trampolines and the BPF LSM offers; the others are the fallbacks
	// that must work on every kernel the sensor supports.
	preferred bool
	spec      func() *ebpf.ProgramSpec
	attach    func(*ebpf.Program) (link.Link, error)
	trigger   func(*testing.T)
}

// openFile makes the kernel run security_file_open, the file_open LSM hook
// and the openat syscall.
func openFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "probe-marker")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// execTrue makes the kernel run an exec (sched_process_exec, and
// commit_creds while installing the new program's credentials).
func execTrue(t *testing.T) {
	path, err := exec.LookPath("true")
	if err != nil {
		t.Fatalf("no true(1) to exec: %v", err)
	}
	if out, err := exec.Command(path).CombinedOutput(); err != nil {
		t.Fatalf("exec %s: %v: %s", path, err, out)
	}
}

func tracing(attachType ebpf.AttachType, to string) func() *ebpf.ProgramSpec {
	return func() *ebpf.ProgramSpec {
		return &ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: attachType, AttachTo: to}
	}
}

func typed(typ ebpf.ProgramType) func() *ebpf.ProgramSpec {
	return func() *ebpf.ProgramSpec { return &ebpf.ProgramSpec{Type: typ} }
}

func attachTracing(p *ebpf.Program) (link.Link, error) {
	return link.AttachTracing(link.TracingOptions{Program: p})
}

var kinds = []probeKind{
	{"kprobe/security_file_open", true, typed(ebpf.Kprobe),
		func(p *ebpf.Program) (link.Link, error) { return link.Kprobe("security_file_open", p, nil) }, openFile},
	{"kretprobe/security_file_open", true, typed(ebpf.Kprobe),
		func(p *ebpf.Program) (link.Link, error) { return link.Kretprobe("security_file_open", p, nil) }, openFile},
	{"fentry/security_file_open", true, tracing(ebpf.AttachTraceFEntry, "security_file_open"), attachTracing, openFile},
	{"fexit/commit_creds", true, tracing(ebpf.AttachTraceFExit, "commit_creds"), attachTracing, execTrue},
	{"lsm/file_open", true, func() *ebpf.ProgramSpec {
		return &ebpf.ProgramSpec{Type: ebpf.LSM, AttachType: ebpf.AttachLSMMac, AttachTo: "file_open"}
	}, func(p *ebpf.Program) (link.Link, error) { return link.AttachLSM(link.LSMOptions{Program: p}) }, openFile},
	{"tp_btf/sched_process_exec", false, tracing(ebpf.AttachTraceRawTp, "sched_process_exec"), attachTracing, execTrue},
	{"raw_tracepoint/sys_enter", false, typed(ebpf.RawTracepoint),
		func(p *ebpf.Program) (link.Link, error) {
			return link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: p})
		}, openFile},
	{"tracepoint/syscalls/sys_enter_openat", false, typed(ebpf.TracePoint),
		func(p *ebpf.Program) (link.Link, error) {
			return link.Tracepoint("syscalls", "sys_enter_openat", p, nil)
		}, openFile},
}

// counterProgram increments counts[slot] each time it runs and returns 0,
// which every program type above accepts (for the LSM hook 0 means allow).
func counterProgram(counts *ebpf.Map, slot int32) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, -4, int64(slot), asm.Word), // key on the stack
		asm.LoadMapPtr(asm.R1, counts.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown kernel"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// expectPreferred reports whether this kernel must offer the preferred probe
// kinds. make vmtest sets VIGIL_EXPECT_PROBES=preferred for the kernels it
// boots; elsewhere (a developer's machine, CI's host kernel) they are tried
// and a refusal is reported as a skip.
func expectPreferred() bool { return os.Getenv("VIGIL_EXPECT_PROBES") == "preferred" }

// TestProbeKinds loads, attaches and fires one tiny program per probe kind.
func TestProbeKinds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load BPF programs")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Fatalf("removing the memlock limit: %v", err)
	}
	release := kernelRelease()
	counts, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: uint32(len(kinds))})
	if err != nil {
		t.Fatalf("creating the counter map on %s: %v", release, err)
	}
	defer counts.Close()

	for i, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			// refused reports a probe kind this kernel does not offer.
			refused := func(step string, err error) {
				t.Helper()
				if k.preferred && !expectPreferred() {
					t.Skipf("%s on kernel %s: %s: %v (this kernel does not offer it; make vmtest requires it on the kernels it boots)", k.name, release, step, err)
				}
				t.Fatalf("%s on kernel %s: %s: %v", k.name, release, step, err)
			}
			spec := k.spec()
			spec.Name = fmt.Sprintf("vmtest_%d", i)
			spec.License = "GPL"
			spec.Instructions = counterProgram(counts, int32(i))
			prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch})
			if err != nil {
				var ve *ebpf.VerifierError
				if errors.As(err, &ve) {
					t.Logf("verifier log:\n%+v", ve)
				}
				refused("load", err)
			}
			defer prog.Close()
			l, err := k.attach(prog)
			if err != nil {
				refused("attach", err)
			}
			defer l.Close()

			var before uint64
			if err := counts.Lookup(uint32(i), &before); err != nil {
				t.Fatal(err)
			}
			// The hook runs synchronously in the triggering syscall, but a
			// few retries keep a slow emulated machine from flaking.
			var after uint64
			for try := 0; try < 5 && after <= before; try++ {
				k.trigger(t)
				if err := counts.Lookup(uint32(i), &after); err != nil {
					t.Fatal(err)
				}
				if after <= before {
					time.Sleep(20 * time.Millisecond)
				}
			}
			if after <= before {
				t.Fatalf("%s on kernel %s: attached but never ran (count stayed %d)", k.name, release, before)
			}
			t.Logf("%s on kernel %s: attached, ran %d time(s)", k.name, release, after-before)
		})
	}
}

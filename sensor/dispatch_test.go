package sensor

import (
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/sensor/load"
)

// BenchmarkUnselectedSyscall measures what a syscall no event selects
// (getppid) pays for each way of hooking the syscall layer, against the
// bare syscall in the same run (go test -bench UnselectedSyscall, root):
//
//   - raw-tp-empty: one empty program on raw_tracepoint/sys_enter and one on
//     sys_exit, the floor of any raw tracepoint design;
//   - raw-exit-empty: one empty program on raw_tracepoint/sys_exit, the
//     floor of a raw sys_exit watcher;
//   - handlers-openat: vigil's open handler attached as the file_open
//     fallback attaches it (syscalls/sys_exit_openat and the other opens):
//     getppid runs none of it;
//   - enosys-watcher: the raw sys_exit program that sees init_module,
//     finit_module and kexec on a kernel built without them (no trace events
//     there): one program, out after one compare of the return value;
//   - tracepoints: per-syscall tracepoints (syscalls/sys_enter_openat and
//     sys_exit_openat) with empty programs: getppid runs none of them.
func BenchmarkUnselectedSyscall(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipped: attaching BPF programs needs root")
	}
	empty := func(b *testing.B, typ ebpf.ProgramType) *ebpf.Program {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: typ, License: "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.Close() })
		return p
	}
	variants := []attachVariant{
		{"raw-tp-empty", func(b *testing.B) []io.Closer {
			var out []io.Closer
			for _, tp := range []string{"sys_enter", "sys_exit"} {
				l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tp, Program: empty(b, ebpf.RawTracepoint)})
				if err != nil {
					b.Fatal(err)
				}
				out = append(out, l)
			}
			return out
		}},
		{"raw-exit-empty", func(b *testing.B) []io.Closer {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: empty(b, ebpf.RawTracepoint)})
			if err != nil {
				b.Fatal(err)
			}
			return []io.Closer{l}
		}},
		{"handlers-openat", func(b *testing.B) []io.Closer {
			// vigil's open handler on syscalls/sys_exit_openat and
			// friends, as the file_open fallback attaches it
			ld, err := load.New(zerolog.Nop(), 0)
			if err != nil {
				b.Fatal(err)
			}
			if err := ld.Ensure(load.Program{Name: "sys_exit_open", Syscalls: []string{"open", "openat", "openat2", "creat"}}); err != nil {
				b.Fatal(err)
			}
			return []io.Closer{closerFunc(ld.Close)}
		}},
		{"enosys-watcher", func(b *testing.B) []io.Closer {
			// the raw sys_exit watcher of init_module, finit_module and
			// kexec that a kernel without modules and kexec gets instead
			// of their trace events
			ld, err := load.New(zerolog.Nop(), 0)
			if err != nil {
				b.Fatal(err)
			}
			if err := ld.Ensure(load.Program{Name: "raw_tp_sys_exit_enosys"}); err != nil {
				b.Fatal(err)
			}
			return []io.Closer{closerFunc(ld.Close)}
		}},
		{"tracepoints", func(b *testing.B) []io.Closer {
			var out []io.Closer
			for _, tp := range []string{"sys_enter_openat", "sys_exit_openat"} {
				l, err := link.Tracepoint("syscalls", tp, empty(b, ebpf.TracePoint), nil)
				if err != nil {
					b.Fatal(err)
				}
				out = append(out, l)
			}
			return out
		}},
	}
	best := bestAlternating(b, variants, 50000, func() { unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0) })
	b.ReportMetric(best["bare"], "bare-ns/call")
	for _, v := range variants {
		b.ReportMetric(best[v.name]-best["bare"], v.name+"-added-ns")
	}
}

type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// BenchmarkOpenCloseRoutedExit measures what routing the open family's exit
// handler through the raw sys_exit program saves an open+close (see
// bpf/lib/raw_exit.h), on a kernel where that program is attached anyway
// (the ENOSYS watcher of a kernel without modules; elsewhere it runs here
// all the same, loaded by hand). Variants, each against bare runs
// alternating with it (thread CPU time, the fastest of many short runs):
//   - watcher: the raw sys_exit program alone;
//   - watcher+tracepoints: and sys_exit_open on the open syscalls' trace
//     events, as before routing;
//   - watcher+routed: and sys_exit_open called from the raw program.
//
// The handler runs with the loader's initial maps (no interest pushed): it
// does the same work in both of the last two variants, so their difference
// is the trace events' cost alone.
func BenchmarkOpenCloseRoutedExit(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipped: attaching BPF programs needs root")
	}
	opens := []string{"open", "openat", "openat2", "creat"}
	watcher := func(b *testing.B, handler bool, routed bool) []io.Closer {
		ld, err := load.New(zerolog.Nop(), 0)
		if err != nil {
			b.Fatal(err)
		}
		order := []load.Program{{Name: "raw_tp_sys_exit_enosys"}}
		if handler {
			h := load.Program{Name: "sys_exit_open", Syscalls: opens}
			if routed {
				order = append(order, h) // the watcher first: the handler is routed
			} else {
				order = append([]load.Program{h}, order...) // the handler first: on the trace events
			}
		}
		for _, p := range order {
			if err := ld.Ensure(p); err != nil {
				ld.Close()
				b.Fatal(err)
			}
		}
		if got := len(ld.RoutedExits()); routed && got != len(opens) || !routed && got != 0 {
			ld.Close()
			b.Fatalf("routed exits %v (routed %v)", ld.RoutedExits(), routed)
		}
		return []io.Closer{closerFunc(ld.Close)}
	}
	variants := []attachVariant{
		{"watcher", func(b *testing.B) []io.Closer { return watcher(b, false, false) }},
		{"watcher+tracepoints", func(b *testing.B) []io.Closer { return watcher(b, true, false) }},
		{"watcher+routed", func(b *testing.B) []io.Closer { return watcher(b, true, true) }},
	}
	best := bestAlternating(b, variants, 5000, func() {
		fd, err := unix.Openat(unix.AT_FDCWD, "/etc/hostname", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
	})
	b.ReportMetric(best["bare"], "bare-ns/open+close")
	for _, v := range variants {
		b.ReportMetric(best[v.name]-best["bare"], v.name+"-added-ns")
	}
}

// attachVariant is one configuration of programs a benchmark compares with
// none: attach sets it up, closing what it returns takes it down.
type attachVariant struct {
	name   string
	attach func(b *testing.B) []io.Closer
}

// bestAlternating times calls runs of op bare ("bare") and under each
// variant, b.N times over. The machine is shared: bare and each variant
// alternate, eight short runs each, timed by the thread's own CPU time (the
// wall clock counts the time other tenants hold the CPU), and the fastest
// run of each counts: ns per op, by variant name.
func bestAlternating(b *testing.B, variants []attachVariant, calls int, op func()) map[string]float64 {
	cpu := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			b.Fatal(err)
		}
		return ts.Nano()
	}
	timed := func() float64 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := cpu()
		for i := 0; i < calls; i++ {
			op()
		}
		return float64(cpu()-start) / float64(calls)
	}
	best := map[string]float64{}
	keep := func(name string, ns float64) {
		if v, ok := best[name]; !ok || ns < v {
			best[name] = ns
		}
	}
	for i := 0; i < b.N; i++ {
		for _, v := range variants {
			for r := 0; r < 8; r++ {
				keep("bare", timed())
			}
			links := v.attach(b)
			for r := 0; r < 8; r++ {
				keep(v.name, timed())
			}
			for _, l := range links {
				l.Close()
			}
		}
	}
	return best
}

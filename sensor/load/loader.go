package load

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load/sysevent"
)

// Maps are shared by name: each object declares the maps it uses (see
// bpf/lib/maps.h, and a family's own maps in its .c or lib header), and the
// loader creates one instance per name for all of them, so that programs
// loaded alone (see load) still meet in the same maps. Data sections
// (.rodata, .data, .bss) stay per program.
//
// requiredMaps are the ones the sensor itself reads or writes.
var requiredMaps = []string{"events", "events_critical", "critical_ids", "scratch", "pathbufs", "drops", "event_modes", "syscall_states",
	"open_filter", "open_filter_paths", "open_filter_names", "open_filter_flagsets", "open_filter_needles"}

// Values of enum event_mode in bpf/lib/record.h.
const (
	modeAny      uint32 = 0
	modeHook     uint32 = 1
	modeFallback uint32 = 2
	modeOff      uint32 = 3
)

// ProbeStatus says how one event is fed on this kernel.
type ProbeStatus struct {
	Event    string
	Probe    string // the attached probe's name, empty when none attached
	Fallback bool
	// Disabled marks an event that was not wanted (off by default, or
	// turned off): nothing was attached for it, and that is no error.
	Disabled bool
	Err      error // why no probe attached, or why preferred ones were skipped
}

type program struct {
	spec  *ebpf.ProgramSpec
	prog  *ebpf.Program
	err   error
	done  bool // attached (a syscall handler: to one syscall at least)
	links []io.Closer
	// tps holds a syscall handler's links, by the syscall whose trace
	// event it is attached to
	tps map[string]io.Closer
}

type Loader struct {
	log     zerolog.Logger
	objects []bpf.Object
	shared  map[string]*ebpf.Map
	progs   map[string]*program
	cache   *btf.Cache
	status  []ProbeStatus
	tier    string // SetTier: which probes Choose may use
	// slots names the handler attached to each syscall, per direction
	// (sys_enter, sys_exit): one handler per syscall and direction, so that
	// two claiming one (and saving state for it twice) is a table error.
	slots map[string]map[string]string
	// absent holds the syscall trace events this kernel lacks
	// (syscalls/sys_exit_fchmodat2 before 6.6), noted once and skipped.
	absent map[string]bool
}

// New reads the objects and creates their maps; ringBytes, when above 0,
// sizes the main ring buffer. Nothing is loaded or attached yet: Choose does.
func New(log zerolog.Logger, ringBytes int) (*Loader, error) {
	objs, err := bpf.Objects()
	if err != nil {
		return nil, err
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("counting CPUs: %w", err)
	}
	l := &Loader{log: log, objects: objs, shared: map[string]*ebpf.Map{}, progs: map[string]*program{}, cache: btf.NewCache(),
		slots: map[string]map[string]string{"sys_enter": {}, "sys_exit": {}}, absent: map[string]bool{}}
	self := uint32(os.Getpid())
	for _, o := range objs {
		if v, ok := o.Spec.Variables["self_tgid"]; ok {
			if err := v.Set(self); err != nil {
				return nil, fmt.Errorf("setting self_tgid in %s: %w", o.Name, err)
			}
		}
		for _, name := range []string{"scratch", "pathbufs"} {
			if m, ok := o.Spec.Maps[name]; ok {
				m.MaxEntries = uint32(ncpu)
			}
		}
		if m, ok := o.Spec.Maps["events"]; ok && ringBytes > 0 {
			m.MaxEntries = uint32(ringBytes)
		}
	}
	specs, err := sharedMapSpecs(objs)
	if err != nil {
		return nil, err
	}
	for _, name := range requiredMaps {
		if specs[name] == nil {
			return nil, fmt.Errorf("no BPF object declares map %s", name)
		}
	}
	for name, spec := range specs {
		m, err := ebpf.NewMap(spec)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("creating map %s: %w", name, err)
		}
		l.shared[name] = m
	}
	return l, nil
}

// sharedMapSpecs gathers every map the objects declare, by name. Two objects
// declaring one name differently is an error of the BPF sources.
func sharedMapSpecs(objs []bpf.Object) (map[string]*ebpf.MapSpec, error) {
	specs := map[string]*ebpf.MapSpec{}
	owner := map[string]string{}
	for _, o := range objs {
		for name, ms := range o.Spec.Maps {
			if strings.HasPrefix(name, ".") {
				continue
			}
			prev, ok := specs[name]
			if !ok {
				specs[name], owner[name] = ms, o.Name
				continue
			}
			if prev.Type != ms.Type || prev.KeySize != ms.KeySize || prev.ValueSize != ms.ValueSize ||
				prev.MaxEntries != ms.MaxEntries || prev.Flags != ms.Flags {
				return nil, fmt.Errorf("map %s is declared differently in BPF objects %s and %s", name, owner[name], o.Name)
			}
		}
	}
	return specs, nil
}

// load loads one program by name, alone in its own collection so that one
// refused program (fentry on a kernel without trampolines) does not take the
// others with it.
func (l *Loader) load(name string) *program {
	if p, ok := l.progs[name]; ok {
		return p
	}
	p := &program{tps: map[string]io.Closer{}}
	l.progs[name] = p
	for _, o := range l.objects {
		ps, ok := o.Spec.Programs[name]
		if !ok {
			continue
		}
		p.spec = ps
		spec := o.Spec.Copy()
		spec.Programs = map[string]*ebpf.ProgramSpec{name: ps.Copy()}
		repl := map[string]*ebpf.Map{}
		for mn := range spec.Maps {
			// data sections (.rodata) stay per program: they are small and
			// frozen, and the verifier prunes on their contents
			if m, ok := l.shared[mn]; ok {
				repl[mn] = m
			}
		}
		coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
			MapReplacements: repl,
			Cache:           l.cache,
			Programs:        ebpf.ProgramOptions{LogSizeStart: 1 << 20},
		})
		if err != nil {
			var ve *ebpf.VerifierError
			if errors.As(err, &ve) {
				tail := ve.Log
				if len(tail) > 20 {
					tail = tail[len(tail)-20:]
				}
				l.log.Error().Str("program", name).Msgf("verifier refused %s (last lines of its log):\n%s", name, strings.Join(tail, "\n"))
			}
			p.err = fmt.Errorf("loading %s: %w", name, err)
			return p
		}
		p.prog = coll.DetachProgram(name)
		coll.Close()
		return p
	}
	p.err = fmt.Errorf("loading %s: no such BPF program", name)
	return p
}

// Ensure loads a program and attaches it; a syscall handler is attached to
// the trace event of each of its syscalls (pr.Syscalls).
func (l *Loader) Ensure(pr Program) error {
	p := l.load(pr.Name)
	if p.err != nil {
		return p.err
	}
	if dir := syscallDirection(p.spec); dir != "" {
		return l.attachSyscalls(p, pr, dir)
	}
	if len(pr.Syscalls) > 0 {
		return fmt.Errorf("program %s (section %s) is no syscall handler, yet is given syscalls %v", pr.Name, p.spec.SectionName, pr.Syscalls)
	}
	if p.done {
		return nil
	}
	lk, err := l.attach(p.spec, p.prog)
	if err != nil {
		return fmt.Errorf("attaching %s: %w", pr.Name, err)
	}
	p.links = append(p.links, lk)
	p.done = true
	return nil
}

// syscallDirection says whether a program is a syscall handler, by its
// section: "sys_enter" or "sys_exit", "" for any other program.
func syscallDirection(ps *ebpf.ProgramSpec) string {
	if ps.Type != ebpf.TracePoint {
		return ""
	}
	switch ps.SectionName {
	case "tracepoint/syscalls/sys_enter":
		return "sys_enter"
	case "tracepoint/syscalls/sys_exit":
		return "sys_exit"
	}
	return ""
}

// attachSyscalls attaches a syscall handler to syscalls/<dir>_<syscall> for
// each of pr's syscalls it is not yet attached to. A syscall whose trace
// event this kernel lacks is skipped with a note; a handler none of whose
// syscalls has one fails.
func (l *Loader) attachSyscalls(p *program, pr Program, dir string) error {
	if len(pr.Syscalls) == 0 {
		return fmt.Errorf("syscall handler %s: no syscalls to attach it to", pr.Name)
	}
	attached := 0
	for _, sc := range pr.Syscalls {
		if p.tps[sc] != nil {
			attached++
			continue
		}
		if _, ok := syscallNumbers[sc]; !ok {
			return fmt.Errorf("program %s: unknown syscall %q", pr.Name, sc)
		}
		if owner := l.slots[dir][sc]; owner != "" && owner != pr.Name {
			return fmt.Errorf("program %s: %s of %s already has handler %s", pr.Name, dir, sc, owner)
		}
		if dir == "sys_exit" {
			if lk := l.routeExit(pr.Name, sc); lk != nil {
				p.tps[sc] = lk
				l.slots[dir][sc] = pr.Name
				attached++
				continue
			}
		}
		event := sysevent.Event(dir, sc)
		if l.absent[event] {
			continue
		}
		lk, err := link.Tracepoint("syscalls", event, p.prog, nil)
		if errors.Is(err, os.ErrNotExist) {
			l.absent[event] = true
			l.log.Info().Str("program", pr.Name).Str("tracepoint", "syscalls/"+event).
				Msgf("this kernel has no trace event syscalls/%s (no %s syscall): %s runs without it", event, sc, pr.Name)
			continue
		}
		if err != nil {
			return fmt.Errorf("attaching %s to syscalls/%s: %w", pr.Name, event, err)
		}
		p.tps[sc] = lk
		l.slots[dir][sc] = pr.Name
		attached++
	}
	if attached == 0 {
		var events []string
		for _, sc := range pr.Syscalls {
			events = append(events, "syscalls/"+sysevent.Event(dir, sc))
		}
		return fmt.Errorf("program %s: this kernel has none of the trace events %s (a kernel built without these syscalls)", pr.Name, strings.Join(events, ", "))
	}
	p.done = true
	return nil
}

// Exit handlers routed through the raw sys_exit program (bpf/lib/raw_exit.h).
//
// Where the kernel lacks syscalls vigil watches, rawExitProg hangs on the raw
// sys_exit tracepoint and runs for every syscall anyway. A handler on a
// syscall's own trace event costs that syscall the trace event's record on
// top of the handler (about 200 ns per open on the test VM); called from the
// raw program it costs only itself. rawRoutes names, for each handler that
// can be routed, its twin of the raw program's type, which the raw program
// tail-calls from raw_exit_calls by syscall number.
const rawExitProg = "raw_tp_sys_exit_enosys"

var rawRoutes = map[string]string{"sys_exit_open": "raw_exit_open", "sys_exit_mmap": "raw_exit_mmap", "sys_exit_dup": "raw_exit_dup"}

// routeCloser takes a routed syscall's handler out of raw_exit_calls. A
// handler's link for a syscall (program.tps) is one of these where the exit
// is routed.
type routeCloser struct {
	calls *ebpf.Map
	nr    uint32
}

func (r *routeCloser) Close() error {
	if err := r.calls.Delete(r.nr); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return err
	}
	return nil
}

// routed tells whether the exit of syscall sc runs from the raw sys_exit
// program.
func (l *Loader) routed(sc string) bool {
	p := l.progs[l.slots["sys_exit"][sc]]
	if p == nil {
		return false
	}
	_, ok := p.tps[sc].(*routeCloser)
	return ok
}

// routeExit routes the exit of syscall sc to handler's raw twin when the
// raw sys_exit program is attached and the handler has one; it returns the
// route's closer, or nil when the handler goes on the trace event.
func (l *Loader) routeExit(handler, sc string) io.Closer {
	twin, ok := rawRoutes[handler]
	raw := l.progs[rawExitProg]
	calls := l.shared["raw_exit_calls"]
	nr, known := syscallNumbers[sc]
	if !ok || raw == nil || !raw.done || calls == nil || !known || nr < 0 || nr >= int(calls.MaxEntries()) {
		return nil
	}
	tp := l.load(twin)
	if tp.err != nil {
		l.log.Warn().Err(tp.err).Str("program", twin).Msgf("%s stays on the trace event of %s", handler, sc)
		return nil
	}
	if err := calls.Put(uint32(nr), tp.prog); err != nil {
		l.log.Warn().Err(err).Str("program", twin).Msgf("routing %s's exit through %s: %s stays on its trace event", sc, rawExitProg, handler)
		return nil
	}
	return &routeCloser{calls: calls, nr: uint32(nr)}
}

// rerouteExits moves the routable handlers attached to trace events before
// the raw sys_exit program was attached onto it: the route first, then the
// trace event goes (a call in between may be reported twice, never lost).
func (l *Loader) rerouteExits() {
	for sc, owner := range l.slots["sys_exit"] {
		p := l.progs[owner]
		if p == nil || p.tps[sc] == nil || l.routed(sc) {
			continue
		}
		lk := l.routeExit(owner, sc)
		if lk == nil {
			continue
		}
		if err := p.tps[sc].Close(); err != nil {
			l.log.Warn().Err(err).Str("program", owner).Str("tracepoint", "syscalls/"+sysevent.Event("sys_exit", sc)).Msg("detaching a routed syscall handler")
		}
		p.tps[sc] = lk
	}
}

// attach links a program to the hook its type and section name say.
func (l *Loader) attach(ps *ebpf.ProgramSpec, p *ebpf.Program) (io.Closer, error) {
	hook := ps.SectionName
	if i := strings.IndexByte(hook, '/'); i >= 0 {
		hook = hook[i+1:]
	}
	switch ps.Type {
	case ebpf.RawTracepoint:
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: hook, Program: p})
	case ebpf.Tracing:
		return link.AttachTracing(link.TracingOptions{Program: p})
	case ebpf.LSM:
		return link.AttachLSM(link.LSMOptions{Program: p})
	case ebpf.Kprobe:
		if strings.HasPrefix(ps.SectionName, "kretprobe/") {
			return link.Kretprobe(hook, p, nil)
		}
		return link.Kprobe(hook, p, nil)
	case ebpf.TracePoint:
		group, name, ok := strings.Cut(hook, "/")
		if !ok {
			return nil, fmt.Errorf("tracepoint section %q has no group/name", ps.SectionName)
		}
		return link.Tracepoint(group, name, p, nil)
	case ebpf.SchedCLS:
		// every interface, and those that come later (tc.go)
		return attachTC(l.log, ps, p, l.shared["endpoint_owners"])
	}
	return nil, fmt.Errorf("don't know how to attach a %s program (section %s)", ps.Type, ps.SectionName)
}

// Choose attaches, for every wanted event, the first probe that works and
// tells the BPF side which one feeds it; unwanted events are switched off.
// It can run again with another want: a syscall handler is detached from the
// trace events of the syscalls no wanted event needs any more, so that
// syscalls nobody asked for run no program.
func (l *Loader) Choose(want func(event.Spec) bool) {
	l.status = nil
	needed := map[string]map[string]bool{"sys_enter": {}, "sys_exit": {}}
	for _, spec := range event.All() {
		st := ProbeStatus{Event: spec.Name}
		mode := modeAny
		if !want(spec) {
			mode = modeOff
			st.Disabled = true
		} else {
			var errs []error
			for _, pb := range EventProbes(spec.ID) {
				if !allowed(l.tier, pb) {
					errs = append(errs, fmt.Errorf("%s: not in probe tier %s", pb.Name, l.tier))
					continue
				}
				var err error
				for _, pr := range pb.Programs {
					if err = l.Ensure(pr); err != nil {
						break
					}
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", pb.Name, err))
					continue
				}
				st.Probe, st.Fallback = pb.Name, pb.Fallback
				for _, pr := range pb.Programs {
					if p := l.progs[pr.Name]; p != nil && p.spec != nil {
						if dir := syscallDirection(p.spec); dir != "" {
							for _, sc := range pr.Syscalls {
								needed[dir][sc] = true
							}
						}
					}
				}
				mode = modeHook
				if pb.Fallback {
					mode = modeFallback
				}
				break
			}
			st.Err = errors.Join(errs...)
			if st.Probe == "" {
				mode = modeOff
			}
		}
		if err := l.shared["event_modes"].Update(uint32(spec.ID), mode, ebpf.UpdateAny); err != nil {
			st.Err = errors.Join(st.Err, fmt.Errorf("setting event mode: %w", err))
		}
		l.status = append(l.status, st)
	}
	l.rerouteExits()
	l.prune(needed)
}

// prune detaches each syscall handler from the syscalls not in needed.
func (l *Loader) prune(needed map[string]map[string]bool) {
	for dir, slots := range l.slots {
		for sc, owner := range slots {
			if needed[dir][sc] {
				continue
			}
			p := l.progs[owner]
			if p == nil || p.tps[sc] == nil {
				continue
			}
			if err := p.tps[sc].Close(); err != nil {
				l.log.Warn().Err(err).Str("program", owner).Str("tracepoint", "syscalls/"+sysevent.Event(dir, sc)).Msg("detaching a syscall handler")
				continue
			}
			delete(p.tps, sc)
			delete(slots, sc)
			p.done = len(p.tps) > 0
		}
	}
}

// SyscallLinks returns, for each syscall trace event (sys_exit_openat) a
// handler is attached to, the handler's name (routed exits are not on their
// trace events: RoutedExits).
func (l *Loader) SyscallLinks() map[string]string {
	out := map[string]string{}
	for dir, slots := range l.slots {
		for sc, owner := range slots {
			if dir == "sys_exit" && l.routed(sc) {
				continue
			}
			out[sysevent.Event(dir, sc)] = owner
		}
	}
	return out
}

// RoutedExits returns, for each syscall whose exit handler runs from the raw
// sys_exit program (sys_exit_openat), the handler's name.
func (l *Loader) RoutedExits() map[string]string {
	out := map[string]string{}
	for sc, owner := range l.slots["sys_exit"] {
		if l.routed(sc) {
			out[sysevent.Event("sys_exit", sc)] = owner
		}
	}
	return out
}

// SetCritical routes the events in ids through the critical ring buffer and
// every other one through the main one.
func (l *Loader) SetCritical(ids map[event.ID]bool) error {
	for _, spec := range event.All() {
		v := uint32(0)
		if ids[spec.ID] {
			v = 1
		}
		if err := l.shared["critical_ids"].Update(uint32(spec.ID), v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("critical_ids[%s]: %w", spec.Name, err)
		}
	}
	return nil
}

// Close detaches every program and frees programs and maps.
func (l *Loader) Close() {
	for _, p := range l.progs {
		for _, lk := range p.links {
			lk.Close()
		}
		for _, lk := range p.tps {
			lk.Close()
		}
		if p.prog != nil {
			p.prog.Close()
		}
	}
	for _, m := range l.shared {
		m.Close()
	}
}

// Status reports, per event, the probe the last Choose attached.
func (l *Loader) Status() []ProbeStatus {
	out := make([]ProbeStatus, len(l.status))
	copy(out, l.status)
	return out
}

// Map returns the map the objects share under name (see requiredMaps), nil
// when no object declares it.
func (l *Loader) Map(name string) *ebpf.Map { return l.shared[name] }

// Maps returns every shared map by name; the Loader still owns them.
func (l *Loader) Maps() map[string]*ebpf.Map { return l.shared }

// Prog returns a loaded program, nil when it is not (yet) loaded.
func (l *Loader) Prog(name string) *ebpf.Program {
	if p := l.progs[name]; p != nil {
		return p.prog
	}
	return nil
}

// Links returns what attaches a program (a link, or a *TCAttachment), nil
// when it is not attached.
func (l *Loader) Links(name string) []io.Closer {
	if p := l.progs[name]; p != nil {
		return p.links
	}
	return nil
}

// SetTier limits the probes Choose may use to a tier (CheckProbeTier):
// "kprobe" skips the trampoline probes so that every event with a kprobe
// variant runs on it, as on a kernel without trampolines.
func (l *Loader) SetTier(tier string) { l.tier = tier }

// SetMode tells the BPF side which kind of probe feeds an event, as Choose
// does for the probe it picks: tests use it to run a probe Choose did not.
func (l *Loader) SetMode(id event.ID, fallback bool) error {
	mode := modeHook
	if fallback {
		mode = modeFallback
	}
	return l.shared["event_modes"].Update(uint32(id), mode, ebpf.UpdateAny)
}

// Load loads a program without attaching it: what the running kernel's
// verifier makes of it.
func (l *Loader) Load(name string) error { return l.load(name).err }

package load

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// The probe table says how each event of the contract (package event) is fed
// on a kernel: which BPF programs, attached together, and in which order of
// preference. It is kernel wiring, declared in the BPF sources beside the
// programs (PROBE, FALLBACK, HOOK_PROBES and SYSCALLS, bpf/lib/probe.h) and
// generated from them into probes_gen.go by internal/genevents (make
// generate). TestEveryProbeProgramExists checks that every event of the
// table has probes and every probe names programs that exist, with the
// syscalls a syscall handler is attached to.

// Program is one BPF program a probe needs. Syscalls, for a syscall handler
// (section tracepoint/syscalls/sys_enter or sys_exit), are the syscalls to
// whose trace events (syscalls/sys_enter_<syscall>) it is attached.
type Program struct {
	Name     string
	Syscalls []string
}

// Probe is one way of feeding an event: a set of BPF programs attached
// together. Fallback marks a probe that sees the event from the syscall layer
// (or another hook) rather than from the kernel function named by the event.
type Probe struct {
	Name     string
	Programs []Program
	Fallback bool
}

// EventProbes returns the probes that can feed an event, in order of
// preference (what `vigil events` lists); nil for an id the sensor does not
// feed.
func EventProbes(id event.ID) []Probe {
	return probeTable[id]
}

// Probe tiers (Config.ProbeTier).
const (
	TierAny    = ""
	TierKprobe = "kprobe"
)

// ErrUnknownProbeTier is returned for a Config.ProbeTier that is no tier.
var ErrUnknownProbeTier = fmt.Errorf("unknown probe tier (want %q or %q)", "any", TierKprobe)

// CheckProbeTier returns an error for a string that names no probe tier.
func CheckProbeTier(tier string) error {
	switch tier {
	case TierAny, "any", TierKprobe:
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnknownProbeTier, tier)
}

// Kind is the kind of a probe: the part of its name before the first "/"
// (fentry, kprobe, raw_tracepoint, tp_btf, tc, ...).
func (p Probe) Kind() string {
	kind, _, _ := strings.Cut(p.Name, "/")
	return kind
}

// Trampoline tells whether the probe attaches through a BPF trampoline
// (fentry, fexit, LSM), which some kernels lack.
func (p Probe) Trampoline() bool {
	switch p.Kind() {
	case "fentry", "fexit", "lsm":
		return true
	}
	return false
}

// Kprobe tells whether the probe is a kprobe or kretprobe.
func (p Probe) Kprobe() bool {
	k := p.Kind()
	return k == "kprobe" || k == "kretprobe"
}

// allowed tells whether a probe may be used in a tier.
func allowed(tier string, p Probe) bool {
	return tier != TierKprobe || !p.Trampoline()
}

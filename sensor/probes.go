package sensor

import (
	"maps"

	"github.com/vigil-sec/vigil/event"
)

// The probe tables say how each event of the contract (package event) is fed
// on a kernel: which BPF programs, attached together, and in which order of
// preference. They are kernel wiring, so they live here and not in the
// contract; one file per hook family (probes_<family>.go), keyed by event id.
// TestEveryProbeProgramExists checks that every event of the table has
// probes here and every probe names programs that exist.

// Program is one BPF program a probe needs. Syscalls, when set, are the
// syscalls whose number indexes the sys_enter or sys_exit dispatch table for a
// tail-called program.
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

// probeTable holds every event's probes in order of preference; the loader
// attaches the first the running kernel accepts.
var probeTable = joinProbes(processProbes, fileProbes, fileOpsProbes, netProbes, kernelProbes)

func joinProbes(families ...map[event.ID][]Probe) map[event.ID][]Probe {
	out := map[event.ID][]Probe{}
	for _, f := range families {
		maps.Copy(out, f)
	}
	return out
}

// EventProbes returns the probes that can feed an event, in order of
// preference (what `vigil events` lists); nil for an id the sensor does not
// feed.
func EventProbes(id event.ID) []Probe {
	return probeTable[id]
}

// syscallProbe is the probe of a syscall event recorded at exit: the entry
// program saves the arguments, the exit program emits the event with the
// return value.
func syscallProbe(exitProg string, syscalls ...string) []Probe {
	return []Probe{{
		Name: "raw_tracepoint/sys_exit",
		Programs: []Program{
			{Name: "sys_enter_save", Syscalls: syscalls},
			{Name: exitProg, Syscalls: syscalls},
		},
	}}
}

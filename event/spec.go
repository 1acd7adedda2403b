package event

import (
	"slices"
	"sort"
)

// ID is an event's stable numeric id. It is the event_id in every kernel record
// (enum event_id in bpf/lib/record.h; a test checks the two agree) and is never
// reused for another event.
type ID uint32

// Arg describes one argument of an event.
type Arg struct {
	Name string  `json:"name"`
	Type ArgType `json:"-"`
	Doc  string  `json:"doc,omitempty"`
}

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

// Spec is the one table entry of an event.
type Spec struct {
	ID   ID
	Name string
	Doc  string
	// Probes in order of preference; the sensor attaches the first the running
	// kernel accepts.
	Probes []Probe
	// Args in wire order: a record's argument index i is Args[i].
	Args []Arg
	// Off marks events that are not emitted unless asked for (hot paths).
	Off bool
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

// specs is the whole table, one slice per hook family (spec_<family>.go).
var specs = slices.Concat(processSpecs, fileSpecs, netSpecs, kernelSpecs)

var (
	byName = map[string]*Spec{}
	byID   = map[ID]*Spec{}
)

func init() {
	for i := range specs {
		s := &specs[i]
		if byName[s.Name] != nil || byID[s.ID] != nil {
			panic("event table: duplicate event " + s.Name)
		}
		byName[s.Name] = s
		byID[s.ID] = s
	}
}

// Lookup returns the spec of the event with that name.
func Lookup(name string) (Spec, bool) {
	s, ok := byName[name]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// ByID returns the spec of the event with that id.
func ByID(id ID) (Spec, bool) {
	s, ok := byID[id]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// All returns every event spec, ordered by name.
func All() []Spec {
	out := make([]Spec, len(specs))
	copy(out, specs)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns every event name, sorted.
func Names() []string {
	out := make([]string, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

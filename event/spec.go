package event

import (
	"slices"
	"sort"
)

// ID is an event's stable numeric id. It is the event_id in every kernel record
// (enum event_id in bpf/lib/event_ids.h, generated from this table by
// internal/genevents) and is never reused for another event.
type ID uint32

// IDLimit bounds every id: the BPF side sizes its per-event tables (drops,
// modes) by it (EVENT_ID_MAX).
const IDLimit ID = 1024

// Arg describes one argument of an event.
type Arg struct {
	Name string  `json:"name"`
	Type ArgType `json:"-"`
	Doc  string  `json:"doc,omitempty"`
}

// Spec is the one table entry of an event.
type Spec struct {
	ID   ID
	Name string
	Doc  string
	// Args in wire order: a record's argument index i is Args[i].
	Args []Arg
	// Off marks events that are not emitted unless asked for (hot paths).
	Off bool
}

// specs is the whole table, one slice per hook family (spec_<family>.go).
var specs = slices.Concat(processSpecs, fileSpecs, fileOpsSpecs, netSpecs, kernelSpecs)

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
		initArgInfo(s)
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

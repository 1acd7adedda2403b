package event

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Interest is what a set of signatures wants to see: the events they select
// and, for each, a necessary condition on the event's fields. It is the
// contract between the engine, which derives it from the loaded signatures,
// and the sensor, which uses it to leave uninteresting events in the kernel.
//
// Soundness is the one rule: an event instance its event's condition
// rejects can make no loaded signature fire. A producer that cannot express
// a condition widens it (to Always); a consumer that cannot apply one (the
// kernel tests only some fields) widens it further, never narrows it.
type Interest struct {
	// Events maps an event name to the condition its instances must meet.
	// An event that is not in the map interests no signature.
	Events map[string]Condition `json:"events"`
}

// Condition is a disjunction: an event instance is wanted when Always is
// set or when it meets every test of at least one of Any's alternatives.
type Condition struct {
	// Always admits every instance: some signature wants them all, or its
	// condition could not be derived.
	Always bool `json:"always,omitempty"`
	// Any holds the alternatives; each is a conjunction of tests.
	Any []Conjunction `json:"any,omitempty"`
	// Critical is set when a signature of high or critical severity selects
	// the event: the sensor gives such events reserved capacity and sends
	// them first.
	Critical bool `json:"critical,omitempty"`
}

// Conjunction is a list of tests that must all hold. An empty conjunction
// holds for every instance.
type Conjunction []Test

// Op is the kind of a Test.
type Op string

// The tests a condition is made of. String tests hold when the field is a
// string meeting the test for at least one of Strings; Eq also compares
// integers (Ints) and booleans (Bool); numeric comparisons compare an
// integer field with Ints[0]; BitsAny holds when field & Mask != 0 and
// BitsNone when field & Mask == 0; Empty holds for a field that is there
// and null, "", [] or {}. A consumer that does not know an op must let
// the test pass (a condition is necessary, never sufficient).
const (
	OpEq       Op = "eq"
	OpPrefix   Op = "prefix"
	OpSuffix   Op = "suffix"
	OpContains Op = "contains"
	OpRegex    Op = "regex"
	OpBitsAny  Op = "bits_any"
	OpBitsNone Op = "bits_none"
	OpLT       Op = "lt"
	OpLE       Op = "le"
	OpGT       Op = "gt"
	OpGE       Op = "ge"
	// OpEmpty holds when the field is there and is null, "", [] or {}.
	OpEmpty Op = "empty"
	// OpEqField holds when the field is there and equals the field named
	// by Strings[0] (some element of each where a path has "[]"):
	// args.pathname eq_field ["process.exe"].
	OpEqField Op = "eq_field"
	// OpNe holds when the field is missing or is none of Strings and Ints
	// (the negation of Eq).
	OpNe Op = "ne"
)

// Test is one test on one field of an event.
type Test struct {
	// Field is the path of the field in the event's input form, keys joined
	// by dots: "args.pathname", "process.exe", "process.uid". A segment "[]"
	// means "some element of this array" ("args.argv.[]"), "[N]" the element
	// at index N ("args.argv.[0]").
	Field   string   `json:"field"`
	Op      Op       `json:"op"`
	Strings []string `json:"strings,omitempty"`
	Ints    []int64  `json:"ints,omitempty"`
	Bool    *bool    `json:"bool,omitempty"`
	Mask    uint64   `json:"mask,omitempty"`
}

// String renders the test for people: `args.pathname prefix ["/etc/", "/root/"]`.
func (t Test) String() string {
	var b strings.Builder
	b.WriteString(t.Field)
	b.WriteByte(' ')
	b.WriteString(string(t.Op))
	switch {
	case t.Op == OpBitsAny || t.Op == OpBitsNone:
		fmt.Fprintf(&b, " %#x", t.Mask)
	case len(t.Strings) > 0:
		fmt.Fprintf(&b, " %q", t.Strings)
	case len(t.Ints) > 0:
		fmt.Fprintf(&b, " %v", t.Ints)
	case t.Bool != nil:
		fmt.Fprintf(&b, " %v", *t.Bool)
	}
	return b.String()
}

// Wants reports whether some signature selects the event.
func (in Interest) Wants(name string) bool {
	_, ok := in.Events[name]
	return ok
}

// Names returns the selected events, sorted.
func (in Interest) Names() []string {
	out := make([]string, 0, len(in.Events))
	for n := range in.Events {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Merge returns the interest of two signature sets together: the union of
// their events, each event's conditions joined as alternatives.
func (in Interest) Merge(other Interest) Interest {
	out := Interest{Events: make(map[string]Condition, len(in.Events)+len(other.Events))}
	for n, c := range in.Events {
		out.Events[n] = c
	}
	for n, c := range other.Events {
		if cur, ok := out.Events[n]; ok {
			c = cur.Or(c)
		}
		out.Events[n] = c
	}
	return out
}

// Or joins two conditions on the same event as alternatives.
func (c Condition) Or(other Condition) Condition {
	out := Condition{Critical: c.Critical || other.Critical}
	if c.Always || other.Always {
		out.Always = true
		return out
	}
	out.Any = slices.Concat(c.Any, other.Any)
	return out
}

// FieldTests projects the condition onto one field, for a consumer that can
// test only that field (the kernel tests a path, not a process's ancestry):
// it returns, per alternative, the tests of that field, and ok=false when
// some alternative does not test the field at all (or Always is set), in
// which case the field cannot narrow the event and every instance must be
// let through. An instance is wanted when, for some returned alternative,
// it meets all of that alternative's tests.
func (c Condition) FieldTests(field string) (alts [][]Test, ok bool) {
	if c.Always || len(c.Any) == 0 {
		return nil, false
	}
	for _, conj := range c.Any {
		var ts []Test
		for _, t := range conj {
			if t.Field == field {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			return nil, false
		}
		alts = append(alts, ts)
	}
	return alts, true
}

// Validate checks that every event exists and every test is well formed.
func (in Interest) Validate() error {
	for _, name := range in.Names() {
		if _, ok := Lookup(name); !ok {
			return fmt.Errorf("interest: unknown event %q", name)
		}
		for i, conj := range in.Events[name].Any {
			for _, t := range conj {
				if err := t.validate(); err != nil {
					return fmt.Errorf("interest: event %s, alternative %d: %w", name, i, err)
				}
			}
		}
	}
	return nil
}

func (t Test) validate() error {
	if t.Field == "" {
		return fmt.Errorf("test %s has no field", t.Op)
	}
	switch t.Op {
	case OpPrefix, OpSuffix, OpContains, OpRegex:
		if len(t.Strings) == 0 {
			return fmt.Errorf("test %s: %s needs strings", t.Field, t.Op)
		}
	case OpEq:
		if len(t.Strings) == 0 && len(t.Ints) == 0 && t.Bool == nil {
			return fmt.Errorf("test %s: eq needs strings, ints or a bool", t.Field)
		}
	case OpBitsAny, OpBitsNone:
		if t.Mask == 0 {
			return fmt.Errorf("test %s: %s needs a mask", t.Field, t.Op)
		}
	case OpLT, OpLE, OpGT, OpGE:
		if len(t.Ints) != 1 {
			return fmt.Errorf("test %s: %s needs one integer", t.Field, t.Op)
		}
	case OpEmpty:
	case OpNe:
		if len(t.Strings) == 0 && len(t.Ints) == 0 {
			return fmt.Errorf("test %s: ne needs strings or ints", t.Field)
		}
	case OpEqField:
		if len(t.Strings) != 1 || t.Strings[0] == "" {
			return fmt.Errorf("test %s: eq_field needs one field", t.Field)
		}
	default:
		return fmt.Errorf("test %s: unknown op %q", t.Field, t.Op)
	}
	return nil
}

package event

import (
	"encoding/base64"
	"slices"
	"strconv"
	"unsafe"
)

// ArgList holds an event's arguments as the sensor decodes them: by their
// index in the table (Spec.Args), typed, without a map. An event whose
// arguments are listed (Event.ListArgs) has a nil Args until ArgsMap builds
// it; AppendJSON writes the list directly, in the same bytes as the map it
// stands for. The sensor lists the arguments of events that it only
// publishes (sensor.Config.LazyArgs): building, filling and sorting a map
// per event was about a third of the sensor's CPU per delivered event.
type ArgList struct {
	vals  []argValue  // nil: the event's arguments are in Args
	lists *[][]string // the values of valStrings, by argValue.n
}

// argValue is one listed argument; kind 0 is an argument the record did
// not carry.
type argValue struct {
	kind valueKind
	n    uint64 // valInt (two's complement), valUint, valBool (0 or 1); valStrings: index in lists
	s    string // valString; valBytes: the bytes
}

// valueKind is the Go type a listed argument has in Args.
type valueKind uint8

const (
	valInt     valueKind = iota + 1 // int64
	valUint                         // uint64
	valBool                         // bool
	valString                       // string
	valStrings                      // []string
	valBytes                        // []byte
)

// SetInt sets argument i (Spec.Args[i]) to an int64.
func (l *ArgList) SetInt(i int, v int64) { l.vals[i] = argValue{kind: valInt, n: uint64(v)} }

// SetUint sets argument i to a uint64.
func (l *ArgList) SetUint(i int, v uint64) { l.vals[i] = argValue{kind: valUint, n: v} }

// SetBool sets argument i to a bool.
func (l *ArgList) SetBool(i int, v bool) {
	n := uint64(0)
	if v {
		n = 1
	}
	l.vals[i] = argValue{kind: valBool, n: n}
}

// SetString sets argument i to a string.
func (l *ArgList) SetString(i int, v string) { l.vals[i] = argValue{kind: valString, s: v} }

// SetStrings sets argument i to a []string; the list keeps v.
func (l *ArgList) SetStrings(i int, v []string) {
	if l.vals[i].kind == valStrings {
		(*l.lists)[l.vals[i].n] = v // set again: its place is kept
		return
	}
	if l.lists == nil {
		l.lists = new([][]string)
	}
	l.vals[i] = argValue{kind: valStrings, n: uint64(len(*l.lists))}
	*l.lists = append(*l.lists, v)
}

// SetBytes sets argument i to a copy of v (never nil: an empty v is an
// empty []byte, "" in JSON).
func (l *ArgList) SetBytes(i int, v []byte) { l.vals[i] = argValue{kind: valBytes, s: string(v)} }

// value is v as Args holds it.
func (l *ArgList) value(v *argValue) any {
	switch v.kind {
	case valInt:
		return int64(v.n)
	case valUint:
		return v.n
	case valBool:
		return v.n != 0
	case valString:
		return v.s
	case valStrings:
		return (*l.lists)[v.n]
	case valBytes:
		return []byte(v.s)
	}
	return nil
}

// ListArgs makes e's arguments a list, empty, for the decoder to fill:
// e.Args is set to nil and built from the list when ArgsMap is called.
// It returns nil when e.ID is not in the table (the arguments stay in
// Args).
func (e *Event) ListArgs() *ArgList {
	info := infoOf(e.ID)
	if info == nil {
		return nil
	}
	e.Args = nil
	e.list = ArgList{vals: make([]argValue, len(info.spec.Args))} // not nil, also when empty
	return &e.list
}

// ArgsMap returns e.Args, built first from the listed arguments when the
// sensor decoded them into a list (ListArgs): code that reads the
// arguments of a sensor's event calls it rather than read Args. After it,
// Args is the event's arguments (change it, not the list).
func (e *Event) ArgsMap() map[string]any {
	if e.Args != nil || e.list.vals == nil {
		return e.Args
	}
	info := infoOf(e.ID)
	n := 0
	for i := range e.list.vals {
		if e.list.vals[i].kind != 0 {
			n++
		}
	}
	m := make(map[string]any, n)
	for i := range e.list.vals {
		if v := &e.list.vals[i]; v.kind != 0 {
			m[info.spec.Args[i].Name] = e.list.value(v)
		}
	}
	e.Args, e.list = m, ArgList{}
	return m
}

// argInfo is what the encoder precomputes per event of the table.
type argInfo struct {
	spec *Spec
	// sorted lists the argument indexes in the order of their names
	// (the order json.Marshal writes a map's keys in), and keys[i] is
	// `"name":` of Spec.Args[i], escaped.
	sorted []int
	keys   [][]byte
}

var argInfos [IDLimit]*argInfo

func initArgInfo(s *Spec) {
	info := &argInfo{spec: s, sorted: make([]int, len(s.Args)), keys: make([][]byte, len(s.Args))}
	for i := range s.Args {
		info.sorted[i] = i
		info.keys[i] = append(appendJSONString(nil, s.Args[i].Name), ':')
	}
	slices.SortFunc(info.sorted, func(a, b int) int {
		switch x, y := s.Args[a].Name, s.Args[b].Name; {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	argInfos[s.ID] = info
}

func infoOf(id ID) *argInfo {
	if id >= IDLimit {
		return nil
	}
	return argInfos[id]
}

// appendJSONArgList writes listed arguments: the bytes appendJSONArgs
// writes for the map they stand for.
func appendJSONArgList(buf []byte, info *argInfo, l *ArgList) []byte {
	buf = append(buf, '{')
	first := true
	for _, i := range info.sorted {
		v := &l.vals[i]
		if v.kind == 0 {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, info.keys[i]...)
		switch v.kind {
		case valInt:
			buf = strconv.AppendInt(buf, int64(v.n), 10)
		case valUint:
			buf = strconv.AppendUint(buf, v.n, 10)
		case valBool:
			buf = strconv.AppendBool(buf, v.n != 0)
		case valString:
			buf = appendJSONString(buf, v.s)
		case valStrings:
			if ss := (*l.lists)[v.n]; ss == nil {
				buf = append(buf, "null"...)
			} else {
				buf = appendJSONStrings(buf, ss)
			}
		case valBytes:
			buf = append(buf, '"')
			// the string's bytes, read only
			buf = base64.StdEncoding.AppendEncode(buf, unsafe.Slice(unsafe.StringData(v.s), len(v.s)))
			buf = append(buf, '"')
		}
	}
	return append(buf, '}')
}

// MustArgIndex is the index of argument name of event id (Spec.Args), for
// code that reads an argument by index (Event.StringArg, ...) without the
// Args map; it panics when the event has no such argument of type t, so
// that a renamed or retyped argument stops the program at its start (and
// every test) instead of reading as absent.
func MustArgIndex(id ID, name string, t ArgType) int {
	if info := infoOf(id); info != nil {
		for i, a := range info.spec.Args {
			if a.Name == name {
				if a.Type != t {
					panic("event " + info.spec.Name + ": argument " + name + " is " + a.Type.String() + ", not " + t.String())
				}
				return i
			}
		}
	}
	panic("event id " + strconv.Itoa(int(id)) + " has no argument " + name)
}

// argName is the name of argument i of e's event ("" when there is none).
func (e *Event) argName(i int) string {
	if info := infoOf(e.ID); info != nil && i >= 0 && i < len(info.spec.Args) {
		return info.spec.Args[i].Name
	}
	return ""
}

// StringArg returns argument i (MustArgIndex) of e when it is a string,
// from the list when e's arguments are listed, else from Args: what
// ArgsMap would hold, without building it.
func (e *Event) StringArg(i int) (string, bool) {
	if e.Args == nil && e.list.vals != nil {
		if i < 0 || i >= len(e.list.vals) || e.list.vals[i].kind != valString {
			return "", false
		}
		return e.list.vals[i].s, true
	}
	v, ok := e.Args[e.argName(i)].(string)
	return v, ok
}

// StringsArg is StringArg for an argument that is a []string.
func (e *Event) StringsArg(i int) ([]string, bool) {
	if e.Args == nil && e.list.vals != nil {
		if i < 0 || i >= len(e.list.vals) || e.list.vals[i].kind != valStrings {
			return nil, false
		}
		return (*e.list.lists)[e.list.vals[i].n], true
	}
	v, ok := e.Args[e.argName(i)].([]string)
	return v, ok
}

// UintArg is StringArg for an unsigned argument (of any width).
func (e *Event) UintArg(i int) (uint64, bool) {
	if e.Args == nil && e.list.vals != nil {
		if i < 0 || i >= len(e.list.vals) || e.list.vals[i].kind != valUint {
			return 0, false
		}
		return e.list.vals[i].n, true
	}
	v, ok := e.Args[e.argName(i)].(uint64)
	return v, ok
}

// SetUintArg sets unsigned argument i of e, listed or in Args, to v.
func (e *Event) SetUintArg(i int, v uint64) {
	if e.Args == nil && e.list.vals != nil {
		e.list.SetUint(i, v)
		return
	}
	if name := e.argName(i); name != "" && e.Args != nil {
		e.Args[name] = v
	}
}

// SetStringArg sets argument i of e, listed or in Args, to v.
func (e *Event) SetStringArg(i int, v string) {
	if e.Args == nil && e.list.vals != nil {
		e.list.SetString(i, v)
		return
	}
	if name := e.argName(i); name != "" && e.Args != nil {
		e.Args[name] = v
	}
}

// SetStringsArg sets argument i of e, listed or in Args, to v.
func (e *Event) SetStringsArg(i int, v []string) {
	if e.Args == nil && e.list.vals != nil {
		e.list.SetStrings(i, v)
		return
	}
	if name := e.argName(i); name != "" && e.Args != nil {
		e.Args[name] = v
	}
}

// DeleteArg removes argument i of e, listed or in Args.
func (e *Event) DeleteArg(i int) {
	if e.Args == nil && e.list.vals != nil {
		if i >= 0 && i < len(e.list.vals) {
			e.list.vals[i] = argValue{}
		}
		return
	}
	delete(e.Args, e.argName(i))
}

// ArgSlab hands out the lists of many events' arguments (ListArgsFrom)
// from one block of memory: one allocation for a few dozen events rather
// than one each. A block stays in memory while an event listed from it
// does. Not safe for concurrent use.
type ArgSlab struct{ free []argValue }

// argSlabLen is the values in a block (16 KiB).
const argSlabLen = 512

// ListArgsFrom is ListArgs with the list taken from s.
func (e *Event) ListArgsFrom(s *ArgSlab) *ArgList {
	info := infoOf(e.ID)
	if info == nil {
		return nil
	}
	n := len(info.spec.Args)
	if s.free == nil || len(s.free) < n {
		s.free = make([]argValue, max(argSlabLen, n))
	}
	e.Args = nil
	e.list = ArgList{vals: s.free[:n:n]} // not nil, also when empty
	s.free = s.free[n:]
	return &e.list
}

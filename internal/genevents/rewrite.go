package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// rewriteC replaces the literal argument indices of save_*() calls in one BPF
// source by their ARG_<EVENT>_<ARG> names, and returns how many it replaced.
//
// Which event a call writes is read from the code around it, per top-level
// function (with the comments just before it):
//   - an annotation comment /* args: EVENT_A */ (or /* args: EVENT_A,
//     EVENT_B */ for code shared by events whose arguments agree there) sets
//     it from that point on; helpers that get the event from their caller
//     need one;
//   - otherwise the last event named before the call as an argument of
//     event_init(&e, ctx, EVENT_X), event_init_as(...) or
//     emit_allowed(EVENT_X, ...) sets it (a name in a condition, id ==
//     EVENT_X, does not: it says nothing of the record being written).
//
// Every replacement is checked: the event must have an argument at that
// index, every annotated event the same one, and the save_* helper must write
// the argument's type (save_u32 a uint32, save_file_path a string, ...).
// Calls it cannot attribute are errors naming file:line, so that a new one is
// fixed by hand (an annotation) rather than guessed.
func rewriteC(t *table, file string, src []byte) ([]byte, int, error) {
	code := maskComments(src)
	var errs []string
	var out bytes.Buffer
	last := 0
	n := 0
	for _, fn := range topLevelBodies(code) {
		var current []*tevent // the events in scope
		// markers: annotations and EVENT_ names, in order
		type marker struct {
			pos    int
			events []*tevent
		}
		var marks []marker
		for _, m := range annotationRe.FindAllSubmatchIndex(src[fn.from:fn.to], -1) {
			var evs []*tevent
			bad := false
			for _, name := range strings.FieldsFunc(string(src[fn.from+m[2]:fn.from+m[3]]), func(r rune) bool { return r == ',' || r == ' ' }) {
				e := t.byC[name]
				if e == nil {
					errs = append(errs, fmt.Sprintf("%s:%d: annotation names %s, which is no event", file, lineOf(src, fn.from+m[0]), name))
					bad = true
					continue
				}
				evs = append(evs, e)
			}
			if !bad {
				marks = append(marks, marker{fn.from + m[0], evs})
			}
		}
		for _, m := range eventStartRe.FindAllIndex(code[fn.body:fn.to], -1) {
			args, ok := callArgs(code, fn.body+m[1]-1)
			if !ok {
				continue
			}
			for _, a := range args {
				name := strings.TrimSpace(string(code[a.from:a.to]))
				if e := t.byC[name]; e != nil {
					marks = append(marks, marker{a.from, []*tevent{e}})
				}
			}
		}
		for _, c := range saveCallRe.FindAllSubmatchIndex(code[fn.body:fn.to], -1) {
			helper := string(code[fn.body+c[2] : fn.body+c[3]])
			open := fn.body + c[1] - 1
			args, ok := callArgs(code, open)
			if !ok {
				continue
			}
			// the events in scope at the call
			current = nil
			best := -1
			for _, mk := range marks {
				if mk.pos < open && mk.pos > best {
					best, current = mk.pos, mk.events
				}
			}
			for k, pos := range indexPositions(helper) {
				if pos >= len(args) {
					continue
				}
				a := args[pos]
				lit := strings.TrimSpace(string(src[a.from:a.to]))
				idx, err := strconv.Atoi(lit)
				if err != nil {
					continue // a name or an expression (first + i)
				}
				line := lineOf(src, a.from)
				if len(current) == 0 {
					errs = append(errs, fmt.Sprintf("%s:%d: %s(..., %d, ...): no event in scope; add /* args: EVENT_X */ to the function", file, line, helper, idx))
					continue
				}
				name, err := argName(current, idx, helper, k)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s:%d: %s(..., %d, ...): %v", file, line, helper, idx, err))
					continue
				}
				lead := a.from
				for lead < a.to && (src[lead] == ' ' || src[lead] == '\t' || src[lead] == '\n') {
					lead++
				}
				out.Write(src[last:lead])
				out.WriteString(name)
				last = lead + len(lit)
				n++
			}
		}
	}
	if len(errs) > 0 {
		return nil, 0, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	out.Write(src[last:])
	return out.Bytes(), n, nil
}

// argName resolves index idx for the events in scope: the C name of the
// first event's argument, checked against every other event and against the
// type the helper writes in its k-th index position.
func argName(evs []*tevent, idx int, helper string, k int) (string, error) {
	var first *targ
	for _, e := range evs {
		if idx >= len(e.args) {
			return "", fmt.Errorf("event %s has no argument %d (it has %d)", e.spec.Name, idx, len(e.args))
		}
		a := &e.args[idx]
		if first == nil {
			first = a
		} else if a.Name != first.Name || a.Type != first.Type {
			return "", fmt.Errorf("argument %d is %s %s in %s but %s %s in %s", idx, first.Name, first.Type, evs[0].spec.Name, a.Name, a.Type, e.spec.Name)
		}
		if want, ok := helperTypes[helper]; ok && k < len(want) && want[k] != 0 && want[k] != a.Type {
			return "", fmt.Errorf("%s writes a %s, but argument %d of %s (%s) is a %s", helper, want[k], idx, e.spec.Name, a.Name, a.Type)
		}
	}
	return first.cName, nil
}

// helperTypes are the argument types the save helpers write, per index
// position. Helpers not listed (those writing a run of arguments from a first
// index: save_cred_snap, save_sock_desc, save_ends, save_ns_pairs,
// save_answers) are not type-checked.
var helperTypes = map[string][]event.ArgType{
	"save_s32":          {event.TypeInt32},
	"save_u32":          {event.TypeUint32},
	"save_s64":          {event.TypeInt64},
	"save_u64":          {event.TypeUint64},
	"save_bool":         {event.TypeBool},
	"save_str":          {event.TypeString},
	"save_bytes":        {event.TypeBytes},
	"save_str_arr":      {event.TypeStrArray},
	"save_str_list":     {event.TypeStrArray},
	"save_path":         {event.TypeString},
	"save_file_path":    {event.TypeString},
	"save_dentry_path":  {event.TypeString},
	"save_user_path_at": {event.TypeString},
	"save_joined":       {event.TypeString},
	"save_path_of":      {event.TypeString},
	"save_name":         {event.TypeString},
	"save_ip":           {event.TypeString},
	"net_save_ip":       {event.TypeString},
	"save_file_kind":    {event.TypeString},
	"save_ns_kinds":     {event.TypeStrArray},
	"save_qname":        {event.TypeString},
	"save_inode":        {event.TypeUint32, event.TypeUint64}, // dev, inode
}

// indexPositions are the positions of a helper's call arguments that are
// argument indices: the one after the record, and save_inode's two.
func indexPositions(helper string) []int {
	if helper == "save_inode" {
		return []int{1, 2}
	}
	return []int{1}
}

var (
	annotationRe = regexp.MustCompile(`/\*\s*args:\s*(EVENT_[A-Z0-9_]+(?:\s*,\s*EVENT_[A-Z0-9_]+)*)\s*\*/`)
	eventStartRe = regexp.MustCompile(`\b(?:event_init|event_init_as|emit_allowed)\s*\(`)
	saveCallRe   = regexp.MustCompile(`\b((?:net_)?save_[a-z0-9_]+)\s*\(`)
)

type span struct{ from, to int }

// fnSpan is one top-level function: from the end of the previous top-level
// construct (so the comments before it count), its body, its end.
type fnSpan struct{ from, body, to int }

// topLevelBodies finds the brace-delimited top-level blocks of masked C
// source (function bodies, struct and initialiser blocks alike).
func topLevelBodies(code []byte) []fnSpan {
	var out []fnSpan
	depth, prevEnd := 0, 0
	start := 0
	for i, c := range code {
		switch c {
		case '{':
			if depth == 0 {
				start = i
			}
			depth++
		case '}':
			depth--
			if depth == 0 {
				out = append(out, fnSpan{prevEnd, start, i + 1})
				prevEnd = i + 1
			}
		}
	}
	return out
}

// callArgs splits the arguments of the call whose '(' is at open.
func callArgs(code []byte, open int) ([]span, bool) {
	var out []span
	depth := 0
	from := open + 1
	for i := open; i < len(code); i++ {
		switch code[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return append(out, span{from, i}), true
			}
		case ',':
			if depth == 1 {
				out = append(out, span{from, i})
				from = i + 1
			}
		}
	}
	return nil, false
}

// maskComments blanks comments, string and character literals (keeping
// newlines and length), so that braces, commas and names in them do not count.
func maskComments(src []byte) []byte {
	out := bytes.Clone(src)
	blank := func(from, to int) {
		for i := from; i < to; i++ {
			if out[i] != '\n' {
				out[i] = ' '
			}
		}
	}
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				end = len(src) - i - 4
			}
			blank(i, i+end+4)
			i += end + 3
		case src[i] == '/' && i+1 < len(src) && src[i+1] == '/':
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			blank(i, i+end)
			i += end
		case src[i] == '"' || src[i] == '\'':
			q := src[i]
			j := i + 1
			for j < len(src) && src[j] != q && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			blank(i+1, j)
			i = j
		}
	}
	return out
}

func lineOf(src []byte, pos int) int {
	return bytes.Count(src[:pos], []byte("\n")) + 1
}

package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// Condition is what a prefilter asks of one field of the input. A string
// field must start with one of Prefix, end with one of Suffix, contain one
// of Contains or equal one of Equals (any one pattern of any kind); an
// integer field must have one of the bits of AnyBits set (open flags with
// write access: 579, O_ACCMODE | O_CREAT | O_TRUNC).
type Condition struct {
	Prefix   []string `json:"prefix,omitempty"`
	Suffix   []string `json:"suffix,omitempty"`
	Contains []string `json:"contains,omitempty"`
	Equals   []string `json:"equals,omitempty"`
	AnyBits  uint64   `json:"any_bits,omitempty"`
}

func (c Condition) match(s string) bool {
	for _, p := range c.Prefix {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	for _, p := range c.Suffix {
		if strings.HasSuffix(s, p) {
			return true
		}
	}
	for _, p := range c.Contains {
		if strings.Contains(s, p) {
			return true
		}
	}
	return slices.Contains(c.Equals, s)
}

// prefilterFields are the input fields a prefilter may test besides the
// selected events' string arguments (args.<name>).
var prefilterFields = []string{"name", "process.comm", "process.exe"}

// prefilter is a signature's compiled metadata.prefilter: the engine hands
// the signature only events whose every listed field matches its condition,
// tested in Go before any Rego runs. For signatures on hot events (every
// open, every exec) that is the difference between microseconds and
// nanoseconds for the events they do not care about.
type prefilter []prefilterTest

type prefilterTest struct {
	event string      // the one event the test applies to ("": every event)
	path  []*ast.Term // keys from input down to the field
	cond  Condition
}

var nameTerm = ast.StringTerm("name")

func compilePrefilter(conds map[string]Condition) prefilter {
	var p prefilter
	names := make([]string, 0, len(conds))
	for n := range conds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		ev, field := splitPrefilterKey(n)
		var path []*ast.Term
		for _, k := range strings.Split(field, ".") {
			path = append(path, ast.StringTerm(k))
		}
		p = append(p, prefilterTest{event: ev, path: path, cond: conds[n]})
	}
	return p
}

// wants tells whether input passes every test. A test applies to the
// events that carry its field (a signature selecting several events may
// test args.pathname of one and args.new_path of another); a field that is
// there but is not of the test's kind (a string, or an integer for
// any_bits) fails.
func (p prefilter) wants(input ast.Value) bool {
	var name ast.Value
	for _, t := range p {
		if t.event != "" {
			if name == nil {
				if obj, ok := input.(ast.Object); ok {
					if term := obj.Get(nameTerm); term != nil {
						name = term.Value
					}
				}
				if name == nil {
					name = ast.Null{}
				}
			}
			if s, ok := name.(ast.String); !ok || string(s) != t.event {
				continue
			}
		}
		v, ok := lookup(input, t.path)
		if !ok {
			continue
		}
		if t.cond.AnyBits != 0 {
			if !t.cond.matchBits(v) {
				return false
			}
			continue
		}
		s, ok := v.(ast.String)
		if !ok || !t.cond.match(string(s)) {
			return false
		}
	}
	return true
}

func (c Condition) matchBits(v ast.Value) bool {
	n, ok := v.(ast.Number)
	if !ok {
		return false
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return u&c.AnyBits != 0
	}
	// negative values (signed arguments) by their two's complement bits
	i, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil && uint64(i)&c.AnyBits != 0
}

func lookup(v ast.Value, path []*ast.Term) (ast.Value, bool) {
	for _, k := range path {
		obj, ok := v.(ast.Object)
		if !ok {
			return nil, false
		}
		term := obj.Get(k)
		if term == nil {
			return nil, false
		}
		v = term.Value
	}
	return v, true
}

// splitPrefilterKey splits "security_file_open:args.flags" into the event
// and the field; a key without an event applies to every event.
func splitPrefilterKey(key string) (event, field string) {
	if ev, f, ok := strings.Cut(key, ":"); ok {
		return ev, f
	}
	return "", key
}

// checkPrefilter reads metadata.prefilter: an object from field names to
// conditions. Fields must exist for at least one selected event (for the
// named one when the key is "<event>:<field>").
func (c *checker) checkPrefilter(file string, v *ast.Term, events []string) map[string]Condition {
	obj, ok := v.Value.(ast.Object)
	if !ok {
		c.add(v.Location, file, "metadata.prefilter must be an object of field names to conditions, not %s", ast.ValueName(v.Value))
		return nil
	}
	out := map[string]Condition{}
	obj.Foreach(func(k, cv *ast.Term) {
		field, ok := k.Value.(ast.String)
		if !ok {
			c.add(k.Location, file, "metadata.prefilter keys must be strings, not %s", ast.ValueName(k.Value))
			return
		}
		ev, name := splitPrefilterKey(string(field))
		scope := events
		if ev != "" {
			if !slices.Contains(events, ev) {
				c.add(k.Location, file, "metadata.prefilter: %q names event %q, which the signature does not select", string(field), ev)
				return
			}
			scope = []string{ev}
		}
		numeric, msg := prefilterFieldProblem(name, scope)
		if msg != "" {
			c.add(k.Location, file, "metadata.prefilter: %s", msg)
			return
		}
		cobj, ok := cv.Value.(ast.Object)
		if !ok {
			c.add(cv.Location, file, "metadata.prefilter[%q] must be an object with prefix, suffix, contains or equals lists (any_bits for an integer argument)", string(field))
			return
		}
		var cond Condition
		n, bad := 0, false
		cobj.Foreach(func(ck, list *ast.Term) {
			k, _ := ck.Value.(ast.String)
			kind := string(k)
			if kind == "any_bits" || numeric {
				if kind != "any_bits" {
					c.add(ck.Location, file, "metadata.prefilter[%q]: %s is an integer argument: its condition is any_bits, not %v", string(field), name, ck)
					bad = true
					return
				}
				if !numeric {
					c.add(ck.Location, file, "metadata.prefilter[%q]: any_bits is for integer arguments, and this field is a string", string(field))
					bad = true
					return
				}
				num, ok := list.Value.(ast.Number)
				bits, err := strconv.ParseUint(string(num), 10, 64)
				if !ok || err != nil || bits == 0 {
					c.add(list.Location, file, "metadata.prefilter[%q].any_bits must be a positive integer mask, not %v", string(field), list)
					bad = true
					return
				}
				cond.AnyBits = bits
				n++
				return
			}
			var dst *[]string
			switch kind {
			case "prefix":
				dst = &cond.Prefix
			case "suffix":
				dst = &cond.Suffix
			case "contains":
				dst = &cond.Contains
			case "equals":
				dst = &cond.Equals
			default:
				c.add(ck.Location, file, "metadata.prefilter[%q]: unknown condition %v (prefix, suffix, contains or equals; any_bits for an integer argument)", string(field), ck)
				bad = true
				return
			}
			*dst = c.metaStrings(file, fmt.Sprintf("prefilter[%q].%s", string(field), kind), list, func(s string, at *ast.Term) {
				// "" is a pattern for equals (an empty field), not for the
				// others, which it would make match everything
				if s == "" && kind != "equals" {
					c.add(at.Location, file, "metadata.prefilter[%q].%s: an empty pattern matches everything", string(field), kind)
				}
			})
			n += len(*dst)
		})
		if bad {
			return
		}
		if n == 0 {
			c.add(cv.Location, file, "metadata.prefilter[%q] has no pattern: it would let no event through", string(field))
			return
		}
		out[string(field)] = cond
	})
	return out
}

// prefilterFieldProblem says what is wrong with a prefilter field, "" when
// nothing is; numeric is true for an integer argument (tested with
// any_bits).
func prefilterFieldProblem(field string, events []string) (numeric bool, problem string) {
	if slices.Contains(prefilterFields, field) {
		return false, ""
	}
	arg, ok := strings.CutPrefix(field, "args.")
	if !ok {
		return false, fmt.Sprintf("%q is not a field a prefilter can test (%s or args.<argument>)", field, strings.Join(prefilterFields, ", "))
	}
	for _, name := range events {
		spec, ok := event.Lookup(name)
		if !ok {
			continue
		}
		for _, a := range spec.Args {
			if a.Name == arg {
				switch a.Type {
				case event.TypeString:
					return false, ""
				case event.TypeInt32, event.TypeUint32, event.TypeInt64, event.TypeUint64:
					return true, ""
				}
				return false, fmt.Sprintf("%q is a %s argument of %s: a prefilter tests strings and integers", field, a.Type, name)
			}
		}
	}
	return false, fmt.Sprintf("no selected event has argument %q", arg)
}

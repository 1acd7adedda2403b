package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/sensor/event"
)

// Condition is what a prefilter asks of one string field of the input:
// the field must start with one of Prefix, end with one of Suffix, contain
// one of Contains or equal one of Equals (any one pattern of any kind).
type Condition struct {
	Prefix   []string `json:"prefix,omitempty"`
	Suffix   []string `json:"suffix,omitempty"`
	Contains []string `json:"contains,omitempty"`
	Equals   []string `json:"equals,omitempty"`
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
	path []*ast.Term // keys from input down to the field
	cond Condition
}

func compilePrefilter(conds map[string]Condition) prefilter {
	var p prefilter
	names := make([]string, 0, len(conds))
	for n := range conds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var path []*ast.Term
		for _, k := range strings.Split(n, ".") {
			path = append(path, ast.StringTerm(k))
		}
		p = append(p, prefilterTest{path: path, cond: conds[n]})
	}
	return p
}

// wants tells whether input passes every test. A test applies to the
// events that carry its field (a signature selecting several events may
// test args.pathname of one and args.new_path of another); a field that is
// there but is not a string fails.
func (p prefilter) wants(input ast.Value) bool {
	for _, t := range p {
		v, ok := lookup(input, t.path)
		if !ok {
			continue
		}
		s, ok := v.(ast.String)
		if !ok || !t.cond.match(string(s)) {
			return false
		}
	}
	return true
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

// checkPrefilter reads metadata.prefilter: an object from field names to
// conditions. Fields must exist for at least one selected event.
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
		if msg := prefilterFieldProblem(string(field), events); msg != "" {
			c.add(k.Location, file, "metadata.prefilter: %s", msg)
			return
		}
		cobj, ok := cv.Value.(ast.Object)
		if !ok {
			c.add(cv.Location, file, "metadata.prefilter[%q] must be an object with prefix, suffix, contains or equals lists", string(field))
			return
		}
		var cond Condition
		n := 0
		cobj.Foreach(func(ck, list *ast.Term) {
			k, _ := ck.Value.(ast.String)
			kind := string(k)
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
				c.add(ck.Location, file, "metadata.prefilter[%q]: unknown condition %v (prefix, suffix, contains or equals)", string(field), ck)
				return
			}
			*dst = c.metaStrings(file, fmt.Sprintf("prefilter[%q].%s", string(field), kind), list, func(s string, at *ast.Term) {
				if s == "" {
					c.add(at.Location, file, "metadata.prefilter[%q].%s: an empty pattern matches everything", string(field), kind)
				}
			})
			n += len(*dst)
		})
		if n == 0 {
			c.add(cv.Location, file, "metadata.prefilter[%q] has no pattern: it would let no event through", string(field))
			return
		}
		out[string(field)] = cond
	})
	return out
}

func prefilterFieldProblem(field string, events []string) string {
	if slices.Contains(prefilterFields, field) {
		return ""
	}
	arg, ok := strings.CutPrefix(field, "args.")
	if !ok {
		return fmt.Sprintf("%q is not a field a prefilter can test (%s or args.<argument>)", field, strings.Join(prefilterFields, ", "))
	}
	for _, name := range events {
		spec, ok := event.Lookup(name)
		if !ok {
			continue
		}
		for _, a := range spec.Args {
			if a.Name == arg {
				if a.Type != event.TypeString {
					return fmt.Sprintf("%q is a %s argument of %s: a prefilter tests strings", field, a.Type, name)
				}
				return ""
			}
		}
	}
	return fmt.Sprintf("no selected event has argument %q", arg)
}

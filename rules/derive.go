package rules

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// The fast path: every signature's finding rule is analysed, in its compiled
// form, for a necessary condition on the input (event.Condition): a
// disjunction of conjunctions of simple field tests such that an event the
// condition rejects cannot make the finding rule yield anything. The engine
// tests the conditions of all signatures in Go (Matcher) and runs Rego only
// for the signatures whose condition admits the event.
//
// The analysis is sound by construction, not by testing: it reads a rule
// body as the conjunction of its expressions and keeps only what it
// understands exactly; everything else is "true" (no constraint). Dropping
// a conjunct, or widening a disjunction to "always", weakens a necessary
// condition and leaves it necessary. What it understands:
//
//   - string tests startswith, endswith, contains, regex.match with a
//     constant pattern, equality (= and ==) and membership (in) in a
//     constant collection, where one side is an input field (a reference
//     into input, possibly through object.get with a default the test
//     rejects, through variables, iteration and array indices) and the other
//     a constant or a set of constants;
//   - numeric comparisons with an integer constant, bits.and(field, mask)
//     compared with 0;
//   - references to rules and calls of functions of any package: a rule or
//     function used as a condition holds only if one of its definitions'
//     bodies holds (a default other than false makes it always hold); its
//     value is one of its definitions' values.
//
//   - equality of two input fields (args.pathname == process.exe, an
//     ancestor's exe through iteration): OpEqField;
//   - a negated equality or membership of a field in constants (`not x in
//     set`, x != "c"): OpNe, which also holds when the field is missing; an
//     integer x != n is x < n or x > n.
//
// Any other negated expression, an expression under `with` and any
// built-in not listed contribute nothing.

// maxAlternatives bounds a derived condition: a conjunction whose cross
// product would exceed it keeps only one of its sides (still necessary).
const maxAlternatives = 256

// maxDepth bounds rule and function inlining.
const maxDepth = 24

// dnf is a condition under construction: always (no constraint), or a
// disjunction of conjunctions (none: the body can never hold).
type dnf struct {
	always bool
	alts   [][]event.Test
}

var dnfTrue = dnf{always: true}

func dnfNever() dnf { return dnf{} }

func dnfTest(t event.Test) dnf { return dnf{alts: [][]event.Test{{t}}} }

func (a dnf) and(b dnf) dnf {
	switch {
	case a.always:
		return b
	case b.always:
		return a
	case len(a.alts) == 0 || len(b.alts) == 0:
		return dnfNever()
	}
	if len(a.alts)*len(b.alts) > maxAlternatives {
		// too many alternatives: weaken the sides into fewer, wider
		// alternatives (compress) until the product fits; failing that
		// keep one side (a conjunct dropped is still necessary)
		if cb := b.compress(); len(a.alts)*len(cb.alts) <= maxAlternatives {
			return a.and(cb)
		} else if ca := a.compress(); len(ca.alts)*len(cb.alts) <= maxAlternatives {
			return ca.and(cb)
		}
		if len(b.alts)*8 < len(a.alts) {
			return b
		}
		return a
	}
	out := dnf{alts: make([][]event.Test, 0, len(a.alts)*len(b.alts))}
	for _, x := range a.alts {
		for _, y := range b.alts {
			out.alts = append(out.alts, slices.Concat(x, y))
		}
	}
	return out.simplify()
}

// compress weakens a condition into few alternatives: each alternative
// keeps one test (the most selective kind it has), and alternatives whose
// test is on the same field with the same string operation merge into one
// test with all their patterns. Every event the condition admitted, the
// result admits.
func (a dnf) compress() dnf {
	if a.always {
		return a
	}
	rank := func(t event.Test) int {
		switch {
		case t.Field == "name":
			return 9 // the event name is mostly settled per event anyway
		case t.Op == event.OpEq:
			return 0
		case t.Op == event.OpRegex && len(t.Strings) == 1 && strings.HasPrefix(t.Strings[0], "^") && strings.HasSuffix(t.Strings[0], "$"):
			return 1 // anchored at both ends: about as narrow as an equality
		case t.Op == event.OpRegex && len(t.Strings) == 1 && strings.HasPrefix(t.Strings[0], "^("):
			return 1 // anchored at the start and longer than a prefix (of two, the longer wins)
		case t.Op == event.OpPrefix || t.Op == event.OpSuffix:
			return 3
		case t.Op == event.OpContains || t.Op == event.OpRegex:
			return 4
		}
		return 5
	}
	type key struct {
		field   string
		op      event.Op
		guarded bool // a cheap prefix test on the field goes first
	}
	merged := map[key]int{}
	out := dnf{}
	for _, alt := range a.alts {
		if len(alt) == 0 {
			return dnfTrue
		}
		best := alt[0]
		for _, t := range alt[1:] {
			// of two regular expressions alike, the longer is usually
			// the narrower (the home directory's pattern versus the
			// files in it)
			if r, rb := rank(t), rank(best); r < rb || (r == rb && t.Op == event.OpRegex && best.Op == event.OpRegex && len(strings.Join(t.Strings, "")) > len(strings.Join(best.Strings, ""))) {
				best = t
			}
		}
		mergeable := len(best.Strings) > 0 && len(best.Ints) == 0 && best.Bool == nil &&
			(best.Op == event.OpEq || best.Op == event.OpPrefix || best.Op == event.OpSuffix || best.Op == event.OpContains || best.Op == event.OpRegex)
		// a regular expression keeps a prefix test of its field in front of
		// it, so most values are settled by the prefix trie:
		// (p1 and r1) or (p2 and r2) widens to (p1 or p2) and (r1 or r2)
		var guard *event.Test
		if best.Op == event.OpRegex {
			for _, t := range alt {
				if t.Field == best.Field && t.Op == event.OpPrefix && len(t.Strings) > 0 {
					g := t
					guard = &g
					break
				}
			}
		}
		if mergeable {
			k := key{best.Field, best.Op, guard != nil}
			if i, ok := merged[k]; ok {
				conj := out.alts[i]
				if guard != nil {
					conj[0].Strings = union(conj[0].Strings, guard.Strings)
					conj[1].Strings = union(conj[1].Strings, best.Strings)
				} else {
					conj[0].Strings = union(conj[0].Strings, best.Strings)
				}
				continue
			}
			merged[k] = len(out.alts)
		}
		best.Strings = slices.Clone(best.Strings)
		if guard != nil {
			guard.Strings = slices.Clone(guard.Strings)
			out.alts = append(out.alts, []event.Test{*guard, best})
			continue
		}
		out.alts = append(out.alts, []event.Test{best})
	}
	if len(out.alts) > maxAlternatives {
		return dnfTrue
	}
	return out.simplify()
}

func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// key identifies a condition's text.
func (a dnf) key() string {
	var b strings.Builder
	for _, alt := range a.alts {
		for _, t := range alt {
			b.WriteString(t.String())
			b.WriteByte(';')
		}
		b.WriteByte('|')
	}
	return b.String()
}

func (a dnf) or(b dnf) dnf {
	if a.always || b.always {
		return dnfTrue
	}
	out := dnf{alts: slices.Concat(a.alts, b.alts)}
	if len(out.alts) > maxAlternatives {
		return out.compress()
	}
	return out
}

// source is one thing a value may be: a constant, or an input field (path
// from input; mask != 0 for bits.and(field, mask)), possibly with a default
// the value takes when the field is missing (object.get).
type vsrc struct {
	konst   ast.Value
	field   []string // nil with konst == nil: unknown
	isField bool
	def     ast.Value // default when the field is missing; nil: none
	mask    uint64
	// xf are transforms applied to the field's value, in order:
	// "basename", "unversioned" (lib.basename, lib.unversioned: the
	// built-ins they are made of, recognised); only equality is tested
	// through them. split: the field split by "/" (kind "split"), its
	// count ("count") or its count minus one ("last").
	xf   []string
	kind string
	sep  string // for kind "join"
	// obj: an object literal with constant keys whose values are known
	// abstractly ({"path": input.args.pathname, ...})
	obj map[string]aval
	// guard: a constant a rule or function yields only when this holds
	// (the body of the definition with that value); nil: unconditional
	guard *dnf
}

// held is the condition under which a constant source is there.
func (s vsrc) held() dnf {
	if s.guard == nil {
		return dnfTrue
	}
	return *s.guard
}

// aval is the abstract value of a term: one of its sources, or unknown.
type aval struct {
	unknown bool
	srcs    []vsrc
	// For a collection (its own value unknown): elems is what its elements
	// may be, nonEmpty the condition for it to have any.
	elems    *aval
	nonEmpty *dnf
	// countOf: the value is count() of a collection whose non-emptiness
	// requires *countOf.
	countOf *dnf
}

func collection(elems aval, nonEmpty dnf) aval {
	return aval{unknown: true, elems: &elems, nonEmpty: &nonEmpty}
}

var unknownVal = aval{unknown: true}

func constVal(v ast.Value) aval { return aval{srcs: []vsrc{{konst: v}}} }

func fieldVal(path []string) aval {
	return aval{srcs: []vsrc{{field: path, isField: true}}}
}

func (a aval) union(b aval) aval {
	// no value at all (nothing defined yet) joined with b is b: a rule
	// whose one definition is a collection keeps what is known of it
	if a.none() {
		return b
	}
	if b.none() {
		return a
	}
	if a.unknown || b.unknown {
		return unknownVal
	}
	if len(a.srcs)+len(b.srcs) > maxAlternatives {
		return unknownVal
	}
	return aval{srcs: slices.Concat(a.srcs, b.srcs)}
}

// none: no value at all (not unknown, no source, not a collection).
func (a aval) none() bool {
	return !a.unknown && len(a.srcs) == 0 && a.elems == nil && a.nonEmpty == nil && a.countOf == nil
}

// consts returns the constants when every source is one.
func (a aval) consts() ([]ast.Value, bool) {
	if a.unknown || len(a.srcs) == 0 {
		return nil, false
	}
	out := make([]ast.Value, 0, len(a.srcs))
	for _, s := range a.srcs {
		if s.isField || s.konst == nil {
			return nil, false
		}
		out = append(out, s.konst)
	}
	return out, true
}

// deriver analyses the rules of one compiled set.
type deriver struct {
	compiler *ast.Compiler
	// memo of rule conditions and values by reference, for rules (not
	// functions): the same for every caller.
	memo   map[string]defs
	active map[string]bool
	depth  int
	// notes collects why parts of a signature could not be expressed.
	notes []string
}

func newDeriver(c *ast.Compiler) *deriver {
	return &deriver{compiler: c, memo: map[string]defs{}, active: map[string]bool{}}
}

// Derived is what the analysis found for one signature.
type Derived struct {
	// Condition is necessary for the signature to yield a finding (the same
	// for each event it selects; Always when nothing could be derived).
	Condition event.Condition
	// Reason says why the condition is Always, "" when it is not.
	Reason string
}

// derive returns the condition of the finding rule of a signature package.
func (d *deriver) derive(pkg ast.Ref) Derived {
	ref := pkg.Append(ast.StringTerm("finding"))
	rules := d.compiler.GetRulesExact(ref)
	if len(rules) == 0 {
		return Derived{Condition: event.Condition{Always: true}, Reason: "no finding rule found in the compiled package"}
	}
	d.notes = d.notes[:0]
	c := dnfNever()
	for _, r := range rules {
		for ; r != nil; r = r.Else {
			c = c.or(d.body(r.Body, newEnv(nil)))
		}
	}
	c = c.simplify()
	out := Derived{}
	if c.always {
		out.Condition.Always = true
		out.Reason = "no test on the input in the finding rule's bodies could be expressed as a field condition (only string tests, equality and membership with constants or another field, their negations, integer comparisons and bit masks are)"
		if len(d.notes) > 0 {
			out.Reason += "; what decides instead: " + strings.Join(d.notes, "; ")
		}
		return out
	}
	for _, alt := range c.alts {
		out.Condition.Any = append(out.Condition.Any, event.Conjunction(dedupeTests(alt)))
	}
	if len(out.Condition.Any) == 0 {
		// The finding rule can never hold: keep it Never, every event is
		// rejected. Rego would yield nothing either.
		out.Reason = ""
	}
	return out
}

func dedupeTests(ts []event.Test) []event.Test {
	seen := map[string]bool{}
	out := ts[:0:0]
	for _, t := range ts {
		k := t.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// env binds the variables of one body.
type env struct {
	vars map[ast.Var]aval
}

func newEnv(params map[ast.Var]aval) *env {
	e := &env{vars: map[ast.Var]aval{}}
	for k, v := range params {
		e.vars[k] = v
	}
	return e
}

// body returns the condition of a conjunction of expressions.
func (d *deriver) body(b ast.Body, e *env) dnf {
	c := dnfTrue
	seen := map[string]bool{}
	for _, expr := range b {
		x := d.expr(expr, e)
		if !x.always {
			// a condition already in the conjunction (the same rule
			// referenced twice) adds nothing: A and A is A
			k := x.key()
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		c = c.and(x)
		if !c.always && len(c.alts) == 0 {
			return c
		}
	}
	return c
}

func (d *deriver) expr(expr *ast.Expr, e *env) dnf {
	if len(expr.With) > 0 {
		// the expression sees another input or data: its variables stay
		// unknown, it constrains nothing
		d.bindOutputsUnknown(expr, e)
		return dnfTrue
	}
	if expr.Negated {
		if c, ok := d.negation(expr, e); ok {
			return c
		}
		d.note(expr, "a negation (not ...) of anything but a field's equality with or membership in constants")
		return dnfTrue
	}
	switch t := expr.Terms.(type) {
	case *ast.Term:
		return d.termCond(t, e)
	case []*ast.Term:
		return d.call(t, e)
	}
	// every, some declarations
	return dnfTrue
}

// negation derives a condition for `not x in cs` and `not x == c` with x
// an input field and cs constants: the field is missing or none of them
// (OpNe). The negated expression's own condition is exact there, so its
// complement is necessary. Every variable in it must be bound (a negation
// binds nothing outside itself).
func (d *deriver) negation(expr *ast.Expr, e *env) (dnf, bool) {
	terms, ok := expr.Terms.([]*ast.Term)
	if !ok || len(terms) != 3 {
		return dnfTrue, false
	}
	op, ok := terms[0].Value.(ast.Ref)
	if !ok {
		return dnfTrue, false
	}
	name := op.String()
	if name != "internal.member_2" && name != ast.Equal.Name && name != ast.Equality.Name {
		return dnfTrue, false
	}
	bound := true
	for _, t := range terms[1:] {
		ast.WalkVars(t, func(v ast.Var) bool {
			if _, ok := e.vars[v]; !ok {
				bound = false
			}
			return false
		})
		if _, isRef := t.Value.(ast.Ref); isRef {
			// a reference must be a plain field or a rule, no iteration
			for _, k := range t.Value.(ast.Ref)[1:] {
				if _, isVar := k.Value.(ast.Var); isVar {
					bound = false
				}
			}
		}
	}
	if !bound {
		return dnfTrue, false
	}
	cx, x := d.value(terms[1], e)
	cy, y := d.value(terms[2], e)
	if !cx.always || !cy.always {
		return dnfTrue, false // the operands' own definedness: not negated here
	}
	var cs []ast.Value
	if name == "internal.member_2" {
		coll, ok := y.consts()
		if !ok {
			return dnfTrue, false
		}
		if cs, ok = constElements(coll); !ok {
			return dnfTrue, false
		}
	} else {
		if c, ok := x.consts(); ok {
			x, y = y, constVal(c[0])
			if len(c) != 1 {
				return dnfTrue, false
			}
		}
		c, ok := y.consts()
		if !ok || len(c) != 1 {
			return dnfTrue, false
		}
		cs = c
	}
	if len(cs) == 0 {
		return dnfTrue, true // not in an empty collection: always
	}
	return testEach(x, func(s vsrc) dnf { return neTest(s, cs) }), true
}

// neTest: the source is none of cs (a field may be missing too).
func neTest(s vsrc, cs []ast.Value) dnf {
	if !s.isField {
		if s.konst == nil {
			return dnfTrue
		}
		for _, c := range cs {
			if ast.Compare(s.konst, c) == 0 {
				return dnfNever()
			}
		}
		return s.held()
	}
	if s.kind != "" || len(s.xf) > 0 || s.mask != 0 || slices.Contains(s.field, "[]") || len(s.field) == 0 {
		return dnfTrue
	}
	// none of a subset of cs holds whenever none of cs does: constants of
	// other types are left out
	t := event.Test{Field: fieldString(s.field), Op: event.OpNe}
	for _, c := range cs {
		switch cv := c.(type) {
		case ast.String:
			t.Strings = append(t.Strings, string(cv))
		case ast.Number:
			if i, ok := cv.Int64(); ok {
				t.Ints = append(t.Ints, i)
			}
		}
	}
	if len(t.Strings) == 0 && len(t.Ints) == 0 {
		return dnfTrue
	}
	return dnfTest(t)
}

// neqTest is the condition x != c with c one constant: an integer field
// is below or above it; a field is not a string constant (OpNe).
func neqTest(args []aval) dnf {
	x, y := args[0], args[1]
	if _, ok := x.consts(); ok {
		x, y = y, x
	}
	cs, ok := y.consts()
	if !ok || len(cs) != 1 {
		return dnfTrue
	}
	c := cs[0]
	return testEach(x, func(s vsrc) dnf {
		if !s.isField {
			if s.konst == nil {
				return dnfTrue
			}
			if ast.Compare(s.konst, c) == 0 {
				return dnfNever()
			}
			return s.held()
		}
		if n, isNum := c.(ast.Number); isNum {
			bound, ok := n.Int64()
			if !ok || s.kind != "" || len(s.xf) > 0 || s.mask != 0 {
				return dnfTrue
			}
			holds := func(v ast.Value) (bool, bool) { return ast.Compare(v, c) != 0, true }
			return fieldTest(s, event.Test{Op: event.OpLT, Ints: []int64{bound}}, holds).
				or(fieldTest(s, event.Test{Op: event.OpGT, Ints: []int64{bound}}, holds))
		}
		return neTest(s, cs)
	})
}

// note records, for the reason given when nothing is derived, a kind of
// expression the analysis could not use, with its place.
func (d *deriver) note(expr *ast.Expr, what string) {
	if len(d.notes) >= 6 {
		return
	}
	n := what
	if expr != nil && expr.Location != nil {
		n = fmt.Sprintf("%s at %s:%d", what, expr.Location.File, expr.Location.Row)
	}
	if !slices.Contains(d.notes, n) {
		d.notes = append(d.notes, n)
	}
}

func (d *deriver) bindOutputsUnknown(expr *ast.Expr, e *env) {
	ast.WalkVars(expr, func(v ast.Var) bool {
		if _, ok := e.vars[v]; !ok {
			e.vars[v] = unknownVal
		}
		return false
	})
}

// termCond is the condition of a term used as an expression: it holds when
// the term is defined and not false.
func (d *deriver) termCond(t *ast.Term, e *env) dnf {
	switch v := t.Value.(type) {
	case ast.Boolean:
		if !bool(v) {
			return dnfNever()
		}
		return dnfTrue
	case ast.Ref:
		if v.HasPrefix(ast.DefaultRootRef) {
			c, _ := d.dataRef(v, e, true)
			return c
		}
		// a bare input field (defined and not false) is not expressed
	}
	return dnfTrue
}

// refPath returns the field path of a reference into input, with variables
// in key positions as "[]" (some element) and constant integer keys as
// "[N]"; ok=false when the reference cannot be expressed.
func (d *deriver) refPath(r ast.Ref, e *env) ([]string, bool) {
	var path []string
	for _, k := range r[1:] {
		p, ok := d.keySegment(k, e)
		if !ok {
			return nil, false
		}
		path = append(path, p)
	}
	return path, true
}

func (d *deriver) keySegment(k *ast.Term, e *env) (string, bool) {
	switch kv := k.Value.(type) {
	case ast.String:
		s := string(kv)
		if strings.Contains(s, ".") || strings.HasPrefix(s, "[") {
			return "", false
		}
		return s, true
	case ast.Number:
		if i, ok := kv.Int(); ok && i >= 0 {
			return "[" + strconv.Itoa(i) + "]", true
		}
		return "", false
	case ast.Var:
		if b, ok := e.vars[kv]; ok {
			// a bound key: one constant integer or string, else give up
			if cs, ok := b.consts(); ok && len(cs) == 1 {
				return d.keySegment(ast.NewTerm(cs[0]), e)
			}
			return "", false
		}
		// unbound: iteration over the elements; the key stays unknown
		e.vars[kv] = unknownVal
		return "[]", true
	}
	return "", false
}

// value returns the abstract value of a term and the condition for it to
// be defined.
func (d *deriver) value(t *ast.Term, e *env) (dnf, aval) {
	switch v := t.Value.(type) {
	case ast.Var:
		if b, ok := e.vars[v]; ok {
			return dnfTrue, b
		}
		return dnfTrue, unknownVal
	case ast.Ref:
		return d.ref(v, e)
	case ast.String, ast.Number, ast.Boolean, ast.Null:
		return dnfTrue, constVal(v)
	case *ast.Array, ast.Set:
		if v.IsGround() {
			return dnfTrue, constVal(v)
		}
		if arr, ok := v.(*ast.Array); ok {
			if a := d.arrayOfConsts(arr, e); !a.unknown {
				return dnfTrue, a
			}
			return dnfTrue, d.literalCollection(arr.Iter, arr.Len(), e)
		}
		if set, ok := v.(ast.Set); ok {
			if a := d.setOfConsts(set, e); !a.unknown {
				return dnfTrue, a
			}
			return dnfTrue, d.literalCollection(set.Iter, set.Len(), e)
		}
	case ast.Object:
		return dnfTrue, d.objectLiteral(v, e)
	case *ast.SetComprehension:
		return dnfTrue, d.comprehension(v.Body, v.Term, e)
	case *ast.ArrayComprehension:
		return dnfTrue, d.comprehension(v.Body, v.Term, e)
	}
	return dnfTrue, unknownVal
}

// objectLiteral: an object with constant string keys and any values.
func (d *deriver) objectLiteral(o ast.Object, e *env) aval {
	if o.IsGround() {
		return constVal(o)
	}
	fields := map[string]aval{}
	ok := true
	o.Foreach(func(k, v *ast.Term) {
		ks, isStr := k.Value.(ast.String)
		if !isStr {
			ok = false
			return
		}
		_, fv := d.value(v, e)
		fields[string(ks)] = fv
	})
	if !ok {
		return unknownVal
	}
	return aval{srcs: []vsrc{{obj: fields}}}
}

// literalCollection: an array or set literal with variable elements.
func (d *deriver) literalCollection(iter func(func(*ast.Term) error) error, n int, e *env) aval {
	elems := aval{}
	_ = iter(func(t *ast.Term) error {
		_, v := d.value(t, e)
		elems = elems.union(v)
		return nil
	})
	if n == 0 {
		return collection(aval{}, dnfNever())
	}
	return collection(elems, dnfTrue)
}

// comprehension: its elements are the head's values where the body holds,
// and it has one only when the body holds.
func (d *deriver) comprehension(body ast.Body, head *ast.Term, e *env) aval {
	child := newEnv(e.vars)
	c := d.body(body, child)
	_, hv := d.value(head, child)
	return collection(hv, c)
}

// arrayOfConsts evaluates an array whose elements are constants or sets of
// constants: the product of its elements' possibilities, when small.
func (d *deriver) arrayOfConsts(arr *ast.Array, e *env) aval {
	combos := [][]*ast.Term{{}}
	for i := range arr.Len() {
		_, ev := d.value(arr.Elem(i), e)
		cs, ok := ev.consts()
		if !ok || len(combos)*len(cs) > 64 {
			return unknownVal
		}
		var next [][]*ast.Term
		for _, c := range combos {
			for _, x := range cs {
				next = append(next, append(slices.Clip(c), ast.NewTerm(x)))
			}
		}
		combos = next
	}
	out := aval{}
	for _, c := range combos {
		out.srcs = append(out.srcs, vsrc{konst: ast.NewArray(c...)})
	}
	return out
}

func (d *deriver) setOfConsts(set ast.Set, e *env) aval {
	var terms []*ast.Term
	ok := true
	set.Foreach(func(t *ast.Term) {
		_, ev := d.value(t, e)
		cs, isConst := ev.consts()
		if !isConst || len(cs) != 1 {
			ok = false
			return
		}
		terms = append(terms, ast.NewTerm(cs[0]))
	})
	if !ok {
		return unknownVal
	}
	return constVal(ast.NewSet(terms...))
}

// ref evaluates a reference: into input (a field), into data (rules), or
// into a variable's value.
func (d *deriver) ref(r ast.Ref, e *env) (dnf, aval) {
	switch {
	case r.HasPrefix(ast.InputRootRef):
		path, ok := d.refPath(r, e)
		if !ok {
			return dnfTrue, unknownVal
		}
		return dnfTrue, fieldVal(path)
	case r.HasPrefix(ast.DefaultRootRef):
		return d.dataRef(r, e, false)
	}
	// a variable's value, indexed
	head, ok := r[0].Value.(ast.Var)
	if !ok {
		return dnfTrue, unknownVal
	}
	base, ok := e.vars[head]
	if !ok {
		return dnfTrue, unknownVal
	}
	return d.index(base, r[1:], e)
}

// index applies keys to an abstract value: the value and the condition
// for the indexed value to be defined.
func (d *deriver) index(base aval, keys []*ast.Term, e *env) (dnf, aval) {
	if len(keys) == 0 {
		return dnfTrue, base
	}
	if base.elems != nil {
		// a collection iterated (or indexed: some element)
		d.bindKeyVars(keys[:1], e)
		c, v := d.index(*base.elems, keys[1:], e)
		return base.nonEmpty.and(c), v
	}
	if base.unknown {
		d.bindKeyVars(keys, e)
		return dnfTrue, unknownVal
	}
	// a constant collection indexed by a field: the field must be one of
	// its keys (probed_files[input.args.pathname])
	if _, baseConst := base.consts(); baseConst && len(keys) >= 1 {
		if kv, ok := keys[0].Value.(ast.Var); ok {
			if kb, bound := e.vars[kv]; bound && !kb.unknown {
				if _, isConst := kb.consts(); !isConst {
					return d.indexByField(base, kb, keys[1:], e)
				}
			}
		}
	}
	out := aval{}
	for _, s := range base.srcs {
		switch {
		case s.isField && s.kind == "submatch" && len(keys) == 1:
			// one match's submatches: [1] is the capture
			if n, isNum := keys[0].Value.(ast.Number); isNum {
				if i, ok := n.Int(); ok && i == 1 {
					out.srcs = append(out.srcs, vsrc{field: s.field, isField: true, xf: []string{"after"}, sep: s.sep})
					continue
				}
			}
			d.bindKeyVars(keys, e)
			return dnfTrue, unknownVal
		case s.isField && s.kind == "split" && len(keys) == 1:
			// parts[count(parts) - 1]: the last element, the basename (of
			// the one value parts was split from)
			if kv, ok := keys[0].Value.(ast.Var); ok {
				if kb, bound := e.vars[kv]; bound && allKind(kb, "last") {
					out.srcs = append(out.srcs, vsrc{field: s.field, isField: true, def: s.def, xf: append(slices.Clone(s.xf), "basename")})
					continue
				}
			}
			d.bindKeyVars(keys, e)
			return dnfTrue, unknownVal
		case s.isField && s.mask == 0 && (s.def == nil || isEmptyCollection(s.def)) && len(s.xf) == 0 && s.kind == "":
			// (an empty default, object.get(input.process, "ancestors", []),
			// has no element: only the field itself can be indexed)
			path := slices.Clone(s.field)
			for _, k := range keys {
				seg, ok := d.keySegment(k, e)
				if !ok {
					return dnfTrue, unknownVal
				}
				path = append(path, seg)
			}
			out.srcs = append(out.srcs, vsrc{field: path, isField: true})
		case s.obj != nil:
			ks, isStr := keys[0].Value.(ast.String)
			if !isStr {
				d.bindKeyVars(keys, e)
				return dnfTrue, unknownVal
			}
			fv, has := s.obj[string(ks)]
			if !has {
				continue // undefined for this source
			}
			c, v := d.index(fv, keys[1:], e)
			if v.unknown || !c.always {
				// keep it simple: a field's own conditions are not carried
				if v.unknown {
					return dnfTrue, unknownVal
				}
			}
			out.srcs = append(out.srcs, v.srcs...)
		case s.konst != nil:
			vals, ok := constIndex(s.konst, keys, e)
			if !ok {
				d.bindKeyVars(keys, e)
				return dnfTrue, unknownVal
			}
			for _, v := range vals {
				out.srcs = append(out.srcs, vsrc{konst: v})
			}
		default:
			d.bindKeyVars(keys, e)
			return dnfTrue, unknownVal
		}
	}
	if len(out.srcs) > maxAlternatives {
		return dnfTrue, unknownVal
	}
	if len(out.srcs) == 0 {
		return dnfNever(), aval{}
	}
	return dnfTrue, out
}

// elementsOf is what the elements of a collection value may be.
func elementsOf(a aval) aval {
	if a.elems != nil {
		return *a.elems
	}
	if a.unknown {
		return unknownVal
	}
	out := aval{}
	for _, s := range a.srcs {
		switch {
		case s.isField && s.mask == 0 && (s.def == nil || isEmptyCollection(s.def)) && len(s.xf) == 0 && s.kind == "":
			out.srcs = append(out.srcs, vsrc{field: append(slices.Clone(s.field), "[]"), isField: true})
		case s.konst != nil:
			arr, ok := s.konst.(*ast.Array)
			if !ok {
				return unknownVal
			}
			for i := range arr.Len() {
				out.srcs = append(out.srcs, vsrc{konst: arr.Elem(i).Value, guard: s.guard})
			}
		default:
			return unknownVal
		}
	}
	if len(out.srcs) > maxAlternatives {
		return unknownVal
	}
	return out
}

func isEmptyCollection(v ast.Value) bool {
	switch x := v.(type) {
	case *ast.Array:
		return x.Len() == 0
	case ast.Set:
		return x.Len() == 0
	case ast.Object:
		return x.Len() == 0
	}
	return false
}

// indexByField: constant collections indexed by a field's value.
func (d *deriver) indexByField(base, key aval, rest []*ast.Term, e *env) (dnf, aval) {
	var keysOK []ast.Value
	vals := aval{}
	for _, s := range base.srcs {
		if s.konst == nil {
			return dnfTrue, unknownVal
		}
		switch cv := s.konst.(type) {
		case ast.Object:
			cv.Foreach(func(k, v *ast.Term) {
				keysOK = append(keysOK, k.Value)
				vals.srcs = append(vals.srcs, vsrc{konst: v.Value})
			})
		case ast.Set:
			cv.Foreach(func(k *ast.Term) {
				keysOK = append(keysOK, k.Value)
				vals.srcs = append(vals.srcs, vsrc{konst: k.Value})
			})
		default:
			return dnfTrue, unknownVal
		}
	}
	cond := testEach(key, func(s vsrc) dnf { return eqTest(s, keysOK) })
	if len(vals.srcs) > maxAlternatives {
		vals = unknownVal
	}
	c, v := d.index(vals, rest, e)
	return cond.and(c), v
}

func (d *deriver) bindKeyVars(keys []*ast.Term, e *env) {
	for _, k := range keys {
		if v, ok := k.Value.(ast.Var); ok {
			if _, bound := e.vars[v]; !bound {
				e.vars[v] = unknownVal
			}
		}
	}
}

// constIndex indexes a constant: a constant key, or an unbound variable
// key (every element; the variable stays unknown).
func constIndex(v ast.Value, keys []*ast.Term, e *env) ([]ast.Value, bool) {
	cur := []ast.Value{v}
	for _, k := range keys {
		var next []ast.Value
		kv := k.Value
		if vr, ok := kv.(ast.Var); ok {
			if b, bound := e.vars[vr]; bound {
				cs, ok := b.consts()
				if !ok || len(cs) != 1 {
					return nil, false
				}
				kv = cs[0]
			} else {
				e.vars[vr] = unknownVal
				kv = nil
			}
		} else if !ast.IsScalar(kv) {
			return nil, false
		}
		for _, c := range cur {
			if kv == nil {
				elems, ok := constElements([]ast.Value{c})
				if !ok {
					return nil, false
				}
				next = append(next, elems...)
				continue
			}
			got, err := c.Find(ast.Ref{ast.NewTerm(kv)})
			if err != nil {
				continue // undefined for this constant
			}
			next = append(next, got)
		}
		cur = next
		if len(cur) > maxAlternatives {
			return nil, false
		}
	}
	return cur, true
}

// dataRef evaluates a reference into data: a rule (with keys after it) in
// some package. asCond: the reference is an expression of its own (must be
// defined and not false).
func (d *deriver) dataRef(r ast.Ref, e *env, asCond bool) (dnf, aval) {
	// find the longest prefix naming rules
	for n := len(r); n >= 2; n-- {
		prefix := r[:n]
		if !prefix.IsGround() {
			continue
		}
		rules := d.compiler.GetRulesExact(prefix)
		if len(rules) == 0 {
			continue
		}
		if len(rules[0].Head.Args) > 0 {
			return dnfTrue, unknownVal // a function referenced without a call
		}
		rest := r[n:]
		f, multi := d.ruleRef(prefix, rules)
		if multi {
			// a partial set or object: always defined; it has an element
			// only when some definition's body holds
			coll := collection(f.val, f.cond)
			if len(rest) == 0 {
				return dnfTrue, coll
			}
			return d.index(coll, rest, e)
		}
		if asCond && len(rest) == 0 {
			return f.asCond(), unknownVal
		}
		cond, val := f.asValue()
		c, v := d.index(val, rest, e)
		return cond.and(c), v
	}
	d.bindKeyVars(r, e)
	return dnfTrue, unknownVal
}

// falseExcluded: when every possible value of a rule is a constant, the
// ones that are false cannot make an expression hold. (Only used to turn a
// rule that is always false into never.)
func falseExcluded(v aval) dnf {
	cs, ok := v.consts()
	if !ok {
		return dnfTrue
	}
	for _, c := range cs {
		if b, isBool := c.(ast.Boolean); !isBool || bool(b) {
			return dnfTrue
		}
	}
	return dnfNever()
}

// defs is what the analysis knows of a rule or function: the condition
// that one of its (non-default) definitions holds and their values, and
// its default value when it has one.
type defs struct {
	cond       dnf
	val        aval
	hasDefault bool
	defVal     aval
}

// asCond is the condition for a reference or call to hold as an
// expression (defined and not false).
func (f defs) asCond() dnf {
	c := f.cond.and(falseExcluded(f.val))
	if f.hasDefault && !falseExcluded(f.defVal).isNever() {
		return dnfTrue
	}
	return c
}

// asValue is the condition for it to be defined, and its value.
func (f defs) asValue() (dnf, aval) {
	if f.hasDefault {
		return dnfTrue, f.val.union(f.defVal)
	}
	return f.cond, f.val
}

func (a dnf) isNever() bool { return !a.always && len(a.alts) == 0 }

// ruleRef analyses a (non-function) rule; multi reports a partial
// (multi-value) rule.
func (d *deriver) ruleRef(ref ast.Ref, rules []*ast.Rule) (defs, bool) {
	key := ref.String()
	multi := rules[0].Head.RuleKind() == ast.MultiValue || len(rules[0].Head.Ref()) > len(ref)
	if f, ok := d.memo[key]; ok {
		return f, multi
	}
	if d.active[key] || d.depth >= maxDepth {
		return defs{cond: dnfTrue, val: unknownVal, hasDefault: true, defVal: unknownVal}, multi
	}
	d.active[key] = true
	d.depth++
	f := d.definitions(rules, nil)
	d.depth--
	delete(d.active, key)
	d.memo[key] = f
	return f, multi
}

// definitions analyses every definition (else chains included) of a rule
// or function, with the function's arguments.
func (d *deriver) definitions(rules []*ast.Rule, args []aval) defs {
	f := defs{cond: dnfNever()}
	for _, r := range rules {
		if r.Default {
			f.hasDefault = true
			if r.Head.Value != nil {
				f.defVal = f.defVal.union(constOrUnknown(r.Head.Value))
			} else {
				f.defVal = f.defVal.union(constVal(ast.Boolean(true)))
			}
			continue
		}
		for rr := r; rr != nil; rr = rr.Else {
			e := newEnv(nil)
			params := rr.Head.Args
			if len(params) == 0 {
				params = r.Head.Args // an else branch shares its rule's parameters
			}
			if len(args) > 0 || len(params) > 0 {
				if !d.bindParams(params, args, e) {
					// a parameter pattern the analysis does not follow:
					// this definition may hold for any input
					f.cond = dnfTrue
					f.val = f.val.union(unknownVal)
					continue
				}
			}
			bc := d.body(rr.Body, e)
			f.cond = f.cond.or(bc)
			var hv aval
			switch {
			case rr.Head.RuleKind() == ast.MultiValue && rr.Head.Key != nil:
				_, hv = d.value(rr.Head.Key, e)
			case rr.Head.Value != nil:
				_, hv = d.value(rr.Head.Value, e)
			default:
				hv = constVal(ast.Boolean(true))
			}
			f.val = f.val.union(guarded(hv, bc))
		}
	}
	return f
}

// guarded marks the constants of a definition's value as produced only
// when its body holds.
func guarded(v aval, cond dnf) aval {
	if v.unknown || cond.always {
		return v
	}
	out := aval{srcs: make([]vsrc, len(v.srcs))}
	for i, s := range v.srcs {
		if s.konst != nil {
			g := cond
			if s.guard != nil {
				g = s.guard.and(cond)
			}
			s.guard = &g
		}
		out.srcs[i] = s
	}
	return out
}

func constOrUnknown(t *ast.Term) aval {
	if t.IsGround() {
		return constVal(t.Value)
	}
	return unknownVal
}

// bindParams binds a function's parameters to its arguments' values.
// Parameters are variables after compilation, except for constant patterns
// (is_loopback_addr("::1")), which bind nothing and add no condition.
func (d *deriver) bindParams(params []*ast.Term, args []aval, e *env) bool {
	if len(params) != len(args) {
		return false
	}
	for i, p := range params {
		switch pv := p.Value.(type) {
		case ast.Var:
			if pv.IsWildcard() {
				continue
			}
			if _, dup := e.vars[pv]; dup {
				return false
			}
			e.vars[pv] = args[i]
		default:
			// a constant pattern: the definition applies to some
			// arguments only; not followed
			return false
		}
	}
	return true
}

// call analyses a call expression: a built-in or a function, with its
// output, if any, as the last operand.
func (d *deriver) call(terms []*ast.Term, e *env) dnf {
	op, ok := terms[0].Value.(ast.Ref)
	if !ok {
		return dnfTrue
	}
	operands := terms[1:]
	if op.HasPrefix(ast.DefaultRootRef) {
		return d.userCall(op, operands, e)
	}
	name := op.String()
	if (name == ast.Equality.Name || name == ast.Equal.Name) && len(operands) == 2 {
		return d.unify(operands[0], operands[1], e)
	}
	bi, ok := ast.BuiltinMap[name]
	if !ok {
		d.bindAllUnknown(operands, e)
		return dnfTrue
	}
	arity := len(bi.Decl.FuncArgs().Args)
	var out *ast.Term
	if len(operands) == arity+1 {
		out = operands[arity]
		operands = operands[:arity]
	}
	cond := dnfTrue
	args := make([]aval, len(operands))
	for i, o := range operands {
		c, v := d.value(o, e)
		cond = cond.and(c)
		args[i] = v
	}
	res, tc := d.builtin(name, args)
	if out != nil {
		// the built-in's value is used (x := a == b): a test's outcome is
		// a value, not a condition
		if isTest(name) {
			res = unknownVal
		}
		return cond.and(d.unifyVal(out, res, e))
	}
	cond = cond.and(tc)
	if res.unknown {
		return cond
	}
	// a built-in used as an expression must not return false
	return cond.and(falseExcluded(res))
}

func terms1(t *ast.Term) []*ast.Term {
	if t == nil {
		return nil
	}
	return []*ast.Term{t}
}

func (d *deriver) bindAllUnknown(ts []*ast.Term, e *env) {
	for _, t := range ts {
		ast.WalkVars(t, func(v ast.Var) bool {
			if _, ok := e.vars[v]; !ok {
				e.vars[v] = unknownVal
			}
			return false
		})
	}
}

// userCall inlines a call of a function defined in Rego.
func (d *deriver) userCall(op ast.Ref, operands []*ast.Term, e *env) dnf {
	rules := d.compiler.GetRulesExact(op)
	if len(rules) == 0 || len(rules[0].Head.Args) == 0 {
		d.bindAllUnknown(operands, e)
		return dnfTrue
	}
	n := len(rules[0].Head.Args)
	var out *ast.Term
	if len(operands) == n+1 {
		out = operands[n]
		operands = operands[:n]
	}
	if len(operands) != n {
		d.bindAllUnknown(operands, e)
		return dnfTrue
	}
	cond := dnfTrue
	args := make([]aval, n)
	for i, o := range operands {
		c, v := d.value(o, e)
		cond = cond.and(c)
		args[i] = v
	}
	key := op.String()
	if d.active[key] || d.depth >= maxDepth {
		d.bindAllUnknown(terms1(out), e)
		return cond
	}
	d.active[key] = true
	d.depth++
	f := d.definitions(rules, args)
	d.depth--
	delete(d.active, key)
	if out != nil {
		fc, fv := f.asValue()
		return cond.and(fc).and(d.unifyVal(out, fv, e))
	}
	return cond.and(f.asCond())
}

// unify analyses a = b (or a == b): binds an unbound variable, else tests
// equality.
func (d *deriver) unify(a, b *ast.Term, e *env) dnf {
	if v, ok := a.Value.(ast.Var); ok {
		if _, bound := e.vars[v]; !bound {
			c, bv := d.value(b, e)
			e.vars[v] = bv
			return c
		}
	}
	if v, ok := b.Value.(ast.Var); ok {
		if _, bound := e.vars[v]; !bound {
			c, av := d.value(a, e)
			e.vars[v] = av
			return c
		}
	}
	// [p, kind] = x with x one of constant arrays: each variable gets the
	// constants at its index (their pairing is not kept: still sound)
	if c, ok := d.destructure(a, b, e); ok {
		return c
	}
	if c, ok := d.destructure(b, a, e); ok {
		return c
	}
	// other patterns bind their variables to unknown
	if !isSimple(a) || !isSimple(b) {
		d.bindAllUnknown([]*ast.Term{a, b}, e)
		return dnfTrue
	}
	ca, va := d.value(a, e)
	cb, vb := d.value(b, e)
	eq := d.equal(va, vb)
	if eq.always && isFieldVal(va) && isFieldVal(vb) {
		d.note(nil, fmt.Sprintf("a comparison of two input fields (%s)", fieldNames(va, vb)))
	}
	return ca.and(cb).and(eq)
}

func (d *deriver) destructure(pat, val *ast.Term, e *env) (dnf, bool) {
	arr, ok := pat.Value.(*ast.Array)
	if !ok || arr.IsGround() {
		return dnfTrue, false
	}
	for i := range arr.Len() {
		v, isVar := arr.Elem(i).Value.(ast.Var)
		if !isVar {
			return dnfTrue, false
		}
		if _, bound := e.vars[v]; bound {
			return dnfTrue, false
		}
	}
	c, vv := d.value(val, e)
	cs, ok := vv.consts()
	if !ok {
		return dnfTrue, false
	}
	elems := make([]aval, arr.Len())
	any := false
	for _, cv := range cs {
		ca, isArr := cv.(*ast.Array)
		if !isArr || ca.Len() != arr.Len() {
			continue // does not unify
		}
		any = true
		for i := range arr.Len() {
			elems[i] = elems[i].union(constVal(ca.Elem(i).Value))
		}
	}
	if !any {
		return dnfNever(), true
	}
	for i := range arr.Len() {
		v := arr.Elem(i).Value.(ast.Var)
		if !v.IsWildcard() {
			e.vars[v] = elems[i]
		}
	}
	return c, true
}

func isFieldVal(a aval) bool {
	return !a.unknown && len(a.srcs) > 0 && a.srcs[0].isField
}

func fieldNames(a, b aval) string {
	return fieldString(a.srcs[0].field) + " and " + fieldString(b.srcs[0].field)
}

func isSimple(t *ast.Term) bool {
	switch t.Value.(type) {
	case ast.Var, ast.Ref, ast.String, ast.Number, ast.Boolean, ast.Null:
		return true
	}
	return t.IsGround()
}

// unifyVal binds or tests an output term against a computed value.
func (d *deriver) unifyVal(out *ast.Term, val aval, e *env) dnf {
	if v, ok := out.Value.(ast.Var); ok {
		if _, bound := e.vars[v]; !bound {
			e.vars[v] = val
			return dnfTrue
		}
	}
	if !isSimple(out) {
		d.bindAllUnknown([]*ast.Term{out}, e)
		return dnfTrue
	}
	c, ov := d.value(out, e)
	return c.and(d.equal(ov, val))
}

// equal is the condition a == b.
func (d *deriver) equal(a, b aval) dnf {
	// count(collection) == n, n >= 1: the collection is not empty
	for _, pair := range [][2]aval{{a, b}, {b, a}} {
		if pair[0].countOf != nil {
			if cs, ok := pair[1].consts(); ok && len(cs) == 1 {
				if n, isNum := cs[0].(ast.Number); isNum {
					if i, ok := n.Int64(); ok && i >= 1 {
						return *pair[0].countOf
					}
				}
			}
			return dnfTrue
		}
	}
	if cs, ok := b.consts(); ok {
		return testEach(a, func(s vsrc) dnf { return eqTest(s, cs) })
	}
	if cs, ok := a.consts(); ok {
		return testEach(b, func(s vsrc) dnf { return eqTest(s, cs) })
	}
	// sources of both kinds: each pair of sources may make the two equal
	if a.unknown || b.unknown || len(a.srcs)*len(b.srcs) > maxAlternatives {
		return dnfTrue
	}
	out := dnfNever()
	for _, sa := range a.srcs {
		for _, sb := range b.srcs {
			out = out.or(equalSrcs(sa, sb))
			if out.always {
				return out
			}
		}
	}
	return out
}

// equalSrcs is the condition for two sources to be equal: a constant and
// a field, two constants, or two plain fields (a field-to-field equality:
// process.exe == input.args.pathname). A field with a default (object.get)
// equals the other side also when it is missing and the other side equals
// the default.
func equalSrcs(a, b vsrc) dnf {
	switch {
	case !a.isField && !b.isField:
		if a.konst == nil || b.konst == nil {
			return dnfTrue
		}
		if ast.Compare(a.konst, b.konst) != 0 {
			return dnfNever()
		}
		return a.held().and(b.held())
	case !a.isField:
		if a.konst == nil {
			return dnfTrue
		}
		return eqTest(b, []ast.Value{a.konst}).and(a.held())
	case !b.isField:
		if b.konst == nil {
			return dnfTrue
		}
		return eqTest(a, []ast.Value{b.konst}).and(b.held())
	}
	plain := func(s vsrc) bool { return s.kind == "" && len(s.xf) == 0 && s.mask == 0 && len(s.field) > 0 }
	if !plain(a) || !plain(b) {
		return dnfTrue
	}
	if a.def != nil && b.def != nil && ast.Compare(a.def, b.def) == 0 {
		return dnfTrue // both missing: equal
	}
	out := dnfTest(event.Test{Field: fieldString(a.field), Op: event.OpEqField, Strings: []string{fieldString(b.field)}})
	// a missing (its default) against b present, and the other way round
	if a.def != nil {
		nb := b
		nb.def = nil
		out = out.or(eqTest(nb, []ast.Value{a.def}))
	}
	if b.def != nil {
		na := a
		na.def = nil
		out = out.or(eqTest(na, []ast.Value{b.def}))
	}
	return out
}

// testEach ORs a test over a value's sources (unknown: no constraint).
func testEach(a aval, f func(vsrc) dnf) dnf {
	if a.unknown {
		return dnfTrue
	}
	out := dnfNever()
	for _, s := range a.srcs {
		out = out.or(f(s))
		if out.always {
			return out
		}
	}
	return out
}

// fieldTest turns a test on a field source into a condition: when the
// field has a default, the test must reject the default, else the missing
// field may pass and nothing is said.
func fieldTest(s vsrc, t event.Test, holds func(ast.Value) (bool, bool)) dnf {
	if s.def != nil {
		ok, known := holds(s.def)
		if !known || ok {
			return dnfTrue
		}
	}
	t.Field = fieldString(s.field)
	return dnfTest(t)
}

func fieldString(path []string) string { return strings.Join(path, ".") }

// eqTest: source equals one of cs.
func eqTest(s vsrc, cs []ast.Value) dnf {
	if !s.isField {
		if s.konst == nil {
			return dnfTrue
		}
		for _, c := range cs {
			if ast.Compare(s.konst, c) == 0 {
				return s.held()
			}
		}
		return dnfNever()
	}
	if s.kind == "countf" || (s.kind == "" && len(s.xf) == 0 && s.mask == 0 && len(cs) == 1 && cs[0].Compare(ast.Null{}) == 0) {
		// count(field) == 0, field == null: the field is there and empty
		// (null, "", [], {}; wider than each)
		if s.kind == "countf" && (len(cs) != 1 || cs[0].Compare(ast.InternedTerm(0).Value) != 0) {
			return dnfTrue
		}
		isCount := s.kind == "countf"
		return fieldTest(s, event.Test{Op: event.OpEmpty}, func(v ast.Value) (bool, bool) {
			if !isCount {
				return v.Compare(ast.Null{}) == 0, true
			}
			switch x := v.(type) {
			case ast.String:
				return len(x) == 0, true
			case *ast.Array:
				return x.Len() == 0, true
			case ast.Set:
				return x.Len() == 0, true
			case ast.Object:
				return x.Len() == 0, true
			}
			return false, true // count fails: the expression fails
		})
	}
	if s.kind != "" {
		return dnfTrue
	}
	if slices.Equal(s.xf, []string{"after"}) {
		var alts []string
		for _, c := range cs {
			str, ok := c.(ast.String)
			if !ok {
				continue
			}
			alts = append(alts, regexp.QuoteMeta(string(str)))
		}
		if len(alts) == 0 {
			return dnfNever()
		}
		return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpRegex, Strings: []string{"^(?:" + s.sep + ")(?:" + strings.Join(alts, "|") + ")$"}})
	}
	if len(s.xf) > 0 {
		var strs []string
		for _, c := range cs {
			str, ok := c.(ast.String)
			if !ok {
				continue // a transformed value is a string
			}
			strs = append(strs, string(str))
		}
		if s.def != nil {
			dv, ok := applyXf(s.def, s.xf)
			if !ok {
				return dnfTrue
			}
			for _, c := range cs {
				if ast.Compare(dv, c) == 0 {
					return dnfTrue
				}
			}
		}
		return xfEqTest(s, strs)
	}
	if s.mask != 0 {
		// bits.and(field, mask) == 0: no bit of mask; == c with c a
		// non-zero part of mask: every bit of c, so some bit of c
		if len(cs) == 1 {
			if n, ok := cs[0].(ast.Number); ok {
				if i, ok := n.Int64(); ok && i == 0 {
					return bitTest(s, event.OpBitsNone)
				}
				if i, ok := n.Int64(); ok && i > 0 {
					if uint64(i)&^s.mask != 0 {
						return dnfNever() // bits outside the mask are never set in the result
					}
					// every bit of c set (one test per bit), and the
					// mask's other bits clear
					c := dnfTrue
					for b := uint64(1); b != 0; b <<= 1 {
						if uint64(i)&b != 0 {
							t := s
							t.mask = b
							c = c.and(bitTest(t, event.OpBitsAny))
						}
					}
					if rest := s.mask &^ uint64(i); rest != 0 {
						t := s
						t.mask = rest
						c = c.and(bitTest(t, event.OpBitsNone))
					}
					return c
				}
			}
		}
		return dnfTrue
	}
	t := event.Test{Op: event.OpEq}
	for _, c := range cs {
		switch cv := c.(type) {
		case ast.String:
			t.Strings = append(t.Strings, string(cv))
		case ast.Number:
			i, ok := cv.Int64()
			if !ok {
				return dnfTrue
			}
			t.Ints = append(t.Ints, i)
		case ast.Boolean:
			if t.Bool != nil && *t.Bool != bool(cv) {
				return dnfTrue // true or false: any boolean
			}
			b := bool(cv)
			t.Bool = &b
		default:
			return dnfTrue
		}
	}
	if t.Bool != nil && (len(t.Strings) > 0 || len(t.Ints) > 0) {
		return dnfTrue
	}
	if len(t.Strings) == 0 && len(t.Ints) == 0 && t.Bool == nil {
		return dnfNever()
	}
	return fieldTest(s, t, func(v ast.Value) (bool, bool) {
		for _, c := range cs {
			if ast.Compare(v, c) == 0 {
				return true, true
			}
		}
		return false, true
	})
}

func bitTest(s vsrc, op event.Op) dnf {
	if s.def != nil {
		return dnfTrue
	}
	return dnfTest(event.Test{Field: fieldString(s.field), Op: op, Mask: s.mask})
}

// builtin returns the value of a built-in call over abstract arguments and
// the condition for it to hold (for tests used as expressions, the result
// is true exactly when the condition holds, so res is unknown).
func (d *deriver) builtin(name string, args []aval) (aval, dnf) {
	// Constant folding for the few built-ins that build constants the
	// tests then use (concat("", [dir, "/"]), plus(o_creat, o_trunc)).
	if folded, ok := foldConst(name, args); ok {
		return folded, dnfTrue
	}
	if r, c, ok := structural(name, args); ok {
		return r, c
	}
	switch name {
	case "startswith", "endswith", "contains":
		op := map[string]event.Op{"startswith": event.OpPrefix, "endswith": event.OpSuffix, "contains": event.OpContains}[name]
		pats, ok := stringConsts(args[1])
		if !ok {
			return unknownVal, dnfTrue
		}
		return unknownVal, testEach(args[0], func(s vsrc) dnf {
			return stringTest(s, op, pats)
		})
	case "regex.match":
		pats, ok := stringConsts(args[0])
		if !ok {
			return unknownVal, dnfTrue
		}
		for _, p := range pats {
			if _, err := regexp.Compile(p); err != nil {
				return unknownVal, dnfTrue
			}
		}
		return unknownVal, testEach(args[1], func(s vsrc) dnf {
			return stringTest(s, event.OpRegex, pats)
		})
	case "internal.member_2":
		coll, ok := args[1].consts()
		if !ok {
			return unknownVal, dnfTrue
		}
		elems, ok := constElements(coll)
		if !ok {
			return unknownVal, dnfTrue
		}
		return unknownVal, testEach(args[0], func(s vsrc) dnf { return eqTest(s, elems) })
	case "neq":
		// bits.and(field, mask) != 0
		if cs, ok := args[1].consts(); ok && len(cs) == 1 && isZero(cs[0]) && hasMask(args[0]) {
			return unknownVal, testEach(args[0], func(s vsrc) dnf {
				if s.isField && s.mask != 0 {
					return bitTest(s, event.OpBitsAny)
				}
				return dnfTrue
			})
		}
		return unknownVal, neqTest(args)
	case "lt", "lte", "gt", "gte":
		return unknownVal, compareTest(name, args)
	case "object.get":
		return objectGet(args), dnfTrue
	case "is_number":
		// a number is >= 0 or < 0; a field that is missing (and whose
		// default is no number) is none. Values of other types compare
		// either way in the matcher (held).
		return constVal(ast.Boolean(false)).union(constVal(ast.Boolean(true))), testEach(args[0], func(s vsrc) dnf {
			if !s.isField || s.mask != 0 || s.kind != "" || len(s.xf) > 0 {
				return dnfTrue
			}
			isNum := func(v ast.Value) (bool, bool) { _, ok := v.(ast.Number); return ok, true }
			return fieldTest(s, event.Test{Op: event.OpGE, Ints: []int64{0}}, isNum).or(fieldTest(s, event.Test{Op: event.OpLT, Ints: []int64{0}}, isNum))
		})
	case "bits.and":
		return bitsAnd(args), dnfTrue
	}
	return unknownVal, dnfTrue
}

// unversionedPattern is lib.unversioned's regular expression.
const unversionedPattern = `[0-9][0-9.]*$`

// structural handles built-ins over collections and the pieces of
// lib.basename and lib.unversioned.
func structural(name string, args []aval) (aval, dnf, bool) {
	// each maps f over every source of a; ok=false when one does not fit.
	each := func(a aval, f func(vsrc) (vsrc, bool)) (aval, bool) {
		if a.unknown || len(a.srcs) == 0 {
			return aval{}, false
		}
		out := aval{}
		for _, s := range a.srcs {
			if s.konst != nil {
				continue // a constant: its basename is computed where tested
			}
			if !s.isField || s.mask != 0 {
				return aval{}, false
			}
			ns, ok := f(s)
			if !ok {
				return aval{}, false
			}
			out.srcs = append(out.srcs, ns)
		}
		if len(out.srcs) == 0 {
			return aval{}, false
		}
		return out, true
	}
	switch name {
	case "array.concat":
		// its elements are the elements of either array
		if len(args) == 2 {
			return collection(elementsOf(args[0]).union(elementsOf(args[1])), dnfTrue), dnfTrue, true
		}
	case "concat":
		// concat(sep, input.args.argv): the joined array (lib.cmdline)
		if seps, ok := stringConsts(args[0]); ok && len(seps) == 1 && seps[0] != "" && allKind(args[1], "") && !hasConst(args[1]) {
			if r, ok := each(args[1], func(s vsrc) (vsrc, bool) {
				if s.def != nil || len(s.xf) > 0 {
					return s, false
				}
				s.kind, s.sep = "join", seps[0]
				return s, true
			}); ok {
				return r, dnfTrue, true
			}
		}
	case "count":
		if args[0].nonEmpty != nil {
			return aval{unknown: true, countOf: args[0].nonEmpty}, dnfTrue, true
		}
		if hasConst(args[0]) {
			break
		}
		// count(field): only count(field) == 0 is tested (the field is
		// empty)
		if r, ok := each(args[0], func(s vsrc) (vsrc, bool) {
			if s.mask != 0 || s.kind != "" || len(s.xf) > 0 || s.obj != nil {
				return s, false
			}
			s.kind = "countf"
			return s, true
		}); ok && allKind(args[0], "") {
			return r, dnfTrue, true
		}
		if r, ok := each(args[0], func(s vsrc) (vsrc, bool) { s.kind = "count"; return s, s.kind == "count" && true }); ok && allKind(args[0], "split") {
			return r, dnfTrue, true
		}
	case "minus":
		if cs, ok := args[1].consts(); ok && len(cs) == 1 && ast.Compare(cs[0], ast.Number("1")) == 0 && allKind(args[0], "count") && !hasConst(args[0]) {
			if r, ok := each(args[0], func(s vsrc) (vsrc, bool) { s.kind = "last"; return s, true }); ok {
				return r, dnfTrue, true
			}
		}
	case "split":
		if seps, ok := stringConsts(args[1]); ok && len(seps) == 1 && seps[0] == "/" && allKind(args[0], "") && !hasConst(args[0]) {
			if r, ok := each(args[0], func(s vsrc) (vsrc, bool) { s.kind = "split"; return s, true }); ok {
				return r, dnfTrue, true
			}
		}
	case "regex.find_all_string_submatch_n", "regex.find_n":
		// the matches: non-empty only when the expression matches
		pats, ok := stringConsts(args[0])
		if !ok {
			break
		}
		for _, p := range pats {
			if _, err := regexp.Compile(p); err != nil {
				return unknownVal, dnfTrue, true
			}
		}
		if n, ok := args[2].consts(); !ok || len(n) != 1 || isZero(n[0]) {
			break
		}
		c := testEach(args[1], func(s vsrc) dnf { return stringTest(s, event.OpRegex, pats) })
		// ^P(.+)$ on a field: the capture is what follows a match of P
		// (lib.home_relative), tested as a regular expression on the field
		if name == "regex.find_all_string_submatch_n" && len(pats) == 1 {
			if prefix, ok := suffixCapture(pats[0]); ok && allKind(args[1], "") && !hasConst(args[1]) {
				if sub, ok := each(args[1], func(s vsrc) (vsrc, bool) {
					if len(s.xf) > 0 || s.def != nil {
						return s, false
					}
					s.kind, s.sep = "submatch", prefix
					return s, true
				}); ok {
					return collection(sub, c), dnfTrue, true
				}
			}
		}
		return collection(unknownVal, c), dnfTrue, true
	case "lower":
		if !args[0].unknown && len(args[0].srcs) > 0 {
			out := aval{}
			for _, s := range args[0].srcs {
				switch {
				case s.isField && s.mask == 0 && s.kind == "" && len(s.xf) == 0:
					s.xf = []string{"lower"}
					out.srcs = append(out.srcs, s)
				case s.konst != nil:
					str, isStr := s.konst.(ast.String)
					if !isStr {
						return unknownVal, dnfTrue, true
					}
					s.konst = ast.String(strings.ToLower(string(str)))
					out.srcs = append(out.srcs, s)
				default:
					return unknownVal, dnfTrue, true
				}
			}
			return out, dnfTrue, true
		}
	case "base64.decode":
		// the decoded bytes of a field (lib.magic_bytes): prefixes of
		// the bytes are prefixes of the field's canonical base64
		if allKind(args[0], "") && !hasConst(args[0]) {
			if r, ok := each(args[0], func(s vsrc) (vsrc, bool) {
				if len(s.xf) > 0 {
					return s, false
				}
				s.xf = []string{"b64"}
				return s, true
			}); ok {
				return r, dnfTrue, true
			}
		}
	case "hex.encode":
		// the hex digits of a field's decoded bytes (lib.elf_header):
		// a prefix of the digits is a prefix of the bytes
		if allKind(args[0], "") && !hasConst(args[0]) {
			if r, ok := each(args[0], func(s vsrc) (vsrc, bool) {
				if !slices.Equal(s.xf, []string{"b64"}) {
					return s, false
				}
				s.xf = []string{"b64", "hex"}
				return s, true
			}); ok {
				return r, dnfTrue, true
			}
		}
	case "regex.replace":
		pats, ok1 := stringConsts(args[1])
		repl, ok2 := stringConsts(args[2])
		if ok1 && ok2 && len(pats) == 1 && len(repl) == 1 && pats[0] == unversionedPattern && repl[0] == "" && !args[0].unknown {
			out := aval{}
			for _, s := range args[0].srcs {
				if s.isField && s.mask == 0 && s.kind == "" {
					s.xf = append(slices.Clone(s.xf), "unversioned")
					out.srcs = append(out.srcs, s)
					continue
				}
				if str, isStr := s.konst.(ast.String); isStr {
					s.konst = ast.String(unversionedRE.ReplaceAllString(string(str), ""))
					out.srcs = append(out.srcs, s)
					continue
				}
				return unknownVal, dnfTrue, true
			}
			return out, dnfTrue, true
		}
		// a pattern whose matches end at the end of the text, replaced by
		// nothing: what is left is a prefix of the value
		if ok1 && ok2 && len(pats) == 1 && len(repl) == 1 && repl[0] == "" && endsAtEndOfText(pats[0]) {
			return substringOf(args[0], "cut:"+pats[0]), dnfTrue, true
		}
	case "trim":
		if cut, ok := stringConsts(args[1]); ok && len(cut) == 1 {
			return substringOf(args[0], "trim:"+cut[0]), dnfTrue, true
		}
	case "trim_suffix":
		if cut, ok := stringConsts(args[1]); ok && len(cut) == 1 {
			return substringOf(args[0], "tsfx:"+cut[0]), dnfTrue, true
		}
	case "gt", "gte", "neq":
		// count(collection) > 0, >= 1, != 0
		if args[0].countOf != nil {
			if cs, ok := args[1].consts(); ok && len(cs) == 1 {
				want := "0"
				if name == "gte" {
					want = "1"
				}
				if ast.Compare(cs[0], ast.Number(want)) == 0 {
					return unknownVal, *args[0].countOf, true
				}
			}
			return unknownVal, dnfTrue, true
		}
	}
	return aval{}, dnfTrue, false
}

// substringOf is the value of a built-in whose result is a substring of
// its string argument: xf "trim:<cutset>" (trim) or "cut:<pattern>"
// (removing a suffix matched by pattern). A field keeps its tests of
// equality as "contains"; constants (and defaults) are computed.
func substringOf(a aval, xf string) aval {
	if a.unknown || len(a.srcs) == 0 {
		return unknownVal
	}
	out := aval{}
	for _, s := range a.srcs {
		switch {
		case s.konst != nil:
			v, ok := applyXf(s.konst, []string{xf})
			if !ok {
				return unknownVal
			}
			s.konst = v
		case s.isField && s.mask == 0 && s.kind == "" && s.obj == nil:
			for i, x := range s.xf {
				if !substringXf(x) && (i != 0 || x != "lower") {
					return unknownVal
				}
			}
			s.xf = append(slices.Clone(s.xf), xf)
		default:
			return unknownVal
		}
		out.srcs = append(out.srcs, s)
	}
	return out
}

// substringXf: a transform whose result is a substring of its input.
func substringXf(x string) bool {
	return x == "basename" || x == "unversioned" || strings.HasPrefix(x, "trim:") || strings.HasPrefix(x, "cut:") || strings.HasPrefix(x, "tsfx:")
}

// lowerSubstring: the source is lower() of a field, then transforms that
// each leave a substring (dns_name: trim_suffix(lower(name), ".")).
func lowerSubstring(s vsrc) bool {
	if !s.isField || s.mask != 0 || s.kind != "" || len(s.xf) < 2 || s.xf[0] != "lower" {
		return false
	}
	for _, x := range s.xf[1:] {
		if !substringXf(x) {
			return false
		}
	}
	return true
}

// lowerContainsTest: the field holds a piece that lowers to one of strs
// (what any string test of lower(field), cut to a substring, implies).
func lowerContainsTest(s vsrc, strs []string) dnf {
	if slices.Contains(strs, "") {
		return dnfTrue
	}
	alts, ok := lowerPreimages(strs)
	if !ok {
		return dnfTrue
	}
	if len(alts) == 0 {
		return dnfNever()
	}
	slices.Sort(alts)
	alts = slices.Compact(alts)
	return fieldTestNoDefault(s, event.Test{Field: fieldString(s.field), Op: event.OpRegex, Strings: []string{"(?:" + strings.Join(alts, "|") + ")"}})
}

// fieldTestNoDefault is a test on a field that holds only when the field
// is there: with a default (whose transformed value is not tested here)
// nothing is said.
func fieldTestNoDefault(s vsrc, t event.Test) dnf {
	if s.def != nil {
		return dnfTrue
	}
	return dnfTest(t)
}

// endsAtEndOfText reports whether every match of the pattern ends at the
// end of the text (it ends with $ outside multi-line mode, at top level).
func endsAtEndOfText(p string) bool {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return false
	}
	if re.Op == syntax.OpEndText {
		return true
	}
	return re.Op == syntax.OpConcat && len(re.Sub) > 0 && re.Sub[len(re.Sub)-1].Op == syntax.OpEndText
}

// suffixCapture recognises ^P(.+)$ with no other capturing group and
// returns P.
func suffixCapture(p string) (string, bool) {
	inner, ok := strings.CutPrefix(p, "^")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, "(.+)$")
	if !ok {
		return "", false
	}
	re, err := regexp.Compile(inner)
	if err != nil || re.NumSubexp() != 0 || strings.Contains(inner, "|") && !strings.HasPrefix(inner, "/(?:") {
		return "", false
	}
	if _, err := syntax.Parse("^(?:"+inner+")", syntax.Perl); err != nil {
		return "", false
	}
	return inner, true
}

func hasConst(a aval) bool {
	for _, s := range a.srcs {
		if s.konst != nil {
			return true
		}
	}
	return false
}

func allKind(a aval, kind string) bool {
	if a.unknown || len(a.srcs) == 0 {
		return false
	}
	for _, s := range a.srcs {
		if !s.isField || s.kind != kind {
			return false
		}
	}
	return true
}

// lowerPreimages is lowerPreimage of each of strs, or false when one has
// none.
func lowerPreimages(strs []string) ([]string, bool) {
	alts := make([]string, 0, len(strs))
	for _, str := range strs {
		re, ok := lowerPreimage(str)
		if !ok {
			return nil, false
		}
		alts = append(alts, re)
	}
	return alts, true
}

// lowerPreimage returns a regular expression matching exactly the strings
// whose strings.ToLower is s, for an ASCII s.
func lowerPreimage(s string) (string, bool) {
	var b strings.Builder
	for i := range len(s) {
		c := rune(s[i])
		if c >= utf8.RuneSelf {
			return "", false
		}
		b.WriteByte('[')
		for _, r := range lowersTo()[c] {
			if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				b.WriteRune(r)
				continue
			}
			fmt.Fprintf(&b, `\x{%x}`, r)
		}
		b.WriteByte(']')
	}
	return b.String(), true
}

// lowersTo maps each ASCII rune to every rune unicode.ToLower turns into it.
var lowersTo = sync.OnceValue(func() map[rune][]rune {
	m := map[rune][]rune{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		if l := unicode.ToLower(r); l < utf8.RuneSelf {
			m[l] = append(m[l], r)
		}
	}
	return m
})

// applyXf applies a source's transforms to a constant (a default).
func applyXf(v ast.Value, xf []string) (ast.Value, bool) {
	for _, x := range xf {
		s, ok := v.(ast.String)
		if !ok {
			return nil, false
		}
		switch x {
		case "basename":
			str := string(s)
			if i := strings.LastIndexByte(str, '/'); i >= 0 {
				str = str[i+1:]
			}
			v = ast.String(str)
		case "unversioned":
			v = ast.String(unversionedRE.ReplaceAllString(string(s), ""))
		case "lower":
			v = ast.String(strings.ToLower(string(s)))
		case "b64":
			b, err := base64.StdEncoding.DecodeString(string(s))
			if err != nil {
				return nil, false
			}
			v = ast.String(string(b))
		case "hex":
			v = ast.String(hex.EncodeToString([]byte(string(s))))
		default:
			switch {
			case strings.HasPrefix(x, "trim:"):
				v = ast.String(strings.Trim(string(s), x[len("trim:"):]))
			case strings.HasPrefix(x, "tsfx:"):
				v = ast.String(strings.TrimSuffix(string(s), x[len("tsfx:"):]))
			case strings.HasPrefix(x, "cut:"):
				re, err := regexp.Compile(x[len("cut:"):])
				if err != nil {
					return nil, false
				}
				v = ast.String(re.ReplaceAllString(string(s), ""))
			default:
				return nil, false
			}
		}
	}
	return v, true
}

var unversionedRE = regexp.MustCompile(unversionedPattern)

// xfEqTest: a transformed field equals one of strs. basename(f) == s:
// f == s or f ends with "/s"; unversioned(f) == s: f is s followed by
// an optional version ([0-9][0-9.]*).
func xfEqTest(s vsrc, strs []string) dnf {
	var alts []string
	for _, str := range strs {
		if strings.Contains(str, "/") && slices.Contains(s.xf, "basename") {
			continue // a basename has no slash
		}
		alts = append(alts, regexp.QuoteMeta(str))
	}
	if len(alts) == 0 {
		return dnfNever()
	}
	slices.Sort(alts)
	alts = slices.Compact(alts)
	body := "(?:" + strings.Join(alts, "|") + ")"
	if lowerSubstring(s) {
		return lowerContainsTest(s, strs)
	}
	switch {
	case slices.Equal(s.xf, []string{"basename"}):
		// exact test structures for the common case
		eq := event.Test{Field: fieldString(s.field), Op: event.OpEq, Strings: slices.Clone(strs)}
		var sfx []string
		for _, str := range strs {
			if !strings.Contains(str, "/") {
				sfx = append(sfx, "/"+str)
			}
		}
		return dnf{alts: [][]event.Test{{eq}, {{Field: fieldString(s.field), Op: event.OpSuffix, Strings: sfx}}}}
	case slices.Equal(s.xf, []string{"lower"}):
		// lower(f) == s: each character of f lowers to s's; for ASCII s, a
		// class of the runes that lower to each character
		alts, ok := lowerPreimages(strs)
		if !ok {
			return dnfTrue
		}
		if len(alts) == 0 {
			return dnfNever()
		}
		return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpRegex, Strings: []string{"^(?:" + strings.Join(alts, "|") + ")$"}})
	case slices.Equal(s.xf, []string{"unversioned"}):
		return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpRegex, Strings: []string{"^" + body + "(?:[0-9][0-9.]*)?$"}})
	case slices.Equal(s.xf, []string{"basename", "unversioned"}):
		return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpRegex, Strings: []string{"(?:^|/)" + body + "(?:[0-9][0-9.]*)?$"}})
	case slices.ContainsFunc(s.xf, func(x string) bool { return strings.HasPrefix(x, "trim:") || strings.HasPrefix(x, "cut:") }) && !slices.ContainsFunc(s.xf, func(x string) bool { return !substringXf(x) }):
		// every transform leaves a substring of the field's value
		for _, str := range strs {
			if str == "" {
				return dnfTrue
			}
		}
		var pats []string
		for _, str := range strs {
			if !strings.Contains(str, "/") || !slices.Contains(s.xf, "basename") {
				pats = append(pats, str)
			}
		}
		return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpContains, Strings: pats})
	}
	return dnfTrue
}

// isTest: built-ins whose value is the outcome of a test.
func isTest(name string) bool {
	switch name {
	case "startswith", "endswith", "contains", "regex.match", "internal.member_2",
		"eq", "equal", "neq", "lt", "lte", "gt", "gte":
		return true
	}
	return false
}

func hasMask(a aval) bool {
	for _, s := range a.srcs {
		if s.mask != 0 {
			return true
		}
	}
	return false
}

func isZero(v ast.Value) bool {
	n, ok := v.(ast.Number)
	if !ok {
		return false
	}
	i, ok := n.Int64()
	return ok && i == 0
}

func stringConsts(a aval) ([]string, bool) {
	cs, ok := a.consts()
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		s, ok := c.(ast.String)
		if !ok {
			return nil, false
		}
		out = append(out, string(s))
	}
	return out, true
}

// stringTest: source meets op for one of pats.
func stringTest(s vsrc, op event.Op, pats []string) dnf {
	holds := func(v ast.Value) (bool, bool) {
		str, ok := v.(ast.String)
		if !ok {
			// the built-in fails on a non-string: the expression fails
			return false, true
		}
		for _, p := range pats {
			if stringHolds(op, string(str), p) {
				return true, true
			}
		}
		return false, true
	}
	if !s.isField {
		if s.konst == nil {
			return dnfTrue
		}
		if ok, _ := holds(s.konst); ok {
			return s.held()
		}
		return dnfNever()
	}
	if s.kind == "join" && s.mask == 0 && len(s.xf) == 0 && s.def == nil {
		return joinTest(s, op, pats)
	}
	if slices.Equal(s.xf, []string{"basename"}) && s.kind == "" && s.mask == 0 {
		return basenameTest(s, op, pats, holds)
	}
	if slices.Equal(s.xf, []string{"after"}) && op == event.OpPrefix {
		q := make([]string, len(pats))
		for i, p := range pats {
			q[i] = regexp.QuoteMeta(p)
		}
		return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpRegex, Strings: []string{"^(?:" + s.sep + ")(?:" + strings.Join(q, "|") + ")"}})
	}
	if slices.Equal(s.xf, []string{"b64"}) && s.kind == "" && s.mask == 0 && op == event.OpPrefix {
		return base64PrefixTest(s, pats, holds)
	}
	if slices.Equal(s.xf, []string{"b64", "hex"}) && s.kind == "" && s.mask == 0 && op == event.OpPrefix {
		// hex.encode yields lower-case digits in pairs: the whole pairs of
		// a pattern are a prefix of the bytes; a pattern no encoding
		// starts with (upper case, not hex) keeps nothing (still
		// necessary: wider)
		bs := make([]string, 0, len(pats))
		for _, p := range pats {
			b, err := hex.DecodeString(p[:len(p)&^1])
			if err != nil || strings.ToLower(p) != p {
				return dnfTrue
			}
			bs = append(bs, string(b))
		}
		return base64PrefixTest(s, bs, holds)
	}
	if lowerSubstring(s) {
		return lowerContainsTest(s, pats)
	}
	if s.mask != 0 || s.kind != "" || len(s.xf) > 0 {
		return dnfTrue
	}
	return fieldTest(s, event.Test{Op: op, Strings: slices.Clone(pats)}, holds)
}

// joinTest: a test on the elements of an array joined with a separator.
// A match of a pattern that can be neither empty nor hold the separator
// lies inside one element, so the test holds for some element.
func joinTest(s vsrc, op event.Op, pats []string) dnf {
	for _, p := range pats {
		switch op {
		case event.OpContains:
			if p == "" || strings.Contains(p, s.sep) {
				return dnfTrue
			}
		case event.OpRegex:
			if !regexStaysInElement(p, s.sep) {
				return dnfTrue
			}
		default:
			return dnfTrue
		}
	}
	path := append(slices.Clone(s.field), "[]")
	return dnfTest(event.Test{Field: fieldString(path), Op: op, Strings: slices.Clone(pats)})
}

// regexStaysInElement reports whether every match of pattern is non-empty
// and free of sep (a one-character separator).
func regexStaysInElement(pattern, sep string) bool {
	if len([]rune(sep)) != 1 {
		return false
	}
	re, err := regexp.Compile(pattern)
	if err != nil || re.MatchString("") {
		return false
	}
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return false
	}
	r := []rune(sep)[0]
	ok := true
	var walk func(t *syntax.Regexp)
	walk = func(t *syntax.Regexp) {
		switch t.Op {
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			ok = false
		case syntax.OpLiteral:
			for _, c := range t.Rune {
				if c == r || (t.Flags&syntax.FoldCase != 0 && unicode.SimpleFold(c) == r) {
					ok = false
				}
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(t.Rune); i += 2 {
				if t.Rune[i] <= r && r <= t.Rune[i+1] {
					ok = false
				}
			}
		}
		for _, sub := range t.Sub {
			walk(sub)
		}
	}
	walk(tree)
	return ok
}

// basenameTest: a string test on basename(field). With a pattern free of
// "/": the basename ends with s iff the path does; it starts with p iff the
// path is p... or holds "/p" followed by no "/"; contains c implies the path
// does.
func basenameTest(s vsrc, op event.Op, pats []string, holds func(ast.Value) (bool, bool)) dnf {
	if s.def != nil {
		dv, ok := applyXf(s.def, s.xf)
		if !ok {
			return dnfTrue
		}
		if h, known := holds(dv); !known || h {
			return dnfTrue
		}
	}
	for _, p := range pats {
		if p == "" || strings.Contains(p, "/") {
			return dnfTrue
		}
	}
	f := fieldString(s.field)
	switch op {
	case event.OpSuffix, event.OpContains:
		return dnfTest(event.Test{Field: f, Op: op, Strings: slices.Clone(pats)})
	case event.OpPrefix:
		q := make([]string, len(pats))
		for i, p := range pats {
			q[i] = regexp.QuoteMeta(p)
		}
		return dnfTest(event.Test{Field: f, Op: event.OpRegex, Strings: []string{"(?:^|/)(?:" + strings.Join(q, "|") + ")[^/]*$"}})
	}
	return dnfTrue
}

// base64PrefixTest: base64.decode(field) starts with p: the field (in
// canonical standard base64, as the event's decoding renders bytes) starts
// with the characters of p's encoding that p alone determines.
func base64PrefixTest(s vsrc, pats []string, holds func(ast.Value) (bool, bool)) dnf {
	if s.def != nil {
		dv, ok := applyXf(s.def, s.xf)
		if !ok {
			return dnfTrue
		}
		if h, known := holds(dv); !known || h {
			return dnfTrue
		}
	}
	var pre []string
	for _, p := range pats {
		n := len(p) * 8 / 6 // characters fully determined by p's bits
		if n == 0 {
			return dnfTrue
		}
		pre = append(pre, base64.StdEncoding.EncodeToString([]byte(p))[:n])
	}
	return dnfTest(event.Test{Field: fieldString(s.field), Op: event.OpPrefix, Strings: pre})
}

func stringHolds(op event.Op, s, p string) bool {
	switch op {
	case event.OpPrefix:
		return strings.HasPrefix(s, p)
	case event.OpSuffix:
		return strings.HasSuffix(s, p)
	case event.OpContains:
		return strings.Contains(s, p)
	case event.OpRegex:
		re, err := regexp.Compile(p)
		return err != nil || re.MatchString(s)
	case event.OpEq:
		return s == p
	}
	return true
}

// compareTest: a numeric comparison of a field with an integer constant.
func compareTest(name string, args []aval) dnf {
	ops := map[string]event.Op{"lt": event.OpLT, "lte": event.OpLE, "gt": event.OpGT, "gte": event.OpGE}
	flip := map[event.Op]event.Op{event.OpLT: event.OpGT, event.OpLE: event.OpGE, event.OpGT: event.OpLT, event.OpGE: event.OpLE}
	op := ops[name]
	fieldSide, constSide := args[0], args[1]
	if _, ok := args[0].consts(); ok {
		fieldSide, constSide = args[1], args[0]
		op = flip[op]
	}
	cs, ok := constSide.consts()
	if !ok || len(cs) != 1 {
		return dnfTrue
	}
	n, ok := cs[0].(ast.Number)
	if !ok {
		return dnfTrue
	}
	bound, ok := n.Int64()
	if !ok {
		return dnfTrue
	}
	return testEach(fieldSide, func(s vsrc) dnf {
		if !s.isField || s.mask != 0 || s.kind != "" || len(s.xf) > 0 {
			return dnfTrue
		}
		return fieldTest(s, event.Test{Op: op, Ints: []int64{bound}}, func(v ast.Value) (bool, bool) {
			// conservative: a default that is not an integer may compare
			// either way (Rego orders values of different types)
			dn, ok := v.(ast.Number)
			if !ok {
				return true, false
			}
			x, ok := dn.Int64()
			if !ok {
				return true, false
			}
			return compareOrdered(op, x, bound), true
		})
	})
}

// objectGet: object.get(field or constant object, constant key, default).
func objectGet(args []aval) aval {
	keys, ok := stringConsts(args[1])
	if !ok || len(keys) != 1 || strings.Contains(keys[0], ".") || keys[0] == "" {
		return unknownVal
	}
	defs, ok := args[2].consts()
	if !ok || len(defs) != 1 {
		return unknownVal
	}
	key, def := keys[0], defs[0]
	if args[0].unknown {
		return unknownVal
	}
	out := aval{}
	for _, s := range args[0].srcs {
		switch {
		case s.isField && s.mask == 0 && s.kind == "" && len(s.xf) == 0:
			if s.def != nil {
				// the object's own default must not hold the key
				obj, ok := s.def.(ast.Object)
				if !ok || obj.Get(ast.StringTerm(key)) != nil {
					return unknownVal
				}
			}
			out.srcs = append(out.srcs, vsrc{field: append(slices.Clone(s.field), key), isField: true, def: def})
		case s.konst != nil:
			if obj, ok := s.konst.(ast.Object); ok {
				if v := obj.Get(ast.StringTerm(key)); v != nil {
					out.srcs = append(out.srcs, vsrc{konst: v.Value})
					continue
				}
			}
			out.srcs = append(out.srcs, vsrc{konst: def})
		default:
			return unknownVal
		}
	}
	return out
}

// bitsAnd: bits.and(field, constant mask).
func bitsAnd(args []aval) aval {
	field, mask := args[0], args[1]
	if _, ok := field.consts(); ok {
		field, mask = mask, field
	}
	cs, ok := mask.consts()
	if !ok || len(cs) != 1 || field.unknown || len(field.srcs) != 1 {
		return unknownVal
	}
	n, ok := cs[0].(ast.Number)
	if !ok {
		return unknownVal
	}
	m, ok := n.Int64()
	if !ok || m <= 0 {
		return unknownVal
	}
	s := field.srcs[0]
	if !s.isField || s.mask != 0 || s.def != nil || s.kind != "" || len(s.xf) > 0 {
		return unknownVal
	}
	return aval{srcs: []vsrc{{field: s.field, isField: true, mask: uint64(m)}}}
}

// foldConst evaluates a few pure built-ins on constant arguments.
func foldConst(name string, args []aval) (aval, bool) {
	switch name {
	case "concat", "plus", "minus", "bits.lsh", "bits.or":
	default:
		return aval{}, false
	}
	vals := make([][]ast.Value, len(args))
	total := 1
	for i, a := range args {
		cs, ok := a.consts()
		if !ok {
			return aval{}, false
		}
		vals[i] = cs
		total *= len(cs)
	}
	if total > 64 {
		return aval{}, false
	}
	out := aval{}
	var rec func(i int, cur []ast.Value) bool
	rec = func(i int, cur []ast.Value) bool {
		if i == len(vals) {
			v, ok := fold1(name, cur)
			if !ok {
				return false
			}
			out.srcs = append(out.srcs, vsrc{konst: v})
			return true
		}
		for _, v := range vals[i] {
			if !rec(i+1, append(cur, v)) {
				return false
			}
		}
		return true
	}
	if !rec(0, nil) {
		return aval{}, false
	}
	return out, true
}

func fold1(name string, a []ast.Value) (ast.Value, bool) {
	switch name {
	case "concat":
		sep, ok := a[0].(ast.String)
		if !ok {
			return nil, false
		}
		var parts []string
		coll := a[1]
		bad := false
		add := func(t *ast.Term) {
			s, ok := t.Value.(ast.String)
			if !ok {
				bad = true
				return
			}
			parts = append(parts, string(s))
		}
		switch c := coll.(type) {
		case *ast.Array:
			c.Foreach(add)
		default:
			return nil, false // sets iterate sorted; keep it simple
		}
		if bad {
			return nil, false
		}
		return ast.String(strings.Join(parts, string(sep))), true
	}
	x, ok1 := bigInt(a[0])
	y, ok2 := bigInt(a[1])
	if !ok1 || !ok2 {
		return nil, false
	}
	r := new(big.Int)
	switch name {
	case "plus":
		r.Add(x, y)
	case "minus":
		r.Sub(x, y)
	case "bits.or":
		r.Or(x, y)
	case "bits.lsh":
		if !y.IsUint64() || y.Uint64() > 62 {
			return nil, false
		}
		r.Lsh(x, uint(y.Uint64()))
	}
	return ast.Number(r.String()), true
}

func bigInt(v ast.Value) (*big.Int, bool) {
	n, ok := v.(ast.Number)
	if !ok {
		return nil, false
	}
	b, ok := new(big.Int).SetString(string(n), 10)
	return b, ok
}

// String renders a condition for people, one alternative per line.
func conditionString(c event.Condition) string {
	if c.Always {
		return "always"
	}
	if len(c.Any) == 0 {
		return "never"
	}
	var b strings.Builder
	for i, alt := range c.Any {
		if i > 0 {
			b.WriteString("\nor ")
		}
		if len(alt) == 0 {
			b.WriteString("true")
		}
		for j, t := range alt {
			if j > 0 {
				b.WriteString(" and ")
			}
			b.WriteString(t.String())
		}
	}
	return b.String()
}

// simplifyConj merges the tests of one conjunction on the same field:
// string equalities intersect, and an equality filters the other string
// tests of its field (which it then makes redundant). ok=false when the
// tests contradict each other (no value meets them all).
func simplifyConj(ts []event.Test) ([]event.Test, bool) {
	ts = dedupeTests(ts)
	eqs := map[string]int{} // field -> index of its string equality in out
	var out []event.Test
	for _, t := range ts {
		if t.Op != event.OpEq || len(t.Strings) == 0 || len(t.Ints) > 0 || t.Bool != nil || strings.Contains(t.Field, "[]") {
			continue
		}
		if i, ok := eqs[t.Field]; ok {
			var keep []string
			for _, s := range out[i].Strings {
				if slices.Contains(t.Strings, s) {
					keep = append(keep, s)
				}
			}
			if len(keep) == 0 {
				return nil, false
			}
			out[i].Strings = keep
			continue
		}
		t.Strings = slices.Clone(t.Strings)
		eqs[t.Field] = len(out)
		out = append(out, t)
	}
	for _, t := range ts {
		if i, ok := eqs[t.Field]; ok {
			switch t.Op {
			case event.OpEq:
				if len(t.Strings) > 0 && len(t.Ints) == 0 && t.Bool == nil {
					continue // merged above
				}
				return nil, false // a string field cannot equal an integer or a boolean
			case event.OpPrefix, event.OpSuffix, event.OpContains, event.OpRegex:
				var keep []string
				for _, s := range out[i].Strings {
					for _, p := range t.Strings {
						if stringHolds(t.Op, s, p) {
							keep = append(keep, s)
							break
						}
					}
				}
				if len(keep) == 0 {
					return nil, false
				}
				out[i].Strings = keep
				continue
			}
		}
		if t.Op == event.OpEq && len(t.Strings) > 0 && len(t.Ints) == 0 && t.Bool == nil && !strings.Contains(t.Field, "[]") {
			continue
		}
		out = append(out, t)
	}
	// prefix (suffix) tests on one field intersect: a value with prefix p
	// and prefix q has the longer of the two, when one extends the other
	for _, op := range []event.Op{event.OpPrefix, event.OpSuffix} {
		first := map[string]int{}
		var merged []event.Test
		for _, t := range out {
			if t.Op != op || strings.Contains(t.Field, "[]") {
				merged = append(merged, t)
				continue
			}
			i, ok := first[t.Field]
			if !ok {
				first[t.Field] = len(merged)
				t.Strings = slices.Clone(t.Strings)
				merged = append(merged, t)
				continue
			}
			var keep []string
			for _, x := range merged[i].Strings {
				for _, y := range t.Strings {
					switch {
					case stringHolds(op, x, y):
						keep = append(keep, x)
					case stringHolds(op, y, x):
						keep = append(keep, y)
					}
				}
			}
			if len(keep) == 0 {
				return nil, false
			}
			slices.Sort(keep)
			merged[i].Strings = slices.Compact(keep)
		}
		out = merged
	}
	for i := range out {
		if out[i].Op == event.OpEq && len(out[i].Strings) > 0 {
			slices.Sort(out[i].Strings)
			out[i].Strings = slices.Compact(out[i].Strings)
		}
	}
	return out, true
}

// simplify drops contradictory and duplicate alternatives and those
// another alternative subsumes (a conjunction holding a superset of
// another's tests admits fewer events).
func (a dnf) simplify() dnf {
	if a.always {
		return a
	}
	type alt struct {
		tests []event.Test
		keys  map[string]bool
	}
	var alts []alt
	for _, c := range a.alts {
		ts, ok := simplifyConj(c)
		if !ok {
			continue
		}
		if len(ts) == 0 {
			return dnfTrue
		}
		keys := map[string]bool{}
		for _, t := range ts {
			keys[t.String()] = true
		}
		alts = append(alts, alt{ts, keys})
	}
	subset := func(x, y map[string]bool) bool { // x ⊆ y
		if len(x) > len(y) {
			return false
		}
		for k := range x {
			if !y[k] {
				return false
			}
		}
		return true
	}
	out := dnf{}
	for i, x := range alts {
		drop := false
		for j, y := range alts {
			if i == j {
				continue
			}
			// y subsumes x when y's tests are a subset of x's (ties: keep
			// the first)
			if subset(y.keys, x.keys) && (len(y.keys) < len(x.keys) || j < i) {
				drop = true
				break
			}
		}
		if !drop {
			out.alts = append(out.alts, x.tests)
		}
	}
	return out
}

// constElements returns the elements of constant collections (set, array or
// object values, in order), or false when one of them is not a collection.
func constElements(colls []ast.Value) ([]ast.Value, bool) {
	var out []ast.Value
	for _, c := range colls {
		switch cv := c.(type) {
		case ast.Set:
			cv.Foreach(func(t *ast.Term) { out = append(out, t.Value) })
		case *ast.Array:
			cv.Foreach(func(t *ast.Term) { out = append(out, t.Value) })
		case ast.Object:
			cv.Foreach(func(_, t *ast.Term) { out = append(out, t.Value) })
		default:
			return nil, false
		}
	}
	return out, true
}

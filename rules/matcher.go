package rules

import (
	"encoding/base64"
	"hash/maphash"
	"math"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// Matcher tests the derived conditions of every signature of a set at once:
// per event name, the distinct tests of all signatures grouped by field
// (a hash set for equalities, a trie for prefixes and one for suffixes, bit
// masks and bounds), each field read and tested once and only when some
// signature's alternative needs it. It answers which signatures an event
// may interest; only those run Rego. Safe for concurrent use.
type Matcher struct {
	events map[string]*eventMatcher
	// base is the plan for events no signature selects: their name and
	// host
	base *jplan
	pool sync.Pool
}

type segKind uint8

const (
	segKey segKind = iota
	segAny
	segIndex
)

// seg is one step of a field path.
type seg struct {
	kind segKind
	// fold: the key names a field of the event's Go struct (Event,
	// Process, Ancestor), which encoding/json matches case-insensitively
	fold  bool
	key   string
	term  *ast.Term // key as a term, for Rego input lookups
	index int
}

func parsePath(field string) []seg {
	var out []seg
	for _, p := range strings.Split(field, ".") {
		switch {
		case p == "[]":
			out = append(out, seg{kind: segAny})
		case strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]"):
			n, err := strconv.Atoi(p[1 : len(p)-1])
			if err != nil {
				out = append(out, seg{kind: segKey, key: p, term: ast.StringTerm(p)})
				continue
			}
			out = append(out, seg{kind: segIndex, index: n})
		default:
			out = append(out, seg{kind: segKey, key: p, term: ast.StringTerm(p)})
		}
	}
	markFold(out)
	return out
}

// markFold marks the keys that name struct fields: the event's own, the
// process's and an ancestor's (args is a map: exact keys).
func markFold(path []seg) {
	if len(path) == 0 || path[0].kind != segKey {
		return
	}
	path[0].fold = true
	if path[0].key != "process" || len(path) < 2 || path[1].kind != segKey {
		return
	}
	path[1].fold = true
	if path[1].key == "ancestors" && len(path) >= 4 && path[2].kind != segKey && path[3].kind == segKey {
		path[3].fold = true
	}
}

// eventMatcher holds the conditions of the signatures selecting one event.
type eventMatcher struct {
	name    string
	sigs    []matchSig
	groups  []*fieldGroup
	atoms   int
	groupOf []*fieldGroup // by atom
	paths   int           // distinct field paths (fieldGroup.pathID)
	// plan: the keys of the event's JSON the conditions read
	plan *jplan
}

// matchSig is one signature's condition for the event: always, or one of
// alts (atom ids, all true).
type matchSig struct {
	sig    *Signature
	always bool
	alts   [][]int
}

// atomRef locates an atom in its group.
type fieldGroup struct {
	path []seg
	// ref is path resolved against the event's plan (and eqRef eqField)
	ref, eqRef *fieldRef
	// pathID: groups on the same field share its values, read once per
	// event (scratch.vals)
	pathID int
	// bytes: a byte argument, base64 in JSON; tested in the canonical
	// form the Rego input renders it in
	bytes   bool
	atomIDs []int // the atoms of this group
	// always: atoms of tests this matcher has no code for (none are
	// derived): true whenever the field is there
	always   []int
	eqStr    map[string][]int
	eqInt    map[int64][]int
	eqBool   [2][]int
	prefix   trie
	suffix   trie
	contains []strAtom
	regex    []reAtom
	bits     []bitAtom
	cmps     []cmpAtom
	empty    []int // null, "", [] or {}
	// eqField: the group's one atom is a field-to-field equality, tested
	// by reading both fields (evalFieldEq)
	eqField []seg
	// ne: the group's one atom is a negated equality (evalNe)
	ne *event.Test
}

type strAtom struct {
	atom int
	pats []string
}

type reAtom struct {
	atom int
	res  []stringMatcher
}

// stringMatcher is a compiled regular expression: the regexp, or the
// literal matcher where the pattern is a set of literals.
type stringMatcher interface {
	MatchString(string) bool
}

type bitAtom struct {
	atom int
	none bool
	mask uint64
}

type cmpAtom struct {
	atom  int
	op    event.Op
	bound int64
}

// trie is a byte trie of patterns (reversed for suffixes).
type trie struct {
	nodes []trieNode
}

type trieNode struct {
	edges []byte
	kids  []int32
	atoms []int
}

func (t *trie) insert(p string, rev bool, atom int) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{})
	}
	n := 0
	for i := range len(p) {
		c := p[i]
		if rev {
			c = p[len(p)-1-i]
		}
		j := slices.Index(t.nodes[n].edges, c)
		if j < 0 {
			t.nodes = append(t.nodes, trieNode{})
			t.nodes[n].edges = append(t.nodes[n].edges, c)
			t.nodes[n].kids = append(t.nodes[n].kids, int32(len(t.nodes)-1))
			j = len(t.nodes[n].edges) - 1
		}
		n = int(t.nodes[n].kids[j])
	}
	if !slices.Contains(t.nodes[n].atoms, atom) {
		t.nodes[n].atoms = append(t.nodes[n].atoms, atom)
	}
}

// walk marks the atoms of every pattern that is a prefix (suffix) of s.
func (t *trie) walk(s string, rev bool, st []uint8) {
	if len(t.nodes) == 0 {
		return
	}
	n := 0
	for i := 0; ; i++ {
		for _, a := range t.nodes[n].atoms {
			st[a] = atomTrue
		}
		if i == len(s) {
			return
		}
		c := s[i]
		if rev {
			c = s[len(s)-1-i]
		}
		j := slices.Index(t.nodes[n].edges, c)
		if j < 0 {
			return
		}
		n = int(t.nodes[n].kids[j])
	}
}

const (
	atomUnknown uint8 = iota
	atomTrue
	atomFalse
)

// exactFields are fields whose JSON text the Rego input reproduces only
// after decoding (times, ids): tests on them are not applied to raw JSON.
var exactFields = map[string]bool{"time": true, "id": true, "process.start_time": true}

// newMatcher compiles the conditions of the set's signatures.
func newMatcher(sigs []*Signature) *Matcher {
	m := &Matcher{events: map[string]*eventMatcher{}}
	type builder struct {
		em     *eventMatcher
		byKey  map[string]int // test text -> atom
		groups map[string]*fieldGroup
		paths  map[string]int
	}
	bs := map[string]*builder{}
	for _, sig := range sigs {
		for _, name := range sig.Events {
			b := bs[name]
			if b == nil {
				b = &builder{em: &eventMatcher{name: name}, byKey: map[string]int{}, groups: map[string]*fieldGroup{}, paths: map[string]int{}}
				bs[name] = b
				m.events[name] = b.em
			}
			cond := conditionFor(sig.derived.Condition, name)
			ms := matchSig{sig: sig, always: cond.Always}
			for _, conj := range cond.Any {
				var alt []int
				for _, t := range conj {
					if exactFields[t.Field] || (t.Op == event.OpEqField && len(t.Strings) == 1 && exactFields[t.Strings[0]]) {
						continue // holds: not tested on raw JSON
					}
					if t.Op == event.OpNe && isBytesArg(name, t.Field) {
						continue // base64 text may differ from the constant's form: holds
					}
					key := t.String()
					id, ok := b.byKey[key]
					if !ok {
						id = b.em.atoms
						b.em.atoms++
						b.byKey[key] = id
						gkey := t.Field
						if t.Op == event.OpRegex || t.Op == event.OpContains || t.Op == event.OpEqField || t.Op == event.OpNe {
							// costly tests run one by one, only when an
							// alternative gets to them
							gkey += "\x00" + key
						}
						g := b.groups[gkey]
						if g == nil {
							pid, ok := b.paths[t.Field]
							if !ok {
								pid = len(b.paths)
								b.paths[t.Field] = pid
								b.em.paths = len(b.paths)
							}
							g = &fieldGroup{path: parsePath(t.Field), pathID: pid, bytes: isBytesArg(name, t.Field)}
							b.groups[gkey] = g
							b.em.groups = append(b.em.groups, g)
						}
						g.add(id, t)
						if t.Op == event.OpEqField && len(t.Strings) == 1 && (g.bytes || isBytesArg(name, t.Strings[0])) {
							// base64 on one side: compared as text
							// the two forms may differ; held
							g.eqField = nil
							g.always = append(g.always, id)
						}
						b.em.groupOf = append(b.em.groupOf, g)
					}
					alt = append(alt, id)
				}
				if len(alt) == 0 {
					ms.always = true
				}
				ms.alts = append(ms.alts, alt)
			}
			b.em.sigs = append(b.em.sigs, ms)
		}
	}
	m.base = newPlan(nil)
	for _, em := range m.events {
		var paths [][]seg
		for _, g := range em.groups {
			paths = append(paths, g.path)
			if g.eqField != nil {
				paths = append(paths, g.eqField)
			}
		}
		em.plan = newPlan(paths)
		for _, g := range em.groups {
			g.ref = em.plan.ref(g.path)
			if g.eqField != nil {
				g.eqRef = em.plan.ref(g.eqField)
			}
		}
		em.plan.vkey = em.verdictKey()
		// an alternative holds when all its atoms do, in any order: the
		// cheap tests go first, so that the costly ones (regular
		// expressions, substrings, fields deep in the ancestors) run only
		// for events the cheap ones let through
		for i := range em.sigs {
			for _, alt := range em.sigs[i].alts {
				slices.SortStableFunc(alt, func(a, b int) int {
					return em.groupOf[a].cost() - em.groupOf[b].cost()
				})
			}
		}
	}
	return m
}

// verdictKey returns the plan's request whose value (an object) every
// field the conditions read lies in, through the plan's slots, when there
// is one and the kind has at most 64 signatures: the verdict on an event
// of the kind is then a function of that value's bytes (verdictCache).
func (em *eventMatcher) verdictKey() *jreq {
	p := em.plan
	if len(em.sigs) > 64 || len(p.top) != 3 || p.top[2].sub == nil {
		return nil
	}
	key := &p.top[2]
	inside := func(r *fieldRef) bool {
		if r == nil || r.plan != p || r.n == 0 || r.slots[0] != key.slot {
			return false
		}
		// a second key not recorded is looked up in the whole event
		return len(r.path) < 2 || r.path[1].kind != segKey || r.n == 2
	}
	for _, g := range em.groups {
		if !inside(g.ref) || (g.eqField != nil && !inside(g.eqRef)) {
			return nil
		}
	}
	return key
}

// cost ranks what settling the group costs: reading the field (deeper
// than the plan records: a scan) and its slowest test.
func (g *fieldGroup) cost() int {
	c := 0
	switch {
	case len(g.regex) > 0:
		c = 4
	case g.eqField != nil:
		c = 3
	case len(g.contains) > 0:
		c = 2
	case g.ne != nil:
		c = 1
	}
	if g.ref == nil || g.ref.n < len(g.path) {
		c += 5
	}
	return c
}

func isBytesArg(eventName, field string) bool {
	arg, ok := strings.CutPrefix(field, "args.")
	if !ok {
		return false
	}
	arg, _, _ = strings.Cut(arg, ".")
	spec, ok := event.Lookup(eventName)
	if !ok {
		return false
	}
	for _, a := range spec.Args {
		if a.Name == arg {
			return a.Type == event.TypeBytes
		}
	}
	return false
}

// conditionFor narrows a signature's condition to one of its events: the
// alternatives that test the event name for another event go, and the
// tests of the name (then known to hold) with them.
func conditionFor(c event.Condition, name string) event.Condition {
	if c.Always {
		return c
	}
	out := event.Condition{Critical: c.Critical}
	for _, conj := range c.Any {
		var keep event.Conjunction
		ok := true
		for _, t := range conj {
			if t.Field == "name" && t.Op == event.OpEq && len(t.Strings) > 0 && len(t.Ints) == 0 && t.Bool == nil {
				if !slices.Contains(t.Strings, name) {
					ok = false
					break
				}
				continue
			}
			keep = append(keep, t)
		}
		if ok {
			if len(keep) == 0 {
				return event.Condition{Always: true, Critical: c.Critical}
			}
			out.Any = append(out.Any, keep)
		}
	}
	return out
}

func (g *fieldGroup) add(id int, t event.Test) {
	g.atomIDs = append(g.atomIDs, id)
	switch t.Op {
	case event.OpEq:
		for _, s := range t.Strings {
			if g.eqStr == nil {
				g.eqStr = map[string][]int{}
			}
			g.eqStr[s] = append(g.eqStr[s], id)
		}
		for _, n := range t.Ints {
			if g.eqInt == nil {
				g.eqInt = map[int64][]int{}
			}
			g.eqInt[n] = append(g.eqInt[n], id)
		}
		if t.Bool != nil {
			i := 0
			if *t.Bool {
				i = 1
			}
			g.eqBool[i] = append(g.eqBool[i], id)
		}
	case event.OpPrefix:
		for _, p := range t.Strings {
			g.prefix.insert(p, false, id)
		}
	case event.OpSuffix:
		for _, p := range t.Strings {
			g.suffix.insert(p, true, id)
		}
	case event.OpContains:
		g.contains = append(g.contains, strAtom{atom: id, pats: t.Strings})
	case event.OpRegex:
		ra := reAtom{atom: id}
		for _, p := range t.Strings {
			re, err := regexp.Compile(p)
			if err != nil {
				// cannot happen for derived tests; hold rather than lose
				re = regexp.MustCompile(``)
			}
			if lm, ok := newLitMatcher(re); ok {
				ra.res = append(ra.res, lm)
				continue
			}
			if pf, ok := newPrefiltered(re); ok {
				ra.res = append(ra.res, pf)
				continue
			}
			ra.res = append(ra.res, re)
		}
		g.regex = append(g.regex, ra)
	case event.OpBitsAny, event.OpBitsNone:
		g.bits = append(g.bits, bitAtom{atom: id, none: t.Op == event.OpBitsNone, mask: t.Mask})
	case event.OpLT, event.OpLE, event.OpGT, event.OpGE:
		g.cmps = append(g.cmps, cmpAtom{atom: id, op: t.Op, bound: t.Ints[0]})
	case event.OpEmpty:
		g.empty = append(g.empty, id)
	case event.OpNe:
		tt := t
		g.ne = &tt
	case event.OpEqField:
		if len(t.Strings) != 1 {
			g.always = append(g.always, id)
			break
		}
		g.eqField = parsePath(t.Strings[0])
	default:
		// an op this matcher does not know holds (wider: sound)
		g.always = append(g.always, id)
	}
}

// test marks the group's atoms that v meets.
func (g *fieldGroup) test(v mval, st []uint8) {
	for _, a := range g.always {
		st[a] = atomTrue
	}
	if v.kind == 'z' || v.empty || (v.kind == 's' && v.s == "") {
		for _, a := range g.empty {
			st[a] = atomTrue
		}
	}
	switch v.kind {
	case 's':
		for _, a := range g.eqStr[v.s] {
			st[a] = atomTrue
		}
		g.prefix.walk(v.s, false, st)
		g.suffix.walk(v.s, true, st)
		for _, c := range g.contains {
			if st[c.atom] == atomTrue {
				continue
			}
			for _, p := range c.pats {
				if strings.Contains(v.s, p) {
					st[c.atom] = atomTrue
					break
				}
			}
		}
		for _, r := range g.regex {
			if st[r.atom] == atomTrue {
				continue
			}
			for _, re := range r.res {
				if re.MatchString(v.s) {
					st[r.atom] = atomTrue
					break
				}
			}
		}
		// Rego orders values of different types: a string compares
		// with a number, conservatively held
		for _, c := range g.cmps {
			st[c.atom] = atomTrue
		}
	case 'n':
		i, isInt := parseInt(v.s)
		if isInt {
			for _, a := range g.eqInt[i] {
				st[a] = atomTrue
			}
			for _, b := range g.bits {
				if (uint64(i)&b.mask != 0) != b.none {
					st[b.atom] = atomTrue
				}
			}
			for _, c := range g.cmps {
				if compareOrdered(c.op, i, c.bound) {
					st[c.atom] = atomTrue
				}
			}
			return
		}
		// not an int64: decide conservatively (floats, huge numbers)
		f, err := strconv.ParseFloat(v.s, 64)
		if len(g.eqInt) > 0 {
			if err != nil || f == math.Trunc(f) {
				for _, ids := range g.eqInt {
					for _, a := range ids {
						st[a] = atomTrue
					}
				}
			}
		}
		for _, b := range g.bits {
			st[b.atom] = atomTrue
		}
		for _, c := range g.cmps {
			if err != nil || compareOrdered(c.op, f, float64(c.bound)) {
				st[c.atom] = atomTrue
			}
		}
	case 't':
		for _, a := range g.eqBool[1] {
			st[a] = atomTrue
		}
		for _, c := range g.cmps {
			st[c.atom] = atomTrue
		}
	case 'f':
		for _, a := range g.eqBool[0] {
			st[a] = atomTrue
		}
		for _, c := range g.cmps {
			st[c.atom] = atomTrue
		}
	default:
		for _, c := range g.cmps {
			st[c.atom] = atomTrue
		}
	}
}

// parseInt parses an integer the way the decoded event holds it (int64, or
// uint64 for large unsigned values, whose bits are then compared as-is).
func parseInt(s string) (int64, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil && u <= math.MaxInt64 {
		return int64(u), true
	}
	return 0, false
}

// compareOrdered applies a numeric comparison test (lt, le, gt, ge) to x
// against its bound; any other op holds.
func compareOrdered[T int64 | float64](op event.Op, x, b T) bool {
	switch op {
	case event.OpLT:
		return x < b
	case event.OpLE:
		return x <= b
	case event.OpGT:
		return x > b
	case event.OpGE:
		return x >= b
	}
	return true
}

// doc is what the matcher reads fields from: an event's JSON or its Rego
// input (a concrete type, so the visitors stay on the stack).
type doc struct {
	j *jsonDoc
	a ast.Value
}

func (d doc) each(r *fieldRef, fn func(mval) bool) bool {
	if d.j != nil {
		return d.j.eachRef(r, fn)
	}
	return astEach(d.a, r.path, fn)
}

type scratch struct {
	st  []uint8
	doc jsonDoc
	// slots of a planned document (newPlannedDoc)
	slots    []jslot
	memo     scanMemo
	verdicts verdictCache
	// kindEm: the matcher of the last event read by a plan (a burst of
	// one kind is common: its name is compared, not hashed)
	kindEm *eventMatcher
	// vals[p]: the values of field path p, read (loaded[p]) at most once
	// per event
	vals   [][]mval
	loaded []bool
}

// reset prepares the scratch for one event of em.
func (s *scratch) reset(em *eventMatcher) {
	s.st = slices.Grow(s.st[:0], em.atoms)[:em.atoms]
	clear(s.st)
	if cap(s.vals) < em.paths {
		s.vals = make([][]mval, em.paths)
		s.loaded = make([]bool, em.paths)
	}
	// the last event's values alias its bytes: drop them
	for i, ld := range s.loaded {
		if ld {
			clear(s.vals[i])
		}
	}
	s.vals = s.vals[:em.paths]
	s.loaded = s.loaded[:em.paths]
	clear(s.loaded)
}

func newScratch() *scratch {
	return &scratch{verdicts: verdictCache{seed: maphash.MakeSeed()}}
}

func (m *Matcher) scratchFor(em *eventMatcher) *scratch {
	s, _ := m.pool.Get().(*scratch)
	if s == nil {
		s = newScratch()
	}
	s.reset(em)
	return s
}

// match appends to out the signatures whose condition d meets.
func (m *Matcher) match(em *eventMatcher, d doc, out []*Signature, s *scratch) []*Signature {
	return m.matchVerdict(em, d, out, s, nil)
}

// appendVerdict appends the signatures of a verdict (bit i for em.sigs[i]).
func (em *eventMatcher) appendVerdict(out []*Signature, v uint64) []*Signature {
	for ; v != 0; v &= v - 1 {
		out = append(out, em.sigs[bits.TrailingZeros64(v)].sig)
	}
	return out
}

// matchVerdict is match that also sets, when verdict is not nil, bit i of
// *verdict for each em.sigs[i] appended (em has at most 64).
func (m *Matcher) matchVerdict(em *eventMatcher, d doc, out []*Signature, s *scratch, verdict *uint64) []*Signature {
	st := s.st
	for i := range em.sigs {
		ms := &em.sigs[i]
		if ms.always {
			out = append(out, ms.sig)
			if verdict != nil {
				*verdict |= 1 << i
			}
			continue
		}
	alts:
		for _, alt := range ms.alts {
			for _, a := range alt {
				if st[a] == atomUnknown {
					em.evalGroupOf(a, d, s)
				}
				if st[a] != atomTrue {
					continue alts
				}
			}
			out = append(out, ms.sig)
			if verdict != nil {
				*verdict |= 1 << i
			}
			break
		}
	}
	return out
}

// evalGroupOf reads the field of atom a and settles every atom of its group.
func (em *eventMatcher) evalGroupOf(a int, d doc, s *scratch) {
	st := s.st
	g := em.groupOf[a]
	if g.eqField != nil {
		evalFieldEq(g, d, st)
		return
	}
	if g.ne != nil {
		evalNe(g, d, st)
		return
	}
	if !s.loaded[g.pathID] {
		vs := s.vals[g.pathID][:0]
		d.each(g.ref, func(v mval) bool {
			vs = append(vs, v)
			return false
		})
		s.vals[g.pathID], s.loaded[g.pathID] = vs, true
	}
	// "some element": every element may add atoms
	for _, v := range s.vals[g.pathID] {
		if g.bytes && v.kind == 's' {
			b, err := base64.StdEncoding.DecodeString(v.s)
			if err != nil {
				// the event does not decode: no signature fires on it
				continue
			}
			v.s = base64.StdEncoding.EncodeToString(b)
		}
		g.test(v, st)
	}
	for _, id := range g.atomIDs {
		if st[id] != atomTrue {
			st[id] = atomFalse
		}
	}
}

// evalFieldEq settles a field-to-field equality: it holds when some value
// of the group's field equals some value of the other field. Strings are
// compared; a value of any other type on either side holds (Rego compares
// numbers by value, not by text), a missing field on either side fails, as
// the equality does in Rego.
func evalFieldEq(g *fieldGroup, d doc, st []uint8) {
	id := g.atomIDs[0]
	var buf [8]string
	others := buf[:0]
	held := false
	d.each(g.eqRef, func(v mval) bool {
		if v.kind != 's' {
			held = true
			return true
		}
		others = append(others, v.s)
		return false
	})
	if !held && len(others) > 0 {
		d.each(g.ref, func(v mval) bool {
			held = v.kind != 's' || slices.Contains(others, v.s)
			return held
		})
	}
	if held {
		st[id] = atomTrue
	} else {
		st[id] = atomFalse
	}
}

// evalNe settles a negated equality: false only when the field is there
// and is one of the constants (a number read as an integer equal to one).
func evalNe(g *fieldGroup, d doc, st []uint8) {
	id := g.atomIDs[0]
	eq := false
	d.each(g.ref, func(v mval) bool {
		switch v.kind {
		case 's':
			eq = slices.Contains(g.ne.Strings, v.s)
		case 'n':
			i, ok := parseInt(v.s)
			eq = ok && slices.Contains(g.ne.Ints, i)
		}
		return eq
	})
	if eq {
		st[id] = atomFalse
	} else {
		st[id] = atomTrue
	}
}

// MatchJSON reads an event in its JSON form (a NATS payload, a capture
// line) and appends to out the signatures it may interest: those selecting
// its name whose derived condition it meets (signatures without a
// condition always). It returns the event's name; ok=false when the data
// is not a JSON object with a string name (the caller's decoding then
// reports why).
func (m *Matcher) MatchJSON(data []byte, out []*Signature) (name string, sigs []*Signature, ok bool) {
	name, _, sigs, ok = m.MatchJSONHost(data, out)
	return name, sigs, ok
}

// MatchJSONHost is MatchJSON that also returns the event's host, read as
// the event's decoding reads it ("" when missing or null); ok=false as
// well when the host is there but not a string.
func (m *Matcher) MatchJSONHost(data []byte, out []*Signature) (name, host string, sigs []*Signature, ok bool) {
	s, _ := m.pool.Get().(*scratch)
	if s == nil {
		s = newScratch()
	}
	defer m.pool.Put(s)
	var em *eventMatcher
	if pname, pok := peekName(data); pok {
		// the producer's layout: record only what the conditions of the
		// event's kind read
		plan := m.base
		if em = s.kindEm; em == nil || pname != em.name {
			em = m.events[pname]
			s.kindEm = em
		}
		if em != nil {
			plan = em.plan
		}
		top, sub := s.doc.top, s.doc.sub
		var again bool
		s.doc, again = newPlannedDoc(data, plan, s.slots, &s.memo, &s.verdicts)
		s.slots, s.doc.top, s.doc.sub = s.doc.slots, top, sub
		if !again {
			if !s.doc.ok {
				return "", "", out, false
			}
			// the name is the first key and no other key reads as
			// it (again): its value is pname; the host is slot 1
			name = pname
			if sl := s.doc.slots[1]; sl.set {
				v := valueAt(data, sl.start, sl.end)
				switch v.kind {
				case 's':
					host = v.s
				case 'z':
				default:
					return name, "", out, false
				}
			}
			if em == nil {
				return name, host, out, true
			}
			if s.doc.vhit {
				return name, host, em.appendVerdict(out, s.doc.vsigs), true
			}
			s.reset(em)
			if s.doc.vend > 0 {
				var v uint64
				out = m.matchVerdict(em, doc{j: &s.doc}, out, s, &v)
				s.doc.rememberVerdict(v)
				return name, host, out, true
			}
			return name, host, m.match(em, doc{j: &s.doc}, out, s), true
		}
	}
	s.doc = newJSONDoc(data, s.doc.top, s.doc.sub)
	d := &s.doc
	if v, found := d.value(nameSeg); found && v.kind == 's' {
		name, ok = v.s, true
	}
	if !ok {
		return "", "", out, false
	}
	ok = false
	d.each(hostSeg, func(v mval) bool {
		host, ok = v.s, v.kind == 's'
		return true
	})
	if !ok {
		return name, "", out, false
	}
	em = m.events[name]
	if em == nil {
		return name, host, out, true
	}
	s.reset(em)
	return name, host, m.match(em, doc{j: d}, out, s), true
}

var hostSeg = []seg{{kind: segKey, fold: true, key: "host", term: ast.StringTerm("host")}}

var nameSeg = []seg{{kind: segKey, fold: true, key: "name", term: ast.StringTerm("name")}}

// MatchInput does what MatchJSON does for an event given as its Rego
// input (Input).
func (m *Matcher) MatchInput(name string, input ast.Value, out []*Signature) []*Signature {
	em := m.events[name]
	if em == nil {
		return out
	}
	s := m.scratchFor(em)
	out = m.match(em, doc{a: input}, out, s)
	m.pool.Put(s)
	return out
}

func astEach(v ast.Value, path []seg, fn func(mval) bool) bool {
	if len(path) == 0 {
		return fn(astMval(v))
	}
	sg := path[0]
	switch sg.kind {
	case segKey:
		obj, ok := v.(ast.Object)
		if !ok {
			return false
		}
		t := obj.Get(sg.term)
		if t == nil {
			return false
		}
		return astEach(t.Value, path[1:], fn)
	case segAny, segIndex:
		arr, ok := v.(*ast.Array)
		if !ok {
			return false
		}
		if sg.kind == segIndex {
			if sg.index >= arr.Len() {
				return false
			}
			return astEach(arr.Elem(sg.index).Value, path[1:], fn)
		}
		for i := range arr.Len() {
			if astEach(arr.Elem(i).Value, path[1:], fn) {
				return true
			}
		}
	}
	return false
}

func astMval(v ast.Value) mval {
	switch x := v.(type) {
	case ast.String:
		return mval{kind: 's', s: string(x)}
	case ast.Number:
		return mval{kind: 'n', s: string(x)}
	case ast.Boolean:
		if x {
			return mval{kind: 't'}
		}
		return mval{kind: 'f'}
	case ast.Null:
		return mval{kind: 'z'}
	case ast.Object:
		return mval{kind: 'o', empty: x.Len() == 0}
	case *ast.Array:
		return mval{kind: 'a', empty: x.Len() == 0}
	}
	return mval{kind: 'x'}
}

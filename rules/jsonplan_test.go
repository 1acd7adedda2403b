package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/jsonscan"

	"github.com/vigil-sec/vigil/internal/corpus"
)

// The planned reading of an event's JSON (newPlannedDoc: only the keys the
// conditions read, the rest skipped, large values remembered across
// events) must read every field exactly as the full index (newJSONDoc)
// does. These tests compare the two on the corpus, on edits of it that
// keep the producer's layout (duplicate keys, keys in another case,
// values of other types, strings with escapes and brackets) read one after
// the other so that remembered values are reused and nearly reused, and
// on anything the fuzzer makes.

// planCorpus returns every k-th line of the captured corpus.
func planCorpus(t testing.TB, k int) [][]byte {
	return corpus.Lines(t, "../testdata/corpus/host-work.jsonl.gz", k)
}

// planChecker reads events both ways with one scratch memo, as the
// matcher does.
type planChecker struct {
	m       *Matcher
	memo    scanMemo
	slots   []jslot
	planned int // events read by a plan
	reads   int // field reads compared
	// verdicts: events of a kind with a verdict key (jplan.vkey) whose
	// verdict was compared
	verdicts int
}

func newPlanChecker(t testing.TB) *planChecker {
	set, err := Load(LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	return &planChecker{m: set.Matcher()}
}

func (c *planChecker) check(t testing.TB, data []byte) {
	t.Helper()
	full := newJSONDoc(data, nil, nil)
	c.checkVerdict(t, data, &full)
	name, ok := peekName(data)
	if !ok {
		return // the matcher reads it with the index
	}
	em := c.m.events[name]
	plan := c.m.base
	if em != nil {
		plan = em.plan
	}
	d, again := newPlannedDoc(data, plan, c.slots, &c.memo, nil)
	c.slots = d.slots
	if again {
		return // the matcher starts over with the index
	}
	// valid JSON is read both ways; on anything else they may differ in
	// what they notice (no event decodes from it either way)
	if json.Valid(data) && (!full.ok || !d.ok) {
		t.Fatalf("valid JSON not read (index: %v, plan: %v)\n%s", full.ok, d.ok, data)
	}
	if !full.ok || !d.ok {
		return
	}
	c.planned++
	refs := []*fieldRef{plan.ref(nameSeg), plan.ref(hostSeg)}
	if em != nil {
		for _, g := range em.groups {
			refs = append(refs, g.ref)
			if g.eqRef != nil {
				refs = append(refs, g.eqRef)
			}
		}
		// paths no plan lists are read through the whole object
		refs = append(refs, plan.ref(parsePath("process.ancestors.[].exe")), plan.ref(parsePath("args.argv.[1]")))
	}
	for _, r := range refs {
		var got, want []mval
		d.eachRef(r, func(v mval) bool { got = append(got, v); return false })
		full.each(r.path, func(v mval) bool { want = append(want, v); return false })
		c.reads++
		if !slices.Equal(got, want) {
			t.Fatalf("%s: planned reading %v, index %v\n%s", pathString(r.path), got, want, data)
		}
	}
}

func pathString(p []seg) string {
	var parts []string
	for _, x := range p {
		switch x.kind {
		case segKey:
			parts = append(parts, x.key)
		case segAny:
			parts = append(parts, "[]")
		default:
			parts = append(parts, fmt.Sprintf("[%d]", x.index))
		}
	}
	return strings.Join(parts, ".")
}

// checkVerdict compares what the matcher admits (planned reading,
// remembered values and remembered verdicts: the matcher's scratch lives
// across calls) with the conditions tested on the full index.
func (c *planChecker) checkVerdict(t testing.TB, data []byte, full *jsonDoc) {
	t.Helper()
	name, _, got, ok := c.m.MatchJSONHost(data, nil)
	if !full.ok {
		return
	}
	if !ok {
		if !json.Valid(data) {
			return // the two readings may differ in what they notice
		}
		// the index reads a string name and a string (or no) host:
		// the matcher must read the event too
		v, found := full.value(nameSeg)
		hostOK := true
		full.each(hostSeg, func(h mval) bool { hostOK = h.kind == 's'; return true })
		if found && v.kind == 's' && hostOK {
			t.Fatalf("the matcher does not read an event the index reads\n%s", data)
		}
		return
	}
	em := c.m.events[name]
	if em == nil {
		return
	}
	s := newScratch()
	s.reset(em)
	want := c.m.match(em, doc{j: full}, nil, s)
	if !slices.Equal(got, want) {
		t.Fatalf("matcher admits %v, the conditions on the index %v\n%s", sigIDs(got), sigIDs(want), data)
	}
	if em.plan.vkey != nil {
		c.verdicts++
	}
}

func sigIDs(sigs []*Signature) []string {
	var ids []string
	for _, s := range sigs {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestPlannedDocAgreesWithIndex(t *testing.T) {
	c := newPlanChecker(t)
	k := 5
	if testing.Short() {
		k = 25
	}
	lines := planCorpus(t, k)
	for _, l := range lines {
		c.check(t, l)
	}
	r := rand.New(rand.NewPCG(5, 6))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for range n {
		line := lines[r.IntN(len(lines))]
		// a few edits of one event in a row: the process object is
		// remembered, then met again whole or edited
		for range 1 + r.IntN(3) {
			c.check(t, editJSON(r, line))
		}
	}
	if c.planned < len(lines) || c.reads == 0 || c.verdicts == 0 {
		t.Fatalf("only %d events read by a plan (%d reads, %d verdicts)", c.planned, c.reads, c.verdicts)
	}
	t.Logf("%d events read both ways, %d field reads and %d verdicts compared", c.planned, c.reads, c.verdicts)
}

// FuzzPlannedDoc: on any two inputs read one after the other, the planned
// reading of the second agrees with the index.
func FuzzPlannedDoc(f *testing.F) {
	lines := planCorpus(f, 3000)
	for i, l := range lines {
		f.Add(lines[(i+1)%len(lines)], l)
	}
	c := newPlanChecker(f)
	f.Fuzz(func(t *testing.T, first, second []byte) {
		c.check(t, first)
		c.check(t, second)
	})
}

// editJSON applies one to three byte-level edits to an event's JSON that
// keep its layout mostly as the producer writes it: a key repeated later
// in its object with another value, a key in another case, a value
// swapped for one of another type, a string given escapes or brackets, a
// value cut short (malformed).
func editJSON(r *rand.Rand, line []byte) []byte {
	out := slices.Clone(line)
	for range 1 + r.IntN(3) {
		out = editOnce(r, out)
	}
	return out
}

var editValues = []string{
	`null`, `0`, `-1`, `1.5`, `1e3`, `true`, `false`, `""`, `"x"`, `{}`, `[]`,
	`{"exe":"/usr/bin/nc","pathname":"/etc/shadow"}`, `["a","b"]`,
	`"/etc/shadow"`, `"a\"b"`, `"a\\"`, `"[{"`, `"}]"`, `"\u002fetc\u002fshadow"`, `"caf\u00e9"`,
	`[{"exe":"/usr/bin/nc","comm":"nc"}]`, `"/root/.ssh/id_rsa"`, `"kcore"`, `"proc"`,
}

var editKeys = []string{"name", "host", "process", "args", "exe", "comm", "argv", "ancestors", "pathname", "fs_type", "flags", "uid", "Name", "PROCESS", "Args", "Exe", "ArGs", "\u212aey", "pathnamE"}

func editOnce(r *rand.Rand, data []byte) []byte {
	// the positions of keys: a quote followed by a colon after the string
	var keys []int
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if data[j] == '\\' {
				j++
			}
			j++
		}
		if j+1 < len(data) && data[j+1] == ':' {
			keys = append(keys, i)
		}
		i = j
	}
	if len(keys) == 0 {
		return data
	}
	k := keys[r.IntN(len(keys))]
	keyEnd := bytes.IndexByte(data[k+1:], '"') + k + 2
	valStart := keyEnd + 1
	valEnd, ok := jsonscan.Value(data, valStart)
	if !ok {
		return data
	}
	var b bytes.Buffer
	switch r.IntN(6) {
	case 0: // repeat the key, later in the object, with another value
		b.Write(data[:valEnd])
		b.WriteString(",")
		b.Write(data[k:valStart])
		b.WriteString(editValues[r.IntN(len(editValues))])
		b.Write(data[valEnd:])
	case 1: // another key with this value
		b.Write(data[:k])
		fmt.Fprintf(&b, "%q", editKeys[r.IntN(len(editKeys))])
		b.Write(data[keyEnd:])
	case 2: // another value
		b.Write(data[:valStart])
		b.WriteString(editValues[r.IntN(len(editValues))])
		b.Write(data[valEnd:])
	case 3: // a string value with an escape or a bracket inside
		if data[valStart] != '"' {
			return data
		}
		ins := []string{`\"`, `\\`, `{`, `]`, `\u0041`, `\/`}[r.IntN(6)]
		p := valStart + 1 + r.IntN(valEnd-valStart-1)
		b.Write(data[:p])
		b.WriteString(ins)
		b.Write(data[p:])
	case 4: // cut short
		b.Write(data[:valStart+r.IntN(valEnd-valStart+1)])
	default: // a key-value pair copied from elsewhere in the event
		k2 := keys[r.IntN(len(keys))]
		ke := bytes.IndexByte(data[k2+1:], '"') + k2 + 2
		ve, ok := jsonscan.Value(data, ke+1)
		if !ok {
			return data
		}
		b.Write(data[:valEnd])
		b.WriteString(",")
		b.Write(data[k2:ve])
		b.Write(data[valEnd:])
	}
	return b.Bytes()
}

// TestSkipContainer compares the word-at-a-time skipper with a byte
// loop on the corpus and on edits of it.
func TestSkipContainer(t *testing.T) {
	lines := planCorpus(t, 20)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		data := lines[i%len(lines)]
		if i >= len(lines) {
			data = editJSON(r, data)
		}
		checkSkip(t, data)
	}
}

func FuzzSkipContainer(f *testing.F) {
	for _, l := range planCorpus(f, 5000) {
		f.Add(l)
	}
	f.Add([]byte(`["a\\\"]",{"b":"\\"}]`))
	f.Add([]byte(`"0123456789012345678901\\\"x\\"`))
	f.Add([]byte("\"abc\x01defghijk\xc3\xa9\\u0041\""))
	f.Fuzz(func(t *testing.T, data []byte) { checkSkip(t, data) })
}

func checkSkip(t *testing.T, data []byte) {
	t.Helper()
	for i, c := range data {
		if c == '"' {
			gotEnd, gotOK := jsonscan.String(data, i)
			wantEnd, wantOK := skipStringBytes(data, i)
			if gotEnd != wantEnd || gotOK != wantOK {
				t.Fatalf("at %d: skipString %d %v, byte loop %d %v\n%q", i, gotEnd, gotOK, wantEnd, wantOK, data)
			}
			if gotOK {
				// the value read is the string readString reads
				v := valueAt(data, i, gotEnd)
				str, _, ok := readString(data, i)
				if want := (mval{kind: 's', s: str}); !ok {
					want = mval{kind: 'x'}
					if v != want {
						t.Fatalf("at %d: valueAt %+v, readString fails\n%q", i, v, data)
					}
				} else if v != want {
					t.Fatalf("at %d: valueAt %+v, readString %q\n%q", i, v, str, data)
				}
			}
			continue
		}
		if c != '{' && c != '[' {
			continue
		}
		gotEnd, gotOK := jsonscan.Container(data, i)
		wantEnd, wantOK := skipBytes(data, i)
		if gotEnd != wantEnd || gotOK != wantOK {
			t.Fatalf("at %d: skipContainer %d %v, byte loop %d %v\n%q", i, gotEnd, gotOK, wantEnd, wantOK, data)
		}
	}
}

// skipStringBytes is the byte-by-byte reference for a string.
func skipStringBytes(data []byte, i int) (int, bool) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipBytes is the byte-by-byte reference: strings end at an unescaped
// quote, brackets outside strings balance.
func skipBytes(data []byte, i int) (int, bool) {
	depth := 0
	in := false
	for j := i; j < len(data); j++ {
		c := data[j]
		if in {
			if c == '\\' {
				j++
			} else if c == '"' {
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

// TestPlanFoldConflicts: paths whose keys one JSON key could answer
// together are read correctly (left out of the plan), as the index reads
// them.
func TestPlanFoldConflicts(t *testing.T) {
	paths := [][]seg{parsePath("process.exe"), parsePath("process.Exe"), parsePath("args.Mode"), parsePath("args.mode")}
	// a path whose second key is matched exactly under a folded parent
	exact := parsePath("process.comm")
	exact[1].fold = false
	paths = append(paths, exact, parsePath("process.comm"))
	p := newPlan(paths)
	data := []byte(`{"name":"x","host":"h","process":{"EXE":"/a","Comm":"c","comm":"d"},"args":{"mode":1,"Mode":2}}`)
	d, again := newPlannedDoc(data, p, nil, nil, nil)
	full := newJSONDoc(data, nil, nil)
	if again || !d.ok || !full.ok {
		t.Fatalf("not read: again=%v planned=%v index=%v", again, d.ok, full.ok)
	}
	for _, path := range paths {
		var got, want []mval
		d.eachRef(p.ref(path), func(v mval) bool { got = append(got, v); return false })
		full.each(path, func(v mval) bool { want = append(want, v); return false })
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s (fold %v): planned %v, index %v", pathString(path), path[len(path)-1].fold, got, want)
		}
	}
}

// TestVerdictCacheComparesWhole: two events whose args share their first
// bytes (more than the verdict cache hashes) and differ in the pathname,
// read one after the other, get each the verdict of its own conditions.
func TestVerdictCacheComparesWhole(t *testing.T) {
	c := newPlanChecker(t)
	pad := strings.Repeat("x", 2*verdictPrefix)
	ev := func(path string) []byte {
		return fmt.Appendf(nil, `{"name":"security_file_open","host":"h","process":{"pid":1,"exe":"/usr/bin/cat"},"args":{"dev":1,"flags":0,"fs_type":"ext4","note":"%s","pathname":"%s"}}`, pad, path)
	}
	shadow, hosts := ev("/etc/shadow"), ev("/etc/shadoz") // the same length
	em := c.m.events["security_file_open"]
	if em.plan.vkey == nil {
		t.Fatal("security_file_open has no verdict key")
	}
	verdict := func(data []byte) []*Signature {
		full := newJSONDoc(data, nil, nil)
		s := newScratch()
		s.reset(em)
		return c.m.match(em, doc{j: &full}, nil, s)
	}
	if a, b := verdict(shadow), verdict(hosts); len(a) == 0 || slices.Equal(a, b) {
		t.Fatalf("the test's events should differ in verdict: %v and %v", sigIDs(a), sigIDs(b))
	}
	for range 3 {
		for _, e := range [][]byte{shadow, hosts, shadow, shadow, hosts, hosts} {
			full := newJSONDoc(e, nil, nil)
			c.checkVerdict(t, e, &full)
		}
	}
}

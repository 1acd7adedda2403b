package engine

import (
	"context"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/corpus"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/signatures"
)

// The fast path's one promise: an event its derived conditions turn away
// cannot make the signature fire. These tests check it against Rego itself
// on every fixture event, the captured corpus, generated events and
// mutations of the fixtures (and FuzzFastPath on anything).

// fixtureEvents returns the events of every shipped fixture file.
func fixtureEvents(t testing.TB) [][]byte {
	var out [][]byte
	err := fs.WalkDir(signatures.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".fixtures.jsonl") {
			return err
		}
		data, err := fs.ReadFile(signatures.FS(), p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			var c struct {
				Event json.RawMessage `json:"event"`
			}
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			out = append(out, []byte(c.Event))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no fixture events found")
	}
	return out
}

// corpusLines returns every k-th line of the captured corpus.
func corpusLines(t testing.TB, k int) [][]byte {
	return corpus.Lines(t, "../testdata/corpus/host-work.jsonl.gz", k)
}

// checker compares the fast path with Rego on events.
type fastPathChecker struct {
	set                        *rules.Set
	events, admitted, rejected int
	fired                      int
}

func newFastPathChecker(t testing.TB) *fastPathChecker {
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	return &fastPathChecker{set: set}
}

// check evaluates every signature selecting the event in Rego and fails
// when one fires although the fast path (on the JSON or on the Rego input)
// turned it away.
func (c *fastPathChecker) check(t testing.TB, line []byte, what string) {
	t.Helper()
	m := c.set.Matcher()
	name, jsonSigs, jsonOK := m.MatchJSON(line, nil)
	ev, err := event.Unmarshal(line)
	fast, fastErr := rules.DecodeEvent(line)
	if (err == nil) != (fastErr == nil) || (err != nil && err.Error() != fastErr.Error()) {
		t.Errorf("%s: rules.DecodeEvent says %v, event.Unmarshal %v\nevent: %s", what, fastErr, err, line)
	}
	if err != nil {
		return // not an event: nothing fires
	}
	if !reflect.DeepEqual(ev, fast) {
		t.Errorf("%s: rules.DecodeEvent decoded\n%+v\nevent.Unmarshal\n%+v\nevent: %s", what, fast, ev, line)
	}
	if !jsonOK || name != ev.Name {
		t.Errorf("%s: the fast path read name %q (ok=%v), the decoder %q", what, name, jsonOK, ev.Name)
		return
	}
	input := rules.Input(ev)
	inSigs := m.MatchInput(ev.Name, input, nil)
	c.events++
	for _, sig := range c.set.ForEvent(ev.Name) {
		byJSON, byInput := slices.Contains(jsonSigs, sig), slices.Contains(inSigs, sig)
		if byJSON {
			c.admitted++
		} else {
			c.rejected++
		}
		fields, err := sig.Eval(context.Background(), input)
		if err != nil || len(fields) == 0 {
			continue
		}
		c.fired++
		if !byJSON || !byInput {
			t.Errorf("%s: signature %s fired (%v) on an event its derived condition rejects (json admits: %v, input admits: %v)\ncondition: %v\nevent: %s",
				what, sig.ID, fields, byJSON, byInput, sig.Derived().Condition, line)
		}
	}
}

func TestFastPathSoundFixtures(t *testing.T) {
	c := newFastPathChecker(t)
	evs := fixtureEvents(t)
	for i, line := range evs {
		c.check(t, line, "fixture event "+itoa(i))
	}
	if c.fired == 0 {
		t.Fatal("no fixture event fired: the comparison proves nothing")
	}
	t.Logf("fixtures: %d events, %d signature evaluations admitted, %d rejected, %d fired", c.events, c.admitted, c.rejected, c.fired)
}

func TestFastPathSoundCorpus(t *testing.T) {
	c := newFastPathChecker(t)
	k := 3
	if testing.Short() {
		k = 20
	}
	for i, line := range corpusLines(t, k) {
		c.check(t, line, "corpus line "+itoa(i*k+1))
	}
	for i, ev := range genEvents(20000, 7) {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		c.check(t, data, "generated event "+itoa(i))
	}
	if c.rejected == 0 {
		t.Fatal("the fast path rejected nothing on the corpus")
	}
	t.Logf("corpus and generated: %d events, %d signature evaluations admitted, %d rejected, %d fired", c.events, c.admitted, c.rejected, c.fired)
}

// TestFastPathSoundMutations mutates the fixture events (strings cut,
// extended, swapped for strings of other fixtures; numbers and booleans
// changed; fields removed or nulled) many times, so the events near each
// signature's boundary are compared too.
func TestFastPathSoundMutations(t *testing.T) {
	c := newFastPathChecker(t)
	evs := fixtureEvents(t)
	n := 6000
	if testing.Short() {
		n = 1000
	}
	r := rand.New(rand.NewPCG(1, 2))
	pool := stringPool(evs)
	for i := range n {
		line := evs[r.IntN(len(evs))]
		c.check(t, mutate(r, line, pool), "mutation "+itoa(i))
	}
	t.Logf("mutations: %d events, %d signature evaluations admitted, %d rejected, %d fired", c.events, c.admitted, c.rejected, c.fired)
}

// FuzzFastPath checks the promise on arbitrary input, seeded with the
// fixture events.
func FuzzFastPath(f *testing.F) {
	for _, ev := range fixtureEvents(f) {
		f.Add(ev)
	}
	c := newFastPathChecker(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c.check(t, data, "fuzz input")
	})
}

func stringPool(evs [][]byte) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			seen[x] = true
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, ev := range evs {
		var v any
		if json.Unmarshal(ev, &v) == nil {
			walk(v)
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// mutate applies one to three random edits to a JSON event.
func mutate(r *rand.Rand, line []byte, pool []string) []byte {
	var v any
	if json.Unmarshal(line, &v) != nil {
		return line
	}
	for range 1 + r.IntN(3) {
		v = mutateValue(r, v, pool, 0)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return line
	}
	return out
}

func mutateValue(r *rand.Rand, v any, pool []string, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return x
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		k := keys[r.IntN(len(keys))]
		switch r.IntN(12) {
		case 0:
			delete(x, k)
		case 1:
			x[k] = nil
		default:
			x[k] = mutateValue(r, x[k], pool, depth+1)
		}
		return x
	case []any:
		if r.IntN(10) == 0 {
			return []any{} // emptied (argv of an exec with argc 0)
		}
		if len(x) == 0 || r.IntN(8) == 0 {
			return append(x, pool[r.IntN(len(pool))])
		}
		i := r.IntN(len(x))
		x[i] = mutateValue(r, x[i], pool, depth+1)
		return x
	case string:
		switch r.IntN(7) {
		case 0:
			return ""
		case 1:
			return x + pool[r.IntN(len(pool))]
		case 2:
			return x[:r.IntN(len(x)+1)]
		case 3:
			return pool[r.IntN(len(pool))]
		case 4:
			return strings.ToUpper(x)
		case 5:
			return "/" + x
		default:
			if len(x) > 0 {
				i := r.IntN(len(x))
				return x[i:]
			}
			return x
		}
	case float64:
		switch r.IntN(6) {
		case 0:
			return 0.0
		case 1:
			return -1.0
		case 2:
			return x + 1
		case 3:
			return float64(int64(x) ^ (1 << r.IntN(20)))
		case 4:
			return float64(r.IntN(1 << 16))
		default:
			return float64(int64(1) << r.IntN(40))
		}
	case bool:
		return !x
	case nil:
		return pool[r.IntN(len(pool))]
	}
	return v
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestEvaluateJSONAgreesWithFullRego: every fixture event (and mutations
// of them) through EvaluateJSON yields the findings, signature by
// signature and field by field, that the engine with the fast path off
// yields. Malformed JSON is an error either way; an event whose JSON is
// well formed but whose decoding fails (a string where a pid goes) is an
// error when some signature's condition admits it, and otherwise is
// turned away without being decoded (EvaluateJSON's documented contract):
// no finding either way.
func TestEvaluateJSONAgreesWithFullRego(t *testing.T) {
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	full.FullEval = true
	ctx := context.Background()
	summary := func(fs []Finding) []string {
		var out []string
		for _, f := range fs {
			b, err := json.Marshal(f.Fields)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, f.Signature.ID+" "+string(b))
		}
		sort.Strings(out)
		return out
	}
	evs := fixtureEvents(t)
	r := rand.New(rand.NewPCG(3, 4))
	pool := stringPool(evs)
	lines := slices.Clone(evs)
	for range 1500 {
		lines = append(lines, mutate(r, evs[r.IntN(len(evs))], pool))
	}
	fired := 0
	for i, line := range lines {
		got, gotErr := fast.EvaluateJSON(ctx, line)
		want, wantErr := full.EvaluateJSON(ctx, line)
		if gotErr != nil && wantErr == nil {
			t.Errorf("line %d: error %v, none with the fast path off\n%s", i, gotErr, line)
			continue
		}
		if wantErr != nil {
			if gotErr == nil && len(got) > 0 {
				t.Errorf("line %d: findings on an event that does not decode (%v)\n%s", i, wantErr, line)
			}
			continue
		}
		g, w := summary(got), summary(want)
		if !slices.Equal(g, w) {
			t.Errorf("line %d: findings %v, with the fast path off %v\n%s", i, g, w, line)
		}
		fired += len(w)
	}
	if fired == 0 {
		t.Fatal("nothing fired: the comparison proves nothing")
	}
	for _, bad := range []string{`{"name":`, `[1,2]`, `{"name":"security_file_open"} x`, ``, `{"name":5}`} {
		if _, err := fast.EvaluateJSON(ctx, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	st := fast.Stats()
	if st.FastRejected == 0 || st.Skipped == 0 {
		t.Errorf("the fast path turned nothing away: %+v", st)
	}
}

// TestPerSignatureSkippedCounts: every event a signature selects is either
// evaluated by it or counted as skipped by it, signature by signature.
func TestPerSignatureSkippedCounts(t *testing.T) {
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	selected := map[string]uint64{}
	lines := append(corpusLines(t, 7), fixtureEvents(t)...)
	for _, l := range lines {
		name, _, err := eng.EvaluateMessage(context.Background(), l, false, nil)
		if err != nil {
			continue
		}
		for _, sig := range set.ForEvent(name) {
			selected[sig.ID]++
		}
	}
	st := eng.Stats()
	some := false
	for _, sig := range set.Signatures() {
		ps := st.PerSignature[sig.ID]
		if ps.Evaluations+ps.Skipped != selected[sig.ID] {
			t.Errorf("%s: %d evaluations and %d skipped, %d events select it", sig.ID, ps.Evaluations, ps.Skipped, selected[sig.ID])
		}
		some = some || (ps.Skipped > 0 && ps.Evaluations > 0)
	}
	if !some {
		t.Error("no signature both skipped and evaluated events: the test proves little")
	}
}

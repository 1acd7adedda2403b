package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/vigil-sec/vigil/event"
)

// Sentinel errors. Load wraps ErrInvalid in a *LoadError that lists every
// problem; RunTests returns ErrNoTests when it finds nothing to run.
var (
	ErrInvalid = errors.New("invalid rules")
	ErrNoTests = errors.New("no tests found")
)

// Severities, lowest first.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Severities lists the valid severities, lowest first.
var Severities = []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// SeverityLevel ranks a severity: 1 for low up to 4 for critical, 0 for
// anything else. Use it to compare severities (--min-severity).
func SeverityLevel(s string) int {
	return slices.Index(Severities, s) + 1
}

// Metadata is what a signature declares about itself in its metadata rule.
// See signatures/README.md for each field's rules.
type Metadata struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Severity    string   `json:"severity"`
	Description string   `json:"description"`
	Tactics     []string `json:"tactics"`    // MITRE ATT&CK tactic ids, e.g. TA0004
	Techniques  []string `json:"techniques"` // MITRE ATT&CK technique ids, e.g. T1548.001
	Tags        []string `json:"tags,omitempty"`
	Events      []string `json:"events"` // event names the signature selects
}

// Signature is one loaded, compiled signature.
type Signature struct {
	Metadata
	// File is the source path of the module declaring the signature: an
	// embedded signature reads "signatures/<tactic>/<name>.rego".
	File string
	// Line is where the package clause is.
	Line int
	// Package is the Rego package, e.g. "vigil.signatures.fileless_exec".
	Package string
	// Builtin is true for a signature shipped inside vigil.
	Builtin bool

	events  map[string]bool
	derived Derived
	query   rego.PreparedEvalQuery
}

// Selects reports whether the signature selects events with that name.
func (s *Signature) Selects(eventName string) bool {
	return s.events[eventName]
}

// Derived returns the condition derived from the signature's finding rule
// (see Set.Interest): necessary for a finding, Always when the analysis
// could not express one, with the reason.
func (s *Signature) Derived() Derived {
	return s.derived
}

// FastPath reports whether the signature's derived condition narrows the
// events it sees (it is not Always).
func (s *Signature) FastPath() bool {
	return !s.derived.Condition.Always
}

// String returns "id (file:line)".
func (s *Signature) String() string {
	return fmt.Sprintf("%s (%s:%d)", s.ID, s.File, s.Line)
}

// Set is a compiled set of signatures. It is immutable and safe for
// concurrent use.
type Set struct {
	sigs     []*Signature
	byID     map[string]*Signature
	byEvent  map[string][]*Signature
	compiler *ast.Compiler
	store    storage.Store
	files    []string
	matcher  *Matcher
}

// Matcher returns the set's fast path: the derived conditions of all its
// signatures, tested together in Go.
func (s *Set) Matcher() *Matcher {
	return s.matcher
}

// Interest returns what the set's signatures want to see: the events they
// select and, for each, the disjunction of the conditions derived from the
// signatures selecting it (see Signature.Derived), Critical when a
// signature of high or critical severity selects it. The sensor can leave
// in the kernel what it rejects; the engine applies the same conditions
// (Matcher).
func (s *Set) Interest() event.Interest {
	in := event.Interest{Events: map[string]event.Condition{}}
	if s == nil {
		return in
	}
	for _, sig := range s.sigs {
		for _, name := range sig.Events {
			c := conditionFor(sig.derived.Condition, name)
			c = withoutExactFields(c, name)
			if cur, ok := in.Events[name]; ok {
				c = cur.Or(c)
			}
			in.Events[name] = c
		}
	}
	return in
}

// withoutExactFields drops the tests on fields whose JSON text differs from
// the decoded value's (times, ids), as the matcher does, and those on byte
// arguments: the engine tests them in base64, as the input form holds
// them, which a consumer holding the raw bytes would misread.
func withoutExactFields(c event.Condition, name string) event.Condition {
	if c.Always {
		return c
	}
	out := event.Condition{Critical: c.Critical}
	for _, conj := range c.Any {
		var keep event.Conjunction
		for _, t := range conj {
			if exactFields[t.Field] || isBytesArg(name, t.Field) {
				continue
			}
			keep = append(keep, t)
		}
		if len(keep) == 0 {
			return event.Condition{Always: true, Critical: c.Critical}
		}
		out.Any = append(out.Any, keep)
	}
	return out
}

// Signatures returns every signature, ordered by id. The slice is shared:
// do not modify it.
func (s *Set) Signatures() []*Signature {
	if s == nil {
		return nil
	}
	return s.sigs
}

// ForEvent returns the signatures that select events with that name, ordered
// by id; nil when none does. The slice is shared: do not modify it.
func (s *Set) ForEvent(name string) []*Signature {
	if s == nil {
		return nil
	}
	return s.byEvent[name]
}

// Lookup returns the signature with that id.
func (s *Set) Lookup(id string) (*Signature, bool) {
	if s == nil {
		return nil, false
	}
	sig, ok := s.byID[id]
	return sig, ok
}

// Events returns the event names selected by at least one signature, sorted.
// A consumer can subscribe to just these.
func (s *Set) Events() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.byEvent))
	for name := range s.byEvent {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Files returns the source files the set was compiled from (signatures and
// library modules, not tests), sorted.
func (s *Set) Files() []string {
	if s == nil {
		return nil
	}
	return s.files
}

// LoadOptions says where signatures come from.
type LoadOptions struct {
	// Builtin includes the signatures shipped inside vigil. The shipped
	// helper library (package vigil.lib) is always available.
	Builtin bool
	// Dirs are users' rule folders (searched recursively) or single .rego
	// files.
	Dirs []string
}

// Problem is one thing wrong with a rule file, at a place.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	Msg  string `json:"message"`
}

// String returns "file:line:col: msg" (without the parts that are unknown).
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
			if p.Col > 0 {
				fmt.Fprintf(&b, ":%d", p.Col)
			}
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// LoadError lists every problem that kept a set of rules from loading. It
// wraps ErrInvalid.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	if len(e.Problems) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, " (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *LoadError) Unwrap() error { return ErrInvalid }

// Load gathers, checks and compiles signatures and prepares their queries.
// When anything is wrong it returns a *LoadError listing every problem with
// its place (errors.Is(err, ErrInvalid)); a Set is never half loaded.
func Load(opts LoadOptions) (*Set, error) {
	_, set, err := build(opts)
	return set, err
}

// build gathers, checks and compiles signatures; the checker is returned for
// RunTests, which also needs the test modules it read.
func build(opts LoadOptions) (*checker, *Set, error) {
	srcs, problems := gather(opts)
	if len(problems) > 0 {
		return nil, nil, &LoadError{Problems: problems}
	}
	c, problems := check(srcs)
	if len(problems) > 0 {
		return nil, nil, &LoadError{Problems: problems}
	}
	set, problems := c.compile()
	if len(problems) > 0 {
		return nil, nil, &LoadError{Problems: problems}
	}
	return c, set, nil
}

// Validate checks the rules in dirs the way Load does and returns every
// problem found, sorted by place; nil when the rules would load. With no
// dirs it validates the shipped signatures. Tests (_test.rego) and fixture
// files are checked too, since vigil test runs them.
func Validate(dirs ...string) []Problem {
	opts := LoadOptions{Dirs: dirs, Builtin: len(dirs) == 0}
	srcs, problems := gather(opts)
	if len(problems) > 0 {
		return problems
	}
	c, problems := check(srcs)
	if len(problems) == 0 {
		_, problems = c.compile()
	}
	if len(problems) == 0 {
		problems = c.checkTests(context.Background())
	}
	return problems
}

func newStore() storage.Store {
	return inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false))
}

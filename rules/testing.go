package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/vigil-sec/vigil/event"
)

// Kinds of test.
const (
	TestRego    = "rego"    // a test_ rule in a _test.rego file
	TestFixture = "fixture" // one line of a .fixtures.jsonl file
)

// DefaultTestTimeout bounds each Rego test and each fixture evaluation.
const DefaultTestTimeout = 5 * time.Second

// TestOptions says which tests RunTests runs.
type TestOptions struct {
	// Builtin includes the shipped signatures' tests and the library's.
	Builtin bool
	// Dirs are users' rule folders or files, as for Load.
	Dirs []string
	// Run, when set, is a regular expression: only Rego tests whose name
	// and fixture cases whose name match it run.
	Run string
	// Timeout bounds each test; DefaultTestTimeout when zero.
	Timeout time.Duration
}

// TestResult is the outcome of one test.
type TestResult struct {
	Kind string `json:"kind"` // TestRego or TestFixture
	// Signature is the id of the signature under test; "" for tests of a
	// library package.
	Signature string `json:"signature,omitempty"`
	// Name is the test rule's name or the fixture case's name.
	Name string `json:"name"`
	File string `json:"file"`
	Line int    `json:"line"`
	Pass bool   `json:"pass"`
	Skip bool   `json:"skip,omitempty"`
	// Message says what differed or what went wrong, for a failed test.
	Message string `json:"message,omitempty"`
	// Output is what the test printed with print().
	Output   string        `json:"output,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// String returns one line: "PASS|FAIL|SKIP file:line: signature: name" and
// the message of a failure on the following lines.
func (r TestResult) String() string {
	status := "PASS"
	switch {
	case r.Skip:
		status = "SKIP"
	case !r.Pass:
		status = "FAIL"
	}
	who := r.Name
	if r.Signature != "" {
		who = r.Signature + ": " + r.Name
	}
	s := fmt.Sprintf("%s %s:%d: %s", status, r.File, r.Line, who)
	if !r.Pass && r.Message != "" {
		s += "\n    " + strings.ReplaceAll(r.Message, "\n", "\n    ")
	}
	return s
}

// TestReport is the outcome of RunTests.
type TestReport struct {
	Results []TestResult `json:"results"`
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"`
	Skipped int          `json:"skipped"`
	// Untested lists the ids of signatures that have no test at all.
	Untested []string `json:"untested,omitempty"`
}

// OK reports whether every test passed.
func (r *TestReport) OK() bool {
	return r != nil && r.Failed == 0
}

func (r *TestReport) add(res TestResult) {
	switch {
	case res.Skip:
		r.Skipped++
	case res.Pass:
		r.Passed++
	default:
		r.Failed++
	}
	r.Results = append(r.Results, res)
}

// RunTests loads the rules opts names and runs their tests: every test_
// rule of the _test.rego files (as opa test does, with the same restricted
// built-ins as the engine) and every case of the .fixtures.jsonl files
// (each event evaluated the way the engine evaluates it). Rules that do not
// load are an error (a *LoadError); so is finding no test to run
// (ErrNoTests). Test failures are not errors: see TestReport.OK.
func RunTests(ctx context.Context, opts TestOptions) (*TestReport, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTestTimeout
	}
	var filter *regexp.Regexp
	if opts.Run != "" {
		var err error
		if filter, err = regexp.Compile(opts.Run); err != nil {
			return nil, fmt.Errorf("test filter %q: %w", opts.Run, err)
		}
	}

	c, set, err := build(LoadOptions{Builtin: opts.Builtin, Dirs: opts.Dirs})
	if err != nil {
		return nil, err
	}

	report := &TestReport{}
	tested := map[string]bool{}

	regoResults, err := c.runRegoTests(ctx, set, opts.Run, timeout)
	if err != nil {
		return nil, err
	}
	for _, r := range regoResults {
		report.add(r)
		tested[r.Signature] = true
	}

	cases, problems := c.fixtureCases(set)
	for _, p := range problems {
		// A malformed fixture line fails as a test: the others still run.
		report.add(TestResult{Kind: TestFixture, Name: "malformed fixture", File: p.File, Line: p.Line, Message: p.Msg})
	}
	for _, fc := range cases {
		if filter != nil && !filter.MatchString(fc.Name) {
			continue
		}
		report.add(fc.run(ctx, timeout))
		tested[fc.sig.ID] = true
	}

	if len(report.Results) == 0 {
		return nil, fmt.Errorf("running rule tests: %w", ErrNoTests)
	}
	for _, sig := range set.Signatures() {
		if !tested[sig.ID] {
			report.Untested = append(report.Untested, sig.ID)
		}
	}
	sort.SliceStable(report.Results, func(i, j int) bool {
		a, b := report.Results[i], report.Results[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return report, nil
}

// testModules returns the signature, library and test modules by path.
func (c *checker) testModules() map[string]*ast.Module {
	mods := make(map[string]*ast.Module, len(c.modules)+len(c.tests))
	for _, p := range c.modules {
		mods[p.src.path] = p.mod
	}
	for _, p := range c.tests {
		mods[p.src.path] = p.mod
	}
	return mods
}

// checkTests compiles the tests and reads the fixtures without running
// anything, for Validate.
func (c *checker) checkTests(ctx context.Context) []Problem {
	c.problems = nil
	if len(c.tests) > 0 {
		compiler := newCompiler(capabilities(), true)
		if compiler.Compile(c.testModules()); compiler.Failed() {
			c.addASTErrors("", compiler.Errors)
		}
	}
	set := &Set{byID: map[string]*Signature{}}
	for _, s := range c.sigs {
		set.byID[s.ID] = s
	}
	_, problems := c.fixtureCases(set)
	c.problems = append(c.problems, problems...)
	c.problems = sortProblems(c.problems)
	return c.problems
}

func (c *checker) runRegoTests(ctx context.Context, set *Set, run string, timeout time.Duration) ([]TestResult, error) {
	if len(c.tests) == 0 {
		return nil, nil
	}
	store := newStore()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("running rule tests: %w", err)
	}
	defer store.Abort(ctx, txn)

	testFiles := map[string]bool{}
	for _, p := range c.tests {
		testFiles[p.src.path] = true
	}
	runner := tester.NewRunner().
		SetCompiler(newCompiler(capabilities(), true)).
		SetStore(store).
		SetModules(c.testModules()).
		SetTimeout(timeout).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		Filter(run)
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		if errs, ok := err.(ast.Errors); ok {
			c.problems = nil
			c.addASTErrors("", errs)
			c.problems = sortProblems(c.problems)
			return nil, &LoadError{Problems: c.problems}
		}
		return nil, fmt.Errorf("running rule tests: %w", err)
	}
	var out []TestResult
	for r := range ch {
		res := TestResult{
			Kind:     TestRego,
			Name:     r.Name,
			Pass:     r.Pass(),
			Skip:     r.Skip,
			Output:   string(r.Output),
			Duration: r.Duration,
		}
		if r.Location != nil {
			res.File, res.Line = r.Location.File, r.Location.Row
		}
		if !testFiles[res.File] {
			// test_ rules outside _test.rego files are not run as tests.
			continue
		}
		if sig := set.signatureOfPackage(strings.TrimPrefix(r.Package, "data.")); sig != nil {
			res.Signature = sig.ID
		}
		switch {
		case r.Error != nil:
			res.Message = "error: " + r.Error.Error()
		case r.Fail:
			res.Message = "the test's body is false or undefined"
			if len(r.Output) > 0 {
				res.Message += "; it printed:\n" + strings.TrimRight(string(r.Output), "\n")
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// signatureOfPackage finds the signature a test package tests: the
// signature's own package or <package>_test.
func (s *Set) signatureOfPackage(pkg string) *Signature {
	pkg = strings.TrimSuffix(pkg, "_test")
	for _, sig := range s.sigs {
		if sig.Package == pkg {
			return sig
		}
	}
	return nil
}

// fixtureCase is one line of a fixture file.
type fixtureCase struct {
	Name   string          `json:"name"`
	Fire   *bool           `json:"fire"`
	Fields map[string]any  `json:"fields,omitempty"`
	Event  json.RawMessage `json:"event"`

	ev   *event.Event
	sig  *Signature
	file string
	line int
}

// fixtures parses every fixture file and matches it with the signature
// beside it (<name>.fixtures.jsonl tests <name>.rego).
func (c *checker) fixtureCases(set *Set) ([]*fixtureCase, []Problem) {
	sigByFile := map[string]*Signature{}
	for _, s := range c.sigs {
		sigByFile[s.File] = s
	}
	var (
		cases    []*fixtureCase
		problems []Problem
	)
	for _, src := range c.fixtures {
		modFile := strings.TrimSuffix(src.path, fixtureSuffix) + regoExt
		sig := sigByFile[modFile]
		if sig != nil {
			sig, _ = set.Lookup(sig.ID)
		}
		if sig == nil {
			problems = append(problems, Problem{File: src.path, Msg: fmt.Sprintf("no signature beside this fixture file (want %s)", path.Base(modFile))})
			continue
		}
		found, ps := parseFixtures(src, sig)
		cases = append(cases, found...)
		problems = append(problems, ps...)
	}
	return cases, problems
}

// parseFixtures reads one fixture file: one JSON object per line, blank
// lines and lines starting with # ignored.
func parseFixtures(src *source, sig *Signature) ([]*fixtureCase, []Problem) {
	var (
		cases    []*fixtureCase
		problems []Problem
	)
	bad := func(line int, format string, args ...any) {
		problems = append(problems, Problem{File: src.path, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	for i, raw := range bytes.Split(src.data, []byte("\n")) {
		line := i + 1
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] == '#' {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		fc := &fixtureCase{sig: sig, file: src.path, line: line}
		if err := dec.Decode(fc); err != nil {
			bad(line, "not a fixture case: %v", err)
			continue
		}
		if dec.More() {
			bad(line, "trailing data after the fixture case")
			continue
		}
		if fc.Name == "" {
			bad(line, "fixture case has no \"name\"")
			continue
		}
		if fc.Fire == nil {
			bad(line, "fixture case %q has no \"fire\" (true: the signature must fire, false: it must not)", fc.Name)
			continue
		}
		if !*fc.Fire && len(fc.Fields) > 0 {
			bad(line, "fixture case %q: \"fields\" needs \"fire\": true", fc.Name)
			continue
		}
		if len(fc.Event) == 0 {
			bad(line, "fixture case %q has no \"event\"", fc.Name)
			continue
		}
		ev, err := event.Unmarshal(fc.Event)
		if err != nil {
			bad(line, "fixture case %q: event: %v", fc.Name, err)
			continue
		}
		if _, ok := event.Lookup(ev.Name); !ok {
			msg := fmt.Sprintf("fixture case %q: unknown event %q", fc.Name, ev.Name)
			if near := closest(ev.Name, event.Names()); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			bad(line, "%s", msg)
			continue
		}
		fc.ev = ev
		cases = append(cases, fc)
	}
	if len(cases) == 0 && len(problems) == 0 {
		bad(0, "fixture file has no cases")
	}
	return cases, problems
}

// run evaluates the case's event as the engine would (only when the
// signature selects the event's name) and compares.
func (fc *fixtureCase) run(ctx context.Context, timeout time.Duration) TestResult {
	res := TestResult{Kind: TestFixture, Signature: fc.sig.ID, Name: fc.Name, File: fc.file, Line: fc.line}
	start := time.Now()
	var findings []map[string]any
	if fc.sig.Selects(fc.ev.Name) {
		ectx, cancel := context.WithTimeout(ctx, timeout)
		var err error
		findings, err = fc.sig.Eval(ectx, Input(fc.ev))
		cancel()
		if err != nil {
			res.Duration = time.Since(start)
			res.Message = fmt.Sprintf("%s\nerror: %v", describeEvent(fc.ev), err)
			return res
		}
	}
	res.Duration = time.Since(start)

	switch {
	case !*fc.Fire && len(findings) == 0:
		res.Pass = true
	case !*fc.Fire:
		res.Message = fmt.Sprintf("%s\nwant no finding, got %d: %s", describeEvent(fc.ev), len(findings), compactJSON(findings))
	case len(findings) == 0:
		res.Message = fmt.Sprintf("%s\nwant a finding, got none", describeEvent(fc.ev))
		if !fc.sig.Selects(fc.ev.Name) {
			res.Message += fmt.Sprintf(" (the signature does not select %s events; metadata.events is %v)", fc.ev.Name, fc.sig.Events)
		}
	case len(fc.Fields) == 0:
		res.Pass = true
	default:
		for _, f := range findings {
			if fieldsMatch(fc.Fields, f) {
				res.Pass = true
				break
			}
		}
		if !res.Pass {
			res.Message = fmt.Sprintf("%s\nwant a finding with fields %s\ngot %s%s",
				describeEvent(fc.ev), compactJSON(fc.Fields), compactJSON(findings), fieldsDiff(fc.Fields, findings[0]))
		}
	}
	return res
}

// fieldsMatch reports whether got holds every field of want with an equal
// value (numbers compare by value: 1 equals 1.0).
func fieldsMatch(want, got map[string]any) bool {
	for k, w := range want {
		g, ok := got[k]
		if !ok || !sameValue(w, g) {
			return false
		}
	}
	return true
}

func sameValue(a, b any) bool {
	av, err1 := ast.InterfaceToValue(a)
	bv, err2 := ast.InterfaceToValue(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return av.Compare(bv) == 0
}

// fieldsDiff lists, for the first finding, the wanted fields that differ.
func fieldsDiff(want, got map[string]any) string {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		g, ok := got[k]
		switch {
		case !ok:
			fmt.Fprintf(&b, "\n  field %q: want %s, missing", k, compactJSON(want[k]))
		case !sameValue(want[k], g):
			fmt.Fprintf(&b, "\n  field %q: want %s, got %s", k, compactJSON(want[k]), compactJSON(g))
		}
	}
	return b.String()
}

func describeEvent(ev *event.Event) string {
	return fmt.Sprintf("event %s (pid %d, comm %q, exe %q, args %s)", ev.Name, ev.Process.Pid, ev.Process.Comm, ev.Process.Exe, compactJSON(ev.Args))
}

func compactJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(data)
}

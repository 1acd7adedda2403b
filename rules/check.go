package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// Package roots of the signature contract.
var (
	signaturesRoot = ast.MustParseRef("data.vigil.signatures")
	libRoot        = ast.MustParseRef("data.vigil.lib")
	vigilRoot      = ast.MustParseRef("data.vigil")
)

var (
	idPattern        = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	versionPattern   = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	tacticPattern    = regexp.MustCompile(`^TA[0-9]{4}$`)
	techniquePattern = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
)

const maxIDLen = 64

// metadataFields are the keys a metadata object may hold.
var metadataFields = []string{"id", "name", "version", "severity", "description", "tactics", "techniques", "tags", "events"}

// parsed is one parsed Rego module with where it came from.
type parsed struct {
	src *source
	mod *ast.Module
	pkg string // package path without "data.", e.g. "vigil.lib"
}

// checker holds a set of rule files while they are checked and compiled.
type checker struct {
	modules  []*parsed // signatures and libraries
	tests    []*parsed
	fixtures []*source
	sigs     []*Signature // in module order, not yet prepared
	sigMods  map[*Signature]*parsed
	problems []Problem
}

func (c *checker) add(loc *ast.Location, file string, format string, args ...any) {
	p := Problem{File: file, Msg: fmt.Sprintf(format, args...)}
	if loc != nil {
		if loc.File != "" {
			p.File = loc.File
		}
		p.Line, p.Col = loc.Row, loc.Col
	}
	c.problems = append(c.problems, p)
}

// addASTErrors turns OPA errors (parse, compile, type) into problems.
func (c *checker) addASTErrors(file string, err error) {
	errs, ok := err.(ast.Errors)
	if !ok {
		c.add(nil, file, "%v", err)
		return
	}
	for _, e := range errs {
		c.add(e.Location, file, "%s", describeASTError(e))
	}
}

func describeASTError(e *ast.Error) string {
	kind := map[string]string{
		ast.ParseErr:           "parse error",
		ast.CompileErr:         "compile error",
		ast.TypeErr:            "type error",
		ast.UnsafeVarErr:       "unsafe variable",
		ast.RecursionErr:       "recursion",
		ast.FormatErr:          "format error",
		"rego_undefined_error": "undefined",
	}[e.Code]
	if kind == "" {
		kind = e.Code
	}
	msg := kind + ": " + e.Message
	switch d := e.Details.(type) {
	case nil:
	case *ast.RefErrInvalidDetail:
		// A typo in input.args.x or input.process.x: name the nearest
		// field rather than listing all of them.
		if d.Pos < len(d.Ref) {
			if have, ok := d.Ref[d.Pos].Value.(ast.String); ok {
				var names []string
				for _, v := range d.OneOf {
					if s, ok := v.(ast.String); ok {
						names = append(names, string(s))
					}
				}
				if near := closest(string(have), names); near != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", near)
				}
			}
		}
	case *ast.UnificationErrDetail:
		msg += fmt.Sprintf(" (%v compared with %v)", d.Left, d.Right)
	default:
		var lines []string
		for _, l := range d.Lines() {
			if l = strings.TrimSpace(l); l != "" && l != "^" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			msg += " (" + strings.Join(lines, "; ") + ")"
		}
	}
	return msg
}

// check parses every module, sorts it into signature, library or test,
// reads and validates signature metadata, and refuses unsafe built-ins and
// data references. Problems are sorted by place.
func check(srcs []*source) (*checker, []Problem) {
	c := &checker{sigMods: map[*Signature]*parsed{}}
	popts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	for _, src := range srcs {
		if src.kind == kindFixture {
			c.fixtures = append(c.fixtures, src)
			continue
		}
		mod, err := ast.ParseModuleWithOpts(src.path, string(src.data), popts)
		if err != nil {
			c.addASTErrors(src.path, err)
			continue
		}
		p := &parsed{src: src, mod: mod, pkg: strings.TrimPrefix(mod.Package.Path.String(), "data.")}
		if src.kind == kindTest {
			c.tests = append(c.tests, p)
		} else {
			c.modules = append(c.modules, p)
		}
	}

	byPkg := map[string]*parsed{}
	byID := map[string]*ast.Location{}
	libRules := map[string]*parsed{} // "package.rule" -> the file that defines it
	for _, p := range c.modules {
		path := p.mod.Package.Path
		switch {
		case path.HasPrefix(libRoot):
			// A helper library: no contract beyond its references, but one
			// file per rule name. Rego merges same-named rules of one
			// package across files; two definitions that disagree make
			// every signature using the rule fail at run time.
			c.libraryRules(p, libRules)
		case path.HasPrefix(signaturesRoot) && len(path) != len(signaturesRoot)+1:
			// Nested signature packages would let one signature reach into
			// another through its own package prefix.
			c.add(p.mod.Package.Location, p.src.path,
				"package %s: a signature's package is vigil.signatures.<name>, one name deep", p.pkg)
		case path.HasPrefix(signaturesRoot):
			if prev, ok := byPkg[p.pkg]; ok {
				c.add(p.mod.Package.Location, p.src.path,
					"signature package %s is already declared in %s: one file per signature (helpers go in a vigil.lib package)",
					p.pkg, prev.src.path)
				continue
			}
			byPkg[p.pkg] = p
			sig := c.signature(p)
			if sig == nil {
				continue
			}
			if prev, ok := byID[sig.ID]; ok {
				c.add(sig.idLoc, p.src.path, "duplicate signature id %q (also declared at %s:%d:%d)", sig.ID, prev.File, prev.Row, prev.Col)
				continue
			}
			byID[sig.ID] = sig.idLoc
			c.sigs = append(c.sigs, sig.Signature)
			c.sigMods[sig.Signature] = p
		default:
			c.add(p.mod.Package.Location, p.src.path,
				"package %s: a signature's package must be vigil.signatures.<name>, a helper library's vigil.lib or vigil.lib.<name>", p.pkg)
		}
	}

	for _, p := range c.modules {
		c.checkBuiltins(p)
		c.checkDataRefs(p)
	}
	for _, p := range c.tests {
		c.checkBuiltins(p)
		c.checkDataRefs(p)
	}
	c.problems = sortProblems(c.problems)
	return c, c.problems
}

// libraryRules records the rules a library module defines and reports a
// name another library file of the same package already defines.
func (c *checker) libraryRules(p *parsed, seen map[string]*parsed) {
	mine := map[string]bool{}
	for _, r := range p.mod.Rules {
		name := p.pkg + "." + r.Head.Ref().String()
		if mine[name] {
			continue // another body of a rule of this file
		}
		mine[name] = true
		if prev, ok := seen[name]; ok && prev != p {
			c.add(r.Location, p.src.path, "rule %s of package %s is already defined in %s: a library rule belongs to one file",
				r.Head.Ref().String(), p.pkg, prev.src.path)
			continue
		}
		seen[name] = p
	}
}

// sortProblems orders problems by place and drops repeats: OPA reports some
// parse errors twice at one place, once with more detail.
func sortProblems(ps []Problem) []Problem {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if prev.File == p.File && prev.Line == p.Line && prev.Col == p.Col &&
				(strings.HasPrefix(p.Msg, prev.Msg) || strings.HasPrefix(prev.Msg, p.Msg)) {
				if len(p.Msg) > len(prev.Msg) {
					prev.Msg = p.Msg
				}
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// sigDraft is a signature whose metadata was read, with the place of its id
// for duplicate reports.
type sigDraft struct {
	*Signature
	idLoc *ast.Location
}

// signature reads and validates the metadata and finding rules of a
// signature module. It returns nil when the module is not a valid signature
// (the problems are recorded).
func (c *checker) signature(p *parsed) *sigDraft {
	before := len(c.problems)
	pkgLoc := p.mod.Package.Location
	var metaRules, findingRules []*ast.Rule
	for _, r := range p.mod.Rules {
		ref := r.Head.Ref()
		if len(ref) == 0 {
			continue
		}
		switch {
		case ref[0].Value.Compare(ast.Var("metadata")) == 0:
			metaRules = append(metaRules, r)
		case ref[0].Value.Compare(ast.Var("finding")) == 0:
			findingRules = append(findingRules, r)
		}
	}

	sig := &Signature{
		File:    p.src.path,
		Package: p.pkg,
		Builtin: p.src.builtin,
	}
	if pkgLoc != nil {
		sig.Line = pkgLoc.Row
	}
	draft := &sigDraft{Signature: sig, idLoc: pkgLoc}

	switch {
	case len(metaRules) == 0:
		c.add(pkgLoc, p.src.path, "signature %s has no metadata: declare metadata := {\"id\": ..., \"events\": [...], ...}", p.pkg)
	case len(metaRules) > 1:
		c.add(metaRules[1].Location, p.src.path, "metadata is declared more than once")
	default:
		c.metadata(p, metaRules[0], draft)
	}

	if len(findingRules) == 0 {
		c.add(pkgLoc, p.src.path, "signature %s has no finding rule: declare finding contains {...} if { ... }", p.pkg)
	}
	for _, r := range findingRules {
		if len(r.Head.Ref()) != 1 || r.Head.RuleKind() != ast.MultiValue {
			c.add(r.Location, p.src.path, "finding must be a partial set rule: finding contains f if { ... } (each member is one finding's fields)")
		}
	}
	if len(c.problems) > before {
		return nil
	}
	return draft
}

// metadata reads the constant metadata object into draft.
func (c *checker) metadata(p *parsed, r *ast.Rule, draft *sigDraft) {
	file := p.src.path
	constant := r.Head.Value != nil && r.Head.Key == nil && len(r.Head.Args) == 0 && r.Else == nil &&
		len(r.Body) == 1 && r.Body[0].Equal(ast.NewExpr(ast.BooleanTerm(true)))
	if !constant || !isConstant(r.Head.Value) {
		c.add(r.Location, file, "metadata must be a constant object: metadata := {...} with no condition, variables or references")
		return
	}
	obj, ok := r.Head.Value.Value.(ast.Object)
	if !ok {
		c.add(r.Head.Value.Location, file, "metadata must be an object, not %s", ast.ValueName(r.Head.Value.Value))
		return
	}
	loc := r.Head.Value.Location
	if loc == nil {
		loc = r.Location
	}
	m := &draft.Metadata
	seen := map[string]*ast.Term{}
	obj.Foreach(func(k, v *ast.Term) {
		key, ok := k.Value.(ast.String)
		if !ok {
			c.add(k.Location, file, "metadata keys must be strings, not %s", ast.ValueName(k.Value))
			return
		}
		name := string(key)
		seen[name] = v
		switch name {
		case "id":
			m.ID = c.metaString(file, name, v)
			if m.ID != "" {
				draft.idLoc = v.Location
				if !idPattern.MatchString(m.ID) || len(m.ID) > maxIDLen {
					c.add(v.Location, file, "metadata.id %q must be 1 to %d letters, digits, '-' or '_' (it is a NATS subject token)", m.ID, maxIDLen)
				}
			}
		case "name":
			m.Name = c.metaString(file, name, v)
		case "version":
			m.Version = c.metaString(file, name, v)
			if m.Version != "" && !versionPattern.MatchString(m.Version) {
				c.add(v.Location, file, "metadata.version %q must be a semantic version MAJOR.MINOR.PATCH, e.g. \"1.0.0\"", m.Version)
			}
		case "severity":
			m.Severity = c.metaString(file, name, v)
			if m.Severity != "" && SeverityLevel(m.Severity) == 0 {
				c.add(v.Location, file, "metadata.severity %q must be one of %s", m.Severity, strings.Join(Severities, ", "))
			}
		case "description":
			m.Description = c.metaString(file, name, v)
		case "tactics":
			m.Tactics = c.metaStrings(file, name, v, func(s string, at *ast.Term) {
				if !tacticPattern.MatchString(s) {
					c.add(at.Location, file, "metadata.tactics: %q is not a MITRE ATT&CK tactic id (TA followed by 4 digits, e.g. TA0004)", s)
				}
			})
		case "techniques":
			m.Techniques = c.metaStrings(file, name, v, func(s string, at *ast.Term) {
				if !techniquePattern.MatchString(s) {
					c.add(at.Location, file, "metadata.techniques: %q is not a MITRE ATT&CK technique id (T1234 or T1234.001)", s)
				}
			})
		case "tags":
			m.Tags = c.metaStrings(file, name, v, func(s string, at *ast.Term) {
				if strings.TrimSpace(s) == "" {
					c.add(at.Location, file, "metadata.tags: empty tag")
				}
			})
		case "events":
			m.Events = c.metaStrings(file, name, v, func(s string, at *ast.Term) {
				if _, ok := event.Lookup(s); !ok {
					msg := fmt.Sprintf("metadata.events: unknown event %q", s)
					if near := closest(s, event.Names()); near != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", near)
					}
					c.add(at.Location, file, "%s; vigil events lists them", msg)
				}
			})
		case "prefilter":
			c.add(k.Location, file, "metadata.prefilter is retired: vigil derives the condition that keeps events away from a signature from its rules, so it cannot disagree with them; remove it (vigil rules explain <id> shows the derived condition)")
		default:
			msg := fmt.Sprintf("unknown metadata field %q", name)
			if near := closest(name, metadataFields); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			c.add(k.Location, file, "%s", msg)
		}
	})
	for _, req := range []string{"id", "name", "version", "severity", "description", "events"} {
		if _, ok := seen[req]; !ok {
			c.add(loc, file, "metadata has no %q", req)
		}
	}
	if v, ok := seen["events"]; ok && len(m.Events) == 0 {
		if arr, isArr := v.Value.(*ast.Array); isArr && arr.Len() == 0 {
			c.add(v.Location, file, "metadata.events is empty: a signature must select at least one event")
		}
	}
	draft.events = make(map[string]bool, len(m.Events))
	for _, e := range m.Events {
		draft.events[e] = true
	}
}

// isConstant reports whether t is made of literals only: no variables,
// references, calls or comprehensions. (OPA calls input.x ground.)
func isConstant(t *ast.Term) bool {
	ok := true
	ast.WalkTerms(t, func(x *ast.Term) bool {
		switch x.Value.(type) {
		case ast.Var, ast.Ref, ast.Call, *ast.ArrayComprehension, *ast.SetComprehension, *ast.ObjectComprehension:
			ok = false
		}
		return !ok
	})
	return ok
}

func (c *checker) metaString(file, name string, v *ast.Term) string {
	s, ok := v.Value.(ast.String)
	if !ok {
		c.add(v.Location, file, "metadata.%s must be a string, not %s", name, ast.ValueName(v.Value))
		return ""
	}
	if strings.TrimSpace(string(s)) == "" {
		c.add(v.Location, file, "metadata.%s is empty", name)
		return ""
	}
	return string(s)
}

// metaStrings reads an array of strings, calling each for every element;
// duplicates are problems.
func (c *checker) metaStrings(file, name string, v *ast.Term, each func(string, *ast.Term)) []string {
	arr, ok := v.Value.(*ast.Array)
	if !ok {
		c.add(v.Location, file, "metadata.%s must be an array of strings, not %s", name, ast.ValueName(v.Value))
		return nil
	}
	out := make([]string, 0, arr.Len())
	dup := map[string]bool{}
	arr.Foreach(func(t *ast.Term) {
		s, ok := t.Value.(ast.String)
		if !ok {
			c.add(t.Location, file, "metadata.%s: element must be a string, not %s", name, ast.ValueName(t.Value))
			return
		}
		if dup[string(s)] {
			c.add(t.Location, file, "metadata.%s: %q is listed twice", name, string(s))
			return
		}
		dup[string(s)] = true
		each(string(s), t)
		out = append(out, string(s))
	})
	return out
}

// closest returns the candidate nearest to s by edit distance, or "" when
// none is near enough to be a plausible typo.
func closest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, cand := range candidates {
		d := levenshtein.ComputeDistance(s, cand)
		if bestDist < 0 || d < bestDist {
			best, bestDist = cand, d
		}
	}
	limit := max(2, len(s)/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// denied lists the built-ins a rule may not call, with the reason. Every
// built-in OPA marks non-deterministic is refused too (see deniedBuiltin):
// a signature must be a pure function of its event, so that replaying a
// capture finds exactly what live detection found.
var denied = map[string]string{
	"http.send":              "it reaches the network",
	"net.lookup_ip_addr":     "it reaches the network (DNS)",
	"opa.runtime":            "it exposes the engine's environment and configuration",
	"time.now_ns":            "it depends on when the rule runs, not on the event; use input.time",
	"rand.intn":              "it is random",
	"uuid.rfc4122":           "it is random",
	"json.match_schema":      "it can fetch remote schemas",
	"json.verify_schema":     "it can fetch remote schemas",
	"io.jwt.decode_verify":   "it depends on the current time",
	"io.jwt.encode_sign":     "it is non-deterministic",
	"io.jwt.encode_sign_raw": "it is non-deterministic",
}

// deniedBuiltin returns why a built-in is refused, or "" when it is allowed.
func deniedBuiltin(name string) string {
	if why, ok := denied[name]; ok {
		return why
	}
	if b, ok := ast.BuiltinMap[name]; ok && b.Nondeterministic {
		return "it is non-deterministic"
	}
	return ""
}

// capabilities are OPA's capabilities without the refused built-ins: the
// compiler then rejects any call the syntactic check above might miss.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion(ast.CapabilitiesRegoVersion(ast.RegoV1))
	kept := caps.Builtins[:0:0]
	for _, b := range caps.Builtins {
		if deniedBuiltin(b.Name) == "" {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	caps.AllowNet = []string{}
	return caps
}

// checkBuiltins reports every reference to a refused built-in, with its
// place. References, not only calls: `with http.send as ...` and passing a
// built-in by name are refused too.
func (c *checker) checkBuiltins(p *parsed) {
	ast.WalkTerms(p.mod, func(t *ast.Term) bool {
		ref, ok := t.Value.(ast.Ref)
		if !ok {
			return false
		}
		name := ref.String()
		if why := deniedBuiltin(name); why != "" {
			c.add(t.Location, p.src.path, "built-in %s is not allowed in signatures: %s", name, why)
		}
		return false
	})
}

// checkDataRefs keeps signatures independent of anything but their event:
// a signature may refer to its own package and to data.vigil.lib, a library
// only to data.vigil.lib, a test to anything under data.vigil.
func (c *checker) checkDataRefs(p *parsed) {
	var allowed []ast.Ref
	var what string
	switch {
	case p.src.kind == kindTest:
		allowed, what = []ast.Ref{vigilRoot}, "a test may refer only to data.vigil"
	case p.mod.Package.Path.HasPrefix(libRoot):
		allowed, what = []ast.Ref{libRoot}, "a library may refer only to data.vigil.lib"
	default:
		allowed, what = []ast.Ref{p.mod.Package.Path, libRoot}, "a signature may refer only to its own package and data.vigil.lib"
	}
	check := func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Var:
			if v.Equal(ast.DefaultRootDocument.Value) {
				c.add(t.Location, p.src.path, "reference to all of data: %s", what)
			}
		case ast.Ref:
			if !v[0].Equal(ast.DefaultRootDocument) {
				return false
			}
			for _, a := range allowed {
				if v.HasPrefix(a) {
					return true
				}
			}
			c.add(t.Location, p.src.path, "reference to %s: %s", v, what)
			return true
		}
		return false
	}
	for _, imp := range p.mod.Imports {
		ast.WalkTerms(imp, check)
	}
	for _, r := range p.mod.Rules {
		ast.WalkTerms(r, check)
	}
}

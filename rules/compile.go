package rules

import (
	"context"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// findingVar is the variable a signature's query binds each finding to.
const findingVar = "f"

// newCompiler returns a Rego v1 compiler limited to the allowed built-ins,
// in strict mode (unused variables and imports are errors: they are
// usually typos in a rule). print() is kept only where asked (tests).
func newCompiler(caps *ast.Capabilities, printing bool) *ast.Compiler {
	return ast.NewCompiler().
		WithCapabilities(caps).
		WithDefaultRegoVersion(ast.RegoV1).
		WithStrict(true).
		WithSchemas(schemaSet()).
		WithEnablePrintStatements(printing)
}

// compile compiles the checked modules and prepares one query per
// signature: data.<package>.finding[f].
func (c *checker) compile() (*Set, []Problem) {
	caps := capabilities()
	compiler := newCompiler(caps, false)
	mods := make(map[string]*ast.Module, len(c.modules))
	files := make([]string, 0, len(c.modules))
	for _, p := range c.modules {
		mods[p.src.path] = p.mod
		files = append(files, p.src.path)
	}
	sort.Strings(files)
	if compiler.Compile(mods); compiler.Failed() {
		c.addASTErrors("", compiler.Errors)
		c.problems = sortProblems(c.problems)
		return nil, c.problems
	}

	set := &Set{
		byID:     make(map[string]*Signature, len(c.sigs)),
		byEvent:  map[string][]*Signature{},
		compiler: compiler,
		store:    newStore(),
		files:    files,
	}
	ctx := context.Background()
	for _, sig := range c.sigs {
		p := c.sigMods[sig]
		ref := p.mod.Package.Path.Append(ast.StringTerm("finding")).Append(ast.VarTerm(findingVar))
		q, err := rego.New(
			rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.NewTerm(ref)))),
			rego.Compiler(compiler),
			rego.Store(set.store),
			rego.Capabilities(caps),
			rego.StrictBuiltinErrors(true),
		).PrepareForEval(ctx)
		if err != nil {
			c.add(p.mod.Package.Location, p.src.path, "preparing the finding query: %v", err)
			continue
		}
		sig.query = q
		set.sigs = append(set.sigs, sig)
		set.byID[sig.ID] = sig
	}
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	sort.Slice(set.sigs, func(i, j int) bool { return set.sigs[i].ID < set.sigs[j].ID })
	d := newDeriver(compiler)
	for _, sig := range set.sigs {
		sig.derived = d.derive(c.sigMods[sig].mod.Package.Path)
		sig.derived.Condition.Critical = SeverityLevel(sig.Severity) >= SeverityLevel(SeverityHigh)
	}
	set.matcher = newMatcher(set.sigs)
	for _, sig := range set.sigs {
		for _, e := range sig.Events {
			set.byEvent[e] = append(set.byEvent[e], sig)
		}
	}
	return set, nil
}

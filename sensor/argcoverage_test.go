package sensor

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestEveryArgumentIsAsserted fails when an event has an argument that no
// privileged test of this package asserts, so that a new event (or a new
// argument) comes with a test that checks what the kernel really writes there
// (docs/adding-an-event.md).
//
// It reads the tests' source rather than trusting a hand-kept list: a
// privileged test is a Test function that calls needRoot (directly or through
// its helpers, startSensor, ownSensor...); it asserts argument a of event e
// when one function it runs names e (a string literal "e") and reads or
// expects a: ev.Args["a"], a key "a" of a map literal (waitArgs' want), or a
// typed view's method (event.EArgs(ev.Args).A()). Helpers that name no event
// (they take it from their caller) count for the caller. uncovered lists the
// arguments no privileged test asserts yet, each with the reason; an entry
// that a test now covers is an error too, so the list only shrinks.
func TestEveryArgumentIsAsserted(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	funcs := map[string]*funcFacts{}
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				funcs[fd.Name.Name] = factsOf(fd)
			}
		}
	}
	// calls of argument readers (argU(ev, "mode")) name the argument
	for _, f := range funcs {
		for _, c := range f.litCalls {
			if g := funcs[c.callee]; g != nil && g.argParam >= 0 && g.argParam < len(c.lits) && c.lits[g.argParam] != "" {
				f.args[c.lits[g.argParam]] = true
			}
		}
	}
	covered := map[string]map[string][]string{} // event -> arg -> tests
	for name := range funcs {
		if !strings.HasPrefix(name, "Test") || !reaches(funcs, name, "needRoot", map[string]bool{}) {
			continue
		}
		for _, g := range reachable(funcs, name) {
			fg := funcs[g]
			args := map[string]bool{}
			for a := range fg.args {
				args[a] = true
			}
			for _, h := range eventlessCallees(funcs, g) {
				for a := range funcs[h].args {
					args[a] = true
				}
			}
			for e := range fg.events {
				spec, _ := event.Lookup(e)
				for _, a := range spec.Args {
					if args[a.Name] || fg.views[e+"."+a.Name] {
						if covered[e] == nil {
							covered[e] = map[string][]string{}
						}
						covered[e][a.Name] = append(covered[e][a.Name], name)
					}
				}
			}
		}
	}
	var missing []string
	for _, spec := range event.All() {
		for _, a := range spec.Args {
			key := spec.Name + "." + a.Name
			_, known := uncovered[key]
			switch has := len(covered[spec.Name][a.Name]) > 0; {
			case !has && !known:
				missing = append(missing, key)
			case has && known:
				tests := covered[spec.Name][a.Name]
				sort.Strings(tests)
				t.Errorf("%s is asserted by %s now: remove it from uncovered", key, strings.Join(tests, ", "))
			}
		}
	}
	for key := range uncovered {
		e, a, _ := strings.Cut(key, ".")
		spec, ok := event.Lookup(e)
		if !ok || !hasArg(spec, a) {
			t.Errorf("uncovered names %s, which is no argument of the event table", key)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d event arguments are asserted by no privileged test of package sensor:\n  %s\n"+
			"assert them in a test that triggers the event (see docs/adding-an-event.md)", len(missing), strings.Join(missing, "\n  "))
	}
}

func hasArg(s event.Spec, name string) bool {
	for _, a := range s.Args {
		if a.Name == name {
			return true
		}
	}
	return false
}

// funcFacts is what one function's body (closures included) names.
type funcFacts struct {
	events map[string]bool // event names in string literals
	args   map[string]bool // Args["x"] indices and map literal keys
	views  map[string]bool // event.arg read through a typed view
	calls  map[string]bool // functions and methods called, by name
	// argParam is the position of the parameter an argument reader indexes
	// Args with (argU(ev, name) reads ev.Args[name]), else -1.
	argParam int
	litCalls []litCall
}

// litCall is a call with its string literal arguments by position ("" for
// others).
type litCall struct {
	callee string
	lits   []string
}

func factsOf(fd *ast.FuncDecl) *funcFacts {
	body := fd.Body
	f := &funcFacts{events: map[string]bool{}, args: map[string]bool{}, views: map[string]bool{}, calls: map[string]bool{}, argParam: -1}
	params := map[string]int{}
	i := 0
	for _, field := range fd.Type.Params.List {
		for _, n := range field.Names {
			params[n.Name] = i
			i++
		}
	}
	views := viewNames()
	viewOf := func(e ast.Expr) (event.Spec, bool) {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return event.Spec{}, false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return event.Spec{}, false
		}
		spec, ok := views[strings.ToLower(sel.Sel.Name)]
		return spec, ok
	}
	// variables holding a typed view: a := event.XArgs(ev.Args)
	vars := map[string]event.Spec{}
	ast.Inspect(body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
			for i, r := range as.Rhs {
				if spec, ok := viewOf(r); ok {
					if id, ok := as.Lhs[i].(*ast.Ident); ok {
						vars[id.Name] = spec
					}
				}
			}
		}
		return true
	})
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if s, ok := stringLit(n); ok {
				if _, isEvent := event.Lookup(s); isEvent {
					f.events[s] = true
				}
			}
		case *ast.IndexExpr:
			if sel, ok := n.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Args" {
				if s, ok := stringLit(n.Index); ok {
					f.args[s] = true
				}
				if id, ok := n.Index.(*ast.Ident); ok {
					if p, isParam := params[id.Name]; isParam {
						f.argParam = p
					}
				}
			}
		case *ast.KeyValueExpr:
			if s, ok := stringLit(n.Key); ok {
				f.args[s] = true
			}
		case *ast.CallExpr:
			lc := litCall{lits: make([]string, len(n.Args))}
			for i, a := range n.Args {
				lc.lits[i], _ = stringLit(a)
			}
			switch fn := n.Fun.(type) {
			case *ast.Ident:
				f.calls[fn.Name] = true
				lc.callee = fn.Name
				f.litCalls = append(f.litCalls, lc)
			case *ast.SelectorExpr:
				f.calls[fn.Sel.Name] = true
				lc.callee = fn.Sel.Name
				f.litCalls = append(f.litCalls, lc)
				// event.XArgs(ev.Args).Method(), or v.Method() of a view variable
				spec, ok := viewOf(fn.X)
				if id, isIdent := fn.X.(*ast.Ident); isIdent && !ok {
					spec, ok = vars[id.Name]
				}
				if ok {
					for _, a := range spec.Args {
						if strings.EqualFold(strings.ReplaceAll(a.Name, "_", ""), fn.Sel.Name) {
							f.views[spec.Name+"."+a.Name] = true
							f.events[spec.Name] = true
						}
					}
				}
			}
		}
		return true
	})
	return f
}

// viewNames maps the typed views' type names, lower-cased
// (schedprocessexecargs for SchedProcessExecArgs), to their events.
func viewNames() map[string]event.Spec {
	out := map[string]event.Spec{}
	for _, s := range event.All() {
		out[strings.ReplaceAll(s.Name, "_", "")+"args"] = s
	}
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func reachable(funcs map[string]*funcFacts, from string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] || funcs[n] == nil {
			return
		}
		seen[n] = true
		for c := range funcs[n].calls {
			walk(c)
		}
	}
	walk(from)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	return out
}

func reaches(funcs map[string]*funcFacts, from, target string, seen map[string]bool) bool {
	if from == target {
		return true
	}
	if seen[from] || funcs[from] == nil {
		return false
	}
	seen[from] = true
	for c := range funcs[from].calls {
		if reaches(funcs, c, target, seen) {
			return true
		}
	}
	return false
}

// eventlessCallees are the helpers a function calls (transitively) that
// name no event themselves: the event they check is the caller's.
func eventlessCallees(funcs map[string]*funcFacts, from string) []string {
	var out []string
	seen := map[string]bool{from: true}
	var walk func(string)
	walk = func(n string) {
		for c := range funcs[n].calls {
			if seen[c] || funcs[c] == nil || len(funcs[c].events) > 0 {
				continue
			}
			seen[c] = true
			out = append(out, c)
			walk(c)
		}
	}
	walk(from)
	return out
}

// uncovered lists the arguments no privileged test of this package can
// assert, each with the reason. An entry a test now asserts is an error, so
// the list only shrinks, and a new argument joins it only by being written
// here, in review.
//
// internal: the event never leaves the sensor. module_image_chunk's pieces
// are put together into the file module_image_captured names;
// TestSensorCapturesModuleImages checks that file's bytes, size and hash
// against what the kmod trigger loaded, which a wrong id, offset, total or
// data of any piece would break.
const internal = "internal to the sensor; its pieces are checked through the file they make"

var uncovered = map[string]string{
	"module_image_chunk.capture_id": internal,
	"module_image_chunk.offset":     internal,
	"module_image_chunk.total":      internal,
	"module_image_chunk.data":       internal,
}

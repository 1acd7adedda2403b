package rules

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/signatures"
)

// writeFiles creates files (path relative to dir -> contents) and returns dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// goodSig is a minimal valid signature; pkg and id vary per test.
func goodSig(pkg, id string, events string) string {
	return `package vigil.signatures.` + pkg + `

import data.vigil.lib

metadata := {
	"id": "` + id + `",
	"name": "Test signature ` + id + `",
	"version": "0.1.0",
	"severity": "medium",
	"description": "fires on every selected event",
	"tactics": ["TA0002"],
	"techniques": ["T1059"],
	"tags": ["test"],
	"events": ` + events + `,
}

finding contains {"comm": input.process.comm, "ancestry": lib.ancestry} if {
	input.process.comm != ""
}
`
}

func TestLoadBuiltin(t *testing.T) {
	set, err := Load(LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range set.Signatures() {
		ids = append(ids, s.ID)
		if !s.Builtin || !strings.HasPrefix(s.File, "signatures/") || s.Line == 0 {
			t.Errorf("%s: Builtin=%v File=%q Line=%d", s.ID, s.Builtin, s.File, s.Line)
		}
	}
	// the walking skeleton's three are always there; the rest grow
	for _, want := range []string{"creds-raised-to-root", "fileless-exec", "kernel-module-load"} {
		if !slices.Contains(ids, want) {
			t.Errorf("signatures %v lack %s", ids, want)
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("signature ids are not sorted and unique: %v", ids)
	}
	for name, want := range map[string]string{
		"init_module": "kernel-module-load", "finit_module": "kernel-module-load",
		"commit_creds": "creds-raised-to-root", "sched_process_exec": "fileless-exec",
	} {
		got := set.ForEvent(name)
		if !slices.ContainsFunc(got, func(s *Signature) bool { return s.ID == want }) {
			t.Errorf("ForEvent(%s) = %v, want it to hold %s", name, got, want)
		}
		for _, s := range got {
			if !slices.Contains(s.Events, name) {
				t.Errorf("ForEvent(%s) holds %s, which selects %v", name, s.ID, s.Events)
			}
		}
	}
	// Events is the union of what the signatures select, and an event no
	// signature selects goes nowhere.
	selected := map[string]bool{}
	for _, s := range set.Signatures() {
		for _, e := range s.Events {
			selected[e] = true
		}
	}
	var union []string
	for e := range selected {
		union = append(union, e)
	}
	slices.Sort(union)
	if got := set.Events(); !slices.Equal(got, union) {
		t.Errorf("Events() = %v, want %v", got, union)
	}
	for _, name := range append(event.Names(), "no_such_event") {
		if got := set.ForEvent(name); !selected[name] && got != nil {
			t.Errorf("ForEvent(%s) = %v, want none", name, got)
		}
	}
	sig, ok := set.Lookup("fileless-exec")
	if !ok || sig.Severity != SeverityHigh || !slices.Equal(sig.Techniques, []string{"T1620", "T1027"}) || !sig.Selects("sched_process_exec") || sig.Selects("execve") {
		t.Errorf("Lookup(fileless-exec) = %+v, %v", sig, ok)
	}
}

func TestLoadWithoutBuiltinKeepsLibrary(t *testing.T) {
	dir := writeFiles(t, map[string]string{"mine/shell.rego": goodSig("mine", "my-sig", `["execve"]`)})
	set, err := Load(LoadOptions{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Signatures()); n != 1 || set.Signatures()[0].ID != "my-sig" || set.Signatures()[0].Builtin {
		t.Fatalf("signatures %v", set.Signatures())
	}
	if !slices.Contains(set.Files(), "signatures/lib/lib.rego") {
		t.Errorf("the library is not loaded: %v", set.Files())
	}
	// The same folder named twice is read once, not reported as a duplicate.
	if _, err := Load(LoadOptions{Dirs: []string{dir, dir}}); err != nil {
		t.Errorf("folder named twice: %v", err)
	}
}

// TestFolderLibraryReplacesShipped: a copy of the shipped signatures, with
// its lib folder edited, loads on its own: the folder's lib/lib.rego takes
// the place of the shipped one, the shipped lib files it has no copy of
// stay.
func TestFolderLibraryReplacesShipped(t *testing.T) {
	shipped, err := fs.ReadFile(signatures.FS(), "lib/lib.rego")
	if err != nil {
		t.Fatal(err)
	}
	edited := string(shipped) + "\nmy_limit := 7\n"
	dir := writeFiles(t, map[string]string{
		"lib/lib.rego":    edited,
		"mine/shell.rego": goodSig("mine", "my-sig", `["execve"]`),
	})
	if probs := Validate(dir); probs != nil {
		t.Fatalf("Validate(%s): %v", dir, probs)
	}
	set, err := Load(LoadOptions{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	files := set.Files()
	if slices.Contains(files, "signatures/lib/lib.rego") || !slices.Contains(files, filepath.Join(dir, "lib", "lib.rego")) {
		t.Errorf("the folder's lib/lib.rego does not replace the shipped one: %v", files)
	}
	if !slices.Contains(files, "signatures/lib/file.rego") {
		t.Errorf("the shipped lib files the folder has no copy of are gone: %v", files)
	}
	// A library file of another name still may not redefine a shipped rule.
	dir = writeFiles(t, map[string]string{"lib/extra.rego": "package vigil.lib\n\nshells := {\"sh\"}\n"})
	if probs := Validate(dir); len(probs) != 1 || !strings.Contains(probs[0].Msg, "already defined in signatures/lib/lib.rego") {
		t.Errorf("Validate(lib/extra.rego redefining shells) = %v, want one redefinition problem", probs)
	}
}

// TestEverySignatureFileIsEmbedded guards the embed patterns in
// signatures/embed.go, which reach one folder deep.
func TestEverySignatureFileIsEmbedded(t *testing.T) {
	root := filepath.Join("..", "signatures")
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := classify(p); !ok {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if _, err := fs.Stat(signatures.FS(), filepath.ToSlash(rel)); err != nil {
			t.Errorf("%s is not embedded (signatures live one folder deep): %v", p, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no signature files")
	}
}

func TestShippedSignaturesPassTheirTests(t *testing.T) {
	rep, err := RunTests(context.Background(), TestOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rep.Results {
		kinds[r.Kind]++
		if !r.Pass {
			t.Errorf("%s", r)
		}
	}
	if kinds[TestRego] == 0 || kinds[TestFixture] == 0 {
		t.Errorf("test kinds run: %v, want both", kinds)
	}
	if len(rep.Untested) > 0 {
		t.Errorf("signatures without tests: %v", rep.Untested)
	}
	if !rep.OK() || rep.Passed != len(rep.Results) {
		t.Errorf("report: passed %d failed %d of %d", rep.Passed, rep.Failed, len(rep.Results))
	}
	if probs := Validate(); probs != nil {
		t.Errorf("Validate() of the shipped signatures: %v", probs)
	}
}

func TestValidateReportsPlaces(t *testing.T) {
	meta := func(fields string) string {
		return "package vigil.signatures.x\n\nmetadata := {\n" + fields + "\n}\n\nfinding contains {} if input.name == \"execve\"\n"
	}
	base := `	"id": "x-1",
	"name": "X",
	"version": "1.0.0",
	"severity": "low",
	"description": "d",
`
	cases := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in one problem's String()
		loads bool     // Load accepts it (the problem is in tests or fixtures)
	}{
		{
			name:  "parse error",
			files: map[string]string{"a.rego": "package vigil.signatures.x\n\nmetadata := {\n"},
			want:  []string{"a.rego:4: parse error: unexpected eof token: expected rule value term"},
		},
		{
			name: "prefilter retired",
			files: map[string]string{"a.rego": meta(base + `	"events": ["security_file_open"],
	"prefilter": {"args.pathname": {"prefix": ["/etc/"]}},`)},
			want: []string{
				`a.rego:10:2: metadata.prefilter is retired: vigil derives the condition that keeps events away from a signature from its rules, so it cannot disagree with them; remove it (vigil rules explain <id> shows the derived condition)`,
			},
		},
		{
			name: "library rule defined in two files",
			files: map[string]string{
				"lib_a.rego": "package vigil.lib.mine\n\nlimit := 3\n\nf(x) := x\n\nf(x) := x if false\n",
				"lib_b.rego": "package vigil.lib.mine\n\nlimit := 4\n",
			},
			want: []string{"lib_b.rego:3:1: rule limit of package vigil.lib.mine is already defined in "},
		},
		{
			name:  "library rule that the shipped library defines",
			files: map[string]string{"mylib.rego": "package vigil.lib\n\nshells := {\"sh\"}\n"},
			want:  []string{"mylib.rego:3:1: rule shells of package vigil.lib is already defined in signatures/lib/lib.rego"},
		},
		{
			name:  "unknown event with suggestion",
			files: map[string]string{"a.rego": meta(base + `	"events": ["execv"],`)},
			want:  []string{`a.rego:9:13: metadata.events: unknown event "execv" (did you mean "execve"?)`},
		},
		{
			name:  "unknown metadata field with suggestion",
			files: map[string]string{"a.rego": meta(base + `	"events": ["execve"],` + "\n" + `	"severty": "low",`)},
			want:  []string{`a.rego:10:2: unknown metadata field "severty" (did you mean "severity"?)`},
		},
		{
			name:  "missing and malformed fields",
			files: map[string]string{"a.rego": meta(`	"id": "x.1", "name": 3, "version": "1", "severity": "urgent", "description": "d", "events": [], "tactics": ["TA4"], "techniques": ["T1059.1"]`)},
			want: []string{
				`a.rego:4:8: metadata.id "x.1" must be 1 to 64 letters, digits, '-' or '_'`,
				`a.rego:4:23: metadata.name must be a string, not number`,
				`a.rego:4:37: metadata.version "1" must be a semantic version`,
				`metadata.severity "urgent" must be one of low, medium, high, critical`,
				`metadata.events is empty`,
				`metadata.tactics: "TA4" is not a MITRE ATT&CK tactic id`,
				`metadata.techniques: "T1059.1" is not a MITRE ATT&CK technique id`,
			},
		},
		{
			name:  "required field missing",
			files: map[string]string{"a.rego": meta(`	"id": "x-1", "name": "X", "version": "1.0.0", "description": "d", "events": ["execve"]`)},
			want:  []string{`a.rego:3:13: metadata has no "severity"`},
		},
		{
			name:  "no metadata, no finding",
			files: map[string]string{"a.rego": "package vigil.signatures.x\n\nallow := true\n"},
			want:  []string{"a.rego:1:1: signature vigil.signatures.x has no metadata", "a.rego:1:1: signature vigil.signatures.x has no finding rule"},
		},
		{
			name:  "metadata not constant",
			files: map[string]string{"a.rego": "package vigil.signatures.x\n\nmetadata := {\"id\": input.name}\n\nfinding contains {} if true\n"},
			want:  []string{"a.rego:3:1: metadata must be a constant object"},
		},
		{
			name:  "finding as a complete rule",
			files: map[string]string{"a.rego": meta(base+`	"events": ["execve"],`) + "\nfinding := {}\n"},
			want:  []string{"a.rego:14:1: finding must be a partial set rule"},
		},
		{
			name: "duplicate id",
			files: map[string]string{
				"a/one.rego": goodSig("one", "same-id", `["execve"]`),
				"b/two.rego": goodSig("two", "same-id", `["execve"]`),
			},
			want: []string{`two.rego:6:8: duplicate signature id "same-id" (also declared at `},
		},
		{
			name: "typos in input references",
			files: map[string]string{"a.rego": goodSig("x", "x-1", `["execve"]`) + `
p := input.args.pathnme

c := [a.commm | some a in input.process.ancestors]

n if input.args.pathname == 3
`},
			want: []string{
				`a.rego:21:6: type error: undefined ref: input.args.pathnme (did you mean "pathname"?)`,
				`a.rego:23:7: type error: undefined ref: a.commm (did you mean "comm"?)`,
				`a.rego:25:6: type error: match error (string compared with number)`,
			},
		},
		{
			name:  "nested signature package",
			files: map[string]string{"a.rego": "package vigil.signatures.x.y\n\nallow := true\n"},
			want:  []string{"a.rego:1:1: package vigil.signatures.x.y: a signature's package is vigil.signatures.<name>, one name deep"},
		},
		{
			name:  "bad package",
			files: map[string]string{"a.rego": "package policies.x\n\nallow := true\n"},
			want:  []string{"a.rego:1:1: package policies.x: a signature's package must be vigil.signatures.<name>"},
		},
		{
			name:  "http.send",
			files: map[string]string{"a.rego": goodSig("x", "x-1", `["execve"]`) + "\nleak if http.send({\"method\": \"get\", \"url\": \"http://example.com\"})\n"},
			want:  []string{"a.rego:21:9: built-in http.send is not allowed in signatures: it reaches the network"},
		},
		{
			name: "network, environment and clock",
			files: map[string]string{"a.rego": goodSig("x", "x-1", `["execve"]`) + `
ips := net.lookup_ip_addr("example.com")

env := opa.runtime().env

now := time.now_ns()
`},
			want: []string{
				"a.rego:21:8: built-in net.lookup_ip_addr is not allowed in signatures: it reaches the network (DNS)",
				"a.rego:23:8: built-in opa.runtime is not allowed in signatures: it exposes the engine's environment",
				"a.rego:25:8: built-in time.now_ns is not allowed in signatures",
			},
		},
		{
			name:  "data outside the library",
			files: map[string]string{"a.rego": goodSig("x", "x-1", `["execve"]`) + "\nother := data.vigil.signatures.y.metadata\n\nimport data.secrets\n"},
			want:  []string{"a.rego:21:10: reference to data.vigil.signatures.y.metadata: a signature may refer only to its own package and data.vigil.lib", "a.rego:23:8: reference to data.secrets"},
		},
		{
			name:  "compile error",
			files: map[string]string{"a.rego": goodSig("x", "x-1", `["execve"]`) + "\nbad contains x if input.name == y\n"},
			want:  []string{"a.rego:21:14: unsafe variable: var x is unsafe"},
		},
		{
			name: "malformed fixture",
			files: map[string]string{
				"x.rego":           goodSig("x", "x-1", `["execve"]`),
				"x.fixtures.jsonl": "{\"name\": \"a\", \"fire\": true, \"event\": {\"name\": \"execev\"}}\n\n{\"name\": \"b\", \"feilds\": {}}\nnot json\n",
			},
			want: []string{
				`x.fixtures.jsonl:1: fixture case "a": unknown event "execev" (did you mean "execve"?)`,
				`x.fixtures.jsonl:3: not a fixture case: json: unknown field "feilds"`,
				`x.fixtures.jsonl:4: not a fixture case`,
			},
			loads: true,
		},
		{
			name:  "fixture without signature",
			files: map[string]string{"x.rego": goodSig("x", "x-1", `["execve"]`), "y.fixtures.jsonl": "\n"},
			want:  []string{"y.fixtures.jsonl: no signature beside this fixture file (want y.rego)"},
			loads: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			probs := Validate(dir)
			if len(probs) == 0 {
				t.Fatal("no problems reported")
			}
			var got []string
			for _, p := range probs {
				s := p.String()
				if !strings.HasPrefix(s, dir) {
					t.Errorf("problem does not name its file: %s", s)
				}
				got = append(got, strings.TrimPrefix(s, dir+string(filepath.Separator)))
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no problem contains %q; got:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			// Load refuses the same rules with the same problems.
			_, err := Load(LoadOptions{Dirs: []string{dir}})
			var le *LoadError
			switch {
			case tc.loads && err != nil:
				t.Errorf("Load: %v, want success", err)
			case !tc.loads && (!errors.As(err, &le) || !errors.Is(err, ErrInvalid)):
				t.Errorf("Load: %v, want a *LoadError", err)
			}
		})
	}
}

func TestValidateMissingAndEmptyDirs(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(empty, "nope")
	probs := Validate(missing, empty)
	if len(probs) != 2 {
		t.Fatalf("problems %v, want 2", probs)
	}
	if probs[0].String() != missing+": no such file or directory" {
		t.Errorf("got %q", probs[0])
	}
	if probs[1].String() != empty+": no rule files (*.rego) found" {
		t.Errorf("got %q", probs[1])
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.rego", Line: 3, Col: 7, Msg: "m"}, "a.rego:3:7: m"},
		{Problem{File: "a.rego", Line: 3, Msg: "m"}, "a.rego:3: m"},
		{Problem{File: "a.rego", Msg: "m"}, "a.rego: m"},
		{Problem{Msg: "m"}, "m"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
	err := &LoadError{Problems: []Problem{{File: "a", Line: 1, Msg: "x"}, {File: "b", Msg: "y"}}}
	if got := err.Error(); got != "invalid rules (2 problems):\n  a:1: x\n  b: y" {
		t.Errorf("LoadError: %q", got)
	}
}

func TestSeverityLevel(t *testing.T) {
	if !(SeverityLevel("low") < SeverityLevel("medium") && SeverityLevel("high") < SeverityLevel("critical")) || SeverityLevel("x") != 0 {
		t.Error("severity order")
	}
}

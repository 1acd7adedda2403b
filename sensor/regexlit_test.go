package sensor

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// The literals derived from a regex are necessary: every string the regex
// matches starts (anchored) or contains (not anchored) one of them, and
// ends with one of the suffixes.
func TestRegexLiterals(t *testing.T) {
	for _, c := range []struct {
		expr         string
		lits         []string
		anchored     bool
		suffixes     []string
		match, other []string
	}{
		{`^/(?:root|home/[^/]+)/(.+)$`, []string{"/home/", "/root/"}, true, nil,
			[]string{"/root/.ssh/id_rsa", "/home/bob/x"}, []string{"/etc/hostname", "/rootx"}},
		{`^/proc/([0-9]+)/(task/[0-9]+/)?mem$`, []string{"/proc/"}, true, []string{"/mem"},
			[]string{"/proc/1/mem", "/proc/12/task/13/mem"}, []string{"/proc/1/status"}},
		{`\.(key|pem)$`, []string{".key", ".pem"}, false, []string{".key", ".pem"},
			[]string{"/a/b.key", "x.pem"}, []string{"/a/b.keys"}},
		{`/[.]ssh/`, []string{"/.ssh/"}, false, nil, []string{"/root/.ssh/x"}, []string{"/root/ssh/"}},
		{`(?i)^/etc/`, nil, false, nil, []string{"/ETC/x"}, nil},
		{`(?m)^/etc/`, []string{"/etc/"}, false, nil, []string{"x\n/etc/y"}, nil},
		{`.*`, nil, false, nil, []string{""}, nil},
		{`^/a[0-9]*b`, []string{"/a"}, true, nil, []string{"/ab", "/a12b"}, []string{"/b"}},
	} {
		lits, anchored, ok := regexLiterals(c.expr)
		if !slices.Equal(lits, c.lits) || (ok && anchored != c.anchored) || ok != (c.lits != nil) {
			t.Errorf("%s: literals %q anchored %v ok %v, want %q anchored %v", c.expr, lits, anchored, ok, c.lits, c.anchored)
		}
		sfx, sok := regexSuffixes(c.expr)
		slices.Sort(sfx)
		if !slices.Equal(sfx, c.suffixes) || sok != (c.suffixes != nil) {
			t.Errorf("%s: suffixes %q ok %v, want %q", c.expr, sfx, sok, c.suffixes)
		}
		re := regexp.MustCompile(c.expr)
		for _, m := range c.match {
			if !re.MatchString(m) {
				t.Fatalf("%s does not match %q: bad case", c.expr, m)
			}
			if ok && !slices.ContainsFunc(lits, func(l string) bool {
				if anchored {
					return strings.HasPrefix(m, l)
				}
				return strings.Contains(m, l)
			}) {
				t.Errorf("%s matches %q, which has none of the literals %q", c.expr, m, lits)
			}
			if sok && !slices.ContainsFunc(sfx, func(s string) bool { return strings.HasSuffix(m, s) }) {
				t.Errorf("%s matches %q, which ends with none of %q", c.expr, m, sfx)
			}
		}
		for _, o := range c.other {
			if re.MatchString(o) {
				t.Fatalf("%s matches %q: bad case", c.expr, o)
			}
		}
	}
}

// A conjunction keeps one test of each kind: the most selective prefix (an
// exact name over any prefix), a name, a substring.
func TestOpenFilterPlanConjunction(t *testing.T) {
	p := planOpenFilter(event.Condition{Any: []event.Conjunction{
		{pathTest(event.OpPrefix, "/etc/"), pathTest(event.OpContains, "/.ssh/id_"), pathTest(event.OpRegex, `^/(?:root|home/[^/]+)/(.+)$`)},
		{pathTest(event.OpPrefix, "/proc/"), pathTest(event.OpRegex, `^/proc/([0-9]+)/(task/[0-9]+/)?mem$`)},
		{pathTest(event.OpPrefix, "/var/"), pathTest(event.OpEq, "/var/x", "/var/y"), pathTest(event.OpPrefix, "/var/lib/")},
	}})
	if !p.on {
		t.Fatalf("plan is off: %s", p.why)
	}
	if p.needPath != 7 || p.needNeedle != 1 || p.needName != 2 {
		t.Errorf("need path %b name %b needle %b, want 111 10 1", p.needPath, p.needName, p.needNeedle)
	}
	// the regex's prefixes (6 bytes at least) beat /etc/ (5)
	if p.prefixes["/root/"] != 1 || p.prefixes["/home/"] != 1 || p.prefixes["/etc/"] != 0 || p.prefixes["/proc/"] != 2 || p.exact["/var/x"] != 4 || p.prefixes["/var/"] != 0 || p.prefixes["/var/lib/"] != 0 {
		t.Errorf("prefixes %v exact %v", p.prefixes, p.exact)
	}
	if p.needles["/.ssh/id_"] != 1 || p.names["mem"] != 2 {
		t.Errorf("needles %v names %v", p.needles, p.names)
	}
	// a substring that starts another carries its alternatives into it
	q := planOpenFilter(event.Condition{Any: []event.Conjunction{
		{pathTest(event.OpContains, "/.ssh/")}, {pathTest(event.OpContains, "/.ssh/id_")},
	}})
	if e := q.needleEntries(); e["/.ssh/"] != 1 || e["/.ssh/id_"] != 3 {
		t.Errorf("needle entries %v, want /.ssh/ -> 1, /.ssh/id_ -> 3", e)
	}
}

// An alternative testing an argument security_file_open does not have (a
// rename's new_path, merged in by a signature selecting both) never holds:
// it lets no open through on its flags alone.
func TestOpenFilterPlanForeignArg(t *testing.T) {
	p := planOpenFilter(event.Condition{Any: []event.Conjunction{
		{{Field: "args.flags", Op: event.OpBitsAny, Mask: 3}, {Field: "args.new_path", Op: event.OpPrefix, Strings: []string{"/etc/"}}},
		{{Field: "args.flags", Op: event.OpBitsAny, Mask: 0x40}, pathTest(event.OpPrefix, "/etc/")},
	}})
	if !p.on || p.never != 1 || p.live() != 2 || p.flagMask() != 0x40 {
		t.Fatalf("plan on %v never %b live %b flag mask %#x, want on, 1, 10, 0x40", p.on, p.never, p.live(), p.flagMask())
	}
	if fs := p.flagSets(); fs[0] != 0 || fs[0x40] != 2 {
		t.Errorf("flag sets %v, want 0:0 0x40:2", fs)
	}
}

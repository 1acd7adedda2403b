package rules

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// litMatcher runs a regular expression that is a finite set of literals
// (`(?i)base64|b64|xxd`, `^--(coin|algo)`, `\.(key|pem)$`), the shape most
// derived tests on command lines and paths have, without the regexp
// engine: on ASCII text, each literal is tried where its first byte
// occurs, letters under (?i) compared case-folded. Its answer is the
// regexp's own: on ASCII text the literals, anchors and case folding decide
// exactly as regexp does (the non-ASCII runes a (?i) letter also matches,
// the Kelvin sign for k, cannot occur in ASCII text); text with any other
// byte goes to the regexp itself. FuzzLiteralMatcher compares the two.
type litMatcher struct {
	re *regexp.Regexp // for non-ASCII text
	// always: some literal is empty and unanchored (every text matches)
	always bool
	// unanchored literals by their first byte (lowered when it folds)
	first [256][]int32
	lits  []lit
	// anchored at the start or the end, or both
	anchored []int32
}

// lit is one literal: its bytes (lowercase where fold is set) and where it
// must stand.
type lit struct {
	b          []byte
	fold       []bool
	start, end bool
}

// maxLits bounds the literals one expression expands to.
const maxLits = 512

// newLitMatcher returns a matcher for re's pattern, or ok=false when the
// pattern is not a small set of literals.
func newLitMatcher(re *regexp.Regexp) (*litMatcher, bool) {
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil, false
	}
	lits, ok := expandLits(p.Simplify())
	if !ok {
		return nil, false
	}
	m := &litMatcher{re: re}
	seen := map[string]bool{}
	for _, l := range lits {
		k := string(l.b) + "\x00" + string(fmtBools(l.fold)) + string(fmtBools([]bool{l.start, l.end}))
		if seen[k] {
			continue
		}
		seen[k] = true
		i := int32(len(m.lits))
		m.lits = append(m.lits, l)
		switch {
		case l.start || l.end:
			m.anchored = append(m.anchored, i)
		case len(l.b) == 0:
			m.always = true
		default:
			m.first[l.b[0]] = append(m.first[l.b[0]], i)
			if l.fold[0] {
				up := l.b[0] - 'a' + 'A'
				m.first[up] = append(m.first[up], i)
			}
		}
	}
	return m, true
}

func fmtBools(bs []bool) []byte {
	out := make([]byte, len(bs))
	for i, b := range bs {
		out[i] = '0'
		if b {
			out[i] = '1'
		}
	}
	return out
}

// expandLits lists the literals a simplified expression matches, with the
// anchors of each; ok=false when it is not a finite small set of them (a
// repetition, any character, a large class, an anchor in the middle).
// Runes outside ASCII are left out: they never occur in the text this
// matcher reads.
func expandLits(re *syntax.Regexp) ([]lit, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []lit{{}}, true
	case syntax.OpNoMatch:
		return nil, true
	case syntax.OpBeginText:
		return []lit{{start: true}}, true
	case syntax.OpEndText:
		return []lit{{end: true}}, true
	case syntax.OpCapture:
		return expandLits(re.Sub[0])
	case syntax.OpLiteral:
		l := lit{}
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				a, ok := asciiFold(r)
				if re.Flags&syntax.FoldCase == 0 || !ok {
					return nil, true // never in ASCII text
				}
				r = a // (?i) and the Kelvin sign: k and K
			}
			c := byte(r)
			if re.Flags&syntax.FoldCase != 0 && isLetter(c) {
				l.b, l.fold = append(l.b, lower(c)), append(l.fold, true)
				continue
			}
			l.b, l.fold = append(l.b, c), append(l.fold, false)
		}
		return []lit{l}, true
	case syntax.OpCharClass:
		var set []byte
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				set = append(set, byte(r))
				if len(set) > 16 {
					return nil, false
				}
			}
		}
		if len(set) == 2 && isLetter(set[0]) && lower(set[0]) == lower(set[1]) && set[0] != set[1] {
			return []lit{{b: []byte{lower(set[0])}, fold: []bool{true}}}, true
		}
		out := make([]lit, 0, len(set))
		for _, c := range set {
			out = append(out, lit{b: []byte{c}, fold: []bool{false}})
		}
		return out, true
	case syntax.OpQuest:
		sub, ok := expandLits(re.Sub[0])
		if !ok || len(sub)+1 > maxLits {
			return nil, false
		}
		return append(sub, lit{}), true
	case syntax.OpAlternate:
		var out []lit
		for _, s := range re.Sub {
			sub, ok := expandLits(s)
			if !ok || len(out)+len(sub) > maxLits {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := []lit{{}}
		for _, s := range re.Sub {
			sub, ok := expandLits(s)
			if !ok || len(out)*len(sub) > maxLits {
				return nil, false
			}
			next := make([]lit, 0, len(out)*len(sub))
			for _, x := range out {
				for _, y := range sub {
					j, ok := joinLits(x, y)
					if !ok {
						return nil, false
					}
					next = append(next, j)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// joinLits is x followed by y; ok=false for an anchor inside a literal.
func joinLits(x, y lit) (lit, bool) {
	if (x.end && (len(y.b) > 0 || y.start)) || (y.start && len(x.b) > 0) {
		return lit{}, false
	}
	return lit{
		b:     append(slices.Clip(x.b), y.b...),
		fold:  append(slices.Clip(x.fold), y.fold...),
		start: x.start || y.start,
		end:   x.end || y.end,
	}, true
}

// asciiFold returns an ASCII rune in r's case-folding orbit.
func asciiFold(r rune) (rune, bool) {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return f, true
		}
	}
	return 0, false
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// at reports whether l stands in s at i.
func (l *lit) at(s string, i int) bool {
	if len(s)-i < len(l.b) {
		return false
	}
	for j, b := range l.b {
		c := s[i+j]
		if l.fold[j] {
			c = lower(c)
		}
		if c != b {
			return false
		}
	}
	return true
}

// MatchString reports whether s matches the expression.
func (m *litMatcher) MatchString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return m.re.MatchString(s)
		}
	}
	if m.always {
		return true
	}
	for _, k := range m.anchored {
		l := &m.lits[k]
		switch {
		case l.start && l.end:
			if len(s) == len(l.b) && l.at(s, 0) {
				return true
			}
		case l.start:
			if l.at(s, 0) {
				return true
			}
		default:
			if len(s) >= len(l.b) && l.at(s, len(s)-len(l.b)) {
				return true
			}
		}
	}
	for i := 0; i < len(s); i++ {
		for _, k := range m.first[s[i]] {
			if m.lits[k].at(s, i) {
				return true
			}
		}
	}
	return false
}

// prefiltered runs a regular expression that is not a set of literals
// behind one that is: a run of its top-level concatenation (`(?:awk|perl)`
// in `(?:^|/)(?:awk|perl)(?:[0-9][0-9.]*)?$`) that every match contains,
// so text without any of those literals is settled without the regexp.
type prefiltered struct {
	need *litMatcher
	re   *regexp.Regexp
}

func (p *prefiltered) MatchString(s string) bool {
	return p.need.MatchString(s) && p.re.MatchString(s)
}

// newPrefiltered returns a prefiltered matcher for re, or ok=false when no
// part of it makes a useful one.
func newPrefiltered(re *regexp.Regexp) (*prefiltered, bool) {
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil, false
	}
	p = p.Simplify()
	for p.Op == syntax.OpCapture {
		p = p.Sub[0]
	}
	subs := []*syntax.Regexp{p}
	if p.Op == syntax.OpConcat {
		subs = p.Sub
	}
	// the contiguous run of parts, free of anchors, that expands to
	// literals whose shortest is longest
	var best *syntax.Regexp
	bestLen := 0
	for i := range subs {
		for j := i + 1; j <= len(subs); j++ {
			run := &syntax.Regexp{Op: syntax.OpConcat, Sub: subs[i:j]}
			if j == i+1 {
				run = subs[i]
			}
			lits, ok := expandLits(run)
			if !ok || len(lits) == 0 {
				break
			}
			short := -1
			for _, l := range lits {
				if l.start || l.end {
					short = 0
					break
				}
				if short < 0 || len(l.b) < short {
					short = len(l.b)
				}
			}
			if short <= 0 {
				break
			}
			if short > bestLen {
				best, bestLen = run, short
			}
		}
	}
	if best == nil || bestLen < 2 {
		return nil, false
	}
	sub, err := regexp.Compile(best.String())
	if err != nil {
		return nil, false
	}
	need, ok := newLitMatcher(sub)
	if !ok {
		return nil, false
	}
	return &prefiltered{need: need, re: re}, true
}

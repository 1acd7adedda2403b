package sensor

import (
	"regexp/syntax"
	"slices"
	"strings"
)

// What a regular expression tells the kernel's open filter: literal strings
// one of which every match must begin with (a prefix of the subject when
// the regex is anchored at the start of text, else a substring) and end
// with (a suffix when it is anchored at the end). The sets are necessary
// conditions, never sufficient ones: a set containing "" says nothing and
// is reported as absent.

// regexLitLimit bounds the size of a literal set; past it the walk stops
// where it is, which keeps the set sound (shorter strings, fewer bytes
// constrained).
const regexLitLimit = 64

// regexLiterals returns the prefixes (anchored), or substrings (not
// anchored), every match of expr starts with; ok=false when none can be
// derived.
func regexLiterals(expr string) (lits []string, anchored, ok bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false, false
	}
	re = re.Simplify()
	return litsOf(re)
}

// regexSuffixes returns the strings every match of expr ends with when it
// is anchored at the end of text; ok=false otherwise or when none can be
// derived.
func regexSuffixes(expr string) ([]string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	lits, anchored, ok := litsOf(reverseRegexp(re.Simplify()))
	if !ok || !anchored {
		return nil, false
	}
	for i, s := range lits {
		lits[i] = reverseString(s)
	}
	return lits, true
}

func litsOf(re *syntax.Regexp) ([]string, bool, bool) {
	set := startLits(re)
	if len(set) == 0 || slices.Contains(set, "") {
		return nil, false, false
	}
	slices.Sort(set)
	return slices.Compact(set), anchoredStart(re), true
}

// anchoredStart reports whether every match of re begins at the start of
// the text (\A, or ^ without (?m)).
func anchoredStart(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginText:
		return true
	case syntax.OpCapture:
		return anchoredStart(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && anchoredStart(re.Sub[0])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !anchoredStart(s) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

// lit is a string some matches start with; exact when those matches are
// that string exactly.
type lit struct {
	s     string
	exact bool
}

func startLits(re *syntax.Regexp) []string {
	var out []string
	for _, l := range lits(re) {
		out = append(out, l.s)
	}
	return out
}

// lits returns strings every match of re starts with, each marked exact
// when the matches starting with it are it exactly.
func lits(re *syntax.Regexp) []lit {
	none := []lit{{"", false}}
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return none
		}
		return []lit{{string(re.Rune), true}}
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []lit{{"", true}} // zero width
	case syntax.OpCapture:
		return lits(re.Sub[0])
	case syntax.OpCharClass:
		var out []lit
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 8 || len(out) > 8 {
				return none
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, lit{string(r), true})
			}
		}
		return out
	case syntax.OpQuest:
		return append(lits(re.Sub[0]), lit{"", true})
	case syntax.OpPlus:
		return inexact(lits(re.Sub[0]))
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return inexact(lits(re.Sub[0]))
		}
	case syntax.OpAlternate:
		var out []lit
		for _, sub := range re.Sub {
			out = append(out, lits(sub)...)
		}
		if len(out) > regexLitLimit {
			return none
		}
		return out
	case syntax.OpConcat:
		acc := []lit{{"", true}}
		for _, sub := range re.Sub {
			if !slices.ContainsFunc(acc, func(l lit) bool { return l.exact }) {
				break
			}
			next := lits(sub)
			var out []lit
			for _, a := range acc {
				if !a.exact {
					out = append(out, a)
					continue
				}
				for _, b := range next {
					out = append(out, lit{a.s + b.s, b.exact})
				}
			}
			if len(out) > regexLitLimit {
				return inexact(acc) // stop here: still every match's start
			}
			acc = out
		}
		return acc
	}
	return none
}

func inexact(ls []lit) []lit {
	out := make([]lit, len(ls))
	for i, l := range ls {
		out[i] = lit{l.s, false}
	}
	return out
}

// reverseRegexp returns a regexp matching the reversed strings re matches,
// with the start and end of text swapped.
func reverseRegexp(re *syntax.Regexp) *syntax.Regexp {
	out := *re
	out.Sub = nil
	switch re.Op {
	case syntax.OpLiteral:
		out.Rune = slices.Clone(re.Rune)
		slices.Reverse(out.Rune)
	case syntax.OpBeginText:
		out.Op = syntax.OpEndText
	case syntax.OpEndText:
		out.Op = syntax.OpBeginText
	case syntax.OpBeginLine:
		out.Op = syntax.OpEndLine
	case syntax.OpEndLine:
		out.Op = syntax.OpBeginLine
	}
	for _, s := range re.Sub {
		out.Sub = append(out.Sub, reverseRegexp(s))
	}
	if re.Op == syntax.OpConcat {
		slices.Reverse(out.Sub)
	}
	return &out
}

func reverseString(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// lastName returns the file name every string of suffixes ends with when
// each holds a "/" (then the name is what follows the last one), so that a
// path ending with one of them has that name; ok=false otherwise.
func lastNames(suffixes []string) ([]string, bool) {
	var out []string
	for _, s := range suffixes {
		i := strings.LastIndexByte(s, '/')
		if i < 0 || i == len(s)-1 {
			return nil, false
		}
		out = append(out, s[i+1:])
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

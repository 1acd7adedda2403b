package rules

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// litPatterns are literal-set expressions of the shapes derived tests
// take, the shipped signatures' among them (TestLiteralMatcherShipped).
var litPatterns = []string{
	`(?i)base64|b64|xxd|openssl|uudecode|basenc|gunzip|zcat|gzip|bzip2|xz|decode|hex|zlib|rot13|gzinflate`,
	`/dev/(tcp|udp)/|mkfifo|mknod|(?i)socket|fsockopen|net\.connect`,
	`(?i)stratum|--(donate-level|randomx|cpu-max-threads-hint|coin|algo)`,
	`(?i)stratum[0-9]?\+(tcp|ssl|tls)://`,
	`^--(donate-level|randomx-mode|randomx-1gb-pages|cpu-max-threads-hint|coin|algo=(rx|cn|kawpow|ethash))`,
	`^(?:[0]|[Pp][Ee][Rr][Mm][Ii\x{130}][Ss][Ss][Ii\x{130}][Vv][Ee])$`,
	`^(?:[Kk\x{212a}][Aa][Ww][Pp]|[Xx][Mm][Rr][\x{2d}][Ss])$`,
	`\.(key|pem)$`,
	`^LD_(PRELOAD|AUDIT)=`,
	`(?:^|/)(?:ld|sh)$`,
	`(?i)\x{212a}it|ſh`,
	`curl|wget|fetch|lwp-download`,
	`^$`,
	`a?`,
	`(?i)Ab|aB`,
	`x$|^y`,
}

// prefilterPatterns are not sets of literals but contain one.
var prefilterPatterns = []string{
	`(?:^|/)(?:awk|busybox|gawk|lua|perl|php|php-cgi|python|python3|ruby)(?:[0-9][0-9.]*)?$`,
	`(?:^|/)(?:ld)[^/]*$`,
	`(?i)stratum[0-9]*\+(tcp|ssl|tls)://`,
	`^/(?:root|home/[^/]+)/(?:\.bash_login|\.bashrc|\.ssh/authorized_keys)$`,
	`x+(?i)ab`,
}

// litInputs are texts to try each pattern on: the patterns' own pieces,
// cut, cased and combined, and some non-ASCII text.
func litInputs(r *rand.Rand) []string {
	pieces := []string{"", "base64", "BASE64", "-d", "stratum+tcp://", "STRATUM1+SSL://x", "--coin", "--algo=rx", "--Coin",
		"permissive", "PERMISSIVE", "0", "00", "kawp", "KAWP", "\u212aawp", "xmr-s", "a.key", "a.pem.bak", "LD_PRELOAD=/x", "ld_preload=",
		"/usr/bin/ld", "sh", "/bin/sh", "kit", "KIT", "sh", "SH", "\u017fh", "curl", "Curl", "/dev/tcp/1.2.3.4/80", "/DEV/TCP/", "SOCKET", "mkfifo", "MKFIFO",
		"é", "net.connect", "netxconnect", "ab", "AB", "Ab", "x", "y", "yx", "xy", "a", "hex", "h\u00e9x",
		"/usr/bin/python3.11", "perl5", "/ld-linux.so", "ld", "/root/", "/home/u/", ".bashrc", ".ssh/authorized_keys", "stratum12+tls://", "xxAB"}
	out := slices.Clone(pieces)
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(3) {
			p := pieces[r.IntN(len(pieces))]
			switch r.IntN(4) {
			case 0:
				p = strings.ToUpper(p)
			case 1:
				if len(p) > 0 {
					p = p[r.IntN(len(p)):]
				}
			}
			b.WriteString(p)
		}
		out = append(out, b.String())
	}
	return out
}

func checkLit(t *testing.T, pattern string, inputs []string) bool {
	t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("%s: %v", pattern, err)
	}
	var m stringMatcher
	if lm, ok := newLitMatcher(re); ok {
		m = lm
	} else if pf, ok := newPrefiltered(re); ok {
		m = pf
	} else {
		return false
	}
	for _, s := range inputs {
		if got, want := m.MatchString(s), re.MatchString(s); got != want {
			t.Errorf("%s on %q: literal matcher %v, regexp %v", pattern, s, got, want)
		}
	}
	return true
}

func TestLiteralMatcherAgreesWithRegexp(t *testing.T) {
	inputs := litInputs(rand.New(rand.NewPCG(3, 4)))
	for _, p := range litPatterns {
		if !checkLit(t, p, inputs) {
			t.Errorf("%s: not taken as a set of literals", p)
		}
	}
	// not literal sets: the regexp keeps them
	for _, p := range []string{`a*`, `^/(?:root|home/[^/]+)/(.+)$`, `(?m)^a`, `.`, `[a-z]x`} {
		if _, ok := newLitMatcher(regexp.MustCompile(p)); ok {
			t.Errorf("%s taken as a set of literals", p)
		}
	}
	// a literal part every match contains: the regexp behind a prefilter
	for _, p := range prefilterPatterns {
		if _, ok := newPrefiltered(regexp.MustCompile(p)); !ok {
			t.Errorf("%s: no prefilter", p)
		}
		checkLit(t, p, inputs)
	}
}

// TestLiteralMatcherShipped: the derived regex tests of the shipped
// signatures that are literal sets agree with regexp on the captured
// corpus's strings.
func TestLiteralMatcherShipped(t *testing.T) {
	set, err := Load(LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	inputs := litInputs(rand.New(rand.NewPCG(5, 6)))
	n := 0
	for _, c := range set.Interest().Events {
		for _, conj := range c.Any {
			for _, tt := range conj {
				if tt.Op != event.OpRegex {
					continue
				}
				for _, p := range tt.Strings {
					if checkLit(t, p, inputs) {
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no shipped regex test is a set of literals")
	}
}

// FuzzLiteralMatcher: on any pattern that is a set of literals (or has a
// literal part for a prefilter) and any
// text, the literal matcher says what regexp says.
func FuzzLiteralMatcher(f *testing.F) {
	for i, p := range append(slices.Clone(litPatterns), prefilterPatterns...) {
		f.Add(p, []string{"base64", "x", "--coin", "\u212aawp", "a.key"}[i%5])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		var m stringMatcher
		if lm, ok := newLitMatcher(re); ok {
			m = lm
		} else if pf, ok := newPrefiltered(re); ok {
			m = pf
		} else {
			return
		}
		if got, want := m.MatchString(s), re.MatchString(s); got != want {
			t.Errorf("%q on %q: literal matcher %v, regexp %v", pattern, s, got, want)
		}
	})
}

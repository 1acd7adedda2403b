package verdict

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Test is one go test (or subtest) seen in the log.
type Test struct {
	Binary string   // test binary, e.g. "sensor.test"
	Name   string   // e.g. "TestProbes/fentry/security_file_open"
	Result string   // "PASS", "FAIL", "SKIP", or "" when it never finished
	Output []string // lines it logged
}

// Log is what was read from a serial console log.
type Log struct {
	Release     string  // kernel release that /init reported
	BootSeconds float64 // kernel uptime when /init started; -1 if it never did
	DoneSeconds float64 // kernel uptime when /init finished; -1 if it never did
	Verdict     string  // "PASS", "FAIL ..." or "" (no verdict line)
	Tests       []*Test // in order of first appearance
	Panics      []string
	Trouble     []string // kernel trouble lines
	Lines       []string // the whole log, \r removed
}

var (
	reRun     = regexp.MustCompile(`^=== (?:RUN|NAME|CONT|PAUSE)\s+(\S+)`)
	reResult  = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+)`)
	reInit    = regexp.MustCompile(`^vmtest: init started: kernel (\S+) uptime ([0-9.]+)s`)
	reDone    = regexp.MustCompile(`^vmtest: finished at uptime ([0-9.]+)s`)
	reBinary  = regexp.MustCompile(`^vmtest: RUN (\S+)`)
	reVerdict = regexp.MustCompile(`^vmtest: VERDICT (.*)$`)
	// Kernel messages that mean the run cannot be trusted, even if the
	// tests said PASS. The kernel prefixes them with a [timestamp].
	reTrouble = regexp.MustCompile(`Kernel panic|BUG: |Oops: |WARNING: CPU: |soft lockup|hard LOCKUP|self-detected stall|rcu_.*detected stalls|general protection fault|blocked for more than \d+ seconds|double fault|Unable to handle kernel`)
)

// Parse reads a serial console log.
func Parse(raw []byte) *Log {
	l := &Log{BootSeconds: -1, DoneSeconds: -1}
	text := strings.ReplaceAll(string(raw), "\r", "")
	l.Lines = strings.Split(strings.TrimRight(text, "\n"), "\n")

	byName := map[string]*Test{}
	binary := ""
	var cur *Test
	get := func(name string) *Test {
		key := binary + "\x00" + name
		t := byName[key]
		if t == nil {
			t = &Test{Binary: binary, Name: name}
			byName[key] = t
			l.Tests = append(l.Tests, t)
		}
		return t
	}
	inPanic := false
	for _, line := range l.Lines {
		if reTrouble.MatchString(line) {
			l.Trouble = append(l.Trouble, strings.TrimSpace(line))
		}
		switch {
		case strings.HasPrefix(line, "vmtest: "):
			inPanic = false
			if m := reInit.FindStringSubmatch(line); m != nil {
				l.Release = m[1]
				l.BootSeconds, _ = strconv.ParseFloat(m[2], 64)
			} else if m := reDone.FindStringSubmatch(line); m != nil {
				l.DoneSeconds, _ = strconv.ParseFloat(m[1], 64)
			} else if m := reBinary.FindStringSubmatch(line); m != nil {
				binary, cur = m[1], nil
			} else if m := reVerdict.FindStringSubmatch(line); m != nil {
				l.Verdict = strings.TrimSpace(m[1])
			}
		case reRun.MatchString(line):
			cur = get(reRun.FindStringSubmatch(line)[1])
		case reResult.MatchString(line):
			m := reResult.FindStringSubmatch(line)
			cur = get(m[2])
			cur.Result = m[1]
		case strings.HasPrefix(line, "panic: "):
			// A panicking test or a test binary timeout: keep the panic
			// line and what follows (it names the running tests).
			inPanic = true
			l.Panics = append(l.Panics, binary+": "+line)
			if cur != nil {
				cur.Output = append(cur.Output, line)
			}
		case inPanic:
			// The panic message and, for a timeout, the running tests
			// come before the first blank line; goroutine dumps after.
			if strings.TrimSpace(line) == "" {
				inPanic = false
			} else if len(l.Panics) > 0 {
				l.Panics[len(l.Panics)-1] += "\n" + line
			}
		case cur != nil && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")):
			cur.Output = append(cur.Output, strings.TrimSpace(line))
		}
	}
	return l
}

// Failed returns the failing tests that have no failing subtest (the ones
// whose output says what went wrong), in log order.
func (l *Log) Failed() []*Test {
	parent := map[string]bool{}
	for _, t := range l.Tests {
		if t.Result == "FAIL" {
			for i := strings.LastIndexByte(t.Name, '/'); i > 0; i = strings.LastIndexByte(t.Name[:i], '/') {
				parent[t.Binary+"\x00"+t.Name[:i]] = true
			}
		}
	}
	var out []*Test
	for _, t := range l.Tests {
		if t.Result == "FAIL" && !parent[t.Binary+"\x00"+t.Name] {
			out = append(out, t)
		}
	}
	return out
}

// Count returns how many tests ended with result ("PASS", "FAIL", "SKIP").
func (l *Log) Count(result string) int {
	n := 0
	for _, t := range l.Tests {
		if t.Result == result {
			n++
		}
	}
	return n
}

// Run describes how qemu ended.
type Run struct {
	Status   int  // qemu's exit status
	TimedOut bool // killed by the host's timeout
	Timeout  int  // seconds
}

// Decide returns the reasons the kernel failed; none means it passed.
func (l *Log) Decide(r Run) []string {
	var why []string
	switch {
	case r.TimedOut:
		why = append(why, fmt.Sprintf("qemu killed after the %ds timeout", r.Timeout))
	case r.Status == 1:
	case r.Status == 3:
		why = append(why, "the guest reported failing tests (qemu exit status 3)")
	case r.Status == 5:
		why = append(why, "the guest found no test binaries (qemu exit status 5)")
	case r.Status == 0:
		why = append(why, "qemu exited 0: the guest powered off or rebooted without reporting a verdict (panic?)")
	default:
		why = append(why, fmt.Sprintf("qemu exited with status %d", r.Status))
	}
	if l.BootSeconds < 0 {
		why = append(why, "the kernel never started /init")
	}
	if l.Verdict == "" && l.BootSeconds >= 0 {
		why = append(why, "no verdict line from /init")
	} else if l.Verdict != "" && l.Verdict != "PASS" {
		why = append(why, "verdict: "+l.Verdict)
	}
	if n := len(l.Failed()); n > 0 && l.Verdict == "PASS" {
		why = append(why, fmt.Sprintf("%d test(s) printed FAIL although the verdict was PASS", n))
	}
	if l.Verdict == "PASS" && l.Count("PASS")+l.Count("FAIL") == 0 {
		why = append(why, "no test ran (does the -test.run pattern match anything?)")
	}
	if len(l.Trouble) > 0 {
		why = append(why, fmt.Sprintf("kernel trouble: %s", l.Trouble[0]))
	}
	for _, p := range l.Panics {
		why = append(why, "test binary panicked: "+firstLine(p))
	}
	return dedupe(why)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Skipped returns "binary: name: reason" for each skipped test, sorted.
func (l *Log) Skipped() []string {
	var out []string
	for _, t := range l.Tests {
		if t.Result == "SKIP" {
			reason := ""
			if len(t.Output) > 0 {
				reason = ": " + t.Output[len(t.Output)-1]
			}
			out = append(out, t.Binary+": "+t.Name+reason)
		}
	}
	sort.Strings(out)
	return out
}

package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// loadOne loads a single signature from Rego source (with the shipped
// library) and returns it.
func loadDerived(t *testing.T, severity, events, body string) (*Set, *Signature) {
	t.Helper()
	dir := t.TempDir()
	imp := ""
	if strings.Contains(body, "lib.") {
		imp = "import data.vigil.lib\n\n"
	}
	src := `package vigil.signatures.t

` + imp + `metadata := {
	"id": "t-1", "name": "T", "version": "1.0.0", "severity": "` + severity + `",
	"description": "d", "events": ` + events + `,
}

` + body
	if err := os.WriteFile(filepath.Join(dir, "t.rego"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(LoadOptions{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := set.Lookup("t-1")
	return set, sig
}

// TestDeriveConditions checks what the analysis makes of typical rule
// shapes: each case's condition, rendered one alternative per line.
func TestDeriveConditions(t *testing.T) {
	cases := []struct {
		name, events, body string
		want               string // conditionString; "always" when not derivable
	}{
		{
			name:   "direct string tests, alternatives from a helper rule",
			events: `["security_file_open"]`,
			body: `candidate if startswith(input.args.pathname, "/etc/")
candidate if endswith(input.args.pathname, ".key")
finding contains {"p": input.args.pathname} if candidate`,
			want: "args.pathname prefix [\"/etc/\"]\nor args.pathname suffix [\".key\"]",
		},
		{
			name:   "membership in a constant set through a variable",
			events: `["sched_process_exec"]`,
			body: `names := {"nc", "ncat"}
finding contains {"p": p} if {
	p := input.args.pathname
	p in names
}`,
			want: `args.pathname eq ["nc" "ncat"]`,
		},
		{
			name:   "library basename and bit masks",
			events: `["security_file_open"]`,
			body: `finding contains {} if {
	lib.basename(input.args.pathname) == "shadow"
	lib.opens_for_writing(input.args.flags)
}`,
			want: "args.pathname eq [\"shadow\"] and args.flags bits_any 0x3\n" +
				"or args.pathname eq [\"shadow\"] and args.flags bits_any 0x240\n" +
				"or args.pathname suffix [\"/shadow\"] and args.flags bits_any 0x3\n" +
				"or args.pathname suffix [\"/shadow\"] and args.flags bits_any 0x240",
		},
		{
			name:   "all bits of a mask set",
			events: `["security_path_chmod"]`,
			body:   `finding contains {} if bits.and(input.args.mode, 1032) == 1032`,
			want:   `args.mode bits_any 0x8 and args.mode bits_any 0x400`,
		},
		{
			name:   "some bits of a mask set, the others clear",
			events: `["security_path_chmod"]`,
			body:   `finding contains {} if bits.and(input.args.mode, 1033) == 1024`,
			want:   `args.mode bits_any 0x400 and args.mode bits_none 0x9`,
		},
		{
			name:   "object.get with a default the test rejects",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if startswith(object.get(input.process, "exe", ""), "/tmp/")`,
			want:   `process.exe prefix ["/tmp/"]`,
		},
		{
			name:   "object.get with a default the test accepts says nothing",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if object.get(input, "return_value", 0) >= 0`,
			want:   "always",
		},
		{
			name:   "negation constrains nothing",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if not startswith(input.args.pathname, "/usr/")`,
			want:   "always",
		},
		{
			name:   "a test's outcome used as a value is no condition",
			events: `["sched_process_exec"]`,
			body:   `finding contains {"ok": input.return_value == 0} if input.args.memfd == true`,
			want:   `args.memfd eq true`,
		},
		{
			name:   "count of a partial set",
			events: `["sched_process_exec"]`,
			body: `reasons contains "a" if input.args.memfd == true
reasons contains "b" if startswith(input.args.pathname, "/dev/shm/")
finding contains {} if count(reasons) > 0`,
			want: "args.memfd eq true\nor args.pathname prefix [\"/dev/shm/\"]",
		},
		{
			name:   "contradictory alternatives are dropped",
			events: `["sched_process_exec"]`,
			body: `finding contains {} if {
	input.args.pathname == "/bin/sh"
	startswith(input.args.pathname, "/usr/")
}`,
			want: "never",
		},
		{
			name:   "regex on the joined argv is a regex on some element",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if regex.match("mkfifo|/dev/tcp/", concat(" ", input.args.argv))`,
			want:   `args.argv.[] regex ["mkfifo|/dev/tcp/"]`,
		},
		{
			name:   "a regex that can span elements of the joined argv says nothing",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if regex.match("sh -c", concat(" ", input.args.argv))`,
			want:   "always",
		},
		{
			name:   "a rule in the finding's object must be defined; an ELF header read through hex digits is a base64 prefix",
			events: `["magic_write"]`,
			body: `dropped := "elf" if startswith(hex.encode(base64.decode(lib.arg("bytes", ""))), "7f454c46")
finding contains {"d": dropped} if true`,
			want: `args.bytes prefix ["f0VMR"]`,
		},
		{
			name:   "is_number: the field is there and a number",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if is_number(lib.arg("written_ns_ago", null))`,
			want:   "args.written_ns_ago ge [0]\nor args.written_ns_ago lt [0]",
		},
		{
			name:   "count(field) == 0 and field == null: the field is empty",
			events: `["execve"]`,
			body: `finding contains {} if count(object.get(input.args, "argv", "absent")) == 0
finding contains {} if object.get(input.args, "envp", "absent") == null`,
			want: "args.argv empty\nor args.envp empty",
		},
		{
			name:   "trim and a regex cutting a suffix leave a substring: equality becomes contains",
			events: `["sched_process_exec"]`,
			body: `base(n) := regex.replace(trim(n, "[]"), "[/:].*$", "")
finding contains {} if base(lib.basename(input.args.pathname)) in {"kworker", "sshd"}`,
			want: `args.pathname contains ["kworker" "sshd"]`,
		},
		{
			name:   "field-to-field equality, a default on one side",
			events: `["security_inode_unlink"]`,
			body: `path := input.args.pathname
finding contains {} if path == object.get(input.process, "exe", "")`,
			want: "args.pathname eq_field [\"process.exe\"]\nor args.pathname eq [\"\"]",
		},
		{
			name:   "field-to-field equality through iteration and a partial set",
			events: `["security_inode_unlink"]`,
			body: `path := input.args.pathname
by contains "self" if path == input.process.exe
by contains "ancestor" if {
	some a in object.get(input.process, "ancestors", [])
	path == object.get(a, "exe", "")
}
finding contains {} if count(by) > 0`,
			want: "args.pathname eq_field [\"process.exe\"]\nor args.pathname eq_field [\"process.ancestors.[].exe\"]\nor args.pathname eq [\"\"]",
		},
		{
			name:   "a DNS name lowered and cut under domains: the field holds a piece that lowers to one",
			events: `["net_packet_dns"]`,
			body:   `finding contains {} if lib.dns_under(input.args.qname, {"ab.io"})`,
			want: `args.qname regex ["(?:[Aa][Bb][\\x{2e}][Ii\\x{130}][Oo])"]` + "\n" +
				`or args.qname regex ["(?:[\\x{2e}][Aa][Bb][\\x{2e}][Ii\\x{130}][Oo])"]`,
		},
		{
			name:   "bits of a mask all set: one test per bit",
			events: `["security_path_chmod"]`,
			body:   `finding contains {} if bits.and(input.args.mode, 3) == 3`,
			want:   "args.mode bits_any 0x1 and args.mode bits_any 0x2",
		},
		{
			name:   "negated membership and integer inequality",
			events: `["switch_task_namespaces"]`,
			body: `finding contains {} if {
	not input.args.syscall in {"setns", "unshare"}
	input.args.target_pid != 1
}`,
			want: "args.syscall ne [\"setns\" \"unshare\"] and args.target_pid lt [1]\nor args.syscall ne [\"setns\" \"unshare\"] and args.target_pid gt [1]",
		},
		{
			name:   "a regex that does not end at the end of the text is not followed",
			events: `["sched_process_exec"]`,
			body:   `finding contains {} if regex.replace(input.args.pathname, "x", "") == "sshd"`,
			want:   "always",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, sig := loadDerived(t, "low", c.events, c.body)
			got := conditionString(sig.Derived().Condition)
			if got != c.want {
				t.Errorf("condition:\n%s\nwant:\n%s", got, c.want)
			}
			if c.want == "always" {
				if sig.FastPath() || sig.Derived().Reason == "" {
					t.Errorf("a signature without a condition must be off the fast path with a reason: fast=%v reason=%q", sig.FastPath(), sig.Derived().Reason)
				}
			}
		})
	}
}

func TestInterest(t *testing.T) {
	set, err := Load(LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	in := set.Interest()
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := in.Names(), set.Events(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("interest events %v, set events %v", got, want)
	}
	// opens: every shipped signature on opens has a condition, so the
	// interest narrows them, and credential-file-access (high) makes them
	// critical
	open := in.Events["security_file_open"]
	if open.Always || len(open.Any) == 0 || !open.Critical {
		t.Errorf("security_file_open: %+v", open)
	}
	if _, ok := open.FieldTests("args.pathname"); ok {
		// some alternative (persistence-file-write's flags only, or
		// kernel-tunable-tampering's fs_type) does not test the path:
		// then ok must be false, which FieldTests decides
		t.Log("every alternative on opens tests args.pathname")
	}
	// a name test of a signature selecting several events is resolved per
	// event: kexec_load's condition holds no test of the name
	for _, alt := range in.Events["kexec_load"].Any {
		for _, tt := range alt {
			if tt.Field == "name" {
				t.Errorf("kexec_load's interest still tests the name: %v", alt)
			}
		}
	}
	// a low-severity-only event is not critical
	_, sig := loadDerived(t, "low", `["execve"]`, `finding contains {} if input.args.pathname == "/x"`)
	if sig.Derived().Condition.Critical {
		t.Error("a low severity signature's condition is marked critical")
	}
	set2, _ := loadDerived(t, "critical", `["execve"]`, `finding contains {} if input.args.pathname == "/x"`)
	c := set2.Interest().Events["execve"]
	if !c.Critical || c.Always || len(c.Any) != 1 || len(c.Any[0]) != 1 || c.Any[0][0].String() != (event.Test{Field: "args.pathname", Op: event.OpEq, Strings: []string{"/x"}}).String() {
		t.Errorf("execve interest: %+v", c)
	}
}

// TestLowerPreimage: every string that lowers to the name matches, the
// Kelvin sign and the dotted capital I included; others do not.
func TestLowerPreimage(t *testing.T) {
	re, ok := lowerPreimage("kit")
	if !ok {
		t.Fatal("no expression for an ASCII name")
	}
	rx := regexp.MustCompile("^(?:" + re + ")$")
	for _, s := range []string{"kit", "KIT", "\u212Ait", "k\u0130t", "Kit"} {
		if strings.ToLower(s) != "kit" {
			t.Fatalf("test input %q does not lower to kit", s)
		}
		if !rx.MatchString(s) {
			t.Errorf("%q lowers to kit but does not match %s", s, re)
		}
	}
	for _, s := range []string{"kat", "kitt", "ki", "k t"} {
		if rx.MatchString(s) {
			t.Errorf("%q matches %s", s, re)
		}
	}
}

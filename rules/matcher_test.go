package rules

import (
	"context"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// matchCase is one event given to a signature loaded from source: the
// matcher must admit it whenever Rego fires (soundness), and admit it
// exactly when admit says (what the condition is for).
type matchCase struct {
	json  string
	admit bool
}

func checkMatcher(t *testing.T, set *Set, sig *Signature, cases []matchCase) {
	t.Helper()
	m := set.Matcher()
	for _, c := range cases {
		_, sigs, ok := m.MatchJSON([]byte(c.json), nil)
		if !ok {
			t.Fatalf("%s: not an event", c.json)
		}
		byJSON := slices.Contains(sigs, sig)
		ev, err := event.Unmarshal([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		in := Input(ev)
		byInput := slices.Contains(m.MatchInput(ev.Name, in, nil), sig)
		fired, err := sig.Eval(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(fired) > 0 && (!byJSON || !byInput) {
			t.Errorf("%s: Rego fires, the matcher rejects (json %v, input %v)", c.json, byJSON, byInput)
		}
		if byJSON != c.admit || byInput != c.admit {
			t.Errorf("%s: matcher admits json=%v input=%v, want %v (condition %v)", c.json, byJSON, byInput, c.admit, sig.Derived().Condition)
		}
	}
}

func TestMatcherFieldEquality(t *testing.T) {
	set, sig := loadDerived(t, "high", `["security_inode_unlink"]`, `path := input.args.pathname
by contains "self" if path == object.get(input.process, "exe", "")
by contains "ancestor" if {
	some a in object.get(input.process, "ancestors", [])
	path == object.get(a, "exe", "")
}
by contains "script" if {
	some a in array.concat([input.process], object.get(input.process, "ancestors", []))
	argv := object.get(a, "argv", [])
	argv[1] == path
}
finding contains {"by": by} if count(by) > 0`)
	if !sig.FastPath() {
		t.Fatalf("no condition derived: %s", sig.Derived().Reason)
	}
	ev := func(args, process string) string {
		return `{"name":"security_inode_unlink","args":` + args + `,"process":` + process + `}`
	}
	checkMatcher(t, set, sig, []matchCase{
		{ev(`{"pathname":"/tmp/x"}`, `{"exe":"/tmp/x"}`), true},
		{ev(`{"pathname":"/tmp/x"}`, `{"exe":"/tmp/y"}`), false},
		{ev(`{"pathname":"/tmp/x"}`, `{}`), false},
		{ev(`{"pathname":""}`, `{}`), true}, // missing exe: the default "" equals
		{ev(`{}`, `{"exe":"/tmp/x"}`), false},
		{ev(`{"pathname":"/tmp/x"}`, `{"exe":"/bin/sh","ancestors":[{"exe":"/usr/bin/a"},{"exe":"/tmp/x"}]}`), true},
		{ev(`{"pathname":"/tmp/x"}`, `{"exe":"/bin/sh","ancestors":[{"exe":"/usr/bin/a"},{"exe":"/tmp/xy"}]}`), false},
		{ev(`{"pathname":"/tmp/x.sh"}`, `{"exe":"/bin/sh","argv":["sh","/tmp/x.sh"]}`), true},
		{ev(`{"pathname":"/tmp/x.sh"}`, `{"exe":"/bin/sh","argv":["/tmp/x.sh"]}`), false},
		{ev(`{"pathname":"/tmp/x.sh"}`, `{"exe":"/bin/sh","ancestors":[{"argv":["bash","/tmp/x.sh"]}]}`), true},
		{ev(`{"pathname":"/tmp/\u00e9"}`, `{"exe":"/tmp/\u00e9"}`), true}, // escapes read as decoded
		{ev(`{"pathname":"/tmp/x"}`, `{"exe":"/tmp/X"}`), false},
	})
}

func TestMatcherNegations(t *testing.T) {
	set, sig := loadDerived(t, "high", `["switch_task_namespaces"]`, `skip := {"setns", "unshare"}
finding contains {} if {
	not object.get(input.args, "syscall", "") in skip
	input.args.target_pid != 0
}`)
	if !sig.FastPath() {
		t.Fatalf("no condition derived: %s", sig.Derived().Reason)
	}
	ev := func(args string) string { return `{"name":"switch_task_namespaces","args":` + args + `}` }
	checkMatcher(t, set, sig, []matchCase{
		{ev(`{"syscall":"setns","target_pid":5}`), false},
		{ev(`{"syscall":"unshare","target_pid":5}`), false},
		{ev(`{"syscall":"ioctl","target_pid":5}`), true},
		{ev(`{"target_pid":5}`), true}, // missing: not in the set
		{ev(`{"syscall":"ioctl","target_pid":0}`), false},
		{ev(`{"syscall":"ioctl"}`), false}, // != needs the field
	})
}

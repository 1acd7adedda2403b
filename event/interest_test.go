package event

import "testing"

func TestInterestFieldTests(t *testing.T) {
	open := Condition{Any: []Conjunction{
		{{Field: "args.pathname", Op: OpPrefix, Strings: []string{"/etc/"}}, {Field: "args.flags", Op: OpBitsAny, Mask: 3}},
		{{Field: "args.pathname", Op: OpEq, Strings: []string{"/root/.ssh/authorized_keys"}}},
	}}
	alts, ok := open.FieldTests("args.pathname")
	if !ok || len(alts) != 2 {
		t.Fatalf("FieldTests(pathname) = %v, %v; want two alternatives", alts, ok)
	}
	if _, ok := open.FieldTests("args.flags"); ok {
		t.Fatal("FieldTests(flags) narrowed although one alternative does not test flags")
	}
	widened := open.Or(Condition{Always: true, Critical: true})
	if !widened.Always || !widened.Critical {
		t.Fatalf("Or with Always = %+v, want Always and Critical", widened)
	}
	if _, ok := widened.FieldTests("args.pathname"); ok {
		t.Fatal("FieldTests narrowed an Always condition")
	}
}

func TestInterestMergeAndValidate(t *testing.T) {
	a := Interest{Events: map[string]Condition{"security_file_open": {Any: []Conjunction{{{Field: "args.pathname", Op: OpPrefix, Strings: []string{"/etc/"}}}}}}}
	b := Interest{Events: map[string]Condition{
		"security_file_open": {Any: []Conjunction{{{Field: "args.pathname", Op: OpSuffix, Strings: []string{".so"}}}}},
		"init_module":        {Always: true, Critical: true},
	}}
	m := a.Merge(b)
	if got := m.Names(); len(got) != 2 || got[0] != "init_module" || got[1] != "security_file_open" {
		t.Fatalf("Merge names = %v", got)
	}
	if n := len(m.Events["security_file_open"].Any); n != 2 {
		t.Fatalf("merged open has %d alternatives, want 2", n)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	bad := Interest{Events: map[string]Condition{"no_such_event": {Always: true}}}
	if err := bad.Validate(); err == nil {
		t.Fatal("Validate accepted an unknown event")
	}
	badTest := Interest{Events: map[string]Condition{"init_module": {Any: []Conjunction{{{Field: "args.len", Op: OpGT}}}}}}
	if err := badTest.Validate(); err == nil {
		t.Fatal("Validate accepted gt without a value")
	}
}

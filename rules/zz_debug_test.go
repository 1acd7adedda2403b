package rules

import (
	"fmt"
	"testing"
)

func TestZZDebugPlan(t *testing.T) {
	set, err := Load(LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	m := set.Matcher()
	for name, em := range m.events {
		fmt.Printf("%s: sigs=%d atoms=%d groups=%d paths=%d\n", name, len(em.sigs), em.atoms, len(em.groups), em.paths)
		for _, g := range em.groups {
			fmt.Printf("   %v atoms=%d eqField=%v ne=%v\n", pathString(g.path), len(g.atomIDs), g.eqField != nil, g.ne != nil)
		}
		for _, r := range em.plan.top {
			fmt.Printf("   plan %s:", r.sg.key)
			for _, x := range r.sub {
				fmt.Printf(" %s", x.sg.key)
			}
			fmt.Println()
		}
	}
}

func pathString(p []seg) string {
	s := ""
	for _, x := range p {
		switch x.kind {
		case segKey:
			s += "." + x.key
		case segAny:
			s += ".[]"
		default:
			s += fmt.Sprintf(".[%d]", x.index)
		}
	}
	return s
}

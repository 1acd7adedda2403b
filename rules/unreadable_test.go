package rules

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// The arguments the sensor could not read reach Rego as input.unreadable,
// and are absent from input.args; an event with none has no such key.
func TestInputUnreadable(t *testing.T) {
	ev := &event.Event{Name: "execve", Args: map[string]any{}, Unreadable: []string{"pathname", "argv"}}
	obj := Input(ev).(ast.Object)
	got := obj.Get(ast.StringTerm("unreadable"))
	if got == nil || !got.Equal(ast.ArrayTerm(ast.StringTerm("pathname"), ast.StringTerm("argv"))) {
		t.Errorf("input.unreadable = %v, want [\"pathname\", \"argv\"]", got)
	}
	if args := obj.Get(ast.StringTerm("args")).Value.(ast.Object); args.Len() != 0 {
		t.Errorf("input.args = %v, want {}", args)
	}
	ev.Unreadable = nil
	if got := Input(ev).(ast.Object).Get(ast.StringTerm("unreadable")); got != nil {
		t.Errorf("input.unreadable present without unreadable arguments: %v", got)
	}
}

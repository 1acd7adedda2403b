package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// TestSchemaAcceptsEveryField refers to every field of a fully populated
// event's JSON form, and to every argument of every event, from a
// signature: all must type check. When event.Event grows a field, the
// schema follows by itself; this test proves it.
func TestSchemaAcceptsEveryField(t *testing.T) {
	start := time.Now()
	ev := &event.Event{
		Name: "x", ID: 1, Time: time.Now(), Host: "h", Probe: "p", ReturnValue: -1,
		Process: event.Process{
			Pid: 1, Tid: 1, Ppid: 1, HostPid: 1, HostTid: 1, HostPpid: 1, UID: 1, GID: 1, EUID: 1, EGID: 1,
			Comm: "c", Exe: "e", Argv: []string{"a"}, CgroupID: 1, ContainerID: "c", MntNS: 1, PidNS: 1,
			StartTime: &start, Ancestors: []event.Ancestor{{Pid: 1, HostPid: 1, Comm: "c", Exe: "e", Argv: []string{"a"}, UID: 1}},
		},
	}
	data, _ := json.Marshal(ev)
	var doc map[string]any
	json.Unmarshal(data, &doc)
	var refs []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(prefix+"."+k, e)
			}
		case []any:
			walk(prefix+"[0]", x[0])
		default:
			refs = append(refs, prefix)
		}
	}
	delete(doc, "args")
	walk("input", doc)
	for _, spec := range event.All() {
		for _, a := range spec.Args {
			refs = append(refs, "input.args."+a.Name)
		}
	}
	sort.Strings(refs)
	var body strings.Builder
	body.WriteString("finding contains {\n")
	for i, r := range refs {
		fmt.Fprintf(&body, "\t\"f%d\": %s,\n", i, r)
	}
	body.WriteString("} if true\n")
	dir := writeFiles(t, map[string]string{"all.rego": sigWithBody(body.String())})
	if probs := Validate(dir); probs != nil {
		t.Fatalf("%d refs; problems: %v", len(refs), probs)
	}
	if len(refs) < 40 {
		t.Fatalf("only %d refs: the walk missed fields", len(refs))
	}
}

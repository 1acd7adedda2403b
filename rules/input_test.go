package rules

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// viaJSON is the Rego input the slow way: the event's JSON form decoded
// into a value. Input must build exactly this (args aside, see below).
func viaJSON(t *testing.T, ev *event.Event) ast.Value {
	t.Helper()
	data, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Numbers stay exact (as OPA's own JSON decoding keeps them).
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatal(err)
	}
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestInputMatchesJSONForm(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	full := &event.Event{
		Name: "sched_process_exec", ID: event.IDSchedProcessExec,
		Time: time.Date(2025, 3, 2, 10, 15, 4, 123456789, time.UTC), Host: "web-1", Probe: "tp_btf/sched_process_exec",
		Process: event.Process{
			Pid: 7, Tid: 8, Ppid: 1, HostPid: 70007, HostTid: 70008, HostPpid: 69000,
			UID: 1000, GID: 1000, EUID: 0, EGID: 1000, Comm: "bash", Exe: "/usr/bin/bash",
			Argv: []string{"bash", "-c", "id"}, CgroupID: math.MaxUint64, ContainerID: "0123abcd",
			MntNS: 4026531841, PidNS: 4026531836, StartTime: &start,
			Ancestors: []event.Ancestor{
				{Pid: 1, HostPid: 69000, Comm: "containerd-shim", Exe: "/usr/bin/containerd-shim-runc-v2", Argv: []string{"shim"}, UID: 0},
				{Pid: 0, HostPid: 1, Comm: "systemd"},
			},
		},
		ReturnValue: -13,
		Args: map[string]any{
			"pathname": "/usr/bin/id", "argv": []string{"id", "-u"}, "empty": []string{},
			"inode": uint64(math.MaxUint64), "dev": uint64(2049), "neg": int64(math.MinInt64),
			"small": int64(-1), "memfd": false, "deleted": true,
			"blob": []byte{0, 1, 2, 0xff}, "nilbytes": []byte(nil),
			// what JSON decoding leaves for events the table does not know:
			"num": json.Number("12.5"), "float": 0.25, "list": []any{"a", json.Number("1"), true, nil},
			"obj": map[string]any{"k": []any{map[string]any{"x": "y"}}}, "nothing": nil,
			"int": 42, "i32": int32(-5), "u32": uint32(7),
			// a type no decoder produces goes through its JSON form
			"odd": struct {
				A int `json:"a"`
			}{A: 1},
		},
	}
	minimal := &event.Event{Name: "mystery", Args: map[string]any{}}

	for name, ev := range map[string]*event.Event{"full": full, "minimal": minimal} {
		got, want := Input(ev), viaJSON(t, ev)
		if got.Compare(want) != 0 {
			t.Errorf("%s:\n got  %v\n want %v", name, got, want)
		}
	}

	// nil args: JSON says null, Rego input says {} so rules can index it.
	noArgs := &event.Event{Name: "sched_process_fork"}
	in := Input(noArgs).(ast.Object)
	if args := in.Get(ast.StringTerm("args")); args == nil || args.Value.Compare(ast.NewObject()) != 0 {
		t.Errorf("args of an event without args = %v, want {}", args)
	}
}

// TestInputOfDecodedEvents checks the path replay and the engine take:
// JSON -> event.Unmarshal (normalised types) -> Input.
func TestInputOfDecodedEvents(t *testing.T) {
	lines := []string{
		`{"name":"commit_creds","time":"2025-03-02T11:00:00.5Z","host":"h","process":{"pid":1,"tid":1,"ppid":0,"host_pid":1,"host_tid":1,"host_ppid":0,"uid":1000,"gid":1000,"euid":0,"egid":1000,"comm":"x","cgroup_id":1,"mnt_ns":1,"pid_ns":1},"return_value":0,"args":{"old_uid":1000,"new_uid":0,"new_cap_effective":18446744073709551615,"syscall":"setuid"}}`,
		`{"name":"not_in_table","time":"2025-03-02T11:00:00Z","host":"h","process":{"pid":1,"comm":"x"},"return_value":0,"args":{"n":1.5,"l":[1,"a"],"o":{"p":null}}}`,
	}
	for _, line := range lines {
		ev, err := event.Unmarshal([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Input(ev), viaJSON(t, ev); got.Compare(want) != 0 {
			t.Errorf("%s:\n got  %v\n want %v", ev.Name, got, want)
		}
	}
}

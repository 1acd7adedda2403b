package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one thing the kernel did, with the context of the process that did it.
//
// Its JSON form is the contract with rule authors (input in Rego), with NATS
// consumers and with capture files; change it only compatibly.
type Event struct {
	// Name is the event's name from the table (Spec.Name), e.g. "execve".
	Name string `json:"name"`
	// ID is the event's stable numeric id (Spec.ID); never reused.
	ID ID `json:"id"`
	// Time is when the kernel produced the event, wall clock, nanosecond precision.
	Time time.Time `json:"time"`
	// Host is the name of the host the sensor runs on.
	Host string `json:"host"`
	// Probe names the kernel hook that produced the record, e.g. "tp_btf/sched_process_exec".
	Probe string `json:"probe,omitempty"`
	// Process is the context of the task that caused the event.
	Process Process `json:"process"`
	// ReturnValue is the syscall or hook return value where there is one (else 0).
	ReturnValue int64 `json:"return_value"`
	// Args holds the event's arguments keyed by argument name (see Spec.Args).
	// Values are int64, uint64, string, bool, []string or []byte when decoded
	// from the kernel or from JSON with a known event name. A sensor that
	// lists the arguments (sensor.Config.LazyArgs) leaves it nil: ArgsMap
	// builds it.
	Args map[string]any `json:"args"`
	// Unreadable names the arguments the sensor could not read (a caller's
	// string in a page not yet faulted in, a bad pointer). They are absent
	// from Args: unknown, never "" or []. Empty for most events.
	Unreadable []string `json:"unreadable,omitempty"`
	// list, when it has values, holds the arguments instead of Args until ArgsMap
	// builds it (ListArgs; not part of the JSON form, which it encodes
	// the same).
	list ArgList
}

// Process is the process context of an event: who did it.
//
// Pid, Tid and Ppid are as seen from the task's own pid namespace; the Host*
// fields are as seen from the initial namespace (the host).
type Process struct {
	Pid         uint32     `json:"pid"`
	Tid         uint32     `json:"tid"`
	Ppid        uint32     `json:"ppid"`
	HostPid     uint32     `json:"host_pid"`
	HostTid     uint32     `json:"host_tid"`
	HostPpid    uint32     `json:"host_ppid"`
	UID         uint32     `json:"uid"`
	GID         uint32     `json:"gid"`
	EUID        uint32     `json:"euid"`
	EGID        uint32     `json:"egid"`
	Comm        string     `json:"comm"`
	Exe         string     `json:"exe,omitempty"`
	Argv        []string   `json:"argv,omitempty"`
	CgroupID    uint64     `json:"cgroup_id"`
	ContainerID string     `json:"container_id,omitempty"`
	MntNS       uint32     `json:"mnt_ns"`
	PidNS       uint32     `json:"pid_ns"`
	StartTime   *time.Time `json:"start_time,omitempty"`
	// Ancestors lists the parent, grandparent, ... up to the init of the task's
	// pid namespace (nearest first), as far as the process table knows them.
	Ancestors []Ancestor `json:"ancestors,omitempty"`
	// Ctx is the key of the process context (every field but Tid and
	// HostTid) when the event came from a sensor that sends contexts by
	// reference: a lean event has only Tid, HostTid and Ctx until a
	// ContextTable resolves it (see ContextEncoder).
	Ctx string `json:"ctx,omitempty"`
	// shared, when Ancestors is its list, has their JSON encoded once
	// (ShareAncestors; the encoder's, not part of the JSON form).
	shared *SharedAncestors
}

// Ancestor is one process up the parent chain of an event's process.
type Ancestor struct {
	Pid     uint32   `json:"pid"`
	HostPid uint32   `json:"host_pid"`
	Comm    string   `json:"comm"`
	Exe     string   `json:"exe,omitempty"`
	Argv    []string `json:"argv,omitempty"`
	UID     uint32   `json:"uid"`
}

// Marshal returns the event's JSON form, one line without a trailing newline
// (AppendJSON: the bytes json.Marshal gives, without reflection).
func (e *Event) Marshal() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 2048))
}

// Unmarshal parses one event in its JSON form. Arguments of a known event are
// normalised to their table types (see Normalize), so an event read back from
// a capture file compares equal to the one that was written.
func Unmarshal(data []byte) (*Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var e Event
	if err := dec.Decode(&e); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the event object")
	}
	if e.Name == "" {
		return nil, fmt.Errorf("event has no name")
	}
	if err := e.Normalize(); err != nil {
		return nil, err
	}
	return &e, nil
}

// Normalize converts the argument values of a known event to their table types
// (json.Number to int64 or uint64, []any of strings to []string, ...). Unknown
// events and unknown arguments are left as they are.
func (e *Event) Normalize() error {
	spec, ok := Lookup(e.Name)
	if !ok {
		return nil
	}
	if e.ID == 0 {
		e.ID = spec.ID
	}
	for i := range spec.Args {
		a := &spec.Args[i]
		v, ok := e.Args[a.Name]
		if !ok {
			continue
		}
		nv, err := a.Type.normalize(v)
		if err != nil {
			return fmt.Errorf("argument %q of %s: %w", a.Name, e.Name, err)
		}
		e.Args[a.Name] = nv
	}
	return nil
}

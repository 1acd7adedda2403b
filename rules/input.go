package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// Keys of the input document, built once: every event reuses them.
var (
	kName        = ast.StringTerm("name")
	kID          = ast.StringTerm("id")
	kTime        = ast.StringTerm("time")
	kHost        = ast.StringTerm("host")
	kProbe       = ast.StringTerm("probe")
	kProcess     = ast.StringTerm("process")
	kReturnValue = ast.StringTerm("return_value")
	kArgs        = ast.StringTerm("args")
	kUnreadable  = ast.StringTerm("unreadable")

	kPid         = ast.StringTerm("pid")
	kTid         = ast.StringTerm("tid")
	kPpid        = ast.StringTerm("ppid")
	kHostPid     = ast.StringTerm("host_pid")
	kHostTid     = ast.StringTerm("host_tid")
	kHostPpid    = ast.StringTerm("host_ppid")
	kUID         = ast.StringTerm("uid")
	kGID         = ast.StringTerm("gid")
	kEUID        = ast.StringTerm("euid")
	kEGID        = ast.StringTerm("egid")
	kComm        = ast.StringTerm("comm")
	kExe         = ast.StringTerm("exe")
	kArgv        = ast.StringTerm("argv")
	kCgroupID    = ast.StringTerm("cgroup_id")
	kContainerID = ast.StringTerm("container_id")
	kMntNS       = ast.StringTerm("mnt_ns")
	kPidNS       = ast.StringTerm("pid_ns")
	kStartTime   = ast.StringTerm("start_time")
	kAncestors   = ast.StringTerm("ancestors")
)

// Input converts an event to the Rego input document: the event's JSON form
// (see package event), built directly as an ast.Value with no JSON round
// trip. One difference from the JSON: args is always an object, {} when the
// event has none, so rules can index it without checking.
//
// The result is a fresh value the caller owns; evaluate many signatures on
// it, do not modify it.
func Input(ev *event.Event) ast.Value {
	items := make([][2]*ast.Term, 0, 8)
	items = append(items,
		[2]*ast.Term{kName, ast.StringTerm(ev.Name)},
		[2]*ast.Term{kID, uintTerm(uint64(ev.ID))},
		[2]*ast.Term{kTime, timeTerm(ev.Time)},
		[2]*ast.Term{kHost, ast.StringTerm(ev.Host)},
	)
	if ev.Probe != "" {
		items = append(items, [2]*ast.Term{kProbe, ast.StringTerm(ev.Probe)})
	}
	items = append(items,
		[2]*ast.Term{kProcess, processTerm(&ev.Process)},
		[2]*ast.Term{kReturnValue, intTerm(ev.ReturnValue)},
		[2]*ast.Term{kArgs, argsTerm(ev.Args)},
	)
	if len(ev.Unreadable) > 0 {
		items = append(items, [2]*ast.Term{kUnreadable, stringsTerm(ev.Unreadable)})
	}
	return ast.NewObject(items...)
}

func processTerm(p *event.Process) *ast.Term {
	items := make([][2]*ast.Term, 0, 20)
	items = append(items,
		[2]*ast.Term{kPid, uintTerm(uint64(p.Pid))},
		[2]*ast.Term{kTid, uintTerm(uint64(p.Tid))},
		[2]*ast.Term{kPpid, uintTerm(uint64(p.Ppid))},
		[2]*ast.Term{kHostPid, uintTerm(uint64(p.HostPid))},
		[2]*ast.Term{kHostTid, uintTerm(uint64(p.HostTid))},
		[2]*ast.Term{kHostPpid, uintTerm(uint64(p.HostPpid))},
		[2]*ast.Term{kUID, uintTerm(uint64(p.UID))},
		[2]*ast.Term{kGID, uintTerm(uint64(p.GID))},
		[2]*ast.Term{kEUID, uintTerm(uint64(p.EUID))},
		[2]*ast.Term{kEGID, uintTerm(uint64(p.EGID))},
		[2]*ast.Term{kComm, ast.StringTerm(p.Comm)},
	)
	if p.Exe != "" {
		items = append(items, [2]*ast.Term{kExe, ast.StringTerm(p.Exe)})
	}
	if len(p.Argv) > 0 {
		items = append(items, [2]*ast.Term{kArgv, stringsTerm(p.Argv)})
	}
	items = append(items, [2]*ast.Term{kCgroupID, uintTerm(p.CgroupID)})
	if p.ContainerID != "" {
		items = append(items, [2]*ast.Term{kContainerID, ast.StringTerm(p.ContainerID)})
	}
	items = append(items,
		[2]*ast.Term{kMntNS, uintTerm(uint64(p.MntNS))},
		[2]*ast.Term{kPidNS, uintTerm(uint64(p.PidNS))},
	)
	if p.StartTime != nil {
		items = append(items, [2]*ast.Term{kStartTime, timeTerm(*p.StartTime)})
	}
	if len(p.Ancestors) > 0 {
		anc := make([]*ast.Term, len(p.Ancestors))
		for i := range p.Ancestors {
			anc[i] = ancestorTerm(&p.Ancestors[i])
		}
		items = append(items, [2]*ast.Term{kAncestors, ast.ArrayTerm(anc...)})
	}
	return ast.NewTerm(ast.NewObject(items...))
}

func ancestorTerm(a *event.Ancestor) *ast.Term {
	items := make([][2]*ast.Term, 0, 6)
	items = append(items,
		[2]*ast.Term{kPid, uintTerm(uint64(a.Pid))},
		[2]*ast.Term{kHostPid, uintTerm(uint64(a.HostPid))},
		[2]*ast.Term{kComm, ast.StringTerm(a.Comm)},
	)
	if a.Exe != "" {
		items = append(items, [2]*ast.Term{kExe, ast.StringTerm(a.Exe)})
	}
	if len(a.Argv) > 0 {
		items = append(items, [2]*ast.Term{kArgv, stringsTerm(a.Argv)})
	}
	items = append(items, [2]*ast.Term{kUID, uintTerm(uint64(a.UID))})
	return ast.NewTerm(ast.NewObject(items...))
}

func argsTerm(args map[string]any) *ast.Term {
	items := make([][2]*ast.Term, 0, len(args))
	for k, v := range args {
		items = append(items, [2]*ast.Term{ast.StringTerm(k), valueTerm(v)})
	}
	return ast.NewTerm(ast.NewObject(items...))
}

// valueTerm converts one argument value: the table types first (int64,
// uint64, string, bool, []string, []byte), then what JSON decoding leaves
// for unknown events (json.Number, float64, []any, map[string]any, nil).
// Anything else goes through its JSON form, as the event's JSON would.
func valueTerm(v any) *ast.Term {
	switch x := v.(type) {
	case nil:
		return ast.NullTerm()
	case int64:
		return intTerm(x)
	case uint64:
		return uintTerm(x)
	case string:
		return ast.StringTerm(x)
	case bool:
		return ast.InternedTerm(x)
	case []string:
		return stringsTerm(x)
	case []byte:
		if x == nil {
			return ast.NullTerm()
		}
		return ast.StringTerm(base64.StdEncoding.EncodeToString(x))
	case int:
		return intTerm(int64(x))
	case int32:
		return intTerm(int64(x))
	case uint32:
		return uintTerm(uint64(x))
	case json.Number:
		return ast.NumberTerm(x)
	case float64:
		return ast.FloatNumberTerm(x)
	case []any:
		if x == nil {
			return ast.NullTerm()
		}
		terms := make([]*ast.Term, len(x))
		for i, e := range x {
			terms[i] = valueTerm(e)
		}
		return ast.ArrayTerm(terms...)
	case map[string]any:
		if x == nil {
			return ast.NullTerm()
		}
		items := make([][2]*ast.Term, 0, len(x))
		for k, e := range x {
			items = append(items, [2]*ast.Term{ast.StringTerm(k), valueTerm(e)})
		}
		return ast.NewTerm(ast.NewObject(items...))
	}
	// Rare: a type the decoder never produces. Go through JSON so the value
	// is exactly what the event's JSON form holds; if that fails, a string
	// keeps the event evaluable rather than losing it.
	data, err := json.Marshal(v)
	if err == nil {
		if val, err := ast.ValueFromReader(bytes.NewReader(data)); err == nil {
			return ast.NewTerm(val)
		}
	}
	return ast.StringTerm(strconv.Quote(string(data)))
}

func stringsTerm(ss []string) *ast.Term {
	if ss == nil {
		return ast.NullTerm()
	}
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}

func intTerm(n int64) *ast.Term {
	if n >= -1 && n <= 512 && ast.HasInternedIntNumberTerm(int(n)) {
		return ast.InternedTerm(n)
	}
	return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10)))
}

func uintTerm(n uint64) *ast.Term {
	if n <= 512 && ast.HasInternedIntNumberTerm(int(n)) {
		return ast.InternedTerm(n)
	}
	return ast.NumberTerm(json.Number(strconv.FormatUint(n, 10)))
}

// timeTerm formats t exactly as time.Time's JSON form does (RFC 3339 with
// nanoseconds, in t's location).
func timeTerm(t time.Time) *ast.Term {
	var buf [64]byte
	return ast.StringTerm(string(t.AppendFormat(buf[:0], time.RFC3339Nano)))
}

package event

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the event's JSON form to buf: the bytes json.Marshal
// gives (fields in struct order, argument keys sorted, HTML-safe string
// escaping), written directly for the value types the sensor decodes
// instead of through reflection. Argument values of other types (an event
// read back from JSON) go through encoding/json.
func (e *Event) AppendJSON(buf []byte) ([]byte, error) {
	return e.appendJSON(buf, e.Process.appendJSON)
}

// appendJSON is AppendJSON with the process object written by proc.
func (e *Event) appendJSON(buf []byte, proc func([]byte) ([]byte, error)) ([]byte, error) {
	buf = append(buf, `{"name":`...)
	buf = appendJSONString(buf, e.Name)
	buf = append(buf, `,"id":`...)
	buf = strconv.AppendUint(buf, uint64(e.ID), 10)
	buf = append(buf, `,"time":`...)
	var err error
	if buf, err = appendJSONTime(buf, e.Time); err != nil {
		return nil, err
	}
	buf = append(buf, `,"host":`...)
	buf = appendJSONString(buf, e.Host)
	if e.Probe != "" {
		buf = append(buf, `,"probe":`...)
		buf = appendJSONString(buf, e.Probe)
	}
	buf = append(buf, `,"process":`...)
	if buf, err = proc(buf); err != nil {
		return nil, err
	}
	buf = append(buf, `,"return_value":`...)
	buf = strconv.AppendInt(buf, e.ReturnValue, 10)
	buf = append(buf, `,"args":`...)
	if e.Args == nil && e.list.vals != nil {
		buf = appendJSONArgList(buf, infoOf(e.ID), &e.list)
	} else if buf, err = appendJSONArgs(buf, e.Args, e.info()); err != nil {
		return nil, err
	}
	if len(e.Unreadable) > 0 {
		buf = append(buf, `,"unreadable":`...)
		buf = appendJSONStrings(buf, e.Unreadable)
	}
	return append(buf, '}'), nil
}

func (p *Process) appendJSON(buf []byte) ([]byte, error) {
	buf, _, err := p.appendJSONAt(buf)
	return buf, err
}

// appendJSONAt is appendJSON that also tells where the ancestors member
// begins (where it would: with none, where ctx or the closing brace is).
func (p *Process) appendJSONAt(buf []byte) (_ []byte, ancAt int, _ error) {
	u32 := func(key string, v uint32) {
		buf = append(buf, key...)
		buf = strconv.AppendUint(buf, uint64(v), 10)
	}
	u32(`{"pid":`, p.Pid)
	u32(`,"tid":`, p.Tid)
	u32(`,"ppid":`, p.Ppid)
	u32(`,"host_pid":`, p.HostPid)
	u32(`,"host_tid":`, p.HostTid)
	u32(`,"host_ppid":`, p.HostPpid)
	u32(`,"uid":`, p.UID)
	u32(`,"gid":`, p.GID)
	u32(`,"euid":`, p.EUID)
	u32(`,"egid":`, p.EGID)
	buf = append(buf, `,"comm":`...)
	buf = appendJSONString(buf, p.Comm)
	if p.Exe != "" {
		buf = append(buf, `,"exe":`...)
		buf = appendJSONString(buf, p.Exe)
	}
	if len(p.Argv) > 0 {
		buf = append(buf, `,"argv":`...)
		buf = appendJSONStrings(buf, p.Argv)
	}
	buf = append(buf, `,"cgroup_id":`...)
	buf = strconv.AppendUint(buf, p.CgroupID, 10)
	if p.ContainerID != "" {
		buf = append(buf, `,"container_id":`...)
		buf = appendJSONString(buf, p.ContainerID)
	}
	u32(`,"mnt_ns":`, p.MntNS)
	u32(`,"pid_ns":`, p.PidNS)
	if p.StartTime != nil {
		buf = append(buf, `,"start_time":`...)
		var err error
		if buf, err = appendJSONTime(buf, *p.StartTime); err != nil {
			return nil, 0, err
		}
	}
	ancAt = len(buf)
	if sh := p.shared; sh != nil && sh.is(p.Ancestors) {
		sh.once.Do(sh.encode)
		buf = append(buf, sh.json...)
	} else {
		buf = appendJSONAncestors(buf, p.Ancestors)
	}
	if p.Ctx != "" {
		buf = append(buf, `,"ctx":`...)
		buf = appendJSONString(buf, p.Ctx)
	}
	return append(buf, '}'), ancAt, nil
}

// SharedAncestors is a list of ancestors that many events carry (the
// sensor's process table keeps one per process until its ancestry
// changes), with their JSON encoded once, the first time an event that
// carries them is encoded. The list is never changed in place.
type SharedAncestors struct {
	list []Ancestor
	once sync.Once
	json []byte // what appendJSONAncestors writes for list
}

// NewSharedAncestors shares list; the caller does not change it after.
func NewSharedAncestors(list []Ancestor) *SharedAncestors {
	return &SharedAncestors{list: list}
}

// List is the shared list (nil when empty).
func (s *SharedAncestors) List() []Ancestor { return s.list }

// is tells whether list is the shared one (the same elements in memory):
// an event whose Ancestors were set anew since is encoded in full.
func (s *SharedAncestors) is(list []Ancestor) bool {
	if len(list) != len(s.list) {
		return false
	}
	return len(list) == 0 || &list[0] == &s.list[0]
}

func (s *SharedAncestors) encode() { s.json = appendJSONAncestors(nil, s.list) }

// ShareAncestors sets p's ancestors to the shared list, so that encoding p
// copies their JSON rather than writing it again.
func (p *Process) ShareAncestors(s *SharedAncestors) {
	p.Ancestors, p.shared = s.list, s
}

// appendJSONAncestors writes the "ancestors" member of a process object
// (nothing when there are none).
func appendJSONAncestors(buf []byte, ancestors []Ancestor) []byte {
	if len(ancestors) > 0 {
		buf = append(buf, `,"ancestors":`...)
		buf = appendJSONAncestorList(buf, ancestors)
	}
	return buf
}

// appendJSONAncestorList writes a JSON array of ancestors.
func appendJSONAncestorList(buf []byte, ancestors []Ancestor) []byte {
	buf = append(buf, '[')
	for i := range ancestors {
		a := &ancestors[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"pid":`...)
		buf = strconv.AppendUint(buf, uint64(a.Pid), 10)
		buf = append(buf, `,"host_pid":`...)
		buf = strconv.AppendUint(buf, uint64(a.HostPid), 10)
		buf = append(buf, `,"comm":`...)
		buf = appendJSONString(buf, a.Comm)
		if a.Exe != "" {
			buf = append(buf, `,"exe":`...)
			buf = appendJSONString(buf, a.Exe)
		}
		if len(a.Argv) > 0 {
			buf = append(buf, `,"argv":`...)
			buf = appendJSONStrings(buf, a.Argv)
		}
		buf = append(buf, `,"uid":`...)
		buf = strconv.AppendUint(buf, uint64(a.UID), 10)
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

// appendJSONTime writes what time.Time.MarshalJSON does (RFC 3339 with
// the nanoseconds, trailing zeros cut). The date, clock and zone of the
// last second written are kept (lastSecond): the events of a second only
// write their fraction, rather than work out the date in their zone each
// (7% of the sensor's CPU per delivered event).
func appendJSONTime(buf []byte, t time.Time) ([]byte, error) {
	sec, loc := t.Unix(), t.Location()
	c := lastSecond.Load()
	if c == nil || c.sec != sec || c.loc != loc {
		if y := t.Year(); y < 0 || y > 9999 {
			b, err := json.Marshal(t) // the same error json.Marshal gives
			return append(buf, b...), err
		}
		whole := time.Unix(sec, 0).In(loc)
		c = &secondText{sec: sec, loc: loc, date: whole.AppendFormat(nil, "2006-01-02T15:04:05"), zone: whole.AppendFormat(nil, "Z07:00")}
		lastSecond.Store(c)
	}
	buf = append(buf, '"')
	buf = append(buf, c.date...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		buf = append(buf, frac[:n]...)
	}
	buf = append(buf, c.zone...)
	return append(buf, '"'), nil
}

// secondText is one second of one zone as appendJSONTime writes it.
type secondText struct {
	sec        int64
	loc        *time.Location
	date, zone []byte // "2006-01-02T15:04:05", "Z07:00"
}

var lastSecond atomic.Pointer[secondText]

// info is the encoder's table of e's event (nil when e is not an event of
// the table).
func (e *Event) info() *argInfo {
	if info := infoOf(e.ID); info != nil && info.spec.Name == e.Name {
		return info
	}
	return nil
}

// appendJSONArgs writes the arguments map, its keys sorted. With info, the
// keys are tried in the event's precomputed order, which is theirs when
// every key is an argument of the table (no sorting, no escaping); else
// the keys are sorted here.
func appendJSONArgs(buf []byte, args map[string]any, info *argInfo) ([]byte, error) {
	if args == nil {
		return append(buf, "null"...), nil
	}
	if info != nil && len(args) <= len(info.sorted) {
		start := len(buf)
		buf = append(buf, '{')
		n := 0
		for _, i := range info.sorted {
			v, ok := args[info.spec.Args[i].Name]
			if !ok {
				continue
			}
			if n > 0 {
				buf = append(buf, ',')
			}
			n++
			buf = append(buf, info.keys[i]...)
			var err error
			if buf, err = appendJSONValue(buf, v); err != nil {
				return nil, err
			}
		}
		if n == len(args) {
			return append(buf, '}'), nil
		}
		buf = buf[:start] // a key not in the table: sorted below
	}
	var small [32]string
	keys := small[:0]
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = appendJSONValue(buf, args[k]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// appendJSONValue writes one argument's value.
func appendJSONValue(buf []byte, value any) ([]byte, error) {
	switch v := value.(type) {
	case string:
		buf = appendJSONString(buf, v)
	case int64:
		buf = strconv.AppendInt(buf, v, 10)
	case uint64:
		buf = strconv.AppendUint(buf, v, 10)
	case bool:
		buf = strconv.AppendBool(buf, v)
	case []string:
		if v == nil {
			buf = append(buf, "null"...)
		} else {
			buf = appendJSONStrings(buf, v)
		}
	case []byte:
		if v == nil {
			buf = append(buf, "null"...)
		} else {
			buf = append(buf, '"')
			buf = base64.StdEncoding.AppendEncode(buf, v)
			buf = append(buf, '"')
		}
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	}
	return buf, nil
}

func appendJSONStrings(buf []byte, ss []string) []byte {
	buf = append(buf, '[')
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, s)
	}
	return append(buf, ']')
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendJSONString escapes s the way encoding/json does with HTML escaping
// on: control characters, '"', '\\', '<', '>', '&', U+2028 and U+2029 are
// escaped and invalid UTF-8 becomes U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

package event

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/vigil-sec/vigil/internal/jsonscan"
)

// Process context by reference (lean events).
//
// An event's process object holds fields of the thread (tid, host_tid) and
// fields of the process context (every other one: ids, credentials, comm,
// exe, argv, namespaces, ancestry). The context repeats on every event of a
// process, and it is most of an event's bytes. A sensor therefore sends a
// context in full once and refers to it by key afterwards:
//
//	full: "process":{"pid":12,"tid":12,...,"ancestors":[...],"ctx":"9f1c0e4d2a7b3c51"}
//	lean: "process":{"tid":12,"ctx":"9f1c0e4d2a7b3c51"} (and no "probe": see Encode)
//
// A lean object holds host_tid only where it differs from tid (a task in
// a pid namespace of its own); absent, it is tid.
//
// The key is a hash of the context's content (the full object with tid and
// host_tid set to 0, without ctx): equal contexts share a key on any host,
// and a context that changes (exec, setuid, a new name, a new parent) gets a
// new key and is sent in full again. A consumer resolves lean events with a
// ContextTable; a context it has not seen is asked of the sensor on
// ContextSubject. Events without a ctx (older sensors, capture files written
// before lean events) are full and pass through unchanged.

// ContextKeyLen is the length of a context key: 16 hexadecimal digits.
const ContextKeyLen = 16

// ErrUnknownContext is returned for a lean event whose context the table
// does not hold.
var ErrUnknownContext = errors.New("unknown process context")

// genMap is a map bounded to about 2*limit entries: when the current
// generation is full it becomes the old one and the one before is dropped;
// a hit in the old generation moves the entry to the current one. Entries
// in use stay, entries not used for a generation go.
type genMap[K comparable, V any] struct {
	cur, old map[K]V
	limit    int
}

func newGenMap[K comparable, V any](limit int) genMap[K, V] {
	return genMap[K, V]{cur: make(map[K]V), limit: max(limit, 1)}
}

func (m *genMap[K, V]) get(k K) (V, bool) {
	if v, ok := m.cur[k]; ok {
		return v, true
	}
	v, ok := m.old[k]
	if ok {
		m.put(k, v)
	}
	return v, ok
}

func (m *genMap[K, V]) put(k K, v V) {
	if len(m.cur) >= m.limit {
		m.old, m.cur = m.cur, make(map[K]V, m.limit)
	}
	m.cur[k] = v
}

func (m *genMap[K, V]) len() int { return len(m.cur) + len(m.old) }

// ContextEncoder encodes events with their process context by reference: a
// routine event whose context this encoder has sent in full before is lean.
// It keeps the contexts it sent (a bounded number) to answer requests for
// them (Context). Safe for concurrent use.
type ContextEncoder struct {
	mu   sync.Mutex
	last genMap[uint32, *ctxVersion] // by host pid: the context last seen
	sent genMap[string, []byte]      // key: the full process object sent
}

// ctxVersion is one version of a process's context and its key.
type ctxVersion struct {
	p   Process // Tid, HostTid 0, Ctx ""
	key string
	obj []byte // the full process object with tid 0 and its ctx
}

// NewContextEncoder returns an encoder that remembers about limit contexts
// (at least twice the processes expected to be alive at once: a forgotten
// context is sent in full again, not lost).
func NewContextEncoder(limit int) *ContextEncoder {
	return &ContextEncoder{
		last: newGenMap[uint32, *ctxVersion](limit),
		sent: newGenMap[string, []byte](limit),
	}
}

// AppendEvent appends ev's JSON form to buf (Encode without the verdict).
func (c *ContextEncoder) AppendEvent(buf []byte, ev *Event, critical bool) ([]byte, error) {
	buf, _, err := c.Encode(buf, ev, critical)
	return buf, err
}

// Encode appends ev's JSON form to buf and tells whether it is lean. A
// critical event is always whole (it must stand alone: it may overtake the
// event that sent its context); a routine one is whole, with its context's
// key, the first time its context is encoded and lean after. A lean event
// also leaves out its probe: the hook that fed it is the same for every
// event of its kind while a sensor runs (vigil events and the sensor's log
// name it), no rule reads it, and it would be a fifth of a lean event.
// ev's Process.Ctx is ignored.
func (c *ContextEncoder) Encode(buf []byte, ev *Event, critical bool) (out []byte, lean bool, err error) {
	c.mu.Lock()
	v := c.version(&ev.Process)
	if !critical {
		if _, ok := c.sent.get(v.key); ok {
			lean = true
		} else {
			c.sent.put(v.key, v.obj)
		}
	}
	c.mu.Unlock()
	if lean {
		e := *ev
		e.Probe = ""
		out, err = e.appendJSON(buf, func(buf []byte) ([]byte, error) {
			buf = append(buf, `{"tid":`...)
			buf = strconv.AppendUint(buf, uint64(ev.Process.Tid), 10)
			if ev.Process.HostTid != ev.Process.Tid {
				buf = append(buf, `,"host_tid":`...)
				buf = strconv.AppendUint(buf, uint64(ev.Process.HostTid), 10)
			}
			buf = append(buf, `,"ctx":"`...)
			buf = append(buf, v.key...)
			return append(buf, `"}`...), nil
		})
		return out, true, err
	}
	p := ev.Process
	p.Ctx = v.key
	out, err = ev.appendJSON(buf, p.appendJSON)
	return out, false, err
}

// Context returns the full process object (tid and host_tid 0) of a context
// this encoder sent, for a consumer that missed it.
func (c *ContextEncoder) Context(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	obj, ok := c.sent.get(key)
	return obj, ok
}

// Forget makes the next routine event of every context go out in full
// again, e.g. after a consumer announced that it lost its table.
func (c *ContextEncoder) Forget() {
	c.mu.Lock()
	c.sent = newGenMap[string, []byte](c.sent.limit)
	c.mu.Unlock()
}

// version returns the context version of p, from the last one seen for its
// process when that is unchanged. c.mu is held.
func (c *ContextEncoder) version(p *Process) *ctxVersion {
	if v, ok := c.last.get(p.HostPid); ok && v.p.sameContext(p) {
		return v
	}
	v := &ctxVersion{p: *p}
	v.p.Tid, v.p.HostTid, v.p.Ctx = 0, 0, ""
	if p.shared != nil && !p.shared.is(p.Ancestors) {
		v.p.shared = nil
	}
	obj, _ := v.p.appendJSON(nil) // a start time out of range: written as 0001, hashed the same way each time
	var kb [ContextKeyLen]byte
	v.key = string(appendHex16(kb[:0], xxhash.Sum64(obj)))
	obj = append(obj[:len(obj)-1], `,"ctx":"`...)
	obj = append(obj, v.key...)
	v.obj = append(obj, `"}`...)
	c.last.put(p.HostPid, v)
	return v
}

func appendHex16(buf []byte, x uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		buf = append(buf, digits[(x>>uint(i))&0xf])
	}
	return buf
}

// sameContext reports whether p (a version with tid 0) and q have the same
// context fields.
func (p *Process) sameContext(q *Process) bool {
	if p.Pid != q.Pid || p.Ppid != q.Ppid || p.HostPid != q.HostPid || p.HostPpid != q.HostPpid ||
		p.UID != q.UID || p.GID != q.GID || p.EUID != q.EUID || p.EGID != q.EGID ||
		p.Comm != q.Comm || p.Exe != q.Exe || p.CgroupID != q.CgroupID ||
		p.ContainerID != q.ContainerID || p.MntNS != q.MntNS || p.PidNS != q.PidNS ||
		!slices.Equal(p.Argv, q.Argv) {
		return false
	}
	if (p.StartTime == nil) != (q.StartTime == nil) || p.StartTime != nil && !p.StartTime.Equal(*q.StartTime) {
		return false
	}
	if p.shared != nil && p.shared == q.shared && q.shared.is(q.Ancestors) {
		return true
	}
	return slices.EqualFunc(p.Ancestors, q.Ancestors, func(a, b Ancestor) bool {
		return a.Pid == b.Pid && a.HostPid == b.HostPid && a.Comm == b.Comm && a.Exe == b.Exe &&
			a.UID == b.UID && slices.Equal(a.Argv, b.Argv)
	})
}

// ContextTable resolves lean events back to their full form from the
// contexts it has seen (in full events, or added after a request). Safe
// for concurrent use; bounded to about 2*limit contexts.
type ContextTable struct {
	mu sync.Mutex
	m  genMap[string, *ctxObject]
	// probes is the probe member last seen in a whole event of each host
	// and event id (the key: the raw host and id values), which a lean
	// event of theirs gets back (a sensor names the same hook for every
	// event of a kind while it runs).
	probes map[string][]byte
}

// maxProbes bounds the probes a table learns (hosts × event kinds).
const maxProbes = 1 << 14

// ctxObject is a full process object with where its thread fields' values
// lie (start and end offsets; -1 when absent).
type ctxObject struct {
	obj       []byte
	tid, htid [2]int
}

// NewContextTable returns a table of about limit contexts.
func NewContextTable(limit int) *ContextTable {
	return &ContextTable{m: newGenMap[string, *ctxObject](limit), probes: make(map[string][]byte)}
}

// Len is the number of contexts the table holds.
func (t *ContextTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m.len()
}

// processSpan describes an event's process object: where it lies in the
// event and what its members say.
type processSpan struct {
	start, end int    // the object's span in the event
	ctx        []byte // its ctx (aliases the event)
	full       bool   // it has a "pid": the context in full
	tid, htid  [2]int // spans of the tid and host_tid values, relative to start; -1 when absent
	quick      bool   // full, found by its layout (findProcess): tid and htid not read
	keyAt      int    // where the "process" key begins
	id, host   []byte // the raw values of the event's id and host members (when before process)
	probe      []byte // the raw value of its probe member (when before process)
}

// encoderLayout recognises a full process object as ContextEncoder writes
// it, "pid" first and the key last, without reading its members: most
// whole events of a lean stream are of contexts the consumer holds, and
// only the key matters for those. It returns the key.
func encoderLayout(obj []byte) ([]byte, bool) {
	const head, tail = `{"pid":`, `,"ctx":"`
	n := len(obj) - len(tail) - ContextKeyLen - 2
	if n < len(head) || string(obj[:len(head)]) != head || string(obj[n:n+len(tail)]) != tail ||
		string(obj[len(obj)-2:]) != `"}` {
		return nil, false
	}
	key := obj[n+len(tail) : len(obj)-2]
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, false
		}
	}
	return key, true
}

// findProcess finds the top-level "process" object of the event data. With
// quick, a full object in ContextEncoder's layout followed by the member
// the encoder writes next is found by searching for that member rather
// than by skipping the object (ps.quick): right only for vigil's own
// layout, which is all a caller relies on it for (see Resolve).
func findProcess(data []byte, quick bool) (ps processSpan, found bool, err error) {
	i := jsonscan.WS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ps, false, errors.New("an event is a JSON object")
	}
	i++
	for {
		i = jsonscan.WS(data, i)
		if i < len(data) && data[i] == '}' {
			return ps, false, nil
		}
		keyAt := i
		key, next, ok := readPlainKey(data, i)
		if !ok {
			return ps, false, errors.New("bad object key at byte " + strconv.Itoa(i))
		}
		i = jsonscan.WS(data, next)
		if quick && string(key) == "process" {
			if k := bytes.Index(data[i:], processEnd); k >= 0 {
				end := i + k + 2
				if ctx, ok := encoderLayout(data[i:end]); ok {
					ps.start, ps.end, ps.ctx, ps.full, ps.quick, ps.keyAt = i, end, ctx, true, true, keyAt
					return ps, true, nil
				}
			}
		}
		end, ok := jsonscan.Value(data, i)
		if !ok {
			return ps, false, errors.New("bad value at byte " + strconv.Itoa(i))
		}
		switch string(key) {
		case "id":
			ps.id = data[i:end]
		case "host":
			ps.host = data[i:end]
		case "probe":
			ps.probe = data[i:end]
		case "process":
			if data[i] != '{' {
				break
			}
			rp, err := readProcess(data[i:end])
			rp.start, rp.end, rp.keyAt = i, end, keyAt
			rp.id, rp.host, rp.probe = ps.id, ps.host, ps.probe
			return rp, err == nil, err
		}
		i = jsonscan.WS(data, end)
		if i < len(data) && data[i] == ',' {
			i++
			continue
		}
		return ps, false, nil
	}
}

// processEnd is how a process object in ContextEncoder's layout ends (its
// key's closing quote and brace) and what follows it.
var processEnd = []byte(`"},"return_value":`)

// readProcess reads the members of a process object that tell its form.
func readProcess(obj []byte) (ps processSpan, err error) {
	ps.tid, ps.htid = [2]int{-1, -1}, [2]int{-1, -1}
	i := 1
	for {
		i = jsonscan.WS(obj, i)
		if i < len(obj) && obj[i] == '}' {
			return ps, nil
		}
		key, next, ok := readPlainKey(obj, i)
		if !ok {
			return ps, errors.New("bad key in the process object")
		}
		i = jsonscan.WS(obj, next)
		end, ok := jsonscan.Value(obj, i)
		if !ok {
			return ps, errors.New("bad value in the process object")
		}
		switch string(key) {
		case "pid":
			ps.full = true
		case "tid":
			ps.tid = [2]int{i, end}
		case "host_tid":
			ps.htid = [2]int{i, end}
		case "ctx":
			if end-i < 3 || obj[i] != '"' {
				return ps, errors.New("process ctx is not a key string")
			}
			ps.ctx = obj[i+1 : end-1]
		}
		i = jsonscan.WS(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i++
			continue
		}
		return ps, nil
	}
}

// readPlainKey reads an object key and the colon after it. Keys with
// escapes are read raw: no member this file looks for has one.
func readPlainKey(data []byte, i int) ([]byte, int, bool) {
	end, ok := jsonscan.String(data, i)
	if !ok {
		return nil, 0, false
	}
	key := data[i+1 : end-1]
	j := jsonscan.WS(data, end)
	if j >= len(data) || data[j] != ':' {
		return nil, 0, false
	}
	return key, j + 1, true
}

// Resolve returns the event data in its full form. An event with a full
// process object and a ctx teaches the table that context (and its kind's
// probe on its host) and is returned as it is, like an event without a
// ctx. A lean event's process object is replaced by its context's, with
// the event's tid and host_tid, and it gets its kind's probe back when a
// whole event of that kind from that host named it; the result is
// appended to dst. A lean event whose context is not in the table gives
// ErrUnknownContext and the key to ask for (Add what the sensor answers,
// then Resolve again).
func (t *ContextTable) Resolve(dst, data []byte) (out []byte, missing string, err error) {
	ps, found, err := findProcess(data, true)
	if err != nil || !found || len(ps.ctx) == 0 {
		return data, "", err
	}
	if ps.quick && !t.holds(ps.ctx) {
		// a context to learn: read the object with care
		if ps, found, err = findProcess(data, false); err != nil || !found || len(ps.ctx) == 0 {
			return data, "", err
		}
	}
	var kb [64]byte
	kind := append(append(kb[:0], ps.host...), ps.id...)
	t.mu.Lock()
	co, ok := t.m.cur[string(ps.ctx)]
	if !ok {
		co, ok = t.m.get(string(ps.ctx))
	}
	if !ok && ps.full {
		obj := slices.Clone(data[ps.start:ps.end])
		t.m.put(string(ps.ctx), &ctxObject{obj: obj, tid: ps.tid, htid: ps.htid})
	}
	var probe []byte
	if ps.full {
		if ps.probe != nil && ps.id != nil && ps.host != nil && string(t.probes[string(kind)]) != string(ps.probe) {
			if len(t.probes) >= maxProbes {
				clear(t.probes)
			}
			t.probes[string(kind)] = slices.Clone(ps.probe)
		}
	} else if ps.probe == nil && ps.id != nil && ps.host != nil {
		probe = t.probes[string(kind)]
	}
	t.mu.Unlock()
	if ps.full {
		return data, "", nil
	}
	if !ok {
		return nil, string(ps.ctx), ErrUnknownContext
	}
	lean := data[ps.start:ps.end]
	if ps.htid[0] < 0 {
		ps.htid = ps.tid // a lean object's host_tid, absent, is its tid
	}
	if probe != nil && ps.keyAt > 0 && data[ps.keyAt-1] == ',' {
		// the probe goes back where the encoder writes it, before the
		// process member
		dst = append(dst, data[:ps.keyAt-1]...)
		dst = append(dst, `,"probe":`...)
		dst = append(dst, probe...)
		dst = append(dst, data[ps.keyAt-1:ps.start]...)
	} else {
		dst = append(dst, data[:ps.start]...)
	}
	dst = co.appendWithThread(dst, lean, ps)
	return append(dst, data[ps.end:]...), "", nil
}

// holds tells whether the table has the context key.
func (t *ContextTable) holds(key []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m.cur[string(key)]; ok {
		return true
	}
	_, ok := t.m.old[string(key)]
	return ok
}

// appendWithThread appends the context object with the thread fields of
// the lean object (what it lacks keeps the context's value).
func (co *ctxObject) appendWithThread(dst, lean []byte, ps processSpan) []byte {
	type cut struct {
		at  [2]int // in co.obj
		val []byte
	}
	var buf [2]cut
	cuts := buf[:0]
	if co.tid[0] >= 0 && ps.tid[0] >= 0 {
		cuts = append(cuts, cut{co.tid, lean[ps.tid[0]:ps.tid[1]]})
	}
	if co.htid[0] >= 0 && ps.htid[0] >= 0 {
		cuts = append(cuts, cut{co.htid, lean[ps.htid[0]:ps.htid[1]]})
	}
	if len(cuts) == 2 && cuts[1].at[0] < cuts[0].at[0] {
		cuts[0], cuts[1] = cuts[1], cuts[0]
	}
	pos := 0
	for _, c := range cuts {
		dst = append(dst, co.obj[pos:c.at[0]]...)
		dst = append(dst, c.val...)
		pos = c.at[1]
	}
	return append(dst, co.obj[pos:]...)
}

// Add puts a full process object with its ctx (a sensor's answer on
// ContextSubject) in the table and returns its key.
func (t *ContextTable) Add(obj []byte) (string, error) {
	if len(obj) == 0 || obj[0] != '{' {
		return "", errors.New("not a process object")
	}
	ps, err := readProcess(obj)
	if err != nil {
		return "", err
	}
	if !ps.full || len(ps.ctx) == 0 {
		return "", errors.New("not a full process object with a ctx")
	}
	key := string(ps.ctx)
	t.mu.Lock()
	t.m.put(key, &ctxObject{obj: slices.Clone(obj), tid: ps.tid, htid: ps.htid})
	t.mu.Unlock()
	return key, nil
}

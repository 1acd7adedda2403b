package event

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

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
//
// A context sent in full refers for its ancestry to one sent before when it
// can, since most of a full context's bytes are its ancestors (up to 32,
// each with its argv) and each exec or forked child is a new context with
// its parent's ancestry:
//
//	"ancestors":[{"pid":7853,...}],"ancestors_ctx":"5d04b7c2e9a1f386","ctx":"9f1c0e4d2a7b3c51"
//
// The ancestry is the ancestors listed followed by every ancestor of the
// context ancestors_ctx names, which was itself sent with its whole ancestry
// (a reference never leads to another; at most 64 refer to one, within 30
// seconds of it): the parent's context (the parent listed, as
// here) or one with the same ancestry (none listed, "ancestors":[]: a
// sibling, the process before its exec; preferred when there is one). The key is still the hash of the whole object, and a
// ContextTable makes the object whole (the referred context's ancestors
// spliced in, ancestors_ctx removed: the bytes a sensor sending every event
// whole writes) before it learns or returns it; one that does not hold the
// referred context gives ErrUnknownContext and that context's key, which a
// sensor answers for like any other. Only routine events refer: a critical
// one stands alone. A sensor's answer on ContextSubject is always whole.

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
	// resent holds what sent held before Resend, to answer for it.
	resent map[string][]byte
	// byAncestry is, by the hash of an ancestry's JSON, the context last
	// sent in full with that ancestry (siblings and a process before and
	// after exec share theirs).
	byAncestry genMap[uint64, *ctxVersion]
	// wholeAncestry writes every ancestry whole (benchmarks compare).
	wholeAncestry bool
	start         time.Time // anchors' ages are measured from it (monotonic)
}

// ctxVersion is one version of a process's context and its key.
type ctxVersion struct {
	p   Process // Tid, HostTid 0, Ctx ""
	key string
	obj []byte // the full process object with tid 0 and its ctx
	anc uint64 // the hash of its ancestors' JSON
	// anchor: sent in full with its whole ancestry, so that contexts may
	// refer to it; refs counts those that did.
	anchor bool
	refs   int
	sentAt int64 // when it was sent in full (ns since the encoder's start)
}

// maxAncestryRefs is how many contexts refer to one anchor at most: the
// next one with that ancestry is sent whole and becomes the anchor. A
// reference then never leads to another, and the anchor is never far
// back in a stream: a consumer reading a stream back for contexts
// (engine/ctxhistory.go) finds it within its window.
const maxAncestryRefs = 64

// maxAnchorAge is how long after it was sent an anchor is referred to:
// a stream that keeps events for a limited time still holds it when a
// consumer reads the referring events back.
const maxAnchorAge = 30 * time.Second

// NewContextEncoder returns an encoder that remembers about limit contexts
// (at least twice the processes expected to be alive at once: a forgotten
// context is sent in full again, not lost).
func NewContextEncoder(limit int) *ContextEncoder {
	return &ContextEncoder{
		last:       newGenMap[uint32, *ctxVersion](limit),
		sent:       newGenMap[string, []byte](limit),
		byAncestry: newGenMap[uint64, *ctxVersion](limit),
		start:      time.Now(),
	}
}

// WholeAncestry makes the encoder write every ancestry whole, without
// ancestors_ctx (a capture file: a line cut from it must not take other
// contexts' ancestries with it). Call it before the first Encode.
func (c *ContextEncoder) WholeAncestry() { c.wholeAncestry = true }

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
//
// A routine event that sends its context in full refers for its ancestry
// to a context this encoder sent before when it can (see ancestryRef): its
// ancestors member lists only the ancestors before that context's and
// "ancestors_ctx" names it. The key and what Context answers are those of
// the full object, with the whole ancestry.
//
// ev's Process.Ctx is ignored.
func (c *ContextEncoder) Encode(buf []byte, ev *Event, critical bool) (out []byte, lean bool, err error) {
	c.mu.Lock()
	v := c.version(&ev.Process)
	var ref *ctxVersion
	listed := 0
	if !critical {
		if _, ok := c.sent.get(v.key); ok {
			lean = true
		} else {
			ref, listed = c.ancestryRef(v)
			c.sent.put(v.key, v.obj)
			v.anchor, v.refs, v.sentAt = ref == nil, 0, int64(time.Since(c.start))
			if ref != nil {
				ref.refs++
			} else if len(v.p.Ancestors) > 0 {
				c.byAncestry.put(v.anc, v)
			}
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
	if ref != nil {
		p.Ancestors, p.shared = p.Ancestors[:listed], nil
		out, err = ev.appendJSON(buf, func(buf []byte) ([]byte, error) {
			buf, ancAt, err := p.appendJSONAt(buf)
			if err != nil {
				return nil, err
			}
			buf = append(buf[:ancAt], `,"ancestors":`...)
			buf = appendJSONAncestorList(buf, p.Ancestors)
			buf = append(buf, `,"ancestors_ctx":"`...)
			buf = append(buf, ref.key...)
			buf = append(buf, `","ctx":"`...)
			buf = append(buf, v.key...)
			return append(buf, `"}`...), nil
		})
		return out, false, err
	}
	p.Ctx = v.key
	out, err = ev.appendJSON(buf, p.appendJSON)
	return out, false, err
}

// ancestryRef picks the context v's ancestry may refer to: an anchor
// this encoder sent in full (and so answers for) whose ancestors are the
// tail of v's. First the context last sent with the very same ancestry (listed
// 0: a sibling, the process before its exec: a loop of a shell or a build
// tool forks many children of one parent); else the parent's current
// context, whose ancestors are v's but the first (listed 1: the parent
// itself, which its own context does not list). Nil when none fits or v
// has no ancestors to save. c.mu is held.
func (c *ContextEncoder) ancestryRef(v *ctxVersion) (ref *ctxVersion, listed int) {
	anc := v.p.Ancestors
	if len(anc) == 0 || c.wholeAncestry {
		return nil, 0
	}
	oldest := int64(time.Since(c.start) - maxAnchorAge)
	usable := func(a *ctxVersion) bool {
		return a != v && a.anchor && a.refs < maxAncestryRefs && a.sentAt >= oldest
	}
	if sv, ok := c.byAncestry.get(v.anc); ok && usable(sv) && sameAncestors(anc, sv.p.Ancestors) {
		if _, sent := c.sent.get(sv.key); sent {
			return sv, 0
		}
	}
	if len(anc) > 1 {
		if pv, ok := c.last.get(v.p.HostPpid); ok && usable(pv) && sameAncestors(anc[1:], pv.p.Ancestors) {
			if _, sent := c.sent.get(pv.key); sent {
				return pv, 1
			}
		}
	}
	return nil, 0
}

// Context returns the full process object (tid and host_tid 0) of a context
// this encoder sent, for a consumer that missed it.
func (c *ContextEncoder) Context(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	obj, ok := c.sent.get(key)
	if !ok {
		obj, ok = c.resent[key]
	}
	return obj, ok
}

// Resend makes the next routine event of every context go out in full
// again, as Forget does, but keeps answering for the contexts sent (until
// the next Resend): lean events that refer to them may still be read.
func (c *ContextEncoder) Resend() {
	c.mu.Lock()
	c.resent = make(map[string][]byte, c.sent.len())
	for k, v := range c.sent.old {
		c.resent[k] = v
	}
	for k, v := range c.sent.cur {
		c.resent[k] = v
	}
	c.sent = newGenMap[string, []byte](c.sent.limit)
	c.byAncestry = newGenMap[uint64, *ctxVersion](c.byAncestry.limit)
	c.mu.Unlock()
}

// Forget makes the next routine event of every context go out in full
// again, e.g. after a consumer announced that it lost its table.
func (c *ContextEncoder) Forget() {
	c.mu.Lock()
	c.sent = newGenMap[string, []byte](c.sent.limit)
	c.byAncestry = newGenMap[uint64, *ctxVersion](c.byAncestry.limit)
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
	obj, ancAt, _ := v.p.appendJSONAt(nil) // a start time out of range: written as 0001, hashed the same way each time
	v.anc = xxhash.Sum64(obj[ancAt : len(obj)-1])
	var kb [ContextKeyLen]byte
	v.key = string(appendHex16(kb[:0], xxhash.Sum64(obj)))
	// kept as long as the context is remembered: copied to its exact size
	// (appending left up to twice that)
	whole := make([]byte, 0, len(obj)-1+len(`,"ctx":"`)+ContextKeyLen+len(`"}`))
	whole = append(whole, obj[:len(obj)-1]...)
	whole = append(whole, `,"ctx":"`...)
	whole = append(whole, v.key...)
	v.obj = append(whole, `"}`...)
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
	return sameAncestors(p.Ancestors, q.Ancestors)
}

// sameAncestors reports whether two ancestries have the same JSON form.
func sameAncestors(a, b []Ancestor) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.EqualFunc(a, b, func(a, b Ancestor) bool {
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

// ctxObject is a full process object with where its thread fields' and
// its ancestors' values lie (start and end offsets; -1 when absent).
type ctxObject struct {
	obj            []byte
	tid, htid, anc [2]int
}

func newCtxObject(obj []byte, ps *processSpan) *ctxObject {
	return &ctxObject{obj: obj, tid: ps.tid, htid: ps.htid, anc: ps.anc}
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
	anc        [2]int // span of the ancestors value, relative to start; -1 when absent
	ancRef     []byte // its ancestors_ctx (aliases the event)
	refCut     [2]int // the span of the ancestors_ctx member and a comma, relative to start
	hasRef     bool   // quick: the object has an ancestors_ctx member
	quick      bool   // full, found by its layout (findProcess): tid and htid not read
	keyAt      int    // where the "process" key begins
	id, host   []byte // the raw values of the event's id and host members (when before process)
	probe      []byte // the raw value of its probe member (when before process)
}

// encoderLayout recognises a full process object as ContextEncoder writes
// it, "pid" first and the key last, without reading its members: most
// whole events of a lean stream are of contexts the consumer holds, and
// only the key matters for those. It returns the key, and whether the
// object has an ancestors_ctx member (its ancestry is to be made whole).
func encoderLayout(obj []byte) (key []byte, ref, ok bool) {
	const head, tail = `{"pid":`, `,"ctx":"`
	n := len(obj) - len(tail) - ContextKeyLen - 2
	if n < len(head) || string(obj[:len(head)]) != head || string(obj[n:n+len(tail)]) != tail ||
		string(obj[len(obj)-2:]) != `"}` {
		return nil, false, false
	}
	key = obj[n+len(tail) : len(obj)-2]
	if !isKey(key) {
		return nil, false, false
	}
	// anywhere: those bytes are the member's key, never inside a string
	return key, bytes.Contains(obj, ancestryRefMember), true
}

// isKey tells whether b is made of lowercase hexadecimal digits.
func isKey(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
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
				if ctx, ref, ok := encoderLayout(data[i:end]); ok {
					ps.start, ps.end, ps.ctx, ps.full, ps.quick, ps.keyAt = i, end, ctx, true, true, keyAt
					ps.hasRef = ref
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
	ps.tid, ps.htid, ps.anc = [2]int{-1, -1}, [2]int{-1, -1}, [2]int{-1, -1}
	i, comma := 1, -1 // comma: where the comma before this member is
	for {
		i = jsonscan.WS(obj, i)
		if i < len(obj) && obj[i] == '}' {
			return ps, nil
		}
		keyAt := i
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
		case "ancestors":
			ps.anc = [2]int{i, end}
		case "ancestors_ctx":
			if end-i < 3 || obj[i] != '"' {
				return ps, errors.New("process ancestors_ctx is not a key string")
			}
			if ps.ancRef != nil {
				return ps, errors.New("process object with two ancestors_ctx members")
			}
			ps.ancRef = obj[i+1 : end-1]
			ps.refCut = [2]int{keyAt, end} // and a comma: below
			if comma >= 0 {
				ps.refCut[0] = comma
			}
		}
		i = jsonscan.WS(obj, end)
		if i < len(obj) && obj[i] == ',' {
			if ps.ancRef != nil && ps.refCut[1] == end && comma < 0 {
				ps.refCut[1] = i + 1 // the first member: its comma after goes
			}
			comma = i
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
	if err == nil && found && len(ps.ctx) == 0 && ps.ancRef != nil {
		return data, "", errors.New("process ancestors_ctx without a ctx")
	}
	if err != nil || !found || len(ps.ctx) == 0 {
		return data, "", err
	}
	if ps.quick && (ps.hasRef || !t.holds(ps.ctx)) {
		// a context to learn, or an ancestry to rebuild: read the object
		// with care
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
	var rebuilt []byte // a full object with ancestors_ctx, made whole
	if ps.full && ps.ancRef != nil {
		if ok {
			// held: the table's object with this event's thread
			rebuilt = co.appendWithThread(nil, data[ps.start:ps.end], ps)
		} else if parent, pok := t.m.get(string(ps.ancRef)); !pok {
			t.mu.Unlock()
			return nil, string(ps.ancRef), ErrUnknownContext
		} else {
			var err error
			if rebuilt, err = spliceAncestry(data[ps.start:ps.end], &ps, parent); err != nil {
				t.mu.Unlock()
				return data, "", err
			}
			t.m.put(string(ps.ctx), newCtxObject(rebuilt, &ps))
		}
	} else if !ok && ps.full {
		obj := slices.Clone(data[ps.start:ps.end])
		t.m.put(string(ps.ctx), newCtxObject(obj, &ps))
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
	if rebuilt != nil {
		dst = append(dst, data[:ps.start]...)
		dst = append(dst, rebuilt...)
		return append(dst, data[ps.end:]...), "", nil
	}
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

// spliceAncestry returns obj, a full process object with ancestors_ctx
// read into ps, made whole: its ancestors followed by those of parent (the
// context ancestors_ctx names), without the ancestors_ctx member, as the
// encoder writes the context in full. ps's spans are moved to match.
func spliceAncestry(obj []byte, ps *processSpan, parent *ctxObject) ([]byte, error) {
	a := ps.anc
	if a[0] < 0 || obj[a[0]] != '[' {
		return nil, errors.New("process ancestors_ctx without an ancestors array")
	}
	var more []byte // the parent's ancestors, the array's elements
	if pa := parent.anc; pa[0] >= 0 && parent.obj[pa[0]] == '[' {
		more = bytes.TrimSpace(parent.obj[pa[0]+1 : pa[1]-1])
	}
	ins := a[1] - 1 // the closing bracket
	comma := len(more) > 0 && len(bytes.TrimSpace(obj[a[0]+1:ins])) > 0
	cut := ps.refCut
	out := make([]byte, 0, len(obj)+len(more)+1-(cut[1]-cut[0]))
	insert := func(out []byte) []byte {
		if comma {
			out = append(out, ',')
		}
		return append(out, more...)
	}
	if ins < cut[0] {
		out = insert(append(out, obj[:ins]...))
		out = append(append(out, obj[ins:cut[0]]...), obj[cut[1]:]...)
	} else {
		out = append(append(out, obj[:cut[0]]...), obj[cut[1]:ins]...)
		out = append(insert(out), obj[ins:]...)
	}
	grow := len(more)
	if comma {
		grow++
	}
	move := func(p int) int {
		q := p
		if p >= ins {
			q += grow
		}
		if p >= cut[1] {
			q -= cut[1] - cut[0]
		}
		return q
	}
	for _, sp := range []*[2]int{&ps.tid, &ps.htid, &ps.anc} {
		if sp[0] >= 0 {
			sp[0], sp[1] = move(sp[0]), move(sp[1])
		}
	}
	ps.ancRef = nil
	return out, nil
}

// Add puts a full process object with its ctx (a sensor's answer on
// ContextSubject) in the table and returns its key. An object whose
// ancestry refers to another context (ancestors_ctx) is made whole from
// that one, which the table must hold (else ErrUnknownContext).
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
	defer t.mu.Unlock()
	if ps.ancRef != nil {
		parent, ok := t.m.get(string(ps.ancRef))
		if !ok {
			return "", fmt.Errorf("%w %s (its ancestors_ctx)", ErrUnknownContext, ps.ancRef)
		}
		whole, err := spliceAncestry(obj, &ps, parent)
		if err != nil {
			return "", err
		}
		t.m.put(key, newCtxObject(whole, &ps))
		return key, nil
	}
	t.m.put(key, newCtxObject(slices.Clone(obj), &ps))
	return key, nil
}

// ancestryRefMember is how an ancestors_ctx member starts.
var ancestryRefMember = []byte(`"ancestors_ctx"`)

// RefersAncestry tells whether event data may hold a process object whose
// ancestry refers to another context (ancestors_ctx): such an event is not
// whole on its own, like a lean one. False is certain (those bytes are
// the key, and occur nowhere else but in a string with that text).
func RefersAncestry(data []byte) bool { return bytes.Contains(data, ancestryRefMember) }

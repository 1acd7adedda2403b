package rules

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/jsonscan"
)

// jplan lists the keys the conditions of one event kind read, at the top
// level of the event's JSON and one level down (process.exe, args.pathname):
// newPlannedDoc records where the last occurrence of each of those keys'
// values lies and only skips over everything else (the ancestors, argv,
// the keys no condition reads), so that the cost of reading an event is
// one pass over its bytes with no index to build. Deeper steps (an
// ancestor's exe, an argv element) are found by scanning the recorded
// value, as in the indexed document.
type jplan struct {
	top   []jreq
	slots int
	// topLens: the lengths of the keys top requests (keyLens)
	topLens uint64
	// vkey, when set, is the one request (an object: args, process)
	// every condition of the kind reads under: the kind's verdict is a
	// function of that value's bytes (verdictCache)
	vkey *jreq
}

// jreq is one key a plan records, and the keys to record inside its value
// when that is an object (sub, whose slots are subFirst..subFirst+len-1).
type jreq struct {
	sg       seg
	slot     int
	sub      []jreq
	subFirst int
	subLens  uint64 // the lengths of sub's keys (keyLens)
}

// keyLens marks (bit n) the lengths of reqs' keys, so that matchReq turns
// away a key of another length, most of an event's, at once; all bits when
// a key is too long to mark.
func keyLens(reqs []jreq) uint64 {
	var m uint64
	for _, r := range reqs {
		if len(r.sg.key) >= 64 {
			return ^uint64(0)
		}
		m |= 1 << len(r.sg.key)
	}
	return m
}

// jslot is where a recorded value lies.
type jslot struct {
	start, end int
	set        bool
}

// newPlan returns the plan that records the values of paths (and always
// the event's name and host, slots 0 and 1).
func newPlan(paths [][]seg) *jplan {
	p := &jplan{top: []jreq{{sg: nameSeg[0]}, {sg: hostSeg[0]}}}
	for _, path := range paths {
		if len(path) == 0 || path[0].kind != segKey || foldConflict(p.top, path[0]) {
			continue // read by scanning the whole object (lookupPlanned)
		}
		r := findReq(p.top, path[0])
		if r == nil {
			p.top = append(p.top, jreq{sg: path[0]})
			r = &p.top[len(p.top)-1]
		}
		if len(path) < 2 || path[1].kind != segKey || foldConflict(r.sub, path[1]) {
			continue
		}
		if findReq(r.sub, path[1]) == nil {
			r.sub = append(r.sub, jreq{sg: path[1]})
		}
	}
	n := 0
	for i := range p.top {
		p.top[i].slot = n
		n++
	}
	for i := range p.top {
		r := &p.top[i]
		r.subFirst = n
		r.subLens = keyLens(r.sub)
		for j := range r.sub {
			r.sub[j].slot = n
			n++
		}
	}
	p.slots = n
	p.topLens = keyLens(p.top)
	return p
}

// findReq returns the request for sg's key (the same key, folded or not).
func findReq(reqs []jreq, sg seg) *jreq {
	for i := range reqs {
		if reqs[i].sg.key == sg.key && reqs[i].sg.fold == sg.fold {
			return &reqs[i]
		}
	}
	return nil
}

// foldConflict: reqs has a request other than sg's that a key of the JSON
// could answer too (the same key matched the other way, case-folded or
// exactly, or a key in another case). A key is recorded for one request
// only: such a path is not planned.
func foldConflict(reqs []jreq, sg seg) bool {
	for _, r := range reqs {
		if strings.EqualFold(r.sg.key, sg.key) && (r.sg.key != sg.key || r.sg.fold != sg.fold) {
			return true
		}
	}
	return false
}

// matchReq returns the request a key of the JSON answers, or nil: every
// request is tried (a struct field matches case-insensitively, and two
// requests cannot both match: they differ in their key). ascii: the key
// is all ASCII, which a key of another length cannot fold to.
func matchReq(reqs []jreq, lens uint64, key string, ascii bool) *jreq {
	if ascii && len(key) < 64 && lens&(1<<len(key)) == 0 {
		return nil
	}
	for i := range reqs {
		r := &reqs[i]
		if ascii {
			// keys that differ in their first letter other than by case
			// (most of those of one length) are told apart by one byte
			if len(key) != len(r.sg.key) || len(key) > 0 && key[0]|0x20 != r.sg.key[0]|0x20 {
				continue
			}
			if key == r.sg.key || r.sg.fold && asciiEqualFold(key, r.sg.key) {
				return r
			}
			continue
		}
		if keyMatch(key, r.sg) {
			return r
		}
	}
	return nil
}

// asciiEqualFold compares two ASCII strings of the same length
// case-insensitively.
func asciiEqualFold(a, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if x != y && (x|0x20 != y|0x20 || !isLetter(x)) {
			return false
		}
	}
	return true
}

// readKey reads an object key: plain keys (no escape, ASCII: all the
// producer writes) directly, any other through readString.
func readKey(data []byte, i int) (key string, next int, ascii, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false, false
	}
	for j := i + 1; j < len(data); j++ {
		c := data[j]
		if c == '"' {
			b := data[i+1 : j]
			return unsafe.String(unsafe.SliceData(b), len(b)), j + 1, true, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	key, next, ok = readString(data, i)
	return key, next, false, ok
}

// peekName reads the event's name when it is the first key of the object
// (the producer's layout), so the plan for its kind can be chosen before
// the scan.
func peekName(data []byte) (string, bool) {
	i := jsonscan.WS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	key, i, ok := readString(data, jsonscan.WS(data, i+1))
	if !ok || key != "name" {
		return "", false
	}
	i = jsonscan.WS(data, i)
	if i >= len(data) || data[i] != ':' {
		return "", false
	}
	name, _, ok := readString(data, jsonscan.WS(data, i+1))
	return name, ok
}

// newPlannedDoc reads data as newJSONDoc does, recording only what plan
// lists; again=true when the name the plan was chosen by is not the
// event's (a second key that reads as the name: the caller starts over
// with the full index).
func newPlannedDoc(data []byte, plan *jplan, slots []jslot, memo *scanMemo, verdicts *verdictCache) (d jsonDoc, again bool) {
	d = jsonDoc{data: data, plan: plan, slots: slices.Grow(slots[:0], plan.slots)[:plan.slots], memo: memo, verdicts: verdicts}
	clear(d.slots)
	i := jsonscan.WS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return d, false
	}
	d.objStart = i
	end, ok, again := d.scanObject(i, plan.top, plan.topLens, true)
	if again || !ok {
		return d, again
	}
	d.objEnd = end
	if rest := jsonscan.WS(data, end); rest != len(data) && data[rest] != '}' && data[rest] != ']' {
		return d, false
	}
	d.ok = true
	return d, false
}

// scanObject walks the object at data[i] ('{'), recording the values of
// the keys reqs lists (the last occurrence of each) and, at the top, the
// keys their sub-requests list inside them.
func (d *jsonDoc) scanObject(i int, reqs []jreq, lens uint64, isTop bool) (end int, ok, again bool) {
	data := d.data
	i = jsonscan.WS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true, false
	}
	for {
		key, ni, ascii, ok := readKey(data, i)
		if !ok {
			return 0, false, false
		}
		i = jsonscan.WS(data, ni)
		if i >= len(data) || data[i] != ':' {
			return 0, false, false
		}
		i = jsonscan.WS(data, i+1)
		var r *jreq
		if !ascii || len(key) >= 64 || lens&(1<<len(key)) != 0 {
			r = matchReq(reqs, lens, key, ascii)
		}
		var end int
		switch {
		case r != nil && isTop && r.slot == 0 && d.slots[0].set:
			return 0, false, true // the name again
		case r != nil && isTop && r.sub != nil:
			// this occurrence replaces an earlier one whole
			sub := d.slots[r.subFirst : r.subFirst+len(r.sub)]
			clear(sub)
			hit := false
			if r == d.plan.vkey {
				end, hit = d.cachedVerdict(i)
				ok = hit
			}
			if !hit && i < len(data) && data[i] == '{' {
				if end, ok = d.memo.find(data, i, r, sub); !ok {
					end, ok, _ = d.scanObject(i, r.sub, r.subLens, false)
					d.memo.put(data, i, end, ok, r, sub)
				}
			} else if !hit {
				end, ok = jsonscan.Value(data, i)
			}
		case isTop && i < len(data) && (data[i] == '{' || data[i] == '['):
			if end, ok = d.memo.find(data, i, r, nil); !ok {
				end, ok = jsonscan.Value(data, i)
				d.memo.put(data, i, end, ok, r, nil)
			}
		default:
			end, ok = jsonscan.Value(data, i)
		}
		if !ok {
			return 0, false, false
		}
		if r != nil {
			d.slots[r.slot] = jslot{start: i, end: end, set: true}
			if isTop && r == d.plan.vkey && d.vstart == i {
				d.vend = end // read whole: its verdict can be remembered
			}
		}
		i = jsonscan.WS(data, end)
		if i >= len(data) {
			return 0, false, false
		}
		if data[i] == ',' {
			i = jsonscan.WS(data, i+1)
			continue
		}
		if data[i] == '}' {
			return i + 1, true, false
		}
		return 0, false, false
	}
}

// lookupPlanned is lookupPlain on a planned document.
func (d *jsonDoc) lookupPlanned(path []seg, fn func(mval) bool) bool {
	reqs := d.plan.top
	var v mval
	for pi, sg := range path {
		if sg.kind != segKey || reqs == nil {
			if pi == 0 {
				return false
			}
			return scanEach(d.data, v, path[pi:], fn)
		}
		r := findReq(reqs, sg)
		if r == nil {
			// not in the plan (the plan lists every path the matcher
			// reads; this keeps an oversight correct): scan the object
			return scanEach(d.data, mval{kind: 'o', start: d.objStart, end: d.objEnd}, path, fn)
		}
		sl := d.slots[r.slot]
		if !sl.set {
			return false
		}
		v = valueAt(d.data, sl.start, sl.end)
		if pi == len(path)-1 {
			return fn(v)
		}
		if r.sub == nil || v.kind != 'o' {
			return scanEach(d.data, v, path[pi+1:], fn)
		}
		reqs = r.sub
	}
	return false
}

// fieldRef is a field path resolved against a plan: the slots its first
// steps are recorded in, and its value when missing or null (zeroDefault).
type fieldRef struct {
	path   []seg
	def    mval
	hasDef bool
	plan   *jplan
	// slots[0] records path[0]; with n == 2, slots[1] records path[1]
	// inside it
	slots [2]int
	n     int
}

// ref resolves path against p (n == 0 when p does not record it: it is
// then looked up by path).
func (p *jplan) ref(path []seg) *fieldRef {
	r := &fieldRef{path: path, plan: p}
	r.def, r.hasDef = zeroDefault(path)
	if len(path) == 0 || path[0].kind != segKey {
		return r
	}
	top := findReq(p.top, path[0])
	if top == nil {
		return r
	}
	r.slots[0], r.n = top.slot, 1
	if len(path) >= 2 && path[1].kind == segKey {
		sub := findReq(top.sub, path[1])
		if sub == nil {
			r.n = 0
			return r
		}
		r.slots[1], r.n = sub.slot, 2
	}
	return r
}

// eachRef is each for a resolved path.
func (d *jsonDoc) eachRef(r *fieldRef, fn func(mval) bool) bool {
	if !d.ok || len(r.path) == 0 {
		return false
	}
	if r.hasDef {
		var v mval
		found := d.lookupRef(r, func(x mval) bool { v = x; return true })
		if !found || v.kind == 'z' {
			return fn(r.def)
		}
		return fn(v)
	}
	return d.lookupRef(r, fn)
}

// lookupRef is lookupPlain through the slots of a resolved path.
func (d *jsonDoc) lookupRef(r *fieldRef, fn func(mval) bool) bool {
	if d.plan == nil || d.plan != r.plan || r.n == 0 {
		return d.lookupPlain(r.path, fn)
	}
	sl := d.slots[r.slots[0]]
	if !sl.set {
		return false
	}
	v := valueAt(d.data, sl.start, sl.end)
	if len(r.path) == 1 {
		return fn(v)
	}
	if r.n == 1 || v.kind != 'o' {
		return scanEach(d.data, v, r.path[1:], fn)
	}
	sl = d.slots[r.slots[1]]
	if !sl.set {
		return false
	}
	v = valueAt(d.data, sl.start, sl.end)
	if len(r.path) == 2 {
		return fn(v)
	}
	return scanEach(d.data, v, r.path[2:], fn)
}

// scanMemo remembers the last few large values (the process object with
// its ancestors, most of an event's bytes) the top-level scan went
// through, with what it recorded inside them. Consecutive events of one
// process carry the same process object byte for byte; reading a value
// depends on its bytes alone, so a value that starts with the bytes of a
// remembered one (compared whole) ends where that one ended and has its
// keys at the same offsets, and is not scanned again.
type scanMemo struct {
	ents [memoEntries]memoEntry
	next int
}

const (
	memoEntries = 8
	// memoMin: smaller values are scanned (comparing would save little)
	memoMin = 256
	// memoMax bounds the bytes one entry keeps
	memoMax = 16 << 10
)

type memoEntry struct {
	req *jreq   // the request the value was read for (nil: skipped)
	b   []byte  // the value
	sub []jslot // the keys recorded inside it, offsets from its start
}

// find looks for a remembered value data[i:] starts with, read for r;
// it fills sub (absolute offsets) and returns the value's end.
func (m *scanMemo) find(data []byte, i int, r *jreq, sub []jslot) (int, bool) {
	if m == nil {
		return 0, false
	}
	rest := data[i:]
	for k := range memoEntries {
		// the newest first: a burst of one process's events hits it
		e := &m.ents[(m.next+memoEntries-1-k)%memoEntries]
		if e.req != r || len(e.b) == 0 || len(rest) < len(e.b) || !bytes.Equal(rest[:len(e.b)], e.b) {
			continue
		}
		for j, sl := range e.sub {
			if sl.set {
				sl.start += i
				sl.end += i
			}
			sub[j] = sl
		}
		return i + len(e.b), true
	}
	return 0, false
}

// put remembers data[i:end] (when it was read, and is large enough to be
// worth it) in place of the oldest entry.
func (m *scanMemo) put(data []byte, i, end int, ok bool, r *jreq, sub []jslot) {
	if m == nil || !ok || end-i < memoMin || end-i > memoMax {
		return
	}
	e := &m.ents[m.next]
	m.next = (m.next + 1) % memoEntries
	e.req = r
	e.b = append(e.b[:0], data[i:end]...)
	e.sub = e.sub[:0]
	for _, sl := range sub {
		if sl.set {
			sl.start -= i
			sl.end -= i
		}
		e.sub = append(e.sub, sl)
	}
}

// plainASCII reports whether b is printable ASCII without backslashes (a
// string's bytes that read as they are), eight bytes at a time.
func plainASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// a high bit, a byte below 0x20 or a backslash
		if x&jsonscan.MSB != 0 || (x-jsonscan.LSB*0x20)&^x&jsonscan.MSB != 0 || jsonscan.EqMask(x, '\\') != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// cachedVerdict looks the object at data[i] (the value of the plan's
// verdict key) up in the verdict cache: hit=true with its end when it
// starts with the bytes of a value remembered with the verdict it got
// (compared whole: reading a value depends on its bytes alone, so it is
// that value, keys and all, and its sub-keys need not be recorded). On a
// miss it notes where the value starts and the hash of its first bytes
// for rememberVerdict; the caller reads it as usual.
func (d *jsonDoc) cachedVerdict(i int) (end int, hit bool) {
	data := d.data
	d.vhit, d.vstart, d.vend = false, -1, 0 // this occurrence replaces an earlier one
	if d.verdicts == nil || i >= len(data) || data[i] != '{' {
		return 0, false
	}
	rest := data[i:]
	h := maphash.Bytes(d.verdicts.seed, rest[:min(len(rest), verdictPrefix)])
	if e := &d.verdicts.ents[h%verdictEntries]; e.plan == d.plan && e.h == h && len(e.b) > 0 && len(rest) >= len(e.b) && bytes.Equal(rest[:len(e.b)], e.b) {
		d.vhit, d.vsigs = true, e.sigs
		return i + len(e.b), true
	}
	d.vh, d.vstart = h, i
	return 0, false
}

// verdictCache remembers, per event kind whose conditions all read under
// one key (jplan.vkey), the verdict (which of the kind's signatures the
// conditions admit, bit i for eventMatcher.sigs[i]) of the last values of
// that key it saw, by their bytes: a build opens the same files with the
// same flags again and again, and such an event's args are the same bytes.
// The verdict is a function of those bytes (every test reads inside them),
// so an event whose value is byte for byte a remembered one gets its
// verdict without the tests, nor the reading of the value's keys.
type verdictCache struct {
	seed maphash.Seed
	ents [verdictEntries]verdictEntry
}

const (
	verdictEntries = 2048 // direct-mapped by the hash of a value's first bytes
	verdictPrefix  = 128
	verdictMax     = 1 << 10
)

type verdictEntry struct {
	plan *jplan
	h    uint64
	b    []byte
	sigs uint64
}

// rememberVerdict remembers sigs as the verdict of the value cachedVerdict
// noted (when it did: the last occurrence of the key, an object).
func (d *jsonDoc) rememberVerdict(sigs uint64) {
	if d.verdicts == nil || d.vend == 0 || d.vend-d.vstart > verdictMax || !d.ok {
		return
	}
	e := &d.verdicts.ents[d.vh%verdictEntries]
	e.plan, e.h, e.sigs = d.plan, d.vh, sigs
	e.b = append(e.b[:0], d.data[d.vstart:d.vend]...)
}

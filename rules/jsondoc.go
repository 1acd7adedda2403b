package rules

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/jsonscan"
)

// jsonDoc reads fields out of one event's JSON form without decoding it:
// the matcher's view of a NATS payload or capture line. An event in the
// producer's layout (its name first) is read by the plan of its kind
// (newPlannedDoc: only the keys its conditions read are recorded). Any
// other is indexed: the keys of the top-level object and of the objects
// directly under it (process, args) in one pass over the bytes, skipping
// everything else. Deeper fields are found by scanning from there.
// Duplicate keys resolve to the last one, as encoding/json does. Malformed
// JSON reads as missing fields; the event's full decoding reports it.
type jsonDoc struct {
	data []byte
	top  []jkv
	sub  []jkv // the keys of indexed objects under top, contiguous per object
	ok   bool
	// plan, when set, replaces the index: only the keys it lists were
	// recorded (slots), every other value skipped (newPlannedDoc)
	plan             *jplan
	slots            []jslot
	objStart, objEnd int // the top-level object
	memo             *scanMemo
	// verdicts: the verdicts of the values of the plan's verdict key
	// (jplan.vkey); vhit: the last occurrence of that key has a value
	// remembered there, its verdict vsigs (the sub-keys then not
	// recorded); otherwise vend > 0 when it was an object read whole,
	// data[vstart:vend], whose first bytes hash to vh: its verdict can be
	// remembered
	verdicts     *verdictCache
	vhit         bool
	vsigs        uint64
	vh           uint64
	vstart, vend int
}

// jkv is one key of an indexed object and the span of its value; sub holds
// the keys of the value when it is an object indexed too.
type jkv struct {
	key              string
	start, end       int
	subStart, subEnd int // range in jsonDoc.sub
	subOK            bool
}

// mval is one JSON value as the matcher sees it.
type mval struct {
	kind byte // 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' object, 'a' array
	s    string
	// for objects and arrays, the span in the document, and whether
	// they have no element
	start, end int
	empty      bool
}

func newJSONDoc(data []byte, top, sub []jkv) jsonDoc {
	d := jsonDoc{data: data, top: top[:0], sub: sub[:0]}
	i := jsonscan.WS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return d
	}
	end, ok := d.indexObject(i, true)
	if !ok {
		return d
	}
	// what follows the object: nothing, or what event.Unmarshal lets pass
	// (its decoder stops at a closing bracket or brace)
	if rest := jsonscan.WS(data, end); rest != len(data) && data[rest] != '}' && data[rest] != ']' {
		return d
	}
	d.ok = true
	return d
}

// indexObject indexes the object at data[i] ('{') into top (and the
// objects directly under it into sub), or, for an object under top, into
// sub.
func (d *jsonDoc) indexObject(i int, isTop bool) (int, bool) {
	data := d.data
	i++ // {
	i = jsonscan.WS(data, i)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		i = jsonscan.WS(data, i)
		key, ni, ok := readString(data, i)
		if !ok {
			return 0, false
		}
		i = jsonscan.WS(data, ni)
		if i >= len(data) || data[i] != ':' {
			return 0, false
		}
		i = jsonscan.WS(data, i+1)
		kv := jkv{key: key, start: i}
		if isTop && i < len(data) && data[i] == '{' {
			kv.subStart = len(d.sub)
			end, ok := d.indexObject(i, false)
			if !ok {
				return 0, false
			}
			kv.subEnd, kv.subOK, kv.end = len(d.sub), true, end
			i = end
		} else {
			end, ok := jsonscan.Value(data, i)
			if !ok {
				return 0, false
			}
			kv.end = end
			i = end
		}
		// every key is kept: a lookup takes the last match, as the
		// decoder's last write wins
		if isTop {
			d.top = append(d.top, kv)
		} else {
			d.sub = append(d.sub, kv)
		}
		i = jsonscan.WS(data, i)
		if i >= len(data) {
			return 0, false
		}
		if data[i] == ',' {
			i++
			continue
		}
		if data[i] == '}' {
			return i + 1, true
		}
		return 0, false
	}
}

// readString reads the string at data[i] ('"'), unescaped. A plain
// string (no escapes, valid UTF-8) is returned without copying (it
// aliases data); any other goes through encoding/json, so it reads exactly
// as the event's decoding reads it (invalid UTF-8 becomes U+FFFD).
func readString(data []byte, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	plain := true
	for j < len(data) {
		c := data[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			j += 2
			continue
		}
		if c < 0x20 {
			return "", 0, false
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
		j++
	}
	if j >= len(data) {
		return "", 0, false
	}
	b := data[i+1 : j]
	if plain || (bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b)) {
		return unsafe.String(unsafe.SliceData(b), len(b)), j + 1, true
	}
	var s string
	if err := json.Unmarshal(data[i:j+1], &s); err != nil {
		return "", 0, false
	}
	return s, j + 1, true
}

// valueAt reads the value at data[i] (scalars in full, containers as
// spans).
func valueAt(data []byte, i, end int) mval {
	if i >= len(data) {
		return mval{kind: 'z'}
	}
	switch data[i] {
	case '"':
		if end-i >= 2 && end <= len(data) && data[end-1] == '"' {
			if b := data[i+1 : end-1]; plainASCII(b) {
				return mval{kind: 's', s: unsafe.String(unsafe.SliceData(b), len(b))}
			}
		}
		s, _, ok := readString(data, i)
		if !ok {
			return mval{kind: 'x'}
		}
		return mval{kind: 's', s: s}
	case '{', '[':
		k := byte('o')
		if data[i] == '[' {
			k = 'a'
		}
		j := jsonscan.WS(data, i+1)
		return mval{kind: k, start: i, end: end, empty: j < len(data) && (data[j] == '}' || data[j] == ']')}
	case 't':
		return mval{kind: 't'}
	case 'f':
		return mval{kind: 'f'}
	case 'n':
		return mval{kind: 'z'}
	}
	b := data[i:end]
	return mval{kind: 'n', s: unsafe.String(unsafe.SliceData(b), len(b))}
}

// each calls fn for every value at path (several where a segment is "some
// element"), until fn returns true; it reports whether one did.
func (d *jsonDoc) each(path []seg, fn func(mval) bool) bool {
	if !d.ok || len(path) == 0 {
		return false
	}
	if def, ok := zeroDefault(path); ok {
		// a field the event's decoding fills in when it is missing or null
		v, found := d.value(path)
		if !found || v.kind == 'z' {
			return fn(def)
		}
		return fn(v)
	}
	return d.lookupPlain(path, fn)
}

// value returns the value at a path of keys only.
func (d *jsonDoc) value(path []seg) (mval, bool) {
	var out mval
	found := d.lookupPlain(path, func(x mval) bool { out = x; return true })
	return out, found
}

// zeroDefault: the fields of the event's JSON form that are not omitted
// when empty read as their zero value when missing or null (the Rego input
// is built from the decoded event, which has them).
func zeroDefault(path []seg) (mval, bool) {
	for _, sg := range path {
		if sg.kind != segKey {
			return mval{}, false
		}
	}
	switch len(path) {
	case 1:
		switch path[0].key {
		case "name", "host":
			return mval{kind: 's'}, true
		case "return_value":
			return mval{kind: 'n', s: "0"}, true
		}
	case 2:
		if path[0].key != "process" {
			return mval{}, false
		}
		switch path[1].key {
		case "comm":
			return mval{kind: 's'}, true
		case "pid", "tid", "ppid", "host_pid", "host_tid", "host_ppid", "uid", "gid", "euid", "egid", "cgroup_id", "mnt_ns", "pid_ns":
			return mval{kind: 'n', s: "0"}, true
		}
	}
	return mval{}, false
}

func (d *jsonDoc) lookupPlain(path []seg, fn func(mval) bool) bool {
	if !d.ok {
		return false // not one well-formed JSON object: nothing to read
	}
	if d.plan != nil {
		return d.lookupPlanned(path, fn)
	}
	kvs, subOK := d.top, true
	for pi, sg := range path {
		if !subOK || sg.kind != segKey {
			// continue by scanning from the value found so far
			return false
		}
		var found *jkv
		for j := range kvs {
			if keyMatch(kvs[j].key, sg) {
				found = &kvs[j]
			}
		}
		if found == nil {
			return false
		}
		if pi == len(path)-1 {
			return fn(valueAt(d.data, found.start, found.end))
		}
		if found.subOK {
			kvs, subOK = d.sub[found.subStart:found.subEnd], true
			continue
		}
		return scanEach(d.data, valueAt(d.data, found.start, found.end), path[pi+1:], fn)
	}
	return false
}

// scanEach follows path inside a container value by scanning.
func scanEach(data []byte, v mval, path []seg, fn func(mval) bool) bool {
	if len(path) == 0 {
		return fn(v)
	}
	sg := path[0]
	switch {
	case sg.kind == segKey && v.kind == 'o':
		// last duplicate wins: find the last matching key
		i := jsonscan.WS(data, v.start+1)
		last := -1
		lastEnd := 0
		if i < len(data) && data[i] == '}' {
			return false
		}
		for i < v.end {
			key, ni, ok := readString(data, i)
			if !ok {
				return false
			}
			i = jsonscan.WS(data, ni)
			if i >= len(data) || data[i] != ':' {
				return false
			}
			i = jsonscan.WS(data, i+1)
			end, ok := jsonscan.Value(data, i)
			if !ok {
				return false
			}
			if keyMatch(key, sg) {
				last, lastEnd = i, end
			}
			i = jsonscan.WS(data, end)
			if i < len(data) && data[i] == ',' {
				i = jsonscan.WS(data, i+1)
				continue
			}
			break
		}
		if last < 0 {
			return false
		}
		return scanEach(data, valueAt(data, last, lastEnd), path[1:], fn)
	case (sg.kind == segAny || sg.kind == segIndex) && v.kind == 'a':
		i := jsonscan.WS(data, v.start+1)
		if i < len(data) && data[i] == ']' {
			return false
		}
		n := 0
		for i < v.end {
			end, ok := jsonscan.Value(data, i)
			if !ok {
				return false
			}
			if sg.kind == segAny || n == sg.index {
				if scanEach(data, valueAt(data, i, end), path[1:], fn) {
					return true
				}
				if sg.kind == segIndex {
					return false
				}
			}
			n++
			i = jsonscan.WS(data, end)
			if i < len(data) && data[i] == ',' {
				i = jsonscan.WS(data, i+1)
				continue
			}
			break
		}
	}
	return false
}

// keyMatch: a JSON key names the field of a path step. A struct field's
// key matches case-insensitively, as encoding/json matches it.
func keyMatch(key string, sg seg) bool {
	if key == sg.key {
		return true
	}
	if !sg.fold {
		return false
	}
	if len(key) != len(sg.key) {
		// only non-ASCII folds (the Kelvin sign, the long s) change the
		// length
		ascii := true
		for i := range len(key) {
			if key[i] >= utf8.RuneSelf {
				ascii = false
				break
			}
		}
		if ascii {
			return false
		}
	}
	return strings.EqualFold(key, sg.key)
}

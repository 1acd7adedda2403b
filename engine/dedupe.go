package engine

import (
	"encoding/json"
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// deduper remembers recent findings so that a burst of identical ones (a
// loop loading the same module, a crash-looping service) becomes one.
type deduper struct {
	window time.Duration
	seed   maphash.Seed

	mu        sync.Mutex
	seen      map[uint64]time.Time // finding key -> when last let through
	lastPrune time.Time
}

// pruneAt is the number of remembered findings from which expired ones are
// swept.
const pruneAt = 4096

func newDeduper(window time.Duration) *deduper {
	return &deduper{window: window, seed: maphash.MakeSeed(), seen: map[uint64]time.Time{}}
}

// key identifies a finding for deduplication: signature, host, process (pids
// and executable) and the signature's fields.
func (d *deduper) key(sigID string, ev *event.Event, fields map[string]any) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(sigID)
	h.WriteByte(0)
	h.WriteString(ev.Host)
	h.WriteByte(0)
	h.WriteString(strconv.FormatUint(uint64(ev.Process.HostPid), 10))
	h.WriteByte(0)
	h.WriteString(strconv.FormatUint(uint64(ev.Process.Pid), 10))
	h.WriteByte(0)
	h.WriteString(ev.Process.Exe)
	h.WriteByte(0)
	// encoding/json sorts map keys, so equal fields give equal bytes.
	data, err := json.Marshal(fields)
	if err != nil {
		// Unencodable fields cannot be compared; keep the finding apart.
		h.WriteString(err.Error())
	}
	h.Write(data)
	return h.Sum64()
}

// admit reports whether a finding with this key may go out at now, and
// remembers it.
func (d *deduper) admit(key uint64, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if last, ok := d.seen[key]; ok && now.Sub(last) < d.window {
		return false
	}
	d.seen[key] = now
	if len(d.seen) >= pruneAt && now.Sub(d.lastPrune) >= d.window {
		for k, t := range d.seen {
			if now.Sub(t) >= d.window {
				delete(d.seen, k)
			}
		}
		d.lastPrune = now
	}
	return true
}

// forget lets the finding with this key through again: its first copy never
// reached its destination (the event will be evaluated again).
func (d *deduper) forget(key uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
}

// Forget makes the engine's de-duplication forget findings that could not be
// delivered, so that evaluating their event again reports them again rather
// than suppressing them as duplicates of findings nobody received.
func (e *Engine) Forget(fs []Finding) {
	if e.dedupe == nil {
		return
	}
	for i := range fs {
		if fs[i].Event != nil {
			e.dedupe.forget(e.dedupe.key(fs[i].Signature.ID, fs[i].Event, fs[i].Fields))
		}
	}
}

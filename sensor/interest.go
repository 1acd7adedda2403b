package sensor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"math/bits"

	"github.com/cilium/ebpf"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
)

// procTableEvents are the events the process table keeps itself up to date
// from (proctable.go): the sensor enables them whatever the signatures
// select, and publishes them only when some signature wants them.
var procTableEvents = []string{"sched_process_fork", "sched_process_exec", "sched_process_exit", "commit_creds"}

// selection is what the sensor emits and publishes for one interest.
type selection struct {
	// kernel: the events the BPF programs emit (interest, process table,
	// Config.Enable, minus Config.Disable)
	kernel func(event.Spec) bool
	// publish[id]: the event goes out (nil: every decoded event does)
	publish map[event.ID]bool
	// critical ids for the critical ring buffer
	critical map[event.ID]bool
	open     openFilterPlan
}

// selectFor computes the selection of an interest; nil means today's
// default set: every event not marked Off, all published, no kernel filter.
func (c Config) selectFor(in *event.Interest) (selection, error) {
	base, err := c.wanted()
	if err != nil {
		return selection{}, err
	}
	if in == nil {
		return selection{kernel: base}, nil
	}
	if err := in.Validate(); err != nil {
		return selection{}, err
	}
	sel := selection{publish: map[event.ID]bool{}, critical: map[event.ID]bool{}}
	on := map[string]bool{}
	for _, n := range procTableEvents {
		on[n] = true
	}
	for name, cond := range in.Events {
		spec, _ := event.Lookup(name)
		on[name] = true
		sel.publish[spec.ID] = true
		if cond.Critical && event.Rare(name) {
			sel.critical[spec.ID] = true
		}
	}
	for _, n := range c.Enable {
		if s, ok := event.Lookup(n); ok {
			on[n] = true
			sel.publish[s.ID] = true
		}
	}
	disabled := map[string]bool{}
	for _, n := range c.Disable {
		disabled[n] = true
	}
	sel.kernel = func(s event.Spec) bool {
		if captureEvents[s.Name] && c.CaptureDir != "" {
			return true
		}
		return on[s.Name] && !disabled[s.Name]
	}
	if c.CaptureDir != "" {
		for n := range captureEvents {
			if s, ok := event.Lookup(n); ok {
				sel.publish[s.ID] = true
			}
		}
	}
	if cond, ok := in.Events["security_file_open"]; ok {
		sel.open = planOpenFilter(cond)
	}
	return sel, nil
}

// openFilterPlan is the kernel form of the condition on security_file_open
// (bpf/lib/open_filter.h); off when the condition cannot narrow opens.
type openFilterPlan struct {
	on       bool
	nalts    int
	pathFree uint64                 // alternatives with no kernel-tested path test
	any      [openFilterAlts]uint32 // per alternative: flags & any != 0
	none     [openFilterAlts]uint32 // per alternative: flags & none == 0
	prefixes map[string]uint64      // path prefix -> alternatives
	exact    map[string]uint64      // whole path -> alternatives
	names    map[string]uint64      // file name (suffix "/name") -> alternatives
	needles  map[string]uint64      // substring -> alternatives
	why      string                 // why it is off, for the log
}

const (
	openFilterAlts = 64
	// at most this many distinct flag bits are tested: the kernel looks up
	// every combination of them (2^n entries)
	openFilterFlagBits = 12
	openFilterKey      = 256 // bytes of path in the trie key, the NUL included
	openFilterName     = 64
)

// planOpenFilter keeps, per alternative, one path test the kernel can make
// (prefix, exact name, a "/name" suffix, a substring) and the flag masks; every other
// test is dropped, which only widens what passes. An alternative with no
// test the kernel can make lets every path through (pathFree).
func planOpenFilter(c event.Condition) openFilterPlan {
	p := openFilterPlan{prefixes: map[string]uint64{}, exact: map[string]uint64{}, names: map[string]uint64{}, needles: map[string]uint64{}}
	switch {
	case c.Always || len(c.Any) == 0:
		p.why = "some signature wants every open"
		return p
	case len(c.Any) > openFilterAlts:
		p.why = fmt.Sprintf("%d alternatives, more than the kernel filter's %d", len(c.Any), openFilterAlts)
		return p
	}
	for i, conj := range c.Any {
		bit := uint64(1) << i
		pathDone := false
		var anySet bool
		for _, t := range conj {
			switch t.Field {
			case "args.flags":
				switch t.Op {
				case event.OpBitsAny:
					if !anySet && t.Mask <= 0xffffffff {
						p.any[i], anySet = uint32(t.Mask), true
					}
				case event.OpBitsNone:
					if t.Mask <= 0xffffffff {
						p.none[i] |= uint32(t.Mask)
					}
				}
			case "args.pathname":
				if pathDone {
					continue
				}
				pathDone = p.addPath(t, bit)
			}
		}
		if !pathDone {
			p.pathFree |= bit
		}
	}
	p.nalts = len(c.Any)
	if p.flagMask() == 0 && p.pathFree == p.all() {
		p.why = "no alternative tests the path or flags in a way the kernel can"
		return p
	}
	p.on = true
	return p
}

func (p openFilterPlan) all() uint64 {
	if p.nalts == 64 {
		return ^uint64(0)
	}
	return 1<<p.nalts - 1
}

// flagMask is every flag bit an alternative tests; 0 when there are too
// many to enumerate (the flag tests are then widened away).
func (p openFilterPlan) flagMask() uint32 {
	var m uint32
	for i := 0; i < p.nalts; i++ {
		m |= p.any[i] | p.none[i]
	}
	if bits.OnesCount32(m) > openFilterFlagBits {
		return 0
	}
	return m
}

// flagSets maps every combination of the tested flag bits to the
// alternatives whose flag tests it passes.
func (p openFilterPlan) flagSets() map[uint32]uint64 {
	m := p.flagMask()
	if m == 0 {
		return nil
	}
	out := map[uint32]uint64{}
	// every subset of m: sub = (sub - m) & m walks them all
	for sub := uint32(0); ; sub = (sub - m) & m {
		var alts uint64
		for i := 0; i < p.nalts; i++ {
			if p.any[i] != 0 && sub&p.any[i] == 0 {
				continue
			}
			if sub&p.none[i] != 0 {
				continue
			}
			alts |= 1 << i
		}
		out[sub] = alts
		if sub == m {
			break
		}
	}
	return out
}

// addPath adds a path test for alternative bit if the kernel can make it:
// all of its strings must be representable, else the test is skipped.
func (p *openFilterPlan) addPath(t event.Test, bit uint64) bool {
	switch t.Op {
	case event.OpPrefix:
		for _, s := range t.Strings {
			if s == "" {
				return false // every path
			}
		}
		for _, s := range t.Strings {
			if len(s) > openFilterKey {
				s = s[:openFilterKey] // a shorter prefix passes more: sound
			}
			p.prefixes[s] |= bit
		}
		return true
	case event.OpEq:
		if len(t.Strings) == 0 {
			return false
		}
		for _, s := range t.Strings {
			if len(s)+1 > openFilterKey {
				p.prefixes[s[:openFilterKey]] |= bit // cut: tested as a prefix
				continue
			}
			p.exact[s] |= bit
		}
		return true
	case event.OpContains:
		for _, s := range t.Strings {
			if s == "" || len(s) >= openFilterKey {
				return false
			}
		}
		for _, s := range t.Strings {
			p.needles[s] |= bit
		}
		return true
	case event.OpSuffix:
		for _, s := range t.Strings {
			name, ok := strings.CutPrefix(s, "/")
			if !ok || name == "" || strings.Contains(name, "/") || len(name) >= openFilterName {
				return false
			}
		}
		for _, s := range t.Strings {
			p.names[s[1:]] |= bit
		}
		return true
	}
	return false
}

// trieEntries returns the LPM trie's entries: each prefix or exact name
// carries its own alternatives and those of every stored prefix of it,
// since the trie answers with the longest match only.
func (p openFilterPlan) trieEntries() map[string]uint64 {
	out := map[string]uint64{}
	for s, b := range p.prefixes {
		out[s] |= b
	}
	for s, b := range p.exact {
		k := s + "\x00"
		out[k] |= b
	}
	for k := range out {
		for pre, b := range p.prefixes {
			if len(pre) < len(k) && strings.HasPrefix(k, pre) {
				out[k] |= b
			}
		}
	}
	return out
}

// apply writes the plan into the BPF maps. The filter is switched off
// first and on last, so the kernel never applies half a plan.
func (p openFilterPlan) apply(maps map[string]*ebpf.Map) error {
	cfg, paths, names, flags, needles := maps["open_filter"], maps["open_filter_paths"], maps["open_filter_names"], maps["open_filter_flagsets"], maps["open_filter_needles"]
	if cfg == nil || paths == nil || names == nil || flags == nil || needles == nil {
		return errors.New("the BPF objects have no open filter maps")
	}
	zero := uint32(0)
	if err := cfg.Update(zero, bpf.OpenFilter{}, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("switching the open filter off: %w", err)
	}
	if err := clearMap(paths, new(bpf.OpenFilterKey)); err != nil {
		return fmt.Errorf("clearing open_filter_paths: %w", err)
	}
	if err := clearMap(names, new([openFilterName]byte)); err != nil {
		return fmt.Errorf("clearing open_filter_names: %w", err)
	}
	if err := clearMap(needles, new(bpf.OpenFilterKey)); err != nil {
		return fmt.Errorf("clearing open_filter_needles: %w", err)
	}
	if err := clearMap(flags, new(uint32)); err != nil {
		return fmt.Errorf("clearing open_filter_flagsets: %w", err)
	}
	if !p.on {
		return nil
	}
	for k, alts := range p.flagSets() {
		if err := flags.Update(k, alts, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("open filter flags %#o: %w", k, err)
		}
	}
	for s, bits := range p.trieEntries() {
		k := bpf.OpenFilterKey{Prefixlen: uint32(len(s) * 8)}
		copy(k.Data[:], s)
		if err := paths.Update(&k, bits, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("open filter path %q: %w", s, err)
		}
	}
	for s, bits := range p.names {
		var k [openFilterName]byte
		copy(k[:], s)
		if err := names.Update(&k, bits, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("open filter name %q: %w", s, err)
		}
	}
	v := bpf.OpenFilter{On: 1, FlagMask: p.flagMask(), PathFree: p.pathFree, All: p.all()}
	for s, bits := range p.needles {
		k := bpf.OpenFilterKey{Prefixlen: uint32(len(s) * 8)}
		copy(k.Data[:], s)
		if err := needles.Update(&k, bits, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("open filter substring %q: %w", s, err)
		}
		v.Starts[s[0]>>6] |= 1 << (s[0] & 63)
		v.HasNeedles = 1
	}
	if len(p.names) > 0 {
		v.HasNames = 1
	}
	if err := cfg.Update(zero, v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("switching the open filter on: %w", err)
	}
	return nil
}

func (p openFilterPlan) String() string {
	if !p.on {
		return "off: " + p.why
	}
	var n []string
	for s := range p.prefixes {
		n = append(n, s+"*")
	}
	for s := range p.exact {
		n = append(n, s)
	}
	for s := range p.names {
		n = append(n, "*/"+s)
	}
	for s := range p.needles {
		n = append(n, "*"+s+"*")
	}
	slices.Sort(n)
	return fmt.Sprintf("%d alternatives over %d paths", p.nalts, len(n))
}

// clearMap deletes every key of m; key points at a value of m's key type.
func clearMap[K any](m *ebpf.Map, key *K) error {
	var keys []K
	it := m.Iterate()
	var v uint64
	for it.Next(key, &v) {
		keys = append(keys, *key)
	}
	if err := it.Err(); err != nil {
		return err
	}
	for i := range keys {
		if err := m.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	return nil
}

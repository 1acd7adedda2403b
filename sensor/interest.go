package sensor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"math/bits"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

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
	// dupSocketOnly[id]: every alternative of dup event id's condition
	// wants a socket duplicated (dup_socket_only in bpf/net_sock.bpf.c)
	dupSocketOnly map[event.ID]bool
	// socketFilters[id]: the families and types of socket creation event
	// id some signature can want (socket_filters in bpf/net_sock.bpf.c);
	// absent: every creation
	socketFilters map[event.ID]bpf.SocketFilter
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
	sel.dupSocketOnly = map[event.ID]bool{}
	for _, name := range dupEvents {
		if cond, ok := in.Events[name]; ok && socketOnly(cond) {
			spec, _ := event.Lookup(name)
			sel.dupSocketOnly[spec.ID] = true
		}
	}
	sel.socketFilters = map[event.ID]bpf.SocketFilter{}
	for _, name := range socketCreateEvents {
		if cond, ok := in.Events[name]; ok {
			if f, ok := planSocketFilter(cond); ok {
				spec, _ := event.Lookup(name)
				sel.socketFilters[spec.ID] = f
			}
		}
	}
	return sel, nil
}

// socketCreateEvents are the events of a socket's creation, which
// socket_filters narrows.
var socketCreateEvents = []string{"socket", "security_socket_create"}

// socketFamilies and socketTypes are the numbers behind the names the
// sensor gives families and types (net_save_name in bpf/lib/net_fmt.h);
// others are written AF_<number> and SOCK_<number>.
var (
	socketFamilies = map[string]uint32{
		"AF_UNSPEC": unix.AF_UNSPEC, "AF_UNIX": unix.AF_UNIX, "AF_INET": unix.AF_INET, "AF_INET6": unix.AF_INET6,
		"AF_NETLINK": unix.AF_NETLINK, "AF_PACKET": unix.AF_PACKET, "AF_VSOCK": unix.AF_VSOCK, "AF_XDP": unix.AF_XDP,
	}
	socketTypes = map[string]uint32{
		"SOCK_STREAM": unix.SOCK_STREAM, "SOCK_DGRAM": unix.SOCK_DGRAM, "SOCK_RAW": unix.SOCK_RAW, "SOCK_RDM": unix.SOCK_RDM,
		"SOCK_SEQPACKET": unix.SOCK_SEQPACKET, "SOCK_DCCP": unix.SOCK_DCCP, "SOCK_PACKET": unix.SOCK_PACKET,
	}
)

// socketNameBits returns the bits of the values named in names (bit n for
// value n, values from limit up on bit limit), or ok false when a name is
// not one the sensor writes (the test then cannot narrow anything).
func socketNameBits(names []string, known map[string]uint32, prefix string, limit uint32) (bits uint64, ok bool) {
	for _, n := range names {
		v, found := known[n]
		if !found {
			num, err := strconv.ParseUint(strings.TrimPrefix(n, prefix), 10, 32)
			if !strings.HasPrefix(n, prefix) || err != nil {
				return 0, false
			}
			v = uint32(num)
		}
		bits |= 1 << min(v, limit)
	}
	return bits, true
}

// planSocketFilter turns the condition on a socket creation event into
// socket_filters' form: per alternative, the families its equality tests on
// args.family allow and the types its tests on args.type allow (every
// family or type where it has none, or one the kernel form cannot say).
// Its other tests are dropped, which only widens what passes. ok is false
// when nothing can be narrowed: every creation then goes out.
func planSocketFilter(c event.Condition) (f bpf.SocketFilter, ok bool) {
	const allFamilies, allTypes = ^uint64(0), uint32(1<<16 - 1)
	if c.Always || len(c.Any) == 0 || len(c.Any) > len(f.Families) {
		return f, false
	}
	narrow := false
	for i, conj := range c.Any {
		fam, typ := allFamilies, uint64(allTypes)
		for _, t := range conj {
			if t.Op != event.OpEq || len(t.Strings) == 0 || len(t.Ints) > 0 || t.Bool != nil {
				continue
			}
			switch t.Field {
			case "args.family":
				if b, ok := socketNameBits(t.Strings, socketFamilies, "AF_", 63); ok {
					fam &= b
				}
			case "args.type":
				if b, ok := socketNameBits(t.Strings, socketTypes, "SOCK_", 15); ok {
					typ &= b
				}
			}
		}
		if fam != allFamilies || typ != uint64(allTypes) {
			narrow = true
		}
		f.Families[i], f.Types[i] = fam, uint32(typ)
	}
	if !narrow {
		return bpf.SocketFilter{}, false
	}
	f.On, f.Nalts = 1, uint32(len(c.Any))
	return f, true
}

// applySocketFilters writes socket_filters: a plan for each socket
// creation event with one, off for the others.
func applySocketFilters(maps map[string]*ebpf.Map, plans map[event.ID]bpf.SocketFilter) error {
	return writePerEvent(maps, "socket_filters", socketCreateEvents, func(id event.ID) bpf.SocketFilter { return plans[id] })
}

// dupEvents are the events sys_exit_dup emits.
var dupEvents = []string{"dup", "dup2", "dup3"}

// socketOnly reports whether every alternative of c holds only for a
// socket's descriptor (a test args.fd_type eq ["socket"]): then a
// duplication of anything else can make no signature fire.
func socketOnly(c event.Condition) bool {
	if c.Always || len(c.Any) == 0 {
		return false
	}
	for _, conj := range c.Any {
		if !slices.ContainsFunc(conj, isSocketTest) {
			return false
		}
	}
	return true
}

// isSocketTest reports whether t holds only for a socket's descriptor.
func isSocketTest(t event.Test) bool {
	return t.Field == "args.fd_type" && t.Op == event.OpEq && len(t.Strings) > 0 && len(t.Ints) == 0 && t.Bool == nil &&
		!slices.ContainsFunc(t.Strings, func(s string) bool { return s != "socket" })
}

// applyDupFilter writes dup_socket_only: 1 for the dup events only a
// socket's duplication interests, 0 for the others.
func applyDupFilter(maps map[string]*ebpf.Map, only map[event.ID]bool) error {
	return writePerEvent(maps, "dup_socket_only", dupEvents, func(id event.ID) uint32 {
		if only[id] {
			return 1
		}
		return 0
	})
}

// writePerEvent writes value(id) at each id of the events called names in
// the per-event array map called name.
func writePerEvent[V any](maps map[string]*ebpf.Map, name string, names []string, value func(event.ID) V) error {
	m := maps[name]
	if m == nil {
		return fmt.Errorf("the BPF objects have no %s map", name)
	}
	for _, n := range names {
		spec, ok := event.Lookup(n)
		if !ok {
			continue
		}
		if err := m.Update(uint32(spec.ID), value(spec.ID), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("%s[%s]: %w", name, n, err)
		}
	}
	return nil
}

// openFilterPlan is the kernel form of the condition on security_file_open
// (bpf/lib/open_filter.h); off when the condition cannot narrow opens.
type openFilterPlan struct {
	on    bool
	nalts int
	// per kind of path test, the alternatives that have one: an
	// alternative holds when each of its kinds holds (and its flags)
	needPath, needName, needNeedle uint64
	// never: alternatives testing an argument security_file_open does not
	// have (the signatures' conditions are merged per event: a rename's
	// new_path can reach it); the matcher finds no value there and rejects
	never    uint64
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

// pathCand is one test of the path the kernel can make, of one kind.
type pathCand struct {
	strs  []string
	score int // higher is more selective
}

// pathCands are an alternative's best test of each kind.
type pathCands struct {
	trie, name, needle *pathCand
	trieExact          bool
}

func (c *pathCands) offer(slot **pathCand, strs []string) {
	// the shortest string decides, the mean length breaks ties
	short, total := openFilterKey, 0
	for _, s := range strs {
		short, total = min(short, len(s)), total+len(s)
	}
	sc := short*1024 + min(total/max(len(strs), 1), 1023)
	if *slot == nil || sc > (*slot).score {
		*slot = &pathCand{strs: strs, score: sc}
	}
}

// add files the test t of the path under the kind the kernel makes it as,
// deriving literals from a regex; a test it cannot make is left out, which
// only widens what passes.
func (c *pathCands) add(t event.Test) {
	for _, s := range t.Strings {
		if s == "" && t.Op != event.OpEq {
			return // every path
		}
	}
	switch t.Op {
	case event.OpEq:
		if len(t.Strings) == 0 {
			return
		}
		// an exact name beats any prefix; a cut one is tested as a prefix
		if c.trie == nil || !c.trieExact {
			c.trie, c.trieExact = &pathCand{strs: t.Strings}, true
		}
	case event.OpPrefix:
		if !c.trieExact {
			c.offer(&c.trie, t.Strings)
		}
	case event.OpContains:
		for _, s := range t.Strings {
			if len(s) >= openFilterKey {
				return
			}
		}
		c.offer(&c.needle, t.Strings)
	case event.OpSuffix:
		if names, ok := lastNames(t.Strings); ok && fitNames(names) {
			c.offer(&c.name, names)
		}
	case event.OpRegex:
		// a path matching one of several patterns starts with one of
		// the literals of that pattern: the union of every pattern's
		// literals is a test, when each pattern has some (prefixes
		// when all are anchored, else substrings: a prefix is one)
		var union, sfxUnion []string
		allAnchored, okLits, okSfx := true, true, true
		for _, expr := range t.Strings {
			lits, anchored, ok := regexLiterals(expr)
			okLits = okLits && ok
			allAnchored = allAnchored && anchored
			union = append(union, lits...)
			sfx, ok := regexSuffixes(expr)
			okSfx = okSfx && ok
			sfxUnion = append(sfxUnion, sfx...)
		}
		if okLits && len(union) > 0 {
			slices.Sort(union)
			union = slices.Compact(union)
			if allAnchored {
				if !c.trieExact {
					c.offer(&c.trie, union)
				}
			} else if fitNeedles(union) {
				c.offer(&c.needle, union)
			}
		}
		if okSfx && len(sfxUnion) > 0 {
			if names, ok := lastNames(sfxUnion); ok && fitNames(names) {
				c.offer(&c.name, names)
			}
		}
	}
}

func fitNames(names []string) bool {
	for _, n := range names {
		if n == "" || len(n) >= openFilterName {
			return false
		}
	}
	return true
}

func fitNeedles(lits []string) bool {
	for _, s := range lits {
		if s == "" || len(s) >= openFilterKey {
			return false
		}
	}
	return true
}

// planOpenFilter keeps, per alternative, its most selective path test of
// each kind the kernel makes (prefix or exact name, a "/name" suffix, a
// substring; literals derived from a regex count) and the flag masks; every
// other test is left out, which only widens what passes. The kernel then
// evaluates each alternative's kept tests as a conjunction.
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
	spec, _ := event.Lookup("security_file_open")
	hasArg := map[string]bool{}
	for _, a := range spec.Args {
		hasArg[a.Name] = true
	}
	for i, conj := range c.Any {
		bit := uint64(1) << i
		var cands pathCands
		var anySet bool
		for _, t := range conj {
			if arg, ok := strings.CutPrefix(t.Field, "args."); ok && !hasArg[strings.SplitN(arg, ".", 2)[0]] {
				p.never |= bit
			}
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
				cands.add(t)
			}
		}
		if cands.trie != nil {
			p.needPath |= bit
			for _, s := range cands.trie.strs {
				switch {
				case !cands.trieExact:
					p.prefixes[s[:min(len(s), openFilterKey)]] |= bit // a shorter prefix passes more: sound
				case len(s)+1 > openFilterKey:
					p.prefixes[s[:openFilterKey]] |= bit // cut: tested as a prefix
				default:
					p.exact[s] |= bit
				}
			}
		}
		if cands.name != nil {
			p.needName |= bit
			for _, s := range cands.name.strs {
				p.names[s] |= bit
			}
		}
		if cands.needle != nil {
			p.needNeedle |= bit
			for _, s := range cands.needle.strs {
				p.needles[s] |= bit
			}
		}
	}
	p.nalts = len(c.Any)
	if p.flagMask() == 0 && p.pathFree() == p.all() && p.never == 0 {
		p.why = "no alternative tests the path or flags in a way the kernel can"
		return p
	}
	p.on = true
	return p
}

// pathFree is the alternatives no path test of the kernel narrows.
func (p openFilterPlan) pathFree() uint64 {
	return p.live() &^ (p.needPath | p.needName | p.needNeedle)
}

// live is the alternatives that can hold at all.
func (p openFilterPlan) live() uint64 { return p.all() &^ p.never }

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
		if p.never&(1<<i) == 0 {
			m |= p.any[i] | p.none[i]
		}
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
			if p.never&(1<<i) != 0 {
				continue
			}
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

// needleEntries returns the substring trie's entries: each substring
// carries the alternatives of every shorter one it starts with, for the
// same reason.
func (p openFilterPlan) needleEntries() map[string]uint64 {
	out := map[string]uint64{}
	for s, b := range p.needles {
		for pre, pb := range p.needles {
			if strings.HasPrefix(s, pre) {
				b |= pb
			}
		}
		out[s] = b
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
	v := bpf.OpenFilter{On: 1, FlagMask: p.flagMask(), NeedPath: p.needPath, NeedName: p.needName, NeedNeedle: p.needNeedle, All: p.live(),
		Gen: openFilterGen.Add(1)} // the kernel's cached verdicts of other filters no longer count
	for s, bits := range p.needleEntries() {
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

// openFilterGen numbers the filters written to the kernel (open_verdicts
// in bpf/lib/open_filter.h keeps verdicts per generation).
var openFilterGen atomic.Uint64

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

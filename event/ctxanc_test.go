package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// ancestryRef is the ancestors_ctx of a full event on the wire ("" when
// it has none).
func ancestryRefOf(t testing.TB, data []byte) string {
	t.Helper()
	ps, found, err := findProcess(data, false)
	if err != nil || !found {
		t.Fatalf("no process object (%v) in %s", err, data)
	}
	return string(ps.ancRef)
}

// A child's context refers to its parent's for the ancestry beyond the
// parent; a table makes it whole, and asks for the parent when it lacks it.
func TestContextAncestryRefersToParent(t *testing.T) {
	enc := NewContextEncoder(64)
	parent := ctxTestEvent()
	parent.Process.Ancestors = append(parent.Process.Ancestors,
		Ancestor{Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd", Argv: []string{"/sbin/init", "splash"}})
	pw, _ := enc.AppendEvent(nil, parent, false)
	pkey, _ := processCtx(t, pw)
	if ref := ancestryRefOf(t, pw); ref != "" {
		t.Fatalf("the first context refers to %q:\n%s", ref, pw)
	}

	child := ctxTestEvent()
	child.Process = Process{Pid: 7900, Tid: 7900, Ppid: 7855, HostPid: 7900, HostTid: 7900, HostPpid: 7855,
		Comm: "cat", Exe: "/usr/bin/cat", Argv: []string{"cat", "/etc/passwd"}, CgroupID: 1, MntNS: 4026531832, PidNS: 4026531836,
		StartTime: parent.Process.StartTime,
		Ancestors: append([]Ancestor{{Pid: 7855, HostPid: 7855, Comm: "bash", Exe: "/usr/bin/bash", Argv: []string{"bash", "-c", `echo "hi"`}}},
			parent.Process.Ancestors...)}
	cw, _ := enc.AppendEvent(nil, child, false)
	ckey, full := processCtx(t, cw)
	if !full || ancestryRefOf(t, cw) != pkey {
		t.Fatalf("child's context does not refer to its parent's %s:\n%s", pkey, cw)
	}
	if !bytes.Contains(cw, []byte(`"ancestors":[{"pid":7855,"host_pid":7855,"comm":"bash","exe":"/usr/bin/bash","argv":["bash","-c","echo \"hi\""],"uid":0}],"ancestors_ctx":"`+pkey+`","ctx":"`+ckey+`"}`)) {
		t.Fatalf("child's process object not as documented:\n%s", cw)
	}
	want := fullWithCtx(t, child, ckey)
	if len(cw) >= len(want) {
		t.Errorf("child's event %d bytes, whole %d", len(cw), len(want))
	}
	// the encoder answers with the whole object
	if obj, ok := enc.Context(ckey); !ok || bytes.Contains(obj, []byte("ancestors_ctx")) || !bytes.Contains(obj, []byte(`"systemd"`)) {
		t.Fatalf("Context(%s) = %s, %v", ckey, obj, ok)
	}

	tab := NewContextTable(16)
	out, missing, err := tab.Resolve(nil, cw)
	if !errors.Is(err, ErrUnknownContext) || missing != pkey {
		t.Fatalf("without the parent: %q %q %v", out, missing, err)
	}
	if _, err := tab.Add(cw[bytes.Index(cw, []byte(`"process":`))+10 : bytes.Index(cw, []byte(`,"return_value"`))]); !errors.Is(err, ErrUnknownContext) {
		t.Fatalf("Add of an object whose ancestry is unknown: %v", err)
	}
	pobj, _ := enc.Context(pkey)
	if _, err := tab.Add(pobj); err != nil {
		t.Fatal(err)
	}
	out, _, err = tab.Resolve(nil, cw)
	if err != nil || !bytes.Equal(out, want) {
		t.Fatalf("resolved:\n got %s (%v)\nwant %s", out, err, want)
	}
	// learned whole: a lean event of the child resolves, and so does the
	// full one again (held: the table's object with its thread)
	child.Process.Tid, child.Process.HostTid = 7901, 7901
	lean, isLean, _ := enc.Encode(nil, child, false)
	if !isLean {
		t.Fatal("child's second event not lean")
	}
	if out, _, err := tab.Resolve(nil, lean); err != nil || !bytes.Equal(out, fullWithCtx(t, child, ckey)) {
		t.Fatalf("lean child: %s %v", out, err)
	}
	other := NewContextTable(16)
	other.Add(pobj)
	if _, _, err := other.Resolve(nil, cw); err != nil {
		t.Fatal(err)
	}
	if out, _, err := other.Resolve(nil, cw); err != nil || !bytes.Equal(out, want) {
		t.Fatalf("full child event of a held context:\n got %s (%v)\nwant %s", out, err, want)
	}
	// Add makes an object with ancestors_ctx whole from the parent
	third := NewContextTable(16)
	third.Add(pobj)
	cobj := cw[bytes.Index(cw, []byte(`"process":`))+10 : bytes.Index(cw, []byte(`,"return_value"`))]
	if k, err := third.Add(cobj); err != nil || k != ckey {
		t.Fatalf("Add: %q %v", k, err)
	}
	if out, _, err := third.Resolve(nil, lean); err != nil || !bytes.Equal(out, fullWithCtx(t, child, ckey)) {
		t.Fatalf("lean child after Add of its referring object: %s %v", out, err)
	}

	// A sibling refers to the parent too: the first child's context is
	// not an anchor (a reference never leads to another).
	sib := *child
	sib.Process.Pid, sib.Process.HostPid, sib.Process.Tid, sib.Process.HostTid = 7950, 7950, 7950, 7950
	sw, _ := enc.AppendEvent(nil, &sib, false)
	skey, _ := processCtx(t, sw)
	if ancestryRefOf(t, sw) != pkey {
		t.Fatalf("sibling's context does not refer to the parent's %s:\n%s", pkey, sw)
	}
	if out, _, err := tab.Resolve(nil, sw); err != nil || !bytes.Equal(out, fullWithCtx(t, &sib, skey)) {
		t.Fatalf("sibling:\n got %s (%v)\nwant %s", out, err, fullWithCtx(t, &sib, skey))
	}

	// Without the parent's context: the first child goes whole (an
	// anchor), its siblings refer to it with no ancestor listed, up to
	// maxAncestryRefs of them; the next is whole and the new anchor.
	enc2, tab2 := NewContextEncoder(1024), NewContextTable(1024)
	var anchor string
	for i := range maxAncestryRefs + 3 {
		s := *child
		s.Process.Pid, s.Process.HostPid, s.Process.Tid, s.Process.HostTid = uint32(8000+i), uint32(8000+i), uint32(8000+i), uint32(8000+i)
		w, _ := enc2.AppendEvent(nil, &s, false)
		k, _ := processCtx(t, w)
		ref := ancestryRefOf(t, w)
		switch i {
		case 0, maxAncestryRefs + 1:
			if ref != "" {
				t.Fatalf("child %d refers to %s, want whole (an anchor)", i, ref)
			}
			anchor = k
		default:
			if ref != anchor || !bytes.Contains(w, []byte(`"ancestors":[],"ancestors_ctx":"`+anchor+`","ctx":"`+k+`"}`)) {
				t.Fatalf("child %d does not refer to the anchor %s with no ancestor listed:\n%s", i, anchor, w)
			}
		}
		if out, _, err := tab2.Resolve(nil, w); err != nil || !bytes.Equal(out, fullWithCtx(t, &s, k)) {
			t.Fatalf("child %d:\n got %s (%v)\nwant %s", i, out, err, fullWithCtx(t, &s, k))
		}
	}

	// An anchor older than maxAnchorAge is not referred to: the next
	// sibling goes whole.
	enc2.start = enc2.start.Add(-maxAnchorAge - time.Second)
	late := *child
	late.Process.Pid, late.Process.HostPid, late.Process.Tid, late.Process.HostTid = 8999, 8999, 8999, 8999
	if w, _ := enc2.AppendEvent(nil, &late, false); ancestryRefOf(t, w) != "" {
		t.Fatalf("a sibling refers to an anchor older than %s:\n%s", maxAnchorAge, w)
	}

	// A critical event stands alone.
	child.Process.Comm = "cat2"
	crit, _ := enc.AppendEvent(nil, child, true)
	if ancestryRefOf(t, crit) != "" {
		t.Fatalf("critical event refers: %s", crit)
	}
}

// simTree is a random process tree, as a sensor's process table sees it.
type simTree struct {
	r     *rand.Rand
	procs map[uint32]*simProc
	live  []uint32
	next  uint32
	clock time.Time
}

type simProc struct {
	pid, ppid  uint32
	uid, euid  uint32
	comm, exe  string
	argv       []string
	start      time.Time
	ns         uint32
	nsInit     bool // the init of a pid namespace of its own: ancestry stops at it
	shared     *SharedAncestors
	sharedFrom []Ancestor
}

func newSimTree(seed uint64) *simTree {
	st := &simTree{r: rand.New(rand.NewPCG(seed, 7)), procs: map[uint32]*simProc{}, next: 2,
		clock: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	st.procs[1] = &simProc{pid: 1, comm: "systemd", exe: "/usr/lib/systemd/systemd", argv: []string{"/sbin/init"}, start: st.clock, ns: 1}
	st.live = []uint32{1}
	return st
}

func (st *simTree) randArgv() []string {
	n := st.r.IntN(5)
	argv := []string{fmt.Sprintf("prog%d", st.r.IntN(6))}
	for range n {
		if st.r.IntN(8) == 0 {
			argv = append(argv, strings.Repeat("x\"\\é", 40+st.r.IntN(100))) // long, escaped
		} else {
			argv = append(argv, fmt.Sprintf("--arg=%d", st.r.IntN(10)))
		}
	}
	return argv
}

// ancestors of p, nearest first, up to 32, as the sensor builds them;
// siblings share their parent's list (as the sensor's table does) half
// of the time.
func (st *simTree) ancestors(p *simProc) []Ancestor {
	var out []Ancestor
	for q, ok := st.procs[p.ppid]; ok && len(out) < 32; q, ok = st.procs[q.ppid] {
		out = append(out, Ancestor{Pid: q.pid, HostPid: q.pid, Comm: q.comm, Exe: q.exe, Argv: q.argv, UID: q.uid})
		if q.nsInit || q.pid == 1 {
			break
		}
	}
	return out
}

func (st *simTree) step() {
	st.clock = st.clock.Add(time.Duration(st.r.IntN(1000)) * time.Microsecond)
	pid := st.live[st.r.IntN(len(st.live))]
	p := st.procs[pid]
	switch k := st.r.IntN(20); {
	case k < 7 && len(st.live) < 400: // fork
		c := *p
		c.pid, c.ppid, c.start, c.nsInit, c.shared = st.next, p.pid, st.clock, false, nil
		if st.r.IntN(30) == 0 {
			c.nsInit, c.ns = true, p.ns+1
		}
		st.next++
		st.procs[c.pid] = &c
		st.live = append(st.live, c.pid)
	case k < 12: // exec
		p.comm = fmt.Sprintf("prog%d", st.r.IntN(6))
		p.exe = "/usr/bin/" + p.comm
		p.argv = st.randArgv()
	case k < 13: // setuid
		p.euid = uint32(st.r.IntN(3)) * 1000
		p.uid = p.euid
	case k < 14: // rename (prctl)
		p.comm = fmt.Sprintf("worker%d", st.r.IntN(3))
	case k < 16 && pid != 1: // exit: children go to init
		delete(st.procs, pid)
		i := slices.Index(st.live, pid)
		st.live = slices.Delete(st.live, i, i+1)
		for _, q := range st.procs {
			if q.ppid == pid {
				q.ppid = 1
			}
		}
	}
}

// event of a random live process.
func (st *simTree) event() *Event {
	p := st.procs[st.live[st.r.IntN(len(st.live))]]
	anc := st.ancestors(p)
	tid := p.pid
	if st.r.IntN(4) == 0 {
		tid = p.pid + 100000 + uint32(st.r.IntN(3))
	}
	start := p.start
	ev := &Event{Name: "security_file_open", ID: 300, Time: st.clock, Host: "vm",
		Process: Process{Pid: p.pid, Tid: tid, Ppid: p.ppid, HostPid: p.pid, HostTid: tid, HostPpid: p.ppid,
			UID: p.uid, EUID: p.euid, Comm: p.comm, Exe: p.exe, Argv: p.argv, CgroupID: 1, MntNS: 4026531832, PidNS: p.ns,
			StartTime: &start},
		ReturnValue: 3, Args: map[string]any{"pathname": "/etc/hosts", "flags": int64(0)}}
	if st.r.IntN(2) == 0 {
		// the sensor's table shares one list per process until it changes
		if p.shared == nil || !sameAncestors(p.sharedFrom, anc) {
			p.shared, p.sharedFrom = NewSharedAncestors(anc), anc
		}
		ev.Process.ShareAncestors(p.shared)
	} else {
		ev.Process.Ancestors = anc
	}
	return ev
}

// Every event of random process trees, encoded with references and
// resolved by a table too small for the tree, is its whole form; a missing
// referred context is asked for (ErrUnknownContext with its key) and the
// encoder's answer resolves it.
func TestContextAncestryDifferential(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			st := newSimTree(seed)
			enc := NewContextEncoder(512)
			tab := NewContextTable(8 + int(seed)*4)
			firstRef := map[string]string{} // a context's ancestors_ctx when last sent in full (routine)
			var refs, sameRefs, leanN, askedCtx, askedParent, wireBytes, wholeBytes int
			for i := range 20000 {
				st.step()
				if i%2 == 0 {
					continue
				}
				ev := st.event()
				critical := st.r.IntN(10) == 0
				wire, isLean, err := enc.Encode(nil, ev, critical)
				if err != nil {
					t.Fatal(err)
				}
				key, full := processCtx(t, wire)
				ref := ancestryRefOf(t, wire)
				if full && !critical && !isLean {
					firstRef[key] = ref
				}
				if ref != "" {
					if r, seen := firstRef[ref]; !seen || r != "" {
						t.Fatalf("event %d refers to %s, sent by the encoder with a reference (%q, seen %v): not an anchor", i, ref, r, seen)
					}
					refs++
					if bytes.Contains(wire, []byte(`"ancestors":[],"ancestors_ctx"`)) {
						sameRefs++
					}
					if critical || isLean {
						t.Fatalf("event %d: critical %v lean %v with ancestors_ctx", i, critical, isLean)
					}
				}
				if isLean {
					leanN++
				}
				out, missing, err := tab.Resolve(nil, wire)
				for asks := 0; errors.Is(err, ErrUnknownContext); asks++ {
					switch {
					case full && missing == ref && ref != "":
						askedParent++
					case !full && missing == key:
						askedCtx++
					default:
						t.Fatalf("event %d: missing %q; ctx %q (full %v), ancestors_ctx %q", i, missing, key, full, ref)
					}
					if asks > 0 {
						t.Fatalf("event %d: still missing %q after the answer", i, missing)
					}
					obj, ok := enc.Context(missing)
					if !ok {
						t.Fatalf("event %d: the encoder does not answer for %q", i, missing)
					}
					if k, err := tab.Add(obj); err != nil || k != missing {
						t.Fatalf("event %d: Add: %q %v", i, k, err)
					}
					out, missing, err = tab.Resolve(nil, wire)
				}
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				ev.Probe = ""
				want := fullWithCtx(t, ev, key)
				if !bytes.Equal(out, want) {
					t.Fatalf("event %d (lean %v, ancestors_ctx %q):\n wire %s\n  got %s\n want %s", i, isLean, ref, wire, out, want)
				}
				// the key is the hash of the whole object
				if whole, _ := NewContextEncoder(4).AppendEvent(nil, ev, true); !bytes.Equal(whole, want) {
					t.Fatalf("event %d: key differs from a fresh encoder's:\n%s\n%s", i, whole, want)
				}
				wireBytes += len(wire)
				wholeBytes += len(want)
			}
			t.Logf("%d lean, %d referring to an ancestry (%d to the same one); asked %d contexts, %d referred ones; %d bytes on the wire, %d whole",
				leanN, refs, sameRefs, askedCtx, askedParent, wireBytes, wholeBytes)
			if refs < 100 || sameRefs == 0 || sameRefs == refs || askedParent == 0 || askedCtx == 0 {
				t.Errorf("too few cases exercised: %d references (%d to the same ancestry), %d referred contexts asked, %d contexts asked", refs, sameRefs, askedParent, askedCtx)
			}
		})
	}
}

// Resolve of anything: no panic; an error, or JSON when given JSON; a
// process object made whole has no ancestors_ctx left.
func FuzzContextTableResolve(f *testing.F) {
	enc := NewContextEncoder(64)
	parent := ctxTestEvent()
	pw, _ := enc.AppendEvent(nil, parent, false)
	pkey, _ := processCtx(f, pw)
	child := ctxTestEvent()
	child.Process.Pid, child.Process.HostPid, child.Process.Ppid, child.Process.HostPpid = 7900, 7900, 7855, 7855
	child.Process.Ancestors = append([]Ancestor{{Pid: 7855, HostPid: 7855, Comm: "bash"}}, parent.Process.Ancestors...)
	cw, _ := enc.AppendEvent(nil, child, false)
	f.Add(cw)
	f.Add(pw)
	f.Add([]byte(`{"process":{"pid":1,"ancestors":[],"ancestors_ctx":"` + pkey + `","ctx":"0123456789abcdef"}}`))
	f.Add([]byte(`{"process":{"ancestors_ctx":"` + pkey + `","pid":1,"ancestors":[ {"pid":2} ] ,"ctx":"0123456789abcdef"}}`))
	f.Add([]byte(`{"process":{"pid":1,"ancestors":{},"ancestors_ctx":"` + pkey + `","ctx":"0123456789abcdef"}}`))
	f.Add([]byte(`{"process":{"pid":1,"ancestors_ctx":5,"ctx":"0123456789abcdef"}}`))
	f.Add([]byte(`{"process":{"pid":1,"ancestors_ctx":"a","ancestors_ctx":"b","ctx":"0123456789abcdef"}}`))
	pobj, _ := enc.Context(pkey)
	f.Fuzz(func(t *testing.T, data []byte) {
		tab := NewContextTable(8)
		if _, err := tab.Add(pobj); err != nil {
			t.Fatal(err)
		}
		tab.Add(data)
		out, missing, err := tab.Resolve(nil, data)
		if errors.Is(err, ErrUnknownContext) {
			if missing == "" {
				t.Fatal("unknown context without a key")
			}
			return
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if json.Valid(data) && !json.Valid(out) {
			t.Fatalf("Resolve(%s) = %s: not JSON", data, out)
		}
		if json.Valid(out) {
			if ps, found, err := findProcess(out, false); err == nil && found && ps.full && ps.ancRef != nil {
				t.Fatalf("made whole with ancestors_ctx left: %s", out)
			}
		}
	})
}

// Encode and Resolve per event of an exec-heavy stream (a shell forking
// children that exec, one to four events each, under a chain of ten
// ancestors with their argv), and of a random process tree's: bytes and
// time per event, every full context whole (the encoding before
// ancestors_ctx) against references, in one run.
func BenchmarkContextAncestry(b *testing.B) {
	streams := map[string][]*Event{"shell": execStream(2000), "tree": treeStream(4096)}
	for _, name := range []string{"shell", "tree"} {
		evs := streams[name]
		for _, mode := range []string{"whole", "ref"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				var bytesN, n int
				var buf, out []byte
				b.ReportAllocs()
				for b.Loop() {
					enc, tab := NewContextEncoder(1<<12), NewContextTable(1<<12)
					enc.wholeAncestry = mode == "whole"
					for _, ev := range evs {
						var err error
						if buf, _, err = enc.Encode(buf[:0], ev, false); err != nil {
							b.Fatal(err)
						}
						if out, _, err = tab.Resolve(out[:0], buf); err != nil {
							b.Fatal(err)
						}
						bytesN += len(buf)
						n++
					}
				}
				b.ReportMetric(float64(bytesN)/float64(n), "wire-bytes/event")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
			})
		}
	}
}

func execStream(children int) []*Event {
	r := rand.New(rand.NewPCG(3, 4))
	var chain []Ancestor
	for i := range 10 {
		chain = append(chain, Ancestor{Pid: uint32(100 - i), HostPid: uint32(100 - i), Comm: fmt.Sprintf("p%d", i),
			Exe: "/usr/bin/p" + fmt.Sprint(i), Argv: []string{"p", "--config=/etc/p.conf", strings.Repeat("a", 60)}})
	}
	shell := Ancestor{Pid: 200, HostPid: 200, Comm: "bash", Exe: "/usr/bin/bash", Argv: []string{"bash", "build.sh"}}
	shared := NewSharedAncestors(append([]Ancestor{shell}, chain...))
	st := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	var evs []*Event
	for i := range children {
		pid := uint32(1000 + i)
		start := st.Add(time.Duration(i) * time.Millisecond)
		ev := &Event{Name: "security_file_open", ID: 300, Time: start, Host: "vm",
			Process: Process{Pid: pid, Tid: pid, Ppid: 200, HostPid: pid, HostTid: pid, HostPpid: 200,
				Comm: "cc", Exe: "/usr/bin/cc", Argv: []string{"cc", "-c", fmt.Sprintf("f%d.c", i)}, CgroupID: 1,
				MntNS: 4026531832, PidNS: 4026531836, StartTime: &start},
			ReturnValue: 3, Args: map[string]any{"pathname": fmt.Sprintf("/src/f%d.c", i), "flags": int64(0)}}
		ev.Process.ShareAncestors(shared)
		for range 1 + r.IntN(4) {
			evs = append(evs, ev)
		}
	}
	return evs
}

func treeStream(n int) []*Event {
	st := newSimTree(1)
	var evs []*Event
	for len(evs) < n {
		st.step()
		ev := st.event()
		for range st.r.IntN(10) {
			evs = append(evs, ev) // a process's events come in bursts
		}
	}
	return evs
}

package sensor

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
)

func pathTest(op event.Op, s ...string) event.Test {
	return event.Test{Field: "args.pathname", Op: op, Strings: s}
}

// The trie entries carry the alternatives of every shorter stored prefix:
// the LPM trie answers with the longest match alone.
func TestOpenFilterPlanTrie(t *testing.T) {
	p := planOpenFilter(event.Condition{Any: []event.Conjunction{
		{pathTest(event.OpPrefix, "/etc/")},
		{pathTest(event.OpEq, "/etc/shadow")},
		{pathTest(event.OpSuffix, "/mem")},
		{{Field: "args.flags", Op: event.OpBitsAny, Mask: 3}, pathTest(event.OpRegex, "/[.]ssh/")},
		{pathTest(event.OpContains, "/.ssh/", "_history")},
	}})
	if !p.on {
		t.Fatalf("plan is off: %s", p.why)
	}
	e := p.trieEntries()
	if e["/etc/"] != 1 || e["/etc/shadow\x00"] != 3 {
		t.Errorf("trie entries %v: want /etc/ -> 1, /etc/shadow\\0 -> 3", e)
	}
	if p.names["mem"] != 4 {
		t.Errorf("names %v, want mem -> 4", p.names)
	}
	// the regex's literal "/.ssh/" is a substring the kernel looks for
	if p.needles["/.ssh/"] != 24 || p.needles["_history"] != 16 {
		t.Errorf("needles %v, want /.ssh/ -> 24 and _history -> 16", p.needles)
	}
	if p.pathFree() != 0 || p.needNeedle != 24 || p.any[3] != 3 {
		t.Errorf("pathFree %b needNeedle %b any[3] %d, want 0, 11000 and 3", p.pathFree(), p.needNeedle, p.any[3])
	}
	if fs := p.flagSets(); len(fs) != 4 || fs[0] != 0x17 || fs[1] != 0x1f || fs[3] != 0x1f {
		t.Errorf("flag sets %v, want 0:0x17 1:0x1f 2:0x1f 3:0x1f", fs)
	}
	for _, c := range []event.Condition{
		{Always: true},
		{Any: []event.Conjunction{{pathTest(event.OpPrefix, "/etc/")}, {pathTest(event.OpRegex, ".*")}}},
		{Any: []event.Conjunction{{pathTest(event.OpSuffix, "_history")}}},
		{Any: []event.Conjunction{{pathTest(event.OpPrefix, "")}}},
	} {
		if p := planOpenFilter(c); p.on && p.pathFree() == p.all() && p.flagMask() == 0 {
			t.Errorf("%+v: a plan that lets everything through is on", c)
		}
	}
	if p := planOpenFilter(event.Condition{Any: []event.Conjunction{{pathTest(event.OpRegex, ".*")}}}); p.on {
		t.Errorf("a regex alone must switch the filter off")
	}
}

// A regex test of several patterns holds when one of them matches: the
// union of their literals is a test (prefixes when every pattern is
// anchored, substrings otherwise); one pattern without literals leaves the
// test out.
func TestOpenFilterPlanRegexUnion(t *testing.T) {
	flags := event.Test{Field: "args.flags", Op: event.OpBitsAny, Mask: 3}
	p := planOpenFilter(event.Condition{Any: []event.Conjunction{
		{flags, pathTest(event.OpRegex, `^/(?:root|home/[^/]+)/\.bashrc$`, `^/(?:root|home/[^/]+)/\.config/autostart/`)},
		{flags, pathTest(event.OpRegex, `^/etc/cron`, `/\.ssh/`)},
		{flags, pathTest(event.OpRegex, `^/etc/cron`, `.*`)},
	}})
	if !p.on {
		t.Fatalf("plan is off: %s", p.why)
	}
	if p.needPath != 1 || len(p.prefixes) != 3 || p.prefixes["/root/.bashrc"] != 1 || p.prefixes["/root/.config/autostart/"] != 1 || p.prefixes["/home/"] != 1 {
		t.Errorf("needPath %b prefixes %v: want the anchored union /root/.bashrc, /root/.config/autostart/ and /home/ for alternative 0", p.needPath, p.prefixes)
	}
	if p.needNeedle != 2 || p.needles["/etc/cron"] != 2 || p.needles["/.ssh/"] != 2 {
		t.Errorf("needNeedle %b needles %v: want /etc/cron and /.ssh/ as substrings for alternative 1", p.needNeedle, p.needles)
	}
	if p.pathFree() != 4 {
		t.Errorf("pathFree %b: want only alternative 2 (a pattern without literals) free", p.pathFree())
	}
}

// The kernel filter, fed a hand-built interest, with real opens by another
// process: what some alternative can match is reported, the rest (and every
// open of a shared library, a locale file or /proc/self) stays in the kernel.
func TestSensorOpenFilter(t *testing.T) {
	needRoot(t)
	trig := triggers(t)
	dir := fileTestDir(t)
	for _, d := range []string{"keep", "drop", "x", "w", "a", "a/.hid", "a/.hidden"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{}
	for _, n := range []string{"keep/a", "drop/b", "exact", "exact2", "x/mark", "x/marker", "w/f", "a/.hid/k", "a/.hidden/k", "a/.bash_history", "a/.bash_hist"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		files[n] = p
	}
	in := &event.Interest{Events: map[string]event.Condition{
		"security_file_open": {Any: []event.Conjunction{
			// the uid test is not the kernel's to make: widened, the prefix
			// alone decides
			{pathTest(event.OpPrefix, dir+"/keep/"), {Field: "process.uid", Op: event.OpEq, Ints: []int64{12345}}},
			{pathTest(event.OpEq, files["exact"])},
			{pathTest(event.OpSuffix, "/mark")},
			{pathTest(event.OpContains, "/.hid/", "_histo")},
			{{Field: "args.flags", Op: event.OpBitsAny, Mask: unix.O_WRONLY | unix.O_RDWR}, pathTest(event.OpPrefix, dir+"/w/")},
		}},
	}}
	ls := ownSensor(t, Config{Interest: in})
	if st := probeOf(ls, "security_file_open"); st.Probe == "" {
		t.Fatalf("security_file_open has no probe: %v", st.Err)
	}

	var pids []int
	open := func(path string, args ...string) int {
		t.Helper()
		var r openReport
		runTrigger(t, exec.Command(filepath.Join(trig, "openfile"), append(args, path)...), &r)
		if r.Error != "" {
			t.Fatalf("openfile %s: %s", path, r.Error)
		}
		pids = append(pids, int(r.Pid))
		return int(r.Pid)
	}
	want := map[int]string{}
	for _, n := range []string{"keep/a", "exact", "x/mark", "a/.hid/k", "a/.bash_history"} {
		want[open(files[n])] = files[n]
	}
	want[open(files["w/f"], "-write")] = files["w/f"]
	for _, n := range []string{"drop/b", "exact2", "x/marker", "w/f", "a/.hidden/k", "a/.bash_hist"} {
		open(files[n])
	}
	// a dynamically linked program: ld.so.cache, libc, locale files, /proc/self
	cat := exec.Command("/bin/cat", "/proc/self/status")
	cat.Env = append(os.Environ(), "LANG=C.UTF-8")
	if out, err := cat.Output(); err != nil || !strings.Contains(string(out), "Name:") {
		t.Fatalf("cat /proc/self/status: %v", err)
	}
	// the last wanted open: once it is in, everything before it is (one ring)
	last := open(files["keep/a"])
	want[last] = files["keep/a"]
	ls.waitFor(t, "the last wanted open", func(ev *event.Event) bool {
		return ev.Name == "security_file_open" && ev.Process.HostPid == uint32(last)
	})

	got := map[int][]string{}
	ls.mu.Lock()
	for _, ev := range ls.events {
		if ev.Name != "security_file_open" {
			// only the interest's events go out: the process table's own
			// (exec, fork, exit) stay in the sensor
			t.Errorf("event %s published, but the interest has only security_file_open", ev.Name)
			continue
		}
		if ev.Process.HostPid == uint32(cat.Process.Pid) {
			t.Errorf("cat's open of %s left the kernel", argS(ev, "pathname"))
		}
		got[int(ev.Process.HostPid)] = append(got[int(ev.Process.HostPid)], argS(ev, "pathname"))
	}
	ls.mu.Unlock()
	for _, pid := range pids {
		w, wanted := want[pid]
		g := got[pid]
		switch {
		case wanted && !slices.Contains(g, w):
			t.Errorf("pid %d: open of %s not reported (got %q)", pid, w, g)
		case !wanted && len(g) > 0:
			t.Errorf("pid %d: opens %q reported, no alternative matches them", pid, g)
		}
	}

	// switching the interest off in flight: every open goes out again
	if err := ls.s.SetInterest(nil); err != nil {
		t.Fatal(err)
	}
	p := open(files["drop/b"])
	ls.waitFor(t, "an open after the filter is gone", func(ev *event.Event) bool {
		return ev.Name == "security_file_open" && ev.Process.HostPid == uint32(p)
	})
}

// 200k opens of /etc/hostname in a tight loop by another process, with the
// interest of the signatures shipped with vigil: not one record dropped,
// and none of the loop's opens leaves the kernel (no signature can fire on
// them).
func TestSensorOpenBurstNoDrops(t *testing.T) {
	needRoot(t)
	trig := triggers(t)
	shipped, _ := shippedInterest(t)
	in := &shipped
	if c := in.Events["security_file_open"]; c.Always || !in.Wants("sched_process_exec") {
		t.Fatalf("the shipped signatures want every open (%v) or no exec: the test needs another interest", c.Always)
	}
	ls := ownSensor(t, Config{Interest: in})
	if st := probeOf(ls, "security_file_open"); st.Probe == "" {
		t.Fatalf("security_file_open has no probe: %v", st.Err)
	}
	n := openBurst(t)
	start := time.Now()
	var r struct {
		Pid   int `json:"pid"`
		Opens int `json:"opens"`
	}
	// The ring's backlog (vigil run's processors follow it) stays a share
	// of the ring throughout.
	sampled := make(chan [2]float64) // the least and the most sampled
	stopSampling := make(chan struct{})
	go func() {
		lo, hi := 0.0, 0.0
		for {
			select {
			case <-stopSampling:
				sampled <- [2]float64{lo, hi}
				return
			case <-time.After(time.Millisecond):
			}
			b := ls.s.RingBacklog()
			lo, hi = min(lo, b), max(hi, b)
		}
	}()
	runTrigger(t, exec.Command(filepath.Join(trig, "openloop"), "-n", strconv.Itoa(n)), &r)
	close(stopSampling)
	if b := <-sampled; b[0] < 0 || b[1] > 1 {
		t.Errorf("RingBacklog between %v and %v during the burst: not a share of the ring", b[0], b[1])
	} else {
		t.Logf("largest ring backlog sampled during the burst: %.4f", b[1])
	}
	if r.Opens != n {
		t.Fatalf("openloop made %d opens, not %d", r.Opens, n)
	}
	ls.waitFor(t, "the open loop's exec", func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == uint32(r.Pid)
	})
	st := ls.s.Stats()
	if len(st.KernelDrops) != 0 {
		t.Errorf("kernel drops during %d opens: %v", n, st.KernelDrops)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, ev := range ls.events {
		if ev.Name == "security_file_open" && ev.Process.HostPid == uint32(r.Pid) {
			t.Fatalf("an open of the loop left the kernel: %s", argS(ev, "pathname"))
		}
	}
	t.Logf("%d opens in %s, %d records read", n, time.Since(start), st.Records)
}

// openBurst is the open burst's size: 200,000, or VIGIL_OPEN_BURST. make
// vmtest sets a smaller one, because an open costs up to 800 µs in a TCG
// guest and 200,000 of them alone would take most of a boot's time.
func openBurst(t *testing.T) int {
	v := os.Getenv("VIGIL_OPEN_BURST")
	if v == "" {
		return 200000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		t.Fatalf("VIGIL_OPEN_BURST=%q: want a count of at least 1000", v)
	}
	return n
}

// A dup condition whose every alternative wants a socket's descriptor lets
// the kernel drop other duplications; one alternative without that test,
// or a wider one, keeps them all.
func TestDupSocketOnly(t *testing.T) {
	sock := event.Test{Field: "args.fd_type", Op: event.OpEq, Strings: []string{"socket"}}
	stdio := event.Test{Field: "args.newfd", Op: event.OpEq, Ints: []int64{0, 1, 2}}
	for _, c := range []struct {
		cond event.Condition
		want bool
	}{
		{event.Condition{Any: []event.Conjunction{{sock, stdio}, {stdio, sock}}}, true},
		{event.Condition{Any: []event.Conjunction{{sock, stdio}, {stdio}}}, false},
		{event.Condition{Any: []event.Conjunction{{{Field: "args.fd_type", Op: event.OpEq, Strings: []string{"socket", "pipe"}}}}}, false},
		{event.Condition{Any: []event.Conjunction{{{Field: "args.fd_type", Op: event.OpNe, Strings: []string{"socket"}}}}}, false},
		{event.Condition{Always: true}, false},
		{event.Condition{}, false},
	} {
		if got := socketOnly(c.cond); got != c.want {
			t.Errorf("socketOnly(%+v) = %v, want %v", c.cond, got, c.want)
		}
	}
	sel, err := Config{}.selectFor(&event.Interest{Events: map[string]event.Condition{
		"dup2": {Any: []event.Conjunction{{sock}}},
		"dup3": {Any: []event.Conjunction{{stdio}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !sel.dupSocketOnly[event.IDDup2] || sel.dupSocketOnly[event.IDDup3] || sel.dupSocketOnly[event.IDDup] {
		t.Errorf("dupSocketOnly %v: want dup2 only", sel.dupSocketOnly)
	}
}

// A socket creation's condition becomes, per alternative, the families
// and types its equality tests allow; what the kernel form cannot say
// (other fields, other operators, unknown names) widens it, and a
// condition with nothing to narrow leaves the filter off.
func TestPlanSocketFilter(t *testing.T) {
	fam := func(names ...string) event.Test {
		return event.Test{Field: "args.family", Op: event.OpEq, Strings: names}
	}
	typ := func(names ...string) event.Test {
		return event.Test{Field: "args.type", Op: event.OpEq, Strings: names}
	}
	proto := event.Test{Field: "args.protocol", Op: event.OpNe, Ints: []int64{1, 58}}
	const all = ^uint64(0)
	const allTypes = uint32(1<<16 - 1)
	bit := func(n uint) uint64 { return 1 << n }
	for _, c := range []struct {
		name     string
		cond     event.Condition
		on       bool
		families []uint64
		types    []uint32
	}{
		{"packet or raw inet", event.Condition{Any: []event.Conjunction{{fam("AF_PACKET")}, {fam("AF_INET", "AF_INET6"), typ("SOCK_RAW"), proto}}}, true,
			[]uint64{bit(17), bit(2) | bit(10)}, []uint32{allTypes, 1 << 3}},
		{"numbered names and the top bits", event.Condition{Any: []event.Conjunction{{fam("AF_38", "AF_70"), typ("SOCK_12")}}}, true,
			[]uint64{bit(38) | bit(63)}, []uint32{1 << 12}},
		{"two tests of one field: both must hold", event.Condition{Any: []event.Conjunction{{fam("AF_INET", "AF_INET6"), fam("AF_INET6", "AF_UNIX")}}}, true,
			[]uint64{bit(10)}, []uint32{allTypes}},
		{"an unknown name widens that test", event.Condition{Any: []event.Conjunction{{fam("AF_PACKET")}, {fam("inet"), typ("SOCK_RAW")}}}, true,
			[]uint64{bit(17), all}, []uint32{allTypes, 1 << 3}},
		{"one alternative without a test: still narrowed elsewhere", event.Condition{Any: []event.Conjunction{{fam("AF_PACKET")}, {proto}}}, true,
			[]uint64{bit(17), all}, []uint32{allTypes, allTypes}},
		{"nothing to narrow", event.Condition{Any: []event.Conjunction{{proto}}}, false, nil, nil},
		{"a negation is not narrowed", event.Condition{Any: []event.Conjunction{{{Field: "args.family", Op: event.OpNe, Strings: []string{"AF_UNIX"}}}}}, false, nil, nil},
		{"always", event.Condition{Always: true}, false, nil, nil},
		{"no alternative", event.Condition{}, false, nil, nil},
	} {
		f, ok := planSocketFilter(c.cond)
		if ok != c.on || (f.On == 1) != c.on {
			t.Errorf("%s: on %v (On %d), want %v", c.name, ok, f.On, c.on)
			continue
		}
		if !c.on {
			continue
		}
		if int(f.Nalts) != len(c.families) {
			t.Errorf("%s: %d alternatives, want %d", c.name, f.Nalts, len(c.families))
			continue
		}
		for i := range c.families {
			if f.Families[i] != c.families[i] || f.Types[i] != c.types[i] {
				t.Errorf("%s: alternative %d families %#x types %#x, want %#x %#x", c.name, i, f.Families[i], f.Types[i], c.families[i], c.types[i])
			}
		}
	}
	many := event.Condition{}
	for range len(bpf.SocketFilter{}.Families) + 1 {
		many.Any = append(many.Any, event.Conjunction{fam("AF_PACKET")})
	}
	if _, ok := planSocketFilter(many); ok {
		t.Errorf("%d alternatives: the filter holds %d, it must be off", len(many.Any), len(bpf.SocketFilter{}.Families))
	}
}

// With the shipped signatures' interest, the kernel lets out the packet
// and raw sockets network-sniffing judges and keeps ordinary sockets in:
// netsock's TCP, UDP and AF_UNIX sockets give no socket event, sniffer's
// AF_PACKET and raw TCP sockets give one each.
func TestSensorSocketFilter(t *testing.T) {
	needRoot(t)
	trig := triggers(t)
	shipped, _ := shippedInterest(t)
	in := &shipped
	if _, ok := planSocketFilter(in.Events["security_socket_create"]); !ok {
		t.Fatalf("the shipped signatures' condition on security_socket_create (%v) does not narrow sockets: the test needs another interest", in.Events["security_socket_create"])
	}
	ls := ownSensor(t, Config{Interest: in})
	if st := probeOf(ls, "security_socket_create"); st.Probe == "" {
		t.Fatalf("security_socket_create has no probe: %v", st.Err)
	}
	var plain struct {
		Pid uint32 `json:"pid"`
	}
	runTrigger(t, exec.Command(filepath.Join(trig, "netsock")), &plain)
	var sniff struct {
		Pid    uint32 `json:"pid"`
		Packet string `json:"packet"`
		RawTCP string `json:"raw_tcp"`
	}
	runTrigger(t, exec.Command(filepath.Join(trig, "sniffer")), &sniff)
	if sniff.Packet != "ok" || sniff.RawTCP != "ok" {
		t.Fatalf("sniffer could not open its sockets: packet %s, raw TCP %s", sniff.Packet, sniff.RawTCP)
	}
	for _, want := range []struct{ family, typ string }{{"AF_PACKET", "SOCK_RAW"}, {"AF_INET", "SOCK_RAW"}} {
		ls.waitFor(t, want.family+" "+want.typ+" of sniffer", func(ev *event.Event) bool {
			return ev.Name == "security_socket_create" && ev.Process.HostPid == sniff.Pid && ev.Args["family"] == want.family && ev.Args["type"] == want.typ
		})
	}
	// sniffer ran after netsock: its sockets have been read by now
	for _, ev := range ls.snapshot() {
		if ev.Name == "security_socket_create" && ev.Process.HostPid == plain.Pid {
			t.Errorf("netsock's %v %v socket left the kernel: no signature can want it", ev.Args["family"], ev.Args["type"])
		}
	}
}

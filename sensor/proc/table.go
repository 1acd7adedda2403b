package proc

import (
	"bufio"
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Defaults of Config.
const (
	DefaultMaxEntries = 1 << 16
	DefaultLinger     = 30 * time.Second
)

// Config sets up a Table.
type Config struct {
	// Root is the proc file system to seed from and to read processes the
	// table has not seen ("/proc"; a test gives an empty folder).
	Root string
	// MaxEntries bounds the processes kept (and, separately, the cgroup ids
	// remembered); 0 means DefaultMaxEntries.
	MaxEntries int
	// Linger is how long an exited process is kept; 0 means DefaultLinger.
	Linger time.Duration
}

// Stats counts the table's work.
type Stats struct {
	Entries   int    `json:"entries"`   // processes kept now
	Evictions uint64 `json:"evictions"` // processes dropped to stay within MaxEntries (exited ones first)
	Expired   uint64 `json:"expired"`   // exited processes forgotten after Linger
	// CgroupResets counts the times the cgroup id cache was emptied at
	// MaxEntries.
	CgroupResets uint64 `json:"cgroup_resets"`
}

// proc is what the table knows of one process (thread group), by host pid.
type proc struct {
	hostPid, hostPpid uint32
	nsPid             uint32
	uid               uint32
	comm, exe         string
	argv              []string
	shortArgv         []string // argv as an ancestor shows it, computed once (ancestorArgv)
	containerID       string
	exitedAt          time.Time
	seen              uint64 // the table's clock when last used: eviction order
	// kids is the ancestry that the events of this process's children
	// carry (this process, its parent, ...): one list for all of them,
	// which stands while the table is unchanged (gen).
	kids ancestry
	// ancestor is set once the process was listed in an ancestry: from
	// then on, a change to it builds ancestries again (see changed).
	ancestor bool
}

// ancestry is a process's list of ancestors as events carry it. The list is
// shared by the events that carry it and never changed in place: a change
// builds a new one.
type ancestry struct {
	gen  uint64 // Table.gen when built; 0: none
	list *event.SharedAncestors
}

// Table keeps process context for enrichment.
type Table struct {
	mu      sync.Mutex
	procs   map[uint32]*proc
	cgroups map[uint64]string // cgroup id -> container id ("" = none)
	root    string
	linger  time.Duration
	max     int
	clock   uint64 // counts uses, orders entries for eviction
	// gen counts changes to what ancestries are made of (an ancestor
	// replaced, removed or changing identity, an entry an ancestry lacked
	// added); an ancestry built at an older gen is built again.
	gen uint64
	// missed holds the pids an ancestry stopped at, unknown then: adding
	// one of them builds ancestries again.
	missed map[uint32]bool
	stats  Stats
}

const maxAncestors = 32

// New makes an empty table; Seed fills it from the proc file system.
func New(cfg Config) *Table {
	if cfg.Root == "" {
		cfg.Root = "/proc"
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Linger <= 0 {
		cfg.Linger = DefaultLinger
	}
	return &Table{procs: map[uint32]*proc{}, cgroups: map[uint64]string{}, missed: map[uint32]bool{}, root: cfg.Root, linger: cfg.Linger, max: cfg.MaxEntries, gen: 1}
}

// Stats reports the table's counters.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.Entries = len(t.procs)
	return st
}

// Seed reads every process in the proc file system, as many as fit.
func (t *Table) Seed() {
	ents, err := os.ReadDir(t.root)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range ents {
		pid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil {
			continue
		}
		if p := t.readProc(uint32(pid)); p != nil {
			t.put(p)
		}
	}
}

// put adds or replaces an entry, making room first. Callers hold t.mu.
//
// Ancestries are built again only when the entry can be in one: it
// replaces an ancestor, or an ancestry stopped short for want of it (a new
// child, a forked process, changes none: in a loop forking and running
// short programs every child's events share their parent's list).
func (t *Table) put(p *proc) {
	old, ok := t.procs[p.hostPid]
	if !ok && len(t.procs) >= t.max {
		t.makeRoom()
	}
	if ok && old.ancestor || t.missed[p.hostPid] {
		t.gen++
		delete(t.missed, p.hostPid)
	}
	t.clock++
	p.seen = t.clock
	t.procs[p.hostPid] = p
}

// maxMissed bounds Table.missed; past it the set starts again (an ancestry
// that stopped short then stays so until something else changes).
const maxMissed = 1024

// makeRoom evicts down to 15/16 of the bound, exited processes first, then
// the least recently used, so that the sort is paid once per max/16 new
// processes rather than on every one. Callers hold t.mu.
func (t *Table) makeRoom() {
	target := t.max - t.max/16 - 1
	if target < 0 {
		target = 0
	}
	all := make([]*proc, 0, len(t.procs))
	for _, p := range t.procs {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b *proc) int {
		if ae, be := !a.exitedAt.IsZero(), !b.exitedAt.IsZero(); ae != be {
			if ae {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.seen, b.seen)
	})
	for _, p := range all {
		if len(t.procs) <= target {
			break
		}
		delete(t.procs, p.hostPid)
		t.stats.Evictions++
	}
}

// readProc reads one process from the proc file system; nil when it is gone.
func (t *Table) readProc(pid uint32) *proc {
	dir := filepath.Join(t.root, strconv.FormatUint(uint64(pid), 10))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return nil
	}
	p := &proc{hostPid: pid}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Name":
			p.comm = strings.TrimSpace(v)
		case "PPid":
			p.hostPpid = parseU32(f[0])
		case "Uid":
			p.uid = parseU32(f[0])
		case "NSpid":
			p.nsPid = parseU32(f[len(f)-1])
		}
	}
	p.exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	if cmd, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		p.argv, p.shortArgv = splitNul(cmd), nil
	}
	if cg, err := os.ReadFile(filepath.Join(dir, "cgroup")); err == nil {
		p.containerID = containerIDFromCgroup(string(cg))
	}
	return p
}

// Update applies what a lifecycle event says about processes; other events
// change nothing.
func (t *Table) Update(ev *event.Event) {
	switch ev.ID {
	case event.IDSchedProcessFork:
		t.fork(ev, event.SchedProcessForkArgs(ev.ArgsMap()))
	case event.IDSchedProcessExec:
		t.exec(ev)
	case event.IDCommitCreds:
		t.commitCreds(ev, event.CommitCredsArgs(ev.ArgsMap()))
	case event.IDSchedProcessExit:
		t.exit(ev, event.SchedProcessExitArgs(ev.ArgsMap()))
	}
}

// fork: a new process starts as a copy of its parent (a new thread is no new
// process).
func (t *Table) fork(ev *event.Event, a event.SchedProcessForkArgs) {
	if a.Thread() {
		return
	}
	child := &proc{hostPid: a.ChildPid(), hostPpid: a.ParentPid(), nsPid: a.ChildNSPid(), uid: ev.Process.UID}
	t.mu.Lock()
	defer t.mu.Unlock()
	if parent := t.procs[child.hostPpid]; parent != nil {
		child.comm, child.exe, child.argv, child.containerID = parent.comm, parent.exe, parent.argv, parent.containerID
		child.shortArgv = parent.shortArgv
	} else {
		child.comm = ev.Process.Comm
	}
	t.put(child)
}

// exec: the process runs a new program.
//
// Its arguments are read by index, not through the Args map: the sensor
// leaves exec events' arguments listed (sensor.Config.LazyArgs).
func (t *Table) exec(ev *event.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.entry(ev)
	t.changed(p)
	p.nsPid, p.uid, p.comm = ev.Process.Pid, ev.Process.UID, ev.Process.Comm
	if s, _ := ev.StringArg(execPathname); s != "" {
		p.exe = s
	}
	if argv, ok := ev.StringsArg(execArgv); ok {
		p.argv, p.shortArgv = argv, nil
	}
}

// The arguments of sched_process_exec that exec reads (a renamed or
// retyped one panics here, at start).
var (
	execPathname = event.MustArgIndex(event.IDSchedProcessExec, "pathname", event.TypeString)
	execArgv     = event.MustArgIndex(event.IDSchedProcessExec, "argv", event.TypeStrArray)
)

// commitCreds: a change made by exec comes before the exec event; record the
// new program now so the change is not pinned on the one it replaces.
func (t *Table) commitCreds(ev *event.Event, a event.CommitCredsArgs) {
	exe := a.Exe()
	if exe == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.entry(ev)
	t.changed(p)
	p.exe, p.comm = exe, ev.Process.Comm
}

// exit: the last thread of a process exited; it lingers for events in flight.
func (t *Table) exit(ev *event.Event, a event.SchedProcessExitArgs) {
	if !a.GroupExit() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.procs[ev.Process.HostPid]; p != nil {
		p.exitedAt = time.Now()
		p.kids = ancestry{} // its children's events are few now: not worth keeping
	}
}

// entry returns the table's entry for the event's process, making one from
// the event when there is none. Callers hold t.mu.
func (t *Table) entry(ev *event.Event) *proc {
	p := t.procs[ev.Process.HostPid]
	if p == nil {
		p = &proc{hostPid: ev.Process.HostPid, hostPpid: ev.Process.HostPpid}
		t.put(p)
	}
	return p
}

// Enrich fills the process context the kernel header does not carry.
func (t *Table) Enrich(ev *event.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pr := &ev.Process
	p := t.lookup(pr.HostPid)
	if p != nil {
		pr.Exe, pr.Argv = p.exe, p.argv
		if p.hostPpid == 0 {
			p.hostPpid = pr.HostPpid
			t.changed(p)
		}
	}
	pr.ContainerID = t.containerID(pr.CgroupID, pr.HostPid, p)
	if p != nil && ev.ID != event.IDSchedProcessExec && p.comm != pr.Comm {
		// exec changes identity: the table already has the new one
		p.comm = pr.Comm
		t.changed(p)
	}
	if pr.HostPpid == 0 || pr.Pid == 1 {
		pr.Ancestors = nil // the init of its pid namespace shows none
		return
	}
	par := t.lookup(pr.HostPpid)
	if par == nil {
		pr.Ancestors = nil
		return
	}
	if par.kids.gen != t.gen {
		// The first event of a child since the table changed. (An
		// ancestor above the parent is not marked used on the events
		// that share the list: evicted under pressure, it is read again
		// from /proc.)
		list := t.ancestors(pr.HostPpid, pr.Pid) // may read processes from /proc: gen after
		par.kids = ancestry{gen: t.gen, list: event.NewSharedAncestors(list)}
	}
	pr.ShareAncestors(par.kids.list)
}

// ancestors lists the processes up the parent chain from ppid (nearest
// first), to the init of the pid namespace of the process whose pid there
// is nsPid; nil when the table knows none. Callers hold t.mu.
func (t *Table) ancestors(ppid, nsPid uint32) []event.Ancestor {
	var list []event.Ancestor
	for i := 0; i < maxAncestors && ppid != 0 && nsPid != 1; i++ {
		a := t.lookup(ppid)
		if a == nil {
			if len(t.missed) >= maxMissed {
				clear(t.missed)
			}
			t.missed[ppid] = true
			break
		}
		a.ancestor = true
		list = append(list, event.Ancestor{Pid: a.nsPid, HostPid: a.hostPid, Comm: a.comm, Exe: a.exe, Argv: a.ancestorArgv(), UID: a.uid})
		if a.hostPpid == ppid {
			break
		}
		ppid, nsPid = a.hostPpid, a.nsPid
	}
	return slices.Clip(list)
}

// changed notes a change to p's identity: ancestries that list it are
// built again (a change to a process no ancestry lists, a thread renaming
// itself in a leaf process, costs nothing). Callers hold t.mu.
func (t *Table) changed(p *proc) {
	if p.ancestor {
		t.gen++
	}
}

// lookup finds a process, reading the proc file system for one the table has
// not seen. Callers hold t.mu.
func (t *Table) lookup(pid uint32) *proc {
	if p := t.procs[pid]; p != nil {
		t.clock++
		p.seen = t.clock
		return p
	}
	p := t.readProc(pid)
	if p != nil {
		t.put(p)
	}
	return p
}

func (t *Table) containerID(cgroupID uint64, pid uint32, p *proc) string {
	if id, ok := t.cgroups[cgroupID]; ok && cgroupID != 0 {
		return id
	}
	id := ""
	if cg, err := os.ReadFile(filepath.Join(t.root, strconv.FormatUint(uint64(pid), 10), "cgroup")); err == nil {
		id = containerIDFromCgroup(string(cg))
	} else if p != nil {
		id = p.containerID
	}
	if cgroupID != 0 {
		if len(t.cgroups) >= t.max {
			// ids of removed cgroups pile up; the live ones are read again
			clear(t.cgroups)
			t.stats.CgroupResets++
		}
		t.cgroups[cgroupID] = id
	}
	return id
}

// Sweep forgets processes that exited longer ago than the linger time.
func (t *Table) Sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for pid, p := range t.procs {
		if !p.exitedAt.IsZero() && now.Sub(p.exitedAt) > t.linger {
			delete(t.procs, pid)
			t.stats.Expired++
			if p.ancestor {
				t.gen++
			}
		}
	}
}

// Container runtimes name a container's cgroup after its 64-hex-digit id:
// docker-<id>.scope, /docker/<id>, cri-containerd-<id>.scope, crio-<id>,
// libpod-<id>, /kubepods/.../<id>.
var containerIDRe = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$`)

func containerIDFromCgroup(cgroupFile string) string {
	for _, line := range strings.Split(cgroupFile, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if m := containerIDRe.FindStringSubmatch(parts[2]); m != nil {
			return m[1]
		}
	}
	return ""
}

// Ancestors' argv is context, not evidence: it is kept short so that every
// event does not carry the whole command line of every ancestor.
const (
	ancestorArgs   = 16
	ancestorArgLen = 256
)

// ancestorArgv is shortArgv(p.argv), computed once per argv: it is
// shown on every event of every descendant.
func (p *proc) ancestorArgv() []string {
	if p.shortArgv == nil && p.argv != nil {
		p.shortArgv = shortArgv(p.argv)
	}
	return p.shortArgv
}

func shortArgv(argv []string) []string {
	if len(argv) <= ancestorArgs {
		short := true
		for _, a := range argv {
			if len(a) > ancestorArgLen {
				short = false
				break
			}
		}
		if short {
			return argv
		}
	}
	out := make([]string, 0, ancestorArgs+1)
	for i, a := range argv {
		if i == ancestorArgs {
			out = append(out, "...")
			break
		}
		if len(a) > ancestorArgLen {
			a = a[:ancestorArgLen] + "..."
		}
		out = append(out, a)
	}
	return out
}

func splitNul(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func parseU32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

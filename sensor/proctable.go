package sensor

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// proc is what the table knows of one process (thread group), by host pid.
type proc struct {
	hostPid, hostPpid uint32
	nsPid             uint32
	uid               uint32
	comm, exe         string
	argv              []string
	containerID       string
	exitedAt          time.Time
}

// procTable keeps process context for enrichment: seeded from /proc at start,
// kept current by fork, exec and exit events. Exited processes stay a while so
// that events still in flight find their context.
type procTable struct {
	mu       sync.Mutex
	procs    map[uint32]*proc
	cgroups  map[uint64]string // cgroup id -> container id ("" = none)
	procRoot string
	linger   time.Duration
	max      int    // entries at most; see room
	refused  uint64 // processes not recorded for want of room
}

const maxAncestors = 32

// maxProcs bounds the table: a host runs far fewer processes (pid_max is
// 4M, but a fork storm is what fills it); exited ones go first.
const maxProcs = 1 << 16

// room tells whether the table may take one more process, making room by
// forgetting exited ones (however recently) when it is full; a refusal is
// counted. Callers hold t.mu.
func (t *procTable) room() bool {
	if len(t.procs) < t.max {
		return true
	}
	for pid, p := range t.procs {
		if !p.exitedAt.IsZero() {
			delete(t.procs, pid)
		}
	}
	if len(t.procs) < t.max {
		return true
	}
	t.refused++
	return false
}

func newProcTable(procRoot string) *procTable {
	return &procTable{procs: map[uint32]*proc{}, cgroups: map[uint64]string{}, procRoot: procRoot, linger: 30 * time.Second, max: maxProcs}
}

// seed reads every process in /proc.
func (t *procTable) seed() {
	ents, err := os.ReadDir(t.procRoot)
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
			t.procs[p.hostPid] = p
		}
	}
}

// readProc reads one process from /proc; nil when it is gone.
func (t *procTable) readProc(pid uint32) *proc {
	dir := filepath.Join(t.procRoot, strconv.FormatUint(uint64(pid), 10))
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
		p.argv = splitNul(cmd)
	}
	if cg, err := os.ReadFile(filepath.Join(dir, "cgroup")); err == nil {
		p.containerID = containerIDFromCgroup(string(cg))
	}
	return p
}

// update applies what a lifecycle event says about processes.
func (t *procTable) update(ev *event.Event) {
	switch ev.ID {
	case event.IDSchedProcessFork:
		if b, _ := ev.Args["thread"].(bool); b {
			return
		}
		parentPid := u32arg(ev, "parent_pid")
		child := &proc{hostPid: u32arg(ev, "child_pid"), hostPpid: parentPid, nsPid: u32arg(ev, "child_ns_pid"), uid: ev.Process.UID}
		t.mu.Lock()
		if parent := t.procs[parentPid]; parent != nil {
			child.comm, child.exe, child.argv, child.containerID = parent.comm, parent.exe, parent.argv, parent.containerID
		} else {
			child.comm = ev.Process.Comm
		}
		if t.procs[child.hostPid] != nil || t.room() {
			t.procs[child.hostPid] = child
		}
		t.mu.Unlock()
	case event.IDSchedProcessExec:
		t.mu.Lock()
		p := t.entry(ev)
		if p == nil {
			t.mu.Unlock()
			return
		}
		p.nsPid, p.uid, p.comm = ev.Process.Pid, ev.Process.UID, ev.Process.Comm
		if s, ok := ev.Args["pathname"].(string); ok && s != "" {
			p.exe = s
		}
		if a, ok := ev.Args["argv"].([]string); ok {
			p.argv = a
		}
		t.mu.Unlock()
	case event.IDCommitCreds:
		// a change made by exec comes before the exec event: record the new
		// program now so the change is not pinned on the one it replaces
		exe, _ := ev.Args["exe"].(string)
		if exe == "" {
			return
		}
		t.mu.Lock()
		if p := t.entry(ev); p != nil {
			p.exe, p.comm = exe, ev.Process.Comm
		}
		t.mu.Unlock()
	case event.IDSchedProcessExit:
		if g, _ := ev.Args["group_exit"].(bool); !g {
			return
		}
		t.mu.Lock()
		if p := t.procs[ev.Process.HostPid]; p != nil {
			p.exitedAt = time.Now()
		}
		t.mu.Unlock()
	}
}

// entry returns the table's entry for the event's process, making one from
// the event when there is none; nil when the table is full. Callers hold
// t.mu.
func (t *procTable) entry(ev *event.Event) *proc {
	p := t.procs[ev.Process.HostPid]
	if p == nil {
		if !t.room() {
			return nil
		}
		p = &proc{hostPid: ev.Process.HostPid, hostPpid: ev.Process.HostPpid}
		t.procs[p.hostPid] = p
	}
	return p
}

// enrich fills the process context the kernel header does not carry.
func (t *procTable) enrich(ev *event.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pr := &ev.Process
	p := t.lookup(pr.HostPid)
	if p != nil {
		pr.Exe, pr.Argv = p.exe, p.argv
		if p.hostPpid == 0 {
			p.hostPpid = pr.HostPpid
		}
	}
	pr.ContainerID = t.containerID(pr.CgroupID, pr.HostPid, p)
	if p != nil && ev.ID != event.IDSchedProcessExec {
		// exec changes identity: the table already has the new one
		p.comm = pr.Comm
	}
	pr.Ancestors = pr.Ancestors[:0]
	ppid := pr.HostPpid
	nsPid := pr.Pid
	for i := 0; i < maxAncestors && ppid != 0 && nsPid != 1; i++ {
		a := t.lookup(ppid)
		if a == nil {
			break
		}
		pr.Ancestors = append(pr.Ancestors, event.Ancestor{Pid: a.nsPid, HostPid: a.hostPid, Comm: a.comm, Exe: a.exe, Argv: shortArgv(a.argv), UID: a.uid})
		if a.hostPpid == ppid {
			break
		}
		ppid, nsPid = a.hostPpid, a.nsPid
	}
	if len(pr.Ancestors) == 0 {
		pr.Ancestors = nil
	}
}

// lookup finds a process, reading /proc for one the table has not seen.
// Callers hold t.mu.
func (t *procTable) lookup(pid uint32) *proc {
	if p := t.procs[pid]; p != nil {
		return p
	}
	p := t.readProc(pid)
	if p != nil {
		t.procs[pid] = p
	}
	return p
}

func (t *procTable) containerID(cgroupID uint64, pid uint32, p *proc) string {
	if id, ok := t.cgroups[cgroupID]; ok && cgroupID != 0 {
		return id
	}
	id := ""
	if cg, err := os.ReadFile(filepath.Join(t.procRoot, strconv.FormatUint(uint64(pid), 10), "cgroup")); err == nil {
		id = containerIDFromCgroup(string(cg))
	} else if p != nil {
		id = p.containerID
	}
	if cgroupID != 0 {
		t.cgroups[cgroupID] = id
	}
	return id
}

// sweep forgets processes that exited longer ago than the linger time.
func (t *procTable) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for pid, p := range t.procs {
		if !p.exitedAt.IsZero() && now.Sub(p.exitedAt) > t.linger {
			delete(t.procs, pid)
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

func u32arg(ev *event.Event, name string) uint32 {
	v, _ := ev.Args[name].(uint64)
	return uint32(v)
}

package sensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// shippedInterest is the interest of the signatures shipped with vigil, and
// their matcher.
func shippedInterest(t *testing.T) (event.Interest, *rules.Matcher) {
	t.Helper()
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		t.Fatalf("loading the shipped signatures: %v", err)
	}
	return set.Interest(), set.Matcher()
}

var procPid = regexp.MustCompile(`^/proc/[0-9]+/`)

// The kernel's open filter against the engine's matcher, on real opens: the
// same list of opens is made once with the shipped signatures' interest
// (filter on) and once with every open let out; every open of the second
// run the matcher says a signature may fire on must have left the kernel in
// the first. The corpus holds files those signatures watch, near misses
// and ordinary files, opened for reading and writing.
func TestSensorOpenFilterDifferential(t *testing.T) {
	needRoot(t)
	trig := triggers(t)
	in, m := shippedInterest(t)
	dir := fileTestDir(t)
	var list []string
	mk := func(base, rel string) string {
		p := filepath.Join(base, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, rel := range []string{"mem", "kcore", "port", "kmem", "memx", "release_agent", "notify_on_release", "register",
		"a.key", "a.pem", "a.keys", ".ssh/id_rsa", ".ssh/known_hosts", ".ssh/id", ".bash_history", "etc/shadow",
		"ssh_host_rsa_key", "plain.txt", "proc/1/mem", "sys/fs/cgroup/x/release_agent"} {
		p := mk(dir, rel)
		list = append(list, "r:"+p, "w:"+p, "rw:"+p)
	}
	// a folder in root's home: the prefix /root/ with and without the
	// names the signatures watch
	if st, err := os.Stat("/root"); err == nil && st.IsDir() {
		home, err := os.MkdirTemp("/root", "vigil-openfilter-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(home) })
		for _, rel := range []string{".ssh/id_ed25519", ".bash_history", "notes.txt", ".aws/credentials"} {
			p := mk(home, rel)
			list = append(list, "r:"+p, "w:"+p)
		}
	}
	// files in the places the persistence, library and credential
	// signatures watch (made by the test, removed at its end), opened for
	// reading and writing; the kernel tunables opened for writing (nothing
	// is written)
	for _, f := range []string{"/etc/cron.d/vigil-openfilter-%d", "/usr/lib/libvigil-openfilter-%d.so.1",
		"/home/vigil-openfilter-%d/.aws/credentials", "/home/vigil-openfilter-%d/.ssh/id_rsa", "/home/vigil-openfilter-%d/notes.txt"} {
		p := fmt.Sprintf(f, os.Getpid())
		if _, err := os.Stat("/" + strings.SplitN(p, "/", 3)[1]); err != nil {
			continue // no /etc, /usr or /home here
		}
		mk(filepath.Dir(p), filepath.Base(p))
		t.Cleanup(func() {
			os.Remove(p)
			if strings.HasPrefix(p, "/home/") {
				os.RemoveAll(fmt.Sprintf("/home/vigil-openfilter-%d", os.Getpid()))
			}
		})
		list = append(list, "r:"+p, "w:"+p)
	}
	list = append(list, "w:/proc/sys/kernel/core_pattern", "w:/proc/sys/kernel/randomize_va_space")
	for _, p := range []string{"/etc/hostname", "/etc/passwd", "/etc/group", "/etc/gshadow", "/etc/ld.so.cache",
		"/etc/os-release", "/etc/nsswitch.conf", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/sshd_config",
		"/proc/self/status", "/proc/self/mem", "/proc/self/maps", "/proc/kcore", "/proc/sched_debug",
		"/proc/sys/kernel/kptr_restrict", "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
		"/proc/sys/kernel/randomize_va_space", "/proc/cpuinfo", "/sys/kernel/uevent_helper",
		"/dev/null", "/dev/mem", "/dev/port", "/usr/lib/os-release", "/bin/true", "/usr/bin/env",
		"/root/.bashrc", "/root/.profile", "/root/.bash_history", "/usr/share/zoneinfo/UTC"} {
		list = append(list, "r:"+p)
	}
	// the last open is one the matcher wants: once it is in, the run's
	// other opens are
	const last = "/etc/shadow"
	ensureFile(t, last)
	list = append(list, "r:"+last)

	type open struct{ path, flags string }
	keyOf := func(ev *event.Event) open {
		fl, _ := json.Marshal(ev.Args["flags"])
		return open{procPid.ReplaceAllString(argS(ev, "pathname"), "/proc/PID/"), string(fl)}
	}
	ls := ownSensor(t, Config{Interest: &in})
	if st := probeOf(ls, "security_file_open"); st.Probe == "" {
		t.Fatalf("security_file_open has no probe: %v", st.Err)
	}
	run := func() map[open]*event.Event {
		var r struct {
			Pid int `json:"pid"`
		}
		runTrigger(t, exec.Command(filepath.Join(trig, "openlist"), list...), &r)
		ls.waitFor(t, "the list's last open", func(ev *event.Event) bool {
			return ev.Name == "security_file_open" && ev.Process.HostPid == uint32(r.Pid) && argS(ev, "pathname") == last
		})
		out := map[open]*event.Event{}
		ls.mu.Lock()
		defer ls.mu.Unlock()
		for _, ev := range ls.events {
			if ev.Name == "security_file_open" && ev.Process.HostPid == uint32(r.Pid) {
				out[keyOf(ev)] = ev
			}
		}
		return out
	}
	filtered := run()
	all := in
	all.Events = map[string]event.Condition{}
	for n, c := range in.Events {
		all.Events[n] = c
	}
	all.Events["security_file_open"] = event.Condition{Always: true}
	if err := ls.s.SetInterest(&all); err != nil {
		t.Fatal(err)
	}
	every := run()

	var wanted, kept, dropped int
	var droppedNames []string
	for k, ev := range every {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		_, sigs, ok := m.MatchJSON(data, nil)
		if !ok {
			t.Fatalf("the matcher cannot read %s", data)
		}
		_, passed := filtered[k]
		switch {
		case len(sigs) > 0 && !passed:
			var ids []string
			for _, s := range sigs {
				ids = append(ids, s.ID)
			}
			t.Errorf("open of %s (flags %s) stayed in the kernel, but the matcher admits it for %s", k.path, k.flags, strings.Join(ids, ", "))
		case len(sigs) > 0:
			wanted++
		case passed:
			kept++
			t.Logf("let out, rejected by the matcher: %s flags %s", k.path, k.flags)
		default:
			dropped++
			droppedNames = append(droppedNames, k.path)
		}
	}
	for k := range filtered {
		if _, ok := every[k]; !ok {
			t.Errorf("open of %s (flags %s) left the kernel with the filter on, not without it", k.path, k.flags)
		}
	}
	t.Logf("%d opens: %d the matcher admits (all let out), %d let out it rejects, %d left in the kernel", len(every), wanted, kept, dropped)
	// the filter must be worth something: the ordinary files stay in
	for _, p := range []string{"/etc/hostname", "/etc/ld.so.cache", "/proc/PID/status", "/usr/lib/os-release", filepath.Join(dir, "plain.txt")} {
		if _, err := os.Stat(p); err != nil && !strings.Contains(p, "/PID/") {
			continue // a bare system (make vmtest's guests) lacks some
		}
		rd := open{p, fmt.Sprint(0x8800)} // O_RDONLY|O_NONBLOCK|O_LARGEFILE
		if _, ok := every[rd]; !ok {
			t.Errorf("no open of %s with flags %s in the unfiltered run", p, rd.flags)
		}
		if _, ok := filtered[rd]; ok {
			t.Errorf("the ordinary open of %s left the kernel", p)
		}
	}
	if wanted == 0 || dropped == 0 {
		t.Errorf("a corpus with %d wanted and %d dropped opens tests nothing", wanted, dropped)
	}
}

// The kernel keeps its open filter's verdicts per file (open_verdicts, by
// the identity of the file's path): a file opened under a path no signature
// watches and then moved, itself or a folder above it, under one that is
// watched must leave the kernel at its next open. The move of a folder
// changes none of the file's own fields: the cache must see it anyway.
func TestSensorOpenFilterSeesRenames(t *testing.T) {
	needRoot(t)
	trig := triggers(t)
	in, _ := shippedInterest(t)
	if st, err := os.Stat("/root"); err != nil || !st.IsDir() {
		t.Skip("skipped: no /root folder here, where the SSH key signature looks")
	}
	ensureFile(t, "/etc/shadow") // the marker open below
	home, err := os.MkdirTemp("/root", "vigil-rename-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	// /root/<tmp>/keys/id_rsa: no signature watches it; renamed to
	// /root/<tmp>/.ssh/id_rsa (the folder moves), then the file itself
	// moves from /root/<tmp>/.ssh/notes to /root/<tmp>/.ssh/id_ecdsa
	for _, d := range []string{"keys"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	before := filepath.Join(home, "keys", "id_rsa")
	notes := filepath.Join(home, "keys", "notes")
	for _, p := range []string{before, notes} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ls := ownSensor(t, Config{Interest: &in})
	if st := probeOf(ls, "security_file_open"); st.Probe == "" {
		t.Fatalf("security_file_open has no probe: %v", st.Err)
	}
	open := func(paths ...string) int {
		var r struct {
			Pid int `json:"pid"`
		}
		var args []string
		for _, p := range paths {
			args = append(args, "r:"+p)
		}
		runTrigger(t, exec.Command(filepath.Join(trig, "openlist"), args...), &r)
		return r.Pid
	}
	seen := func(pid int, path string) bool {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		for _, ev := range ls.events {
			if ev.Name == "security_file_open" && ev.Process.HostPid == uint32(pid) && argS(ev, "pathname") == path {
				return true
			}
		}
		return false
	}
	// twice: the second open of each is decided by the cached verdict
	for i := 0; i < 2; i++ {
		pid := open(before, notes, "/etc/shadow")
		ls.waitFor(t, "the open of /etc/shadow", func(ev *event.Event) bool {
			return ev.Name == "security_file_open" && ev.Process.HostPid == uint32(pid) && argS(ev, "pathname") == "/etc/shadow"
		})
		if seen(pid, before) || seen(pid, notes) {
			t.Fatalf("an open of %s or %s left the kernel: the test needs paths no signature watches", before, notes)
		}
	}
	ssh := filepath.Join(home, ".ssh")
	if err := os.Rename(filepath.Join(home, "keys"), ssh); err != nil {
		t.Fatal(err)
	}
	after := filepath.Join(ssh, "id_rsa")
	renamed := filepath.Join(ssh, "id_ecdsa")
	if err := os.Rename(filepath.Join(ssh, "notes"), renamed); err != nil {
		t.Fatal(err)
	}
	pid := open(after, renamed)
	for _, p := range []string{after, renamed} {
		ls.waitFor(t, "the open of "+p+" after the rename", func(ev *event.Event) bool {
			return ev.Name == "security_file_open" && ev.Process.HostPid == uint32(pid) && argS(ev, "pathname") == p
		})
	}
}

// ensureFile creates path (empty, mode 0600) for the test when it does not
// exist: a bare system (make vmtest's guests) may have no /etc/shadow, and
// an open that fails before the file is found is no event.
func ensureFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
}

package sensor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
)

// Privileged tests of the file family: each runs a trigger that does the
// behaviour for real and checks the event's arguments. On the development
// kernel the events come from the syscall fallbacks, under make vmtest from
// the kernel hooks; what only one of them can know is checked only there.

// onFallback tells whether event name is fed by its fallback probe here.
func onFallback(t *testing.T, ls *liveSensor, name string) bool {
	t.Helper()
	for _, st := range ls.s.Probes() {
		if st.Event == name {
			if st.Probe == "" {
				t.Fatalf("%s: no probe attached: %v", name, st.Err)
			}
			return st.Fallback
		}
	}
	t.Fatalf("%s: no probe status", name)
	return false
}

// fileTestDir is a fresh directory, reachable by every user, with symbolic
// links resolved (the sensor reports resolved paths).
func fileTestDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// t.TempDir makes the test's folder and one inside it, both 0700
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func argU(ev *event.Event, name string) uint64 {
	v, _ := ev.Args[name].(uint64)
	return v
}

func argS(ev *event.Event, name string) string {
	v, _ := ev.Args[name].(string)
	return v
}

// wantSyscall checks the syscall argument: the fallback names the
// syscall, the kernel hook has none.
func wantSyscall(t *testing.T, ev *event.Event, fallback bool, sys string) {
	t.Helper()
	got, ok := ev.Args["syscall"]
	if fallback && got != sys {
		t.Errorf("%s from the fallback: syscall = %v, want %q", ev.Name, got, sys)
	}
	if !fallback && ok {
		t.Errorf("%s from the kernel hook carries syscall %v", ev.Name, got)
	}
}

type openReport struct {
	Pid   uint32 `json:"pid"`
	Exe   string `json:"exe"`
	Path  string `json:"path"`
	Flags int    `json:"flags"`
	Error string `json:"error"`
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	Mode  uint32 `json:"mode"`
}

// TestSensorSeesFiles starts one sensor for every behaviour of the family:
// a sensor takes long to load under qemu, where make vmtest runs this.
func TestSensorSeesFiles(t *testing.T) {
	ls := startSensor(t, "vfs_write", "vfs_writev")
	trig := triggers(t)
	t.Run("open", func(t *testing.T) { testFileOpen(t, ls, trig) })
	t.Run("rename-link-unlink", func(t *testing.T) { testRenameLinkUnlink(t, ls, trig) })
	t.Run("chmod-truncate-mknod-mount", func(t *testing.T) { testChmodTruncateMknodMount(t, ls, trig) })
	t.Run("executable-memory", func(t *testing.T) { testExecutableMemory(t, ls, trig) })
	t.Run("magic-write", func(t *testing.T) { testMagicWrite(t, ls, trig) })
	t.Run("file-capabilities", func(t *testing.T) { testSetxattr(t, ls, trig) })
}

func testFileOpen(t *testing.T, ls *liveSensor, triggers string) {
	fallback := onFallback(t, ls, "security_file_open")
	trig := filepath.Join(triggers, "openfile")
	dir := fileTestDir(t)
	file := filepath.Join(dir, "created")

	opened := func(r openReport, path string) *event.Event {
		t.Helper()
		if r.Error != "" {
			t.Fatalf("openfile %s failed: %s", r.Path, r.Error)
		}
		return ls.waitFor(t, "security_file_open of "+path, func(ev *event.Event) bool {
			return ev.Name == "security_file_open" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == path
		})
	}
	checkFile := func(ev *event.Event, r openReport, sys string, created bool, acc uint64) {
		t.Helper()
		// O_CLOEXEC is asked for, but lives in the fd table, not in f_flags
		const mask = unix.O_ACCMODE | unix.O_CREAT | unix.O_TRUNC | unix.O_APPEND | unix.O_LARGEFILE | unix.O_CLOEXEC
		if got, want := argU(ev, "flags")&mask, uint64(r.Flags)|unix.O_LARGEFILE|acc; got != want {
			t.Errorf("%s flags = %#o, want %#o (all: %#o)", sys, got, want, argU(ev, "flags"))
		}
		if argU(ev, "mode") != uint64(r.Mode) || argU(ev, "dev") != r.Dev || argU(ev, "inode") != r.Inode {
			t.Errorf("%s: mode/dev/inode = %#o/%d/%d, want %#o/%d/%d", sys, argU(ev, "mode"), argU(ev, "dev"), argU(ev, "inode"), r.Mode, r.Dev, r.Inode)
		}
		if ev.Args["created"] != created {
			t.Errorf("%s: created = %v, want %v", sys, ev.Args["created"], created)
		}
		if argS(ev, "fs_type") == "" {
			t.Errorf("%s: no fs_type", sys)
		}
		wantSyscall(t, ev, fallback, sys)
		if fallback && ev.ReturnValue < 0 {
			t.Errorf("%s: return value %d for an open that worked", sys, ev.ReturnValue)
		}
	}

	// created, written
	var r openReport
	runTrigger(t, exec.Command(trig, "-create", "-write", "-content", "hello", file), &r)
	checkFile(opened(r, file), r, "openat", true, 0)
	if r.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("openfile reports mode %#o for a regular file", r.Mode)
	}

	// opened again for reading with openat2: not created
	runTrigger(t, exec.Command(trig, "-syscall", "openat2", file), &r)
	checkFile(opened(r, file), r, "openat2", false, 0)

	// a relative path, with open(2), resolved against the working directory
	runTrigger(t, exec.Command(trig, "-syscall", "open", "-chdir", dir, "./created"), &r)
	r.Flags = unix.O_RDONLY
	checkFile(opened(r, file), r, "open", false, 0)

	// creat(2) of an existing file truncates it
	runTrigger(t, exec.Command(trig, "-syscall", "creat", file), &r)
	checkFile(opened(r, file), r, "creat", false, 0)

	// Refused: a 0600 root file read by nobody, by a relative path. The
	// event carries the path as given, made absolute, and -EACCES.
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	nobody := func(args ...string) *exec.Cmd {
		cmd := exec.Command(trig, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return cmd
	}
	var miss openReport
	runTrigger(t, nobody(missing), &miss)
	if miss.Error != "ENOENT" {
		t.Fatalf("opening %s: %q, want ENOENT", missing, miss.Error)
	}
	runTrigger(t, nobody("-chdir", dir, "secret"), &r)
	if r.Error != "EACCES" {
		t.Fatalf("nobody opening %s: %q, want EACCES", secret, r.Error)
	}
	ev := ls.waitFor(t, "refused open of "+secret, func(ev *event.Event) bool {
		return ev.Name == "security_file_open" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == secret
	})
	if ev.ReturnValue != -int64(unix.EACCES) {
		t.Errorf("refused open: return value %d, want -EACCES", ev.ReturnValue)
	}
	if argU(ev, "flags")&unix.O_ACCMODE != unix.O_RDONLY || argU(ev, "inode") != 0 || ev.Process.UID != 65534 {
		t.Errorf("refused open: flags %#o inode %d uid %d", argU(ev, "flags"), argU(ev, "inode"), ev.Process.UID)
	}
	// whichever probe feeds successful opens, refusals come from the syscall exit
	if ev.Args["syscall"] != "openat" {
		t.Errorf("refused open: syscall = %v, want openat", ev.Args["syscall"])
	}
	// a missing file is not worth an event
	ls.mu.Lock()
	for _, ev := range ls.events {
		if ev.Process.HostPid == miss.Pid && ev.Args["pathname"] == missing {
			t.Errorf("an open that failed with ENOENT was reported: %v", ev.Args)
		}
	}
	ls.mu.Unlock()
}

type fsopsReport struct {
	Pid      uint32 `json:"pid"`
	Dir      string `json:"dir"`
	Created  string `json:"created"`
	Renamed  string `json:"renamed"`
	Linked   string `json:"linked"`
	Symlink  string `json:"symlink"`
	Subdir   string `json:"subdir"`
	Fifo     string `json:"fifo"`
	Blockdev string `json:"blockdev"`
	BlockNr  uint64 `json:"block_nr"`
	Mount    string `json:"mount"`
	Dev      uint64 `json:"dev"`
	Inode    uint64 `json:"inode"`
	Error    string `json:"error"`
}

func runFsops(t *testing.T, triggers string) fsopsReport {
	t.Helper()
	var r fsopsReport
	runTrigger(t, exec.Command(filepath.Join(triggers, "fsops"), fileTestDir(t)), &r)
	if r.Error != "" {
		t.Fatalf("fsops: %s", r.Error)
	}
	return r
}

func testRenameLinkUnlink(t *testing.T, ls *liveSensor, triggers string) {
	fallback := onFallback(t, ls, "security_inode_rename")
	r := runFsops(t, triggers)
	of := func(name string, ok func(*event.Event) bool) *event.Event {
		t.Helper()
		return ls.waitFor(t, name, func(ev *event.Event) bool {
			return ev.Name == name && ev.Process.HostPid == r.Pid && ok(ev)
		})
	}
	// the kernel hooks know the inode; the fallbacks see the call after
	// the fact (an unlinked entry is gone) and report 0
	wantInode := func(ev *event.Event) {
		t.Helper()
		want := [2]uint64{r.Inode, r.Dev}
		if fallback {
			want = [2]uint64{}
		}
		if got := [2]uint64{argU(ev, "inode"), argU(ev, "dev")}; got != want {
			t.Errorf("%s: inode/dev = %v, want %v", ev.Name, got, want)
		}
	}

	ev := of("security_inode_rename", func(ev *event.Event) bool { return ev.Args["new_path"] == r.Renamed })
	if ev.Args["old_path"] != r.Created || argU(ev, "flags") != unix.RENAME_NOREPLACE {
		t.Errorf("rename: %v", ev.Args)
	}
	wantInode(ev)
	wantSyscall(t, ev, fallback, "renameat2")

	ev = of("security_inode_link", func(ev *event.Event) bool { return ev.Args["new_path"] == r.Linked })
	if ev.Args["old_path"] != r.Renamed {
		t.Errorf("link: old_path = %v, want %s", ev.Args["old_path"], r.Renamed)
	}
	wantInode(ev)
	wantSyscall(t, ev, fallback, "linkat")

	ev = of("security_inode_symlink", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Symlink })
	if ev.Args["target"] != "/dev/null" {
		t.Errorf("symlink: target = %v, want /dev/null", ev.Args["target"])
	}
	wantSyscall(t, ev, fallback, "symlinkat")

	// unlink("./linked") after chdir: the path comes out absolute
	ev = of("security_inode_unlink", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Linked })
	if ev.Args["dir"] != false || ev.ReturnValue != 0 {
		t.Errorf("unlink: dir = %v, return value %d", ev.Args["dir"], ev.ReturnValue)
	}
	// the fallback takes dev and inode from ext4's unlink tracepoint; on
	// another file system it says they are unreadable, never 0
	var sfs unix.Statfs_t
	if err := unix.Statfs(r.Dir, &sfs); err != nil {
		t.Fatal(err)
	}
	if fallback && sfs.Type != unix.EXT4_SUPER_MAGIC {
		if !slices.Contains(ev.Unreadable, "dev") || !slices.Contains(ev.Unreadable, "inode") {
			t.Errorf("unlink on file system %#x from the fallback: dev/inode %v/%v, want unreadable", sfs.Type, ev.Args["dev"], ev.Args["inode"])
		}
	} else if got := [2]uint64{argU(ev, "inode"), argU(ev, "dev")}; got != [2]uint64{r.Inode, r.Dev} {
		t.Errorf("unlink: inode/dev = %v, want %v", got, [2]uint64{r.Inode, r.Dev})
	}
	wantSyscall(t, ev, fallback, "unlink")

	// unlinkat(dirfd, "subdir", AT_REMOVEDIR) is an rmdir
	ev = of("security_inode_unlink", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Subdir })
	if ev.Args["dir"] != true {
		t.Errorf("rmdir: dir = %v, want true", ev.Args["dir"])
	}
	if fallback && (!slices.Contains(ev.Unreadable, "dev") || !slices.Contains(ev.Unreadable, "inode")) {
		t.Errorf("rmdir from the fallback: dev/inode %v/%v, want unreadable (no tracepoint has them)", ev.Args["dev"], ev.Args["inode"])
	}
	wantSyscall(t, ev, fallback, "unlinkat")
}

func testChmodTruncateMknodMount(t *testing.T, ls *liveSensor, triggers string) {
	fallback := onFallback(t, ls, "security_path_chmod")
	r := runFsops(t, triggers)
	of := func(name string, ok func(*event.Event) bool) *event.Event {
		t.Helper()
		return ls.waitFor(t, name, func(ev *event.Event) bool {
			return ev.Name == name && ev.Process.HostPid == r.Pid && ok(ev)
		})
	}

	ev := of("security_path_chmod", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Renamed })
	if argU(ev, "mode") != 0o4755 || ev.Args["setuid"] != true || ev.Args["setgid"] != false {
		t.Errorf("chmod: mode = %#o setuid %v setgid %v, want 04755 true false", argU(ev, "mode"), ev.Args["setuid"], ev.Args["setgid"])
	}
	wantOld := uint64(unix.S_IFREG | 0o644)
	if fallback {
		wantOld = 0
	}
	if argU(ev, "old_mode") != wantOld {
		t.Errorf("chmod: old_mode = %#o, want %#o", argU(ev, "old_mode"), wantOld)
	}
	wantSyscall(t, ev, fallback, "fchmodat")

	// truncate(2) to 10, ftruncate(2) to 5, then an O_TRUNC open
	for _, c := range []struct {
		length int64
		sys    string
	}{{10, "truncate"}, {5, "ftruncate"}, {0, "openat"}} {
		ev := of("do_truncate", func(ev *event.Event) bool {
			return ev.Args["pathname"] == r.Renamed && ev.Args["length"] == c.length
		})
		wantSyscall(t, ev, fallback, c.sys)
	}

	ev = of("security_inode_mknod", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Fifo })
	if argU(ev, "mode") != unix.S_IFIFO|0o600 {
		t.Errorf("mknod fifo: mode = %#o", argU(ev, "mode"))
	}
	wantSyscall(t, ev, fallback, "mknodat")
	ev = of("security_inode_mknod", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Blockdev })
	if argU(ev, "mode") != unix.S_IFBLK|0o600 || argU(ev, "dev") != r.BlockNr {
		t.Errorf("mknod block device: mode = %#o dev = %#x, want %#o %#x", argU(ev, "mode"), argU(ev, "dev"), unix.S_IFBLK|0o600, r.BlockNr)
	}
	wantSyscall(t, ev, fallback, "mknod")
	// the regular file fsops created is no mknod
	ls.mu.Lock()
	for _, ev := range ls.events {
		if ev.Name == "security_inode_mknod" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] != r.Fifo && ev.Args["pathname"] != r.Blockdev {
			t.Errorf("unexpected mknod event: %v", ev.Args)
		}
	}
	ls.mu.Unlock()

	ev = of("security_sb_mount", func(ev *event.Event) bool { return ev.Args["path"] == r.Mount })
	if ev.Args["dev_name"] != "vigil-test" || ev.Args["fs_type"] != "tmpfs" || argU(ev, "flags")&(unix.MS_NOSUID|unix.MS_NODEV) != unix.MS_NOSUID|unix.MS_NODEV {
		t.Errorf("mount: %v", ev.Args)
	}
	wantSyscall(t, ev, fallback, "mount")
	ev = of("security_sb_umount", func(ev *event.Event) bool { return ev.Args["path"] == r.Mount })
	wantSyscall(t, ev, fallback, "umount2")
}

func testExecutableMemory(t *testing.T, ls *liveSensor, triggers string) {
	fallback := onFallback(t, ls, "security_file_mprotect")
	var r struct {
		Pid      uint32 `json:"pid"`
		Exe      string `json:"exe"`
		XAfterW  uint64 `json:"x_after_w"`
		MmapWX   uint64 `json:"mmap_wx"`
		MprotWX  uint64 `json:"mprotect_wx"`
		FileExec uint64 `json:"file_exec"`
		FileHint uint64 `json:"file_hint"`
		Len      uint64 `json:"len"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers, "wxmem")), &r)
	of := func(name string, ok func(*event.Event) bool) *event.Event {
		t.Helper()
		return ls.waitFor(t, name, func(ev *event.Event) bool {
			return ev.Name == name && ev.Process.HostPid == r.Pid && ok(ev)
		})
	}
	const rx, rwx = unix.PROT_READ | unix.PROT_EXEC, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC

	ev := of("security_file_mprotect", func(ev *event.Event) bool { return argU(ev, "start") == r.XAfterW })
	if argU(ev, "len") != r.Len || argU(ev, "prot") != rx || argU(ev, "vm_flags")&0x7 != 0x3 || argS(ev, "pathname") != "" {
		t.Errorf("mprotect RW -> RX: %v", ev.Args)
	}
	wantSyscall(t, ev, fallback, "mprotect")
	of("mem_prot_alert", func(ev *event.Event) bool {
		return ev.Args["alert"] == "mprotect_x_after_w" && argU(ev, "start") == r.XAfterW
	})
	of("mem_prot_alert", func(ev *event.Event) bool {
		return ev.Args["alert"] == "mprotect_wx" && argU(ev, "start") == r.MprotWX && argU(ev, "prot") == rwx
	})
	// mmap reports the address asked for (none here): the kernel hook runs
	// before one is chosen
	of("mem_prot_alert", func(ev *event.Event) bool {
		return ev.Args["alert"] == "mmap_wx" && argU(ev, "len") == r.Len && argU(ev, "prot") == rwx
	})

	exe, err := filepath.EvalSymlinks(r.Exe)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(exe, &st); err != nil {
		t.Fatal(err)
	}
	ev = of("security_mmap_file", func(ev *event.Event) bool { return ev.Args["pathname"] == exe })
	if argU(ev, "prot") != rx || argU(ev, "flags")&unix.MAP_PRIVATE == 0 || argU(ev, "inode") != st.Ino || argU(ev, "dev") != st.Dev {
		t.Errorf("mmap of the executable: %v (inode %d dev %d)", ev.Args, st.Ino, st.Dev)
	}
	if argU(ev, "addr") != r.FileHint {
		t.Errorf("mmap of the executable: addr %#x, want the address asked for %#x", argU(ev, "addr"), r.FileHint)
	}
	if fallback && uint64(ev.ReturnValue) != r.FileExec {
		t.Errorf("mmap fallback: return value %#x, want the mapped address %#x", ev.ReturnValue, r.FileExec)
	}
	// writable-only mappings and the Go runtime's heap are not reported
	ls.mu.Lock()
	for _, ev := range ls.events {
		if ev.Name == "security_mmap_file" && ev.Process.HostPid == r.Pid && argU(ev, "prot")&unix.PROT_EXEC == 0 {
			t.Errorf("a mapping without PROT_EXEC was reported: %v", ev.Args)
		}
	}
	ls.mu.Unlock()
}

func testMagicWrite(t *testing.T, ls *liveSensor, triggers string) {
	fallback := onFallback(t, ls, "magic_write")
	trig := filepath.Join(triggers, "elfdrop")
	dir := fileTestDir(t)
	type report struct {
		Pid   uint32 `json:"pid"`
		File  string `json:"file"`
		Dev   uint64 `json:"dev"`
		Inode uint64 `json:"inode"`
		Head  []byte `json:"head"`
		Size  uint64 `json:"size"`
	}
	for _, c := range []struct {
		args  []string
		write string // the vfs_write* event the write is
	}{
		{[]string{"-via", "write"}, "vfs_write"},
		{[]string{"-via", "writev", "-script"}, "vfs_writev"},
		{[]string{"-via", "pwrite"}, "vfs_write"},
	} {
		var r report
		runTrigger(t, exec.Command(trig, append(c.args, dir)...), &r)
		ev := ls.waitFor(t, "magic_write of "+r.File, func(ev *event.Event) bool {
			return ev.Name == "magic_write" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == r.File
		})
		if b, _ := ev.Args["bytes"].([]byte); !bytes.Equal(b, r.Head) {
			t.Errorf("%v: magic_write bytes %q, want %q", c.args, b, r.Head)
		}
		if argU(ev, "dev") != r.Dev || argU(ev, "inode") != r.Inode {
			t.Errorf("%v: dev/inode %d/%d, want %d/%d", c.args, argU(ev, "dev"), argU(ev, "inode"), r.Dev, r.Inode)
		}
		ev = ls.waitFor(t, c.write+" of "+r.File, func(ev *event.Event) bool {
			return ev.Name == c.write && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == r.File
		})
		if fd, _ := ev.Args["fd"].(int64); fd < 3 || ev.Args["pos"] != int64(0) {
			t.Errorf("%v: %s fd %v pos %v", c.args, c.write, ev.Args["fd"], ev.Args["pos"])
		}
		if c.write == "vfs_writev" && argU(ev, "vlen") != 2 {
			t.Errorf("writev: vlen = %v, want 2", ev.Args["vlen"])
		}
		if c.write == "vfs_write" && argU(ev, "count") != r.Size {
			t.Errorf("%v: vfs_write count %v, want the %d bytes written", c.args, ev.Args["count"], r.Size)
		}
	}
	t.Logf("magic_write fed by the fallback: %v", fallback)
}

// BenchmarkSensorOpen measures what security_file_open costs a program that
// does nothing but open and close a file (testdata/triggers/openloop), with
// no sensor and with a sensor running: compare the ns/open metrics.
//
//	go test -run '^$' -bench SensorOpen ./sensor/
func BenchmarkSensorOpen(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipped: loading BPF programs needs root")
	}
	dir, err := os.MkdirTemp("", "vigil-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-o", dir+"/", "../testdata/triggers/openloop")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building openloop: %v\n%s", err, out)
	}
	loop := func(b *testing.B) {
		var r struct {
			Opens   int     `json:"opens"`
			Seconds float64 `json:"seconds"`
		}
		out, err := exec.Command(filepath.Join(dir, "openloop"), "-n", fmt.Sprint(max(b.N, 1000))).Output()
		if err != nil || json.Unmarshal(out, &r) != nil {
			b.Fatalf("openloop: %v: %s", err, out)
		}
		b.ReportMetric(r.Seconds*1e9/float64(r.Opens), "ns/open")
	}
	withSensor := func(disable ...string) func(*testing.B) {
		return func(b *testing.B) {
			s, err := New(Config{Logger: zerolog.Nop(), Disable: disable})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			var n atomic.Uint64
			go func() { done <- s.Run(ctx, func(*event.Event) { n.Add(1) }) }()
			loop(b)
			cancel()
			<-done
			b.ReportMetric(float64(n.Load()), "events")
			b.Logf("security_file_open via %q; kernel drops: %v", (*s.probes.Load())[event.IDSecurityFileOpen], s.Stats().KernelDrops)
		}
	}
	b.Run("without-sensor", loop)
	// every other event on: the cost of the rest of the syscall layer
	b.Run("sensor-without-open-events", withSensor("security_file_open", "do_truncate"))
	b.Run("sensor", withSensor())
}

type setcapReport struct {
	Pid         uint32 `json:"pid"`
	ByPath      string `json:"by_path"`
	ByFd        string `json:"by_fd"`
	V3          string `json:"v3"`
	RootID      uint32 `json:"rootid"`
	Permitted   uint64 `json:"permitted"`
	Inheritable uint64 `json:"inheritable"`
	UserXattr   string `json:"user_xattr"`
	Error       string `json:"error"`
}

// testSetxattr: file capabilities written by path and by descriptor come
// out decoded; the user.* attribute written before them is left out.
func testSetxattr(t *testing.T, ls *liveSensor, triggers string) {
	var r setcapReport
	runTrigger(t, exec.Command(filepath.Join(triggers, "setcap"), fileTestDir(t)), &r)
	if r.Error != "" {
		t.Fatalf("setcap: %s", r.Error)
	}
	for _, c := range []struct {
		path, sys     string
		flags         int
		version, size int
		rootid        uint32 // revision 3 only
	}{
		{r.ByPath, "setxattr", unix.XATTR_CREATE, 2, 20, 0},
		{r.ByFd, "fsetxattr", 0, 2, 20, 0},
		{r.V3, "setxattr", 0, 3, 24, r.RootID},
	} {
		ev := ls.waitFor(t, "setxattr", func(ev *event.Event) bool {
			return ev.Name == "setxattr" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == c.path
		})
		if ev.Args["name"] != "security.capability" || ev.Args["syscall"] != c.sys || argU(ev, "flags") != uint64(c.flags) || ev.ReturnValue != 0 {
			t.Errorf("%s: name %v syscall %v flags %v return %d, want security.capability %s %d 0", c.path, ev.Args["name"], ev.Args["syscall"], ev.Args["flags"], ev.ReturnValue, c.sys, c.flags)
		}
		if argU(ev, "cap_permitted") != r.Permitted || argU(ev, "cap_inheritable") != r.Inheritable || ev.Args["cap_effective"] != true ||
			argU(ev, "cap_version") != uint64(c.version) || argU(ev, "size") != uint64(c.size) {
			t.Errorf("%s: cap_permitted %#x inheritable %#x effective %v version %d size %d, want %#x %#x true %d %d",
				c.path, argU(ev, "cap_permitted"), argU(ev, "cap_inheritable"), ev.Args["cap_effective"], argU(ev, "cap_version"), argU(ev, "size"),
				r.Permitted, r.Inheritable, c.version, c.size)
		}
		if rootid, ok := ev.Args["cap_rootid"]; (c.version == 3) != ok || (ok && rootid != uint64(c.rootid)) {
			t.Errorf("%s: cap_rootid %v, want %d (revision 3 only)", c.path, rootid, c.rootid)
		}
		if v, _ := ev.Args["value"].([]byte); len(v) != c.size {
			t.Errorf("%s: value %v, want the %d bytes written", c.path, ev.Args["value"], c.size)
		}
	}
	// the user.* write came first, on the same CPU: had it been reported,
	// it would be here by now
	if n := ls.count(func(ev *event.Event) bool {
		return ev.Name == "setxattr" && ev.Process.HostPid == r.Pid && ev.Args["name"] != "security.capability"
	}); n != 0 {
		t.Errorf("%d setxattr events of an attribute outside security.*", n)
	}
}

package sensor

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
)

// Privileged tests of the write paths that bypass write(2) and the
// operations that bypass their syscalls (bpf/copy.bpf.c, iouring.bpf.c,
// mountapi.bpf.c).

type copyReport struct {
	Pid      uint32 `json:"pid"`
	Src      string `json:"src"`
	SrcDev   uint64 `json:"src_dev"`
	SrcInode uint64 `json:"src_inode"`
	Copies   map[string]struct {
		Path   string `json:"path"`
		Dev    uint64 `json:"dev"`
		Inode  uint64 `json:"inode"`
		Size   int64  `json:"size"`
		RunPid uint32 `json:"run_pid"`
		Error  string `json:"error"`
	} `json:"copies"`
}

// reflinkDir is a folder on a file system with reflinks (FICLONE): a btrfs
// image loop-mounted in a temporary folder. "" with the reason when this
// machine cannot make one.
func reflinkDir(t *testing.T) (string, string) {
	t.Helper()
	mkfs, err := exec.LookPath("mkfs.btrfs")
	if err != nil {
		return "", "mkfs.btrfs is not installed (apt-get install btrfs-progs)"
	}
	tmp := t.TempDir()
	img, mnt := filepath.Join(tmp, "btrfs.img"), filepath.Join(tmp, "mnt")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 128<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", img).CombinedOutput(); err != nil {
		return "", "mkfs.btrfs: " + err.Error() + ": " + string(out)
	}
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		return "", "mounting a btrfs image: " + err.Error() + ": " + string(out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	return mnt, ""
}

// TestSensorSeesFileCopies copies /bin/true into a folder by
// copy_file_range, sendfile, splice, a reflink and a shared mapping, runs
// every copy, and checks the file_copy events and that each exec knows the
// copy was written (written_ns_ago, writer_pid).
func TestSensorSeesFileCopies(t *testing.T) {
	ls := startSensor(t)
	trig := filepath.Join(triggers(t), "copyops")
	src, err := filepath.EvalSymlinks("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{fileTestDir(t)}
	rdir, why := reflinkDir(t)
	if rdir != "" {
		dirs = append(dirs, rdir)
	} else {
		t.Logf("no reflink-capable file system, FICLONE is not tested: %s", why)
	}
	for _, dir := range dirs {
		// copy_file_range and reflinks stay within one file system: the
		// source is a copy of /bin/true made beside the copies
		from := filepath.Join(dir, "true")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(from, data, 0o755); err != nil {
			t.Fatal(err)
		}
		var r copyReport
		runTrigger(t, exec.Command(trig, "-run", from, dir), &r)
		for sys, c := range r.Copies {
			if c.Error != "" {
				if sys == "ioctl_ficlone" && dir != rdir {
					continue // ext4 and tmpfs have no reflinks
				}
				t.Errorf("%s into %s: %s", sys, dir, c.Error)
				continue
			}
			if sys != "mmap" {
				ev := ls.waitFor(t, "file_copy by "+sys+" to "+c.Path, func(ev *event.Event) bool {
					return ev.Name == "file_copy" && ev.Process.HostPid == r.Pid && ev.Args["pathname"] == c.Path
				})
				a := event.FileCopyArgs(ev.Args)
				// btrfs gives stat(2) a subvolume's device number, not
				// the file system's: the inode is what identifies there
				devOK := a.Dev() == uint32(c.Dev) || dir == rdir && a.Dev() != 0
				if a.Syscall() != sys || !devOK || a.Inode() != c.Inode ||
					a.Mode() != unix.S_IFREG|0o755 || a.Offset() != 0 || !copiedAll(sys, a.Bytes(), c.Size) || ev.ReturnValue != a.Bytes() && sys != "ioctl_ficlone" {
					t.Errorf("%s: file_copy %v (return %d), want dev/inode %d/%d, size %d", sys, ev.Args, ev.ReturnValue, c.Dev, c.Inode, c.Size)
				}
				if sys == "splice" {
					// the file's bytes went through a pipe
					if !strings.HasPrefix(a.SrcPath(), "pipe:") || a.SrcInode() == 0 {
						t.Errorf("splice: source %q inode %d, want a pipe", a.SrcPath(), a.SrcInode())
					}
				} else if a.SrcPath() != from || !(a.SrcDev() == uint32(r.SrcDev) || dir == rdir && a.SrcDev() == a.Dev()) || a.SrcInode() != r.SrcInode {
					t.Errorf("%s: source %q %d/%d, want %q %d/%d", sys, a.SrcPath(), a.SrcDev(), a.SrcInode(), from, r.SrcDev, r.SrcInode)
				}
			}
			ev := ls.waitFor(t, "the exec of "+c.Path, func(ev *event.Event) bool {
				return ev.Name == "sched_process_exec" && ev.Process.HostPid == c.RunPid
			})
			x := event.SchedProcessExecArgs(ev.Args)
			if _, ok := x.LookupWrittenNSAgo(); !ok || x.WriterPid() != r.Pid || x.WriterComm() != "copyops" || !x.WriterCreated() {
				t.Errorf("%s: the exec of the copy says written_ns_ago %v, writer %d %q created %v; want the copier %d",
					sys, ev.Args["written_ns_ago"], x.WriterPid(), x.WriterComm(), x.WriterCreated(), r.Pid)
			}
		}
	}
}

// TestSensorSeesIoUring opens, writes, sets an attribute on a file and
// connects a socket through an io_uring, then runs the file written.
func TestSensorSeesIoUring(t *testing.T) {
	// security_file_open off: its hook notes every open for writing (the
	// ring's too) where fentry or kprobes work, and would hide whether the
	// ring's own completion does, which is all a kernel without them has
	ls := ownSensor(t, Config{Disable: []string{"security_file_open"}})
	if st := probeOf(ls, "io_uring_submit_req"); st.Probe == "" {
		spec, _ := event.Lookup("io_uring_submit_req")
		if missing := missingTracepoints(t, spec); missing != "" {
			t.Skipf("this kernel (%s) has no tracepoint %s, so no io_uring_submit_req event", kernelRelease(), missing)
		}
		t.Fatalf("io_uring_submit_req: no probe attached: %v", st.Err)
	}
	trig := filepath.Join(triggers(t), "uringops")
	dir := fileTestDir(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	head, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	// a program the test writes itself (the sensor leaves its own writes
	// out): only the ring's open of it for writing makes it written
	reopened := filepath.Join(dir, "reopened")
	if err := os.WriteFile(reopened, head, 0o755); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Pid          uint32         `json:"pid"`
		Path         string         `json:"path"`
		Dev          uint64         `json:"dev"`
		Inode        uint64         `json:"inode"`
		Results      map[string]int `json:"results"`
		RunPid       uint32         `json:"run_pid"`
		ReopenRunPid uint32         `json:"reopen_run_pid"`
		Error        string         `json:"error"`
	}
	runTrigger(t, exec.Command(trig, "-run", "-reopen", reopened, "/bin/true", dir, strconv.Itoa(port)), &r)
	if r.Error != "" {
		t.Fatalf("uringops: %s", r.Error)
	}
	op := func(name string) event.IoUringSubmitReqArgs {
		ev := ls.waitFor(t, "io_uring "+name, func(ev *event.Event) bool {
			return ev.Name == "io_uring_submit_req" && ev.Process.HostPid == r.Pid && ev.Args["op"] == name
		})
		a := event.IoUringSubmitReqArgs(ev.Args)
		if a.FixedFile() || a.SqThread() {
			t.Errorf("%s: fixed_file %v sq_thread %v, want neither", name, a.FixedFile(), a.SqThread())
		}
		return a
	}
	if a := op("OPENAT"); a.Opcode() != 18 || a.Fd() != unix.AT_FDCWD || a.Pathname() != r.Path ||
		a.Flags()&(unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC) != unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC || a.Mode() != 0o755 {
		t.Errorf("OPENAT: %v", map[string]any(a))
	}
	if a := op("WRITE"); a.Opcode() != 23 || a.Fd() != int32(r.Results["OPENAT"]) || a.Pathname() != r.Path || a.Offset() != 0 ||
		a.Len() != uint64(len(head)) || !bytes.Equal(a.Bytes(), head[:64]) {
		t.Errorf("WRITE: %v", map[string]any(a))
	}
	if a := op("SETXATTR"); a.Opcode() != 42 || a.Pathname() != r.Path || a.Name() != "user.vigil" || a.Len() != 7 || a.Flags() != 0 {
		t.Errorf("SETXATTR: %v", map[string]any(a))
	}
	if a := op("LINKAT"); a.Opcode() != 39 || a.Fd() != unix.AT_FDCWD || a.Pathname() != r.Path || a.NewPath() != r.Path+".link" || a.Flags() != 0 {
		t.Errorf("LINKAT: %v", map[string]any(a))
	}
	if a := op("CONNECT"); a.Opcode() != 16 || a.Family() != "AF_INET" || a.RemoteAddr() != "127.0.0.1" || a.RemotePort() != uint32(port) {
		t.Errorf("CONNECT: %v", map[string]any(a))
	}
	// the file opened and written through the ring is known as written
	ev := ls.waitFor(t, "the exec of "+r.Path, func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == r.RunPid
	})
	x := event.SchedProcessExecArgs(ev.Args)
	if _, ok := x.LookupWrittenNSAgo(); !ok || x.WriterPid() != r.Pid || !x.WriterCreated() {
		t.Errorf("the exec of the file written through io_uring: written_ns_ago %v, writer %d %q created %v; want the writer %d",
			ev.Args["written_ns_ago"], x.WriterPid(), x.WriterComm(), x.WriterCreated(), r.Pid)
	}
	// opened for writing through the ring and nothing written: the
	// completion of the OPENAT (io_uring_complete, whose arguments differ
	// between kernels) is what notes it
	ev = ls.waitFor(t, "the exec of "+reopened, func(ev *event.Event) bool {
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == r.ReopenRunPid
	})
	x = event.SchedProcessExecArgs(ev.Args)
	if _, ok := x.LookupWrittenNSAgo(); !ok || x.WriterPid() != r.Pid || x.WriterCreated() {
		t.Errorf("the exec of the file opened for writing through io_uring: written_ns_ago %v, writer %d %q created %v; want the writer %d, not created",
			ev.Args["written_ns_ago"], x.WriterPid(), x.WriterComm(), x.WriterCreated(), r.Pid)
	}
}

// TestSensorSeesNewMountAPI mounts a tmpfs and a bind mount with fsopen,
// fsconfig, fsmount, open_tree and move_mount (testdata/triggers/newmount).
func TestSensorSeesNewMountAPI(t *testing.T) {
	ls := startSensor(t)
	dir := fileTestDir(t)
	var r struct {
		Pid    uint32 `json:"pid"`
		FsPath string `json:"fs_path"`
		Src    string `json:"src"`
		Bind   string `json:"bind"`
		Error  string `json:"error"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "newmount"), dir), &r)
	if r.Error != "" {
		t.Fatalf("newmount: %s", r.Error)
	}
	of := func(name string, ok func(*event.Event) bool) *event.Event {
		return ls.waitFor(t, name, func(ev *event.Event) bool {
			return ev.Name == name && ev.Process.HostPid == r.Pid && ok(ev)
		})
	}
	ev := of("fsopen", func(*event.Event) bool { return true })
	fo := event.FsopenArgs(ev.Args)
	if fo.FsType() != "tmpfs" || fo.Flags() != unix.FSOPEN_CLOEXEC || ev.ReturnValue < 0 {
		t.Errorf("fsopen: %v return %d", ev.Args, ev.ReturnValue)
	}
	fsfd := int32(ev.ReturnValue)
	ev = of("fsconfig", func(ev *event.Event) bool { return ev.Args["cmd"] == "FSCONFIG_SET_STRING" })
	fc := event.FsconfigArgs(ev.Args)
	if fc.Fd() != fsfd || fc.Key() != "size" || fc.Value() != "1m" || fc.Aux() != 0 || fc.FsType() != "tmpfs" {
		t.Errorf("fsconfig: %v", ev.Args)
	}
	of("fsconfig", func(ev *event.Event) bool { return ev.Args["cmd"] == "FSCONFIG_CMD_CREATE" })
	ev = of("fsmount", func(*event.Event) bool { return true })
	fm := event.FsmountArgs(ev.Args)
	if fm.Fd() != fsfd || fm.Flags() != unix.FSMOUNT_CLOEXEC || fm.AttrFlags() != unix.MOUNT_ATTR_NODEV || fm.FsType() != "tmpfs" {
		t.Errorf("fsmount: %v", ev.Args)
	}
	ev = of("move_mount", func(ev *event.Event) bool { return ev.Args["pathname"] == r.FsPath })
	mm := event.MoveMountArgs(ev.Args)
	if mm.FromPath() != r.FsPath || mm.FsType() != "tmpfs" || mm.Source() != "none" && mm.Source() != "tmpfs" ||
		mm.Flags() != unix.MOVE_MOUNT_F_EMPTY_PATH || ev.ReturnValue != 0 {
		t.Errorf("move_mount of the tmpfs: %v", ev.Args)
	}
	ev = of("open_tree", func(*event.Event) bool { return true })
	ot := event.OpenTreeArgs(ev.Args)
	if ot.Pathname() != r.Src || ot.Flags() != unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC || ot.FsType() != "ext4" && ot.FsType() != "tmpfs" {
		t.Errorf("open_tree: %v", ev.Args)
	}
	of("move_mount", func(ev *event.Event) bool { return ev.Args["pathname"] == r.Bind })
}

// copiedAll tells whether the first file_copy of a copy covers the file:
// splice moves at most a pipe's capacity (64 KiB by default) per call, so its
// first event is the first chunk; the other calls copy the file in one.
func copiedAll(sys string, bytes, size int64) bool {
	if sys == "splice" {
		return bytes > 0 && bytes <= size
	}
	return bytes == size
}

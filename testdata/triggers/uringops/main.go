// Command uringops does file and socket operations through an io_uring,
// with no syscall of their own: it opens DIR/dropped for writing
// (IORING_OP_OPENAT), writes the bytes of SRC into it at offset 0
// (IORING_OP_WRITE), sets the attribute user.vigil on it
// (IORING_OP_SETXATTR), links it as DIR/dropped.link (IORING_OP_LINKAT) and connects a TCP socket to ADDR
// (IORING_OP_CONNECT, 127.0.0.1:PORT). The file is made executable by
// fchmod; with -run it is then run (SRC must be a program that exits 0 with
// no arguments, such as /bin/true). With -reopen FILE it then opens FILE for
// writing through the ring as well (IORING_OP_OPENAT, nothing written),
// closes it and, with -run, runs it too.
//
// Usage: uringops [-run] [-reopen FILE] SRC DIR PORT
//
// It prints one JSON line: its pid, the file's path, device and inode, each
// operation's result, and the pid of the run.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid     int            `json:"pid"`
	Path    string         `json:"path"`
	Dev     uint64         `json:"dev"`
	Inode   uint64         `json:"inode"`
	Results map[string]int `json:"results"` // cqe res by op
	RunPid  int            `json:"run_pid,omitempty"`
	// the run of the -reopen file
	ReopenRunPid int    `json:"reopen_run_pid,omitempty"`
	Error        string `json:"error,omitempty"`
}

// io_uring ABI (include/uapi/linux/io_uring.h)
const (
	opConnect  = 16
	opOpenat   = 18
	opWrite    = 23
	opSetxattr = 42
	opLinkat   = 39

	offSQRing = 0
	offSQEs   = 0x10000000
	enterWait = 1 // IORING_ENTER_GETEVENTS
)

type sqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type cqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

type params struct {
	SqEntries, CqEntries, Flags, SqThreadCPU, SqThreadIdle, Features, WqFd uint32
	Resv                                                                   [3]uint32
	SqOff                                                                  sqringOffsets
	CqOff                                                                  cqringOffsets
}

type sqe struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64 // addr2
	Addr        uint64
	Len         uint32
	OpFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	FileIndex   int32
	Addr3       uint64
	Pad         uint64
}

type ring struct {
	fd    int
	p     params
	rings []byte
	sqes  []byte
}

func newRing() (*ring, error) {
	r := &ring{}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&r.p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r.fd = int(fd)
	size := max(r.p.SqOff.Array+r.p.SqEntries*4, r.p.CqOff.Cqes+r.p.CqEntries*16)
	var err error
	if r.rings, err = unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return nil, fmt.Errorf("mapping the rings: %w", err)
	}
	if r.sqes, err = unix.Mmap(r.fd, offSQEs, int(r.p.SqEntries)*64, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return nil, fmt.Errorf("mapping the SQEs: %w", err)
	}
	return r, nil
}

func (r *ring) u32(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.rings[off])) }

// do submits one request and waits for its completion's result.
func (r *ring) do(s sqe) (int, error) {
	tail := atomic.LoadUint32(r.u32(r.p.SqOff.Tail))
	idx := tail & *r.u32(r.p.SqOff.RingMask)
	*(*sqe)(unsafe.Pointer(&r.sqes[idx*64])) = s
	*r.u32(r.p.SqOff.Array + idx*4) = idx
	atomic.StoreUint32(r.u32(r.p.SqOff.Tail), tail+1)
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 1, enterWait, 0, 0); errno != 0 {
		return 0, fmt.Errorf("io_uring_enter: %w", errno)
	}
	head := atomic.LoadUint32(r.u32(r.p.CqOff.Head))
	if head == atomic.LoadUint32(r.u32(r.p.CqOff.Tail)) {
		return 0, fmt.Errorf("no completion")
	}
	cidx := head & *r.u32(r.p.CqOff.RingMask)
	res := *(*int32)(unsafe.Pointer(&r.rings[r.p.CqOff.Cqes+cidx*16+8]))
	atomic.StoreUint32(r.u32(r.p.CqOff.Head), head+1)
	return int(res), nil
}

// cstr is a NUL-terminated copy of s in memory the garbage collector does
// not move or free while the kernel reads it.
func cstr(mem []byte, s string) uint64 {
	copy(mem, s)
	mem[len(s)] = 0
	return uint64(uintptr(unsafe.Pointer(&mem[0])))
}

func main() {
	run := flag.Bool("run", false, "run the file written")
	reopen := flag.String("reopen", "", "a file to open for writing through the ring, and run with -run")
	flag.Parse()
	if flag.NArg() != 3 {
		fmt.Fprintln(os.Stderr, "usage: uringops [-run] [-reopen FILE] SRC DIR PORT")
		os.Exit(2)
	}
	port, _ := strconv.Atoi(flag.Arg(2))
	rep := report{Pid: os.Getpid(), Path: filepath.Join(flag.Arg(1), "dropped"), Results: map[string]int{}}
	defer func() { json.NewEncoder(os.Stdout).Encode(rep) }()
	fail := func(err error) { rep.Error = err.Error() }
	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fail(err)
		return
	}
	r, err := newRing()
	if err != nil {
		fail(err)
		return
	}
	mem, err := unix.Mmap(-1, 0, 1<<16+len(data), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		fail(err)
		return
	}
	path := cstr(mem[0:], rep.Path)
	fd, err := r.do(sqe{Opcode: opOpenat, Fd: unix.AT_FDCWD, Addr: path, Len: 0o755, OpFlags: unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC})
	rep.Results["OPENAT"] = fd
	if err != nil || fd < 0 {
		fail(fmt.Errorf("openat: %v %d", err, fd))
		return
	}
	buf := mem[1<<16:]
	copy(buf, data)
	n, err := r.do(sqe{Opcode: opWrite, Fd: int32(fd), Addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), Len: uint32(len(data)), Off: 0})
	rep.Results["WRITE"] = n
	if err != nil || n != len(data) {
		fail(fmt.Errorf("write: %v %d", err, n))
		return
	}
	name, value := cstr(mem[4096:], "user.vigil"), cstr(mem[8192:], "dropped")
	n, err = r.do(sqe{Opcode: opSetxattr, Addr: name, Off: value, Addr3: path, Len: 7})
	rep.Results["SETXATTR"] = n
	if err != nil {
		fail(err)
		return
	}
	link := cstr(mem[16384:], rep.Path+".link")
	n, err = r.do(sqe{Opcode: opLinkat, Fd: unix.AT_FDCWD, Addr: path, Off: link, Len: uint32(0xffffff9c)}) // new_dfd AT_FDCWD
	rep.Results["LINKAT"] = n
	if err != nil || n != 0 {
		fail(fmt.Errorf("linkat: %v %d", err, n))
		return
	}
	unix.Fchmod(fd, 0o755)
	unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Stat(rep.Path, &st); err != nil {
		fail(err)
		return
	}
	rep.Dev, rep.Inode = st.Dev, st.Ino

	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail(err)
		return
	}
	sa := mem[12288:]
	// struct sockaddr_in: family (host order), port (network order), address
	*(*uint16)(unsafe.Pointer(&sa[0])) = unix.AF_INET
	sa[2], sa[3] = byte(port>>8), byte(port)
	copy(sa[4:8], []byte{127, 0, 0, 1})
	n, err = r.do(sqe{Opcode: opConnect, Fd: int32(s), Addr: uint64(uintptr(unsafe.Pointer(&sa[0]))), Off: 16})
	rep.Results["CONNECT"] = n
	if err != nil {
		fail(err)
		return
	}
	unix.Close(s)
	if *reopen != "" {
		fd, err := r.do(sqe{Opcode: opOpenat, Fd: unix.AT_FDCWD, Addr: cstr(mem[20480:], *reopen), OpFlags: unix.O_WRONLY | unix.O_CLOEXEC})
		rep.Results["REOPEN"] = fd
		if err != nil || fd < 0 {
			fail(fmt.Errorf("openat %s: %v %d", *reopen, err, fd))
			return
		}
		unix.Close(fd)
	}
	if *run {
		for _, f := range []struct {
			path string
			pid  *int
		}{{rep.Path, &rep.RunPid}, {*reopen, &rep.ReopenRunPid}} {
			if f.path == "" {
				continue
			}
			cmd := exec.Command(f.path)
			if err := cmd.Run(); err != nil {
				fail(fmt.Errorf("running %s: %w", f.path, err))
			}
			if cmd.Process != nil {
				*f.pid = cmd.Process.Pid
			}
		}
	}
}

// Command wxmem makes memory that is written and then executed, the way
// shellcode loaders and in-memory injectors do: an anonymous read-write
// mapping made executable (mprotect), a mapping asked for writable and
// executable at once (mmap), one made writable and executable (mprotect),
// and, for contrast, its own executable mapped read-execute like a library.
//
// It prints one JSON line: its pid and the address of each mapping.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid      int     `json:"pid"`
	Exe      string  `json:"exe"`
	XAfterW  uintptr `json:"x_after_w"`   // RW, then mprotect RX
	MmapWX   uintptr `json:"mmap_wx"`     // mmap RWX
	MprotWX  uintptr `json:"mprotect_wx"` // RW, then mprotect RWX
	FileExec uintptr `json:"file_exec"`   // own executable, mmap RX
	FileHint uintptr `json:"file_hint"`   // the address that mmap asked for
	Len      int     `json:"len"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wxmem:", err)
		os.Exit(1)
	}
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }

func run() error {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Len: os.Getpagesize()}
	anon := unix.MAP_PRIVATE | unix.MAP_ANONYMOUS

	code, err := unix.Mmap(-1, 0, r.Len, unix.PROT_READ|unix.PROT_WRITE, anon)
	if err != nil {
		return err
	}
	code[0] = 0xc3 // ret
	if err := unix.Mprotect(code, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		return fmt.Errorf("mprotect RX: %w", err)
	}
	r.XAfterW = addr(code)

	wx, err := unix.Mmap(-1, 0, r.Len, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, anon)
	if err != nil {
		return fmt.Errorf("mmap RWX: %w", err)
	}
	r.MmapWX = addr(wx)

	rw, err := unix.Mmap(-1, 0, r.Len, unix.PROT_READ|unix.PROT_WRITE, anon)
	if err != nil {
		return err
	}
	if err := unix.Mprotect(rw, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC); err != nil {
		return fmt.Errorf("mprotect RWX: %w", err)
	}
	r.MprotWX = addr(rw)

	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	// at an address of its choosing (a hint: the kernel takes it when free)
	r.FileHint = 0x7e5000000000
	lib, _, errno := unix.Syscall6(unix.SYS_MMAP, r.FileHint, uintptr(r.Len), unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE, f.Fd(), 0)
	if errno != 0 {
		return fmt.Errorf("mmap of %s: %w", exe, errno)
	}
	r.FileExec = lib
	return json.NewEncoder(os.Stdout).Encode(r)
}

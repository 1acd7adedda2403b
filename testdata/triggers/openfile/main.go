// Command openfile opens one file, the way it is told, with the syscall it is
// told, as an attacker or an ordinary program would: reading a credential
// file, creating a file in a persistence location, probing a file it may not
// read. An open that fails is reported, not fatal: refused opens are part of
// what the sensor must see.
//
// Usage: openfile [-syscall openat|openat2|open|creat] [-create] [-write]
// [-trunc] [-chdir DIR] [-content TEXT] [-remove] PATH
//
// It prints one JSON line: its pid, the path as given, the errno name of a
// failed open (or ""), and the opened file's device, inode and mode.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid     int    `json:"pid"`
	Exe     string `json:"exe"`
	Path    string `json:"path"`
	Syscall string `json:"syscall"`
	Flags   int    `json:"flags"`
	Error   string `json:"error"`
	Dev     uint64 `json:"dev"`
	Inode   uint64 `json:"inode"`
	Mode    uint32 `json:"mode"`
}

func main() {
	sys := flag.String("syscall", "openat", "open, openat, openat2 or creat")
	create := flag.Bool("create", false, "O_CREAT")
	write := flag.Bool("write", false, "open for writing (O_WRONLY)")
	trunc := flag.Bool("trunc", false, "O_TRUNC")
	chdir := flag.String("chdir", "", "change to this directory first (PATH may then be relative)")
	content := flag.String("content", "", "write this to the file")
	remove := flag.Bool("remove", false, "remove the file afterwards")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: openfile [flags] PATH")
		os.Exit(2)
	}
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Path: flag.Arg(0), Syscall: *sys}
	if *chdir != "" {
		if err := os.Chdir(*chdir); err != nil {
			fmt.Fprintln(os.Stderr, "openfile:", err)
			os.Exit(1)
		}
	}
	flags := unix.O_RDONLY
	if *write {
		flags = unix.O_WRONLY
	}
	if *create {
		flags |= unix.O_CREAT
	}
	if *trunc {
		flags |= unix.O_TRUNC
	}
	r.Flags = flags
	var fd int
	var err error
	switch *sys {
	case "openat":
		fd, err = unix.Openat(unix.AT_FDCWD, r.Path, flags|unix.O_CLOEXEC, 0o644)
	case "openat2":
		how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC)}
		if *create {
			how.Mode = 0o644 // openat2 refuses a mode without O_CREAT
		}
		fd, err = unix.Openat2(unix.AT_FDCWD, r.Path, &how)
	case "open": // open(2) itself: x/sys/unix.Open is openat
		fd, err = legacy(unix.SYS_OPEN, r.Path, uintptr(flags|unix.O_CLOEXEC), 0o644)
	case "creat":
		fd, err = legacy(unix.SYS_CREAT, r.Path, 0o644, 0)
		r.Flags = unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC
	default:
		fmt.Fprintln(os.Stderr, "openfile: unknown syscall", *sys)
		os.Exit(2)
	}
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			r.Error = unix.ErrnoName(errno)
		} else {
			r.Error = err.Error()
		}
	} else {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err == nil {
			r.Dev, r.Inode, r.Mode = st.Dev, st.Ino, st.Mode
		}
		if *content != "" {
			if _, err := unix.Write(fd, []byte(*content)); err != nil {
				fmt.Fprintln(os.Stderr, "openfile: writing:", err)
			}
		}
		unix.Close(fd)
		if *remove {
			os.Remove(r.Path)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		os.Exit(1)
	}
}

// legacy calls a path syscall that x/sys/unix only offers as openat.
func legacy(nr uintptr, path string, a1, a2 uintptr) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	fd, _, errno := unix.Syscall(nr, uintptr(unsafe.Pointer(p)), a1, a2)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

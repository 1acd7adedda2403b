// Command stomp sets the times of a file itself, the way timestomping
// implants do (no touch involved): utimensat on the path, then futimens on
// an open descriptor, both with a modification time years in the past.
//
//	stomp FILE
//
// It prints one JSON line with its pid and the time it set.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// 2015-01-01T00:00:00Z: older than anything freshly installed
const stamp = 1420070400

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stomp FILE")
		os.Exit(2)
	}
	path := os.Args[1]
	ts := []unix.Timespec{{Sec: stamp}, {Sec: stamp}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, 0); err != nil {
		fmt.Fprintln(os.Stderr, "stomp: utimensat:", err)
		os.Exit(1)
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stomp:", err)
		os.Exit(1)
	}
	defer f.Close()
	// futimens(fd, times) is utimensat(fd, NULL, times, 0): the
	// modification time alone, the access time left alone
	fts := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Sec: stamp}}
	if _, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&fts[0])), 0, 0, 0); errno != 0 {
		fmt.Fprintln(os.Stderr, "stomp: futimens:", errno)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"pid": os.Getpid(), "mtime": stamp})
}

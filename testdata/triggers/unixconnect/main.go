// Command unixconnect connects a stream AF_UNIX socket to each path it is
// given, in order, with the connect system call itself, the way a client of
// a local daemon (a container runtime's API socket, a database) does. A
// refused connect (no such file, nobody listening, permission denied) is
// reported, not fatal: refused attempts are part of what the sensor must
// see.
//
// Usage: unixconnect PATH...
//
// It prints one JSON line: its pid and executable, and for each path the
// descriptor it connected and the errno name of a failed connect (or "").
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

type attempt struct {
	Path  string `json:"path"`
	Fd    int    `json:"fd"`
	Error string `json:"error"`
}

type report struct {
	Pid      int       `json:"pid"`
	Exe      string    `json:"exe"`
	Connects []attempt `json:"connects"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: unixconnect PATH...")
		os.Exit(2)
	}
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe}
	for _, path := range os.Args[1:] {
		r.Connects = append(r.Connects, connect(path))
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "unixconnect:", err)
		os.Exit(1)
	}
}

// connect leaves the socket open: the daemon sees a client, as it would,
// until the program exits.
func connect(path string) attempt {
	a := attempt{Path: path, Fd: -1}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		a.Error = errnoName(err)
		return a
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		a.Error = errnoName(err)
		return a
	}
	a.Fd = fd
	return a
}

func errnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	return err.Error()
}

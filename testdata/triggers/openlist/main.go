// Command openlist opens each file it is given and closes it again, in
// order, to compare what the sensor's kernel filter lets out with what the
// signatures can fire on. An open that fails is reported, not fatal.
//
// Usage: openlist [r:|w:|rw:]PATH...   (r: read-only, the default; w: O_WRONLY; rw: O_RDWR)
//
// It prints one JSON line: its pid and, per failed open, the path and the
// error.
package main

import (
	"encoding/json"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	type failure struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	}
	var failed []failure
	for _, a := range os.Args[1:] {
		flags, path := unix.O_RDONLY, a
		switch {
		case strings.HasPrefix(a, "r:"):
			path = a[2:]
		case strings.HasPrefix(a, "w:"):
			flags, path = unix.O_WRONLY, a[2:]
		case strings.HasPrefix(a, "rw:"):
			flags, path = unix.O_RDWR, a[3:]
		}
		fd, err := unix.Openat(unix.AT_FDCWD, path, flags|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			failed = append(failed, failure{path, err.Error()})
			continue
		}
		unix.Close(fd)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"pid": os.Getpid(), "failed": failed})
}

// Command selfdelete behaves like a dropper that covers its tracks: it
// copies its own program into a directory (/tmp by default), executes the
// copy, and the copy deletes its own file and goes on running from memory.
// The exec keeps the pid.
//
// Usage: selfdelete [DIR]
//
// The copy prints one JSON line: its pid, the file it ran from and deleted,
// and whether that file is gone.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

const childArg = "-copy"

type report struct {
	Pid     int    `json:"pid"`
	Exe     string `json:"exe"`
	Deleted bool   `json:"deleted"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "selfdelete:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		r := report{Pid: os.Getpid(), Exe: exe}
		if err := os.Remove(exe); err != nil {
			return err
		}
		_, err = os.Stat(exe)
		r.Deleted = os.IsNotExist(err)
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	dir := os.TempDir()
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	copy := filepath.Join(dir, fmt.Sprintf("vigil-sd-%d", os.Getpid()))
	if err := os.WriteFile(copy, data, 0o755); err != nil {
		return err
	}
	return syscall.Exec(copy, []string{copy, childArg}, os.Environ())
}

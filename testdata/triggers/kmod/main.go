// Command kmod attempts to load a kernel module twice, once from memory
// (init_module) and once from a file descriptor (finit_module), so that the
// sensor sees both attempts. Neither image is a real module and both calls are
// expected to fail: vigil detects the attempt, not the success.
//
// It prints one JSON line: its pid, the file it passed to finit_module and the
// error each call returned.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid         int    `json:"pid"`
	Exe         string `json:"exe"`
	InitModule  string `json:"init_module"`
	FinitModule string `json:"finit_module"`
	File        string `json:"file"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kmod:", err)
		os.Exit(1)
	}
}

func run() error {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe}

	// A bogus image: an ELF magic followed by nothing the loader accepts.
	image := append([]byte("\x7fELF"), make([]byte, 60)...)
	r.InitModule = errString(unix.InitModule(image, ""))

	f, err := os.CreateTemp("", "vigil-kmod-*.ko")
	if err != nil {
		return fmt.Errorf("creating the finit_module file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write([]byte("this is not a kernel module\n")); err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	r.File = f.Name()
	if err := f.Close(); err != nil {
		return err
	}
	// finit_module refuses a descriptor open for writing (ETXTBSY) before
	// the kernel even reads the file: hand it a read-only one.
	ro, err := os.Open(r.File)
	if err != nil {
		return err
	}
	defer ro.Close()
	r.FinitModule = errString(unix.FinitModule(int(ro.Fd()), "", 0))

	return json.NewEncoder(os.Stdout).Encode(r)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

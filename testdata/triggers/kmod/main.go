// Command kmod attempts to load a kernel module twice, once from memory
// (init_module) and once from a file descriptor (finit_module), so that the
// sensor sees both attempts. Neither image is a real module and both calls are
// expected to fail: vigil detects the attempt, not the success.
//
// Both pass the same module parameters, finit_module a flag as well. It prints
// one JSON line: its pid, the file and descriptor it passed to finit_module,
// the parameters and flags, and the error each call returned.
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
	Fd          int    `json:"fd"`
	Params      string `json:"params"`
	Flags       int    `json:"flags"`
	Dev         uint64 `json:"dev"`
	Inode       uint64 `json:"inode"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kmod:", err)
		os.Exit(1)
	}
}

func run() error {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Params: "vigil_test=1 debug", Flags: unix.MODULE_INIT_IGNORE_MODVERSIONS}

	// A bogus image: an ELF magic followed by nothing the loader accepts.
	image := append([]byte("\x7fELF"), make([]byte, 60)...)
	r.InitModule = errString(unix.InitModule(image, r.Params))

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
	var st unix.Stat_t
	if err := unix.Fstat(int(ro.Fd()), &st); err != nil {
		return err
	}
	r.Dev, r.Inode = st.Dev, st.Ino
	r.Fd = int(ro.Fd())
	r.FinitModule = errString(unix.FinitModule(r.Fd, r.Params, r.Flags))

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

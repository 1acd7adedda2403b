// Command execfail makes execs fail the ordinary ways, then execs a program
// that runs:
//
//		execfail DIR PROGRAM
//
//	 1. execve of DIR/missing (no such file): ENOENT
//	 2. execve of DIR/not-executable (a file without an x bit): EACCES
//	 3. execveat(DIR's fd, "missing-at", ..., AT_SYMLINK_NOFOLLOW): ENOENT
//	 4. execve of PROGRAM, which succeeds
//
// Each failing exec passes argv {"execfail", "--case", NAME}; PROGRAM gets
// {"execfail-ok", "--ran"}. Before the last exec it prints one JSON line:
// its pid and, per case, the path, the argv and the errno it got.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type result struct {
	Name  string   `json:"name"`
	Path  string   `json:"path"`
	Argv  []string `json:"argv"`
	Errno int      `json:"errno"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: execfail DIR PROGRAM")
		os.Exit(2)
	}
	dir, prog := os.Args[1], os.Args[2]
	noexec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		fail("%v", err)
	}
	env := os.Environ()
	var out []result
	for _, c := range []struct{ name, path string }{{"missing", filepath.Join(dir, "missing")}, {"noexec", noexec}} {
		argv := []string{"execfail", "--case", c.name}
		err := syscall.Exec(c.path, argv, env)
		out = append(out, result{Name: c.name, Path: c.path, Argv: argv, Errno: errnoOf(err)})
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail("%v", err)
	}
	argv := []string{"execfail", "--case", "at"}
	name, _ := syscall.BytePtrFromString("missing-at")
	av, _ := syscall.SlicePtrFromStrings(argv)
	ev, _ := syscall.SlicePtrFromStrings(env)
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(dfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(&av[0])), uintptr(unsafe.Pointer(&ev[0])), unix.AT_SYMLINK_NOFOLLOW, 0)
	out = append(out, result{Name: "at", Path: "missing-at", Argv: argv, Errno: int(errno)})
	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"pid": os.Getpid(), "dirfd": dfd, "flags": unix.AT_SYMLINK_NOFOLLOW, "failed": out}); err != nil {
		os.Exit(1)
	}
	err = syscall.Exec(prog, []string{"execfail-ok", "--ran"}, env)
	fail("exec %s: %v", prog, err)
}

func errnoOf(err error) int {
	if e, ok := err.(syscall.Errno); ok {
		return int(e)
	}
	return -1
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "execfail: "+format+"\n", a...)
	os.Exit(1)
}

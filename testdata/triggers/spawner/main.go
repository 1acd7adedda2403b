// Command spawner starts programs the way daemons and process spawners do,
// with nothing unusual about what it runs:
//
//	spawner lazy N PROGRAM ARG0 ARGS...   N children, each executing PROGRAM
//	                                      with argv ARG0 ARGS... from a
//	                                      read-only file mapping the child has
//	                                      not touched (the strings of a C
//	                                      program's execl in a fresh child)
//	spawner fexec PROGRAM ARG0 ARGS...    one child executing PROGRAM through
//	                                      a file descriptor (fexecve:
//	                                      execveat(fd, "", AT_EMPTY_PATH))
//
// It prints one JSON line: its own pid and the children's.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "child-lazy" {
		childLazy(os.Args[2])
	}
	if len(os.Args) >= 2 && os.Args[1] == "child-fexec" {
		childFexec(os.Args[2], os.Args[3:])
	}
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: spawner lazy N PROGRAM ARG0 ARGS... | spawner fexec PROGRAM ARG0 ARGS...")
		os.Exit(2)
	}
	var runs [][]string
	switch os.Args[1] {
	case "lazy":
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n < 1 {
			fail("lazy: bad count %q", os.Args[2])
		}
		// PROGRAM\0ARG0\0ARGS...\0: the child maps this file and points
		// execve at it
		f, err := os.CreateTemp("", "spawner-strings-")
		if err != nil {
			fail("%v", err)
		}
		defer os.Remove(f.Name())
		for _, s := range os.Args[3:] {
			f.WriteString(s + "\x00")
		}
		f.Close()
		for range n {
			runs = append(runs, []string{"child-lazy", f.Name()})
		}
	case "fexec":
		runs = append(runs, append([]string{"child-fexec"}, os.Args[2:]...))
	default:
		fail("unknown mode %q", os.Args[1])
	}
	var pids []int
	for _, args := range runs {
		cmd := exec.Command("/proc/self/exe", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			fail("%v", err)
		}
		pids = append(pids, cmd.Process.Pid)
		if err := cmd.Wait(); err != nil {
			fail("child %d: %v", cmd.Process.Pid, err)
		}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"pid": os.Getpid(), "children": pids})
}

// childLazy executes the program named in the file with the arguments that
// follow it, all read by the kernel straight from the file's pages: nothing
// in this process reads them first.
func childLazy(path string) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	st, err := f.Stat()
	if err != nil {
		fail("%v", err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		fail("mmap: %v", err)
	}
	// the strings' offsets come from a read(2) of the file, not from the
	// mapping: its pages must stay untouched until execve
	buf := make([]byte, st.Size())
	if _, err := f.ReadAt(buf, 0); err != nil {
		fail("%v", err)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	var ptrs []uintptr
	start := 0
	for i, c := range buf {
		if c == 0 {
			ptrs = append(ptrs, base+uintptr(start))
			start = i + 1
		}
	}
	if len(ptrs) < 2 {
		fail("lazy: need PROGRAM and ARG0")
	}
	argv := append(ptrs[1:len(ptrs):len(ptrs)], 0)
	envp := []uintptr{0}
	_, _, errno := syscall.RawSyscall(syscall.SYS_EXECVE, ptrs[0], uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])))
	fail("execve: %v", errno)
}

func childFexec(prog string, argv []string) {
	fd, err := unix.Open(prog, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail("%v", err)
	}
	empty, _ := syscall.BytePtrFromString("")
	av, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		fail("%v", err)
	}
	ev, _ := syscall.SlicePtrFromStrings(os.Environ())
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&av[0])), uintptr(unsafe.Pointer(&ev[0])), unix.AT_EMPTY_PATH, 0)
	fail("execveat: %v", errno)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "spawner: "+format+"\n", a...)
	os.Exit(1)
}

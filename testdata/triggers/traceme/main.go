// Command traceme makes itself a tracee of its parent with
// ptrace(PTRACE_TRACEME), the way programs that resist debugging do: the
// call fails when a debugger already traces the process, and once it has
// succeeded no debugger can attach any more. It then calls it a second
// time, which the kernel must refuse (the process is traced already): the
// "am I being debugged?" test itself.
//
// It prints one JSON line with its pid, its executable and what both calls
// returned, and exits at once.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid    int    `json:"pid"`
	Exe    string `json:"exe"`
	First  string `json:"first"`
	Second string `json:"second"`
}

// PTRACE_TRACEME makes the calling thread, not the process, a tracee: keep
// it on the main thread, whose exit reports to the parent like any child's.
func init() { runtime.LockOSThread() }

func traceme() string {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0, 0, 0, 0)
	if errno != 0 {
		return unix.ErrnoName(errno)
	}
	return "ok"
}

func main() {
	// A signal delivered to a traced thread stops it until its tracer
	// resumes it, and the parent is no debugger: it would never do so. The
	// runtime sends signals to its threads (SIGURG to preempt): block them
	// all on this one, which only reports and exits.
	var all unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^uint64(0)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &all, nil); err != nil {
		fmt.Fprintln(os.Stderr, "traceme: blocking signals:", err)
		os.Exit(1)
	}
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, First: traceme(), Second: traceme()}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "traceme:", err)
		os.Exit(1)
	}
	if r.First != "ok" {
		fmt.Fprintln(os.Stderr, "traceme: PTRACE_TRACEME failed:", r.First)
		os.Exit(1)
	}
	os.Exit(0)
}

// Command setuidroot is a set-user-id-root helper: installed owned by root
// with mode 04755 and run by an unprivileged user, it starts with effective
// uid 0 and calls setuid(0) to make its real uid root as well, the way a
// privilege-escalation payload does.
//
// It prints one JSON line with its pid and its uids before and after, and
// exits 0 only when it ends with real and effective uid 0.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
)

type ids struct {
	UID  int `json:"uid"`
	EUID int `json:"euid"`
}

type report struct {
	Pid    int    `json:"pid"`
	Exe    string `json:"exe"`
	Before ids    `json:"before"`
	After  ids    `json:"after"`
	Err    string `json:"error,omitempty"`
}

func main() {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Before: ids{os.Getuid(), os.Geteuid()}}
	// syscall.Setuid applies to every thread of the Go process.
	if err := syscall.Setuid(0); err != nil {
		r.Err = err.Error()
	}
	r.After = ids{os.Getuid(), os.Geteuid()}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "setuidroot:", err)
		os.Exit(1)
	}
	if r.After.UID != 0 || r.After.EUID != 0 {
		os.Exit(1)
	}
}

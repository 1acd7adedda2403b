// Command userns creates user namespaces the way unprivileged kernel exploits
// start, to get capabilities over a network stack or a mount table of their
// own: one child unshares a user and a network namespace
// (unshare(CLONE_NEWUSER|CLONE_NEWNET)) before it runs, another is cloned
// straight into a new user and uts namespace (clone(CLONE_NEWUSER|
// CLONE_NEWUTS)). Meant to run as an unprivileged user; the children exit at
// once.
//
// It prints one JSON line: its pid and uid, the pids of both children and
// how they ended.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid        int    `json:"pid"`
	UID        int    `json:"uid"`
	UnsharePid int    `json:"unshare_pid"`
	Unshare    string `json:"unshare"`
	ClonePid   int    `json:"clone_pid"`
	Clone      string `json:"clone"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "exit" {
		return
	}
	r := report{Pid: os.Getpid(), UID: os.Getuid()}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "userns:", err)
		os.Exit(1)
	}
	r.UnsharePid, r.Unshare = spawn(self, &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNET})
	r.ClonePid, r.Clone = spawn(self, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWUTS})
	json.NewEncoder(os.Stdout).Encode(r)
}

func spawn(self string, attr *syscall.SysProcAttr) (int, string) {
	cmd := exec.Command(self, "exit")
	cmd.SysProcAttr = attr
	err := cmd.Run()
	pid := 0
	if cmd.Process != nil {
		pid = cmd.Process.Pid
	}
	if err != nil {
		return pid, err.Error()
	}
	return pid, "ok"
}

// Command nsjoin leaves the host's namespaces and joins them again, the way a
// process breaking out of a container does. It runs the dance in a child
// of its own in a new pid namespace, as a container's processes are:
// that child, on its main thread, unshares new mnt, uts, ipc, net and
// cgroup namespaces, then joins the host's again, uts and mnt through
// namespace files (/proc/thread-self/ns/*, opened before), net, ipc and
// cgroup through a pidfd of a helper process left in the host's namespaces.
// Last it starts a grandchild in new uts, ipc, net and pid namespaces (clone
// with CLONE_NEW*). Needs root. It leaves nothing behind: the new
// namespaces go away with their last process, and no mount is made in the
// new mount namespace.
//
// It prints one JSON line: the pid (as the host sees it) of the process that
// did the switching and the helper's, the inodes of the namespaces it
// started in and of those it unshared (every kind, switched or kept), and
// the result of each step.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Namespaces are per thread: everything happens on the main thread.
func init() { runtime.LockOSThread() }

type report struct {
	Pid       int               `json:"pid"`
	HelperPid int               `json:"helper_pid"`
	Host      map[string]uint64 `json:"host"`
	Unshared  map[string]uint64 `json:"unshared"`
	After     map[string]uint64 `json:"after"`
	Steps     map[string]string `json:"steps"`
}

var kinds = []string{"mnt", "uts", "ipc", "net", "cgroup"}

// every namespace file the report gives the inode of: the ones it switches
// and those it keeps
var reported = append(kinds, "pid_for_children", "time", "time_for_children", "user")

// the helper's pidfd, handed to the inner process
const pidfdFd = 3

func main() {
	var err error
	var r *report
	switch {
	case len(os.Args) > 1 && os.Args[1] == "park":
		// the helper: stays in the host's namespaces until killed
		time.Sleep(30 * time.Second)
		return
	case len(os.Args) > 1 && os.Args[1] == "exit":
		return
	case len(os.Args) > 1 && os.Args[1] == "inner":
		r, err = inner()
	default:
		r, err = outer()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nsjoin:", err)
	}
	json.NewEncoder(os.Stdout).Encode(r)
	if err != nil {
		os.Exit(1)
	}
}

// outer starts the helper and the inner process, in a new pid namespace, and
// passes on the inner process's report with the pids the host sees.
func outer() (*report, error) {
	r := &report{Steps: map[string]string{}}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	helper := exec.Command(self, "park")
	if err := helper.Start(); err != nil {
		return r, err
	}
	defer func() { helper.Process.Kill(); helper.Wait() }()
	pidfd, err := unix.PidfdOpen(helper.Process.Pid, 0)
	if err != nil {
		return r, fmt.Errorf("pidfd_open: %w", err)
	}
	in := exec.Command(self, "inner")
	in.ExtraFiles = []*os.File{os.NewFile(uintptr(pidfd), "pidfd")}
	in.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID}
	var out bytes.Buffer
	in.Stdout, in.Stderr = &out, os.Stderr
	runErr := in.Run()
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), r); err != nil {
		return r, fmt.Errorf("inner report %q: %w (%v)", out.String(), err, runErr)
	}
	r.Pid, r.HelperPid = in.Process.Pid, helper.Process.Pid
	return r, runErr
}

func inodes() map[string]uint64 {
	out := map[string]uint64{}
	for _, k := range reported {
		var st unix.Stat_t
		if unix.Stat("/proc/thread-self/ns/"+k, &st) == nil {
			out[k] = st.Ino
		}
	}
	return out
}

func step(r *report, name string, err error) error {
	if err != nil {
		r.Steps[name] = err.Error()
		return fmt.Errorf("%s: %w", name, err)
	}
	r.Steps[name] = "ok"
	return nil
}

func inner() (*report, error) {
	r := &report{Steps: map[string]string{}, Host: inodes()}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	fds := map[string]int{}
	for _, k := range []string{"mnt", "uts"} {
		fd, err := unix.Open("/proc/thread-self/ns/"+k, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return r, err
		}
		defer unix.Close(fd)
		fds[k] = fd
	}

	// CLONE_FS too: the thread needs a file system context of its own to
	// enter a mount namespace again
	flags := unix.CLONE_FS | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP
	if err := step(r, "unshare", unix.Unshare(flags)); err != nil {
		return r, err
	}
	r.Unshared = inodes()
	if err := step(r, "setns_uts", unix.Setns(fds["uts"], unix.CLONE_NEWUTS)); err != nil {
		return r, err
	}
	if err := step(r, "setns_pidfd", unix.Setns(pidfdFd, unix.CLONE_NEWNET|unix.CLONE_NEWIPC|unix.CLONE_NEWCGROUP)); err != nil {
		return r, err
	}
	if err := step(r, "setns_mnt", unix.Setns(fds["mnt"], unix.CLONE_NEWNS)); err != nil {
		return r, err
	}
	r.After = inodes()

	child := exec.Command(self, "exit")
	child.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID}
	return r, step(r, "clone", child.Run())
}

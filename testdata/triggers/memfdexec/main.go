// Command memfdexec runs a program without it ever touching a file system:
// it copies a binary (default /bin/true) into an anonymous memory file made
// with memfd_create and executes that file descriptor with execveat and
// AT_EMPTY_PATH (falling back to /proc/self/fd/N). The exec keeps the pid, so
// the pid it prints first is the pid of the fileless process.
//
// Usage: memfdexec [-name NAME] [BINARY [ARGS...]]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid    int    `json:"pid"`
	Source string `json:"source"`
	Memfd  string `json:"memfd"`
	Fd     int    `json:"fd"`
}

func main() {
	name := flag.String("name", "vigil-memfdexec", "name given to memfd_create")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		args = []string{"/bin/true"}
	}
	if err := run(*name, args); err != nil {
		fmt.Fprintln(os.Stderr, "memfdexec:", err)
		os.Exit(1)
	}
}

func run(name string, args []string) error {
	src, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer src.Close()

	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:"+name)
	if _, err := io.Copy(mem, src); err != nil {
		return fmt.Errorf("copying %s into the memfd: %w", args[0], err)
	}

	if err := json.NewEncoder(os.Stdout).Encode(report{Pid: os.Getpid(), Source: args[0], Memfd: name, Fd: fd}); err != nil {
		return err
	}

	argv := append([]string{name}, args[1:]...)
	err = execveat(fd, argv, os.Environ())
	if errors.Is(err, unix.ENOSYS) {
		err = unix.Exec("/proc/self/fd/"+strconv.Itoa(fd), argv, os.Environ())
	}
	return fmt.Errorf("exec of the memfd: %w", err)
}

// execveat executes the file open on fd. It returns only on failure.
func execveat(fd int, argv, envv []string) error {
	empty, err := unix.BytePtrFromString("")
	if err != nil {
		return err
	}
	argvp, err := cStrings(argv)
	if err != nil {
		return err
	}
	envvp, err := cStrings(envv)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envvp[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}

// cStrings returns a NULL-terminated array of C strings.
func cStrings(ss []string) ([]*byte, error) {
	out := make([]*byte, len(ss)+1)
	for i, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

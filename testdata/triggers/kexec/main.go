// Command kexec asks the kernel to load a new kernel for kexec, both ways,
// with requests it must refuse, so nothing is ever loaded: kexec_load with a
// flag that does not exist (EINVAL), and kexec_file_load of a file that is
// not a kernel image (the kernel reads it, then refuses it). Where kexec is
// compiled out both fail with ENOSYS.
//
// It prints one JSON line: its pid, the file given to kexec_file_load and
// what both calls returned.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid           int    `json:"pid"`
	File          string `json:"file"`
	Cmdline       string `json:"cmdline"`
	KexecLoad     string `json:"kexec_load"`
	KexecFileLoad string `json:"kexec_file_load"`
	Entry         uint64 `json:"entry"`
	KernelFd      int    `json:"kernel_fd"`
}

// kexecNoSuchFlag is a kexec_load flag no kernel defines; kexecFileNoInitrd
// is KEXEC_FILE_NO_INITRD.
const (
	kexecNoSuchFlag   = 0x8000
	kexecFileNoInitrd = 4
)

func errString(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if errno == 0 {
			return "ok"
		}
		return unix.ErrnoName(errno)
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kexec:", err)
		os.Exit(1)
	}
}

func run() error {
	r := report{Pid: os.Getpid(), Cmdline: "vigil-kexec-test", Entry: 0x7669676c000}
	_, _, errno := unix.Syscall6(unix.SYS_KEXEC_LOAD, uintptr(r.Entry), 0, 0, kexecNoSuchFlag, 0, 0)
	r.KexecLoad = errString(errno)

	f, err := os.CreateTemp("", "vigil-kexec-*.img")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write([]byte("this is not a kernel image\n")); err != nil {
		return err
	}
	f.Close()
	r.File = f.Name()
	ro, err := os.Open(r.File)
	if err != nil {
		return err
	}
	defer ro.Close()
	r.KernelFd = int(ro.Fd())
	r.KexecFileLoad = errString(unix.KexecFileLoad(r.KernelFd, -1, r.Cmdline, kexecFileNoInitrd))
	return json.NewEncoder(os.Stdout).Encode(r)
}

// Command capcheck makes the kernel check CAP_SYS_ADMIN twice: it unshares
// a uts namespace and sets the host name in it. As root both are granted
// and only the new namespace's name changes; as an unprivileged user both
// are refused (and the host name is never touched: if the unshare is refused
// to root, it stops there).
//
// It prints one JSON line: its pid and uid and what both calls returned.
package main

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid         int    `json:"pid"`
	UID         int    `json:"uid"`
	Unshare     string `json:"unshare"`
	Sethostname string `json:"sethostname"`
}

func errString(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

func main() {
	// the uts namespace belongs to this thread
	runtime.LockOSThread()
	r := report{Pid: os.Getpid(), UID: os.Getuid()}
	err := unix.Unshare(unix.CLONE_NEWUTS)
	r.Unshare = errString(err)
	if err == nil || os.Geteuid() != 0 {
		r.Sethostname = errString(unix.Sethostname([]byte("vigil-capcheck")))
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

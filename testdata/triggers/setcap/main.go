// Command setcap gives two files in DIR file capabilities, as `setcap
// cap_setuid,cap_net_raw+ep FILE` does, once by path (setxattr) and once by
// descriptor (fsetxattr): the way an intruder leaves a program that makes
// any user root. Before those it sets a user.* attribute, which the sensor
// leaves out. The files are removed afterwards. It must run as root
// (CAP_SETFCAP).
//
// Usage: setcap DIR
//
// It prints one JSON line: its pid, the files, the capability sets written,
// and the first error of the security.capability writes if any.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid         int    `json:"pid"`
	Exe         string `json:"exe"`
	ByPath      string `json:"by_path"`
	ByFd        string `json:"by_fd"`
	V3          string `json:"v3"` // written by path as revision 3, for a user namespace's root
	RootID      uint32 `json:"rootid"`
	Permitted   uint64 `json:"permitted"`
	Inheritable uint64 `json:"inheritable"`
	UserXattr   string `json:"user_xattr"` // the user.* write's error, "" when it worked
	Error       string `json:"error,omitempty"`
}

const (
	capNetRaw         = 13
	capNetBindService = 10
	capSetuid         = 7
	// VFS_CAP_REVISION_2 with VFS_CAP_FLAGS_EFFECTIVE
	revision2Effective = 0x02000000 | 1
	revision3Effective = 0x03000000 | 1
)

// capValue is a struct vfs_cap_data, revision 2: magic, then permitted and
// inheritable for capabilities 0-31 and 32-63.
func capValue(permitted, inheritable uint64) []byte {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], revision2Effective)
	binary.LittleEndian.PutUint32(b[4:], uint32(permitted))
	binary.LittleEndian.PutUint32(b[8:], uint32(inheritable))
	binary.LittleEndian.PutUint32(b[12:], uint32(permitted>>32))
	binary.LittleEndian.PutUint32(b[16:], uint32(inheritable>>32))
	return b
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: setcap DIR")
		os.Exit(2)
	}
	exe, _ := os.Executable()
	dir := os.Args[1]
	r := report{Pid: os.Getpid(), Exe: exe, ByPath: filepath.Join(dir, "capped-by-path"),
		ByFd: filepath.Join(dir, "capped-by-fd"), V3: filepath.Join(dir, "capped-v3"), RootID: 100000, Permitted: 1<<capSetuid | 1<<capNetRaw, Inheritable: 1 << capNetBindService}
	if err := run(&r); err != nil {
		r.Error = err.Error()
	}
	os.Remove(r.ByPath)
	os.Remove(r.ByFd)
	os.Remove(r.V3)
	json.NewEncoder(os.Stdout).Encode(r)
	if r.Error != "" {
		os.Exit(1)
	}
}

func run(r *report) error {
	for _, f := range []string{r.ByPath, r.ByFd, r.V3} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			return err
		}
	}
	// tmpfs takes user.* attributes from Linux 6.6 on: a refusal is fine
	if err := unix.Setxattr(r.ByPath, "user.comment", []byte("left out"), 0); err != nil {
		r.UserXattr = err.Error()
	}
	val := capValue(r.Permitted, r.Inheritable)
	// by path, as a new attribute only (setxattr's flags)
	if err := unix.Setxattr(r.ByPath, "security.capability", val, unix.XATTR_CREATE); err != nil {
		return fmt.Errorf("setxattr %s: %w", r.ByPath, err)
	}
	f, err := os.Open(r.ByFd)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), "security.capability", val, 0); err != nil {
		return fmt.Errorf("fsetxattr %s: %w", r.ByFd, err)
	}
	// revision 3: the same sets, then the root uid of the namespace
	v3 := binary.LittleEndian.AppendUint32(val, r.RootID)
	binary.LittleEndian.PutUint32(v3[0:], revision3Effective)
	if err := unix.Setxattr(r.V3, "security.capability", v3, 0); err != nil {
		return fmt.Errorf("setxattr %s (revision 3): %w", r.V3, err)
	}
	return nil
}

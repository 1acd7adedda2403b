// Command newmount mounts with the new mount API, no mount(2): a tmpfs
// made with fsopen, fsconfig ("size"="1m", then FSCONFIG_CMD_CREATE) and
// fsmount, attached at DIR/fs with move_mount; then a copy of DIR/src made
// with open_tree(OPEN_TREE_CLONE) and attached at DIR/bind (a bind mount).
// Both are unmounted before it exits. It must run as root.
//
// Usage: newmount DIR
//
// It prints one JSON line: its pid and the paths, or the first error.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid    int    `json:"pid"`
	FsPath string `json:"fs_path"`
	Src    string `json:"src"`
	Bind   string `json:"bind"`
	Error  string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: newmount DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	r := report{Pid: os.Getpid(), FsPath: filepath.Join(dir, "fs"), Src: filepath.Join(dir, "src"), Bind: filepath.Join(dir, "bind")}
	if err := mountAll(r); err != nil {
		r.Error = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func mountAll(r report) error {
	for _, d := range []string{r.FsPath, r.Src, r.Bind} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "size", "1m"); err != nil {
		return fmt.Errorf("fsconfig: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("fsconfig create: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	err = unix.MoveMount(mfd, "", unix.AT_FDCWD, r.FsPath, unix.MOVE_MOUNT_F_EMPTY_PATH)
	unix.Close(mfd) // an open descriptor of the mount keeps it busy
	if err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	defer unix.Unmount(r.FsPath, 0)
	tfd, err := unix.OpenTree(unix.AT_FDCWD, r.Src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	err = unix.MoveMount(tfd, "", unix.AT_FDCWD, r.Bind, unix.MOVE_MOUNT_F_EMPTY_PATH)
	unix.Close(tfd)
	if err != nil {
		return fmt.Errorf("move_mount of the tree: %w", err)
	}
	return unix.Unmount(r.Bind, 0)
}

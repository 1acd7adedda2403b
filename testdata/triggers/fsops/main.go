// Command fsops does, inside one directory, the file system operations an
// intruder uses to persist and to cover tracks, one of each: rename, hard
// link, symbolic link to /dev/null, unlink by a relative path, rmdir,
// setting the set-user-id bit, truncation three ways (truncate, ftruncate,
// an O_TRUNC open), a FIFO and a block device node, and a tmpfs mounted and
// unmounted. It must run as root (mknod of a device, mount).
//
// Usage: fsops DIR
//
// It prints one JSON line: its pid and what it did, with the paths, inodes
// and device numbers the sensor must report, and the first error if any.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid      int    `json:"pid"`
	Exe      string `json:"exe"`
	Dir      string `json:"dir"`
	Created  string `json:"created"`  // written, then renamed to Renamed
	Renamed  string `json:"renamed"`  // linked as Linked, made set-user-id, truncated
	Linked   string `json:"linked"`   // unlinked through a relative path
	Symlink  string `json:"symlink"`  // -> /dev/null
	Subdir   string `json:"subdir"`   // made and removed with unlinkat(AT_REMOVEDIR)
	Fifo     string `json:"fifo"`     // mknod S_IFIFO
	Blockdev string `json:"blockdev"` // mknod S_IFBLK 7:0
	BlockNr  uint64 `json:"block_nr"` // its device number, stat(2) encoding
	Mount    string `json:"mount"`    // tmpfs mounted here and unmounted
	Dev      uint64 `json:"dev"`      // device and inode of Renamed
	Inode    uint64 `json:"inode"`
	Error    string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fsops DIR")
		os.Exit(2)
	}
	exe, _ := os.Executable()
	dir := os.Args[1]
	r := report{Pid: os.Getpid(), Exe: exe, Dir: dir,
		Created: filepath.Join(dir, "created"), Renamed: filepath.Join(dir, "renamed"),
		Linked: filepath.Join(dir, "linked"), Symlink: filepath.Join(dir, ".bash_history"),
		Subdir: filepath.Join(dir, "subdir"), Fifo: filepath.Join(dir, "fifo"),
		Blockdev: filepath.Join(dir, "blockdev"), Mount: filepath.Join(dir, "mnt"),
		BlockNr: unix.Mkdev(7, 0)}
	if err := run(&r); err != nil {
		r.Error = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(r)
	if r.Error != "" {
		os.Exit(1)
	}
}

func run(r *report) error {
	if err := os.WriteFile(r.Created, []byte("some log line\nanother\n"), 0o644); err != nil {
		return err
	}
	if err := unix.Renameat2(unix.AT_FDCWD, r.Created, unix.AT_FDCWD, r.Renamed, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("renameat2: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(r.Renamed, &st); err != nil {
		return err
	}
	r.Dev, r.Inode = st.Dev, st.Ino
	if err := os.Link(r.Renamed, r.Linked); err != nil {
		return err
	}
	if err := os.Symlink("/dev/null", r.Symlink); err != nil {
		return err
	}
	// relative to the working directory, with a leading ./
	if err := os.Chdir(r.Dir); err != nil {
		return err
	}
	// unlink(2) itself: x/sys/unix.Unlink is unlinkat
	if err := legacy(unix.SYS_UNLINK, "./"+filepath.Base(r.Linked), 0, 0); err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	// relative to a directory fd
	if err := os.Mkdir(r.Subdir, 0o755); err != nil {
		return err
	}
	dfd, err := unix.Open(r.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := unix.Unlinkat(dfd, filepath.Base(r.Subdir), unix.AT_REMOVEDIR); err != nil {
		return fmt.Errorf("unlinkat: %w", err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, r.Renamed, 0o4755, 0); err != nil {
		return fmt.Errorf("fchmodat: %w", err)
	}
	if err := unix.Truncate(r.Renamed, 10); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	fd, err := unix.Open(r.Renamed, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = unix.Ftruncate(fd, 5)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("ftruncate: %w", err)
	}
	fd, err = unix.Open(r.Renamed, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("O_TRUNC open: %w", err)
	}
	unix.Close(fd)
	if err := unix.Mknodat(dfd, filepath.Base(r.Fifo), unix.S_IFIFO|0o600, 0); err != nil {
		return fmt.Errorf("mknodat fifo: %w", err)
	}
	// mknod(2) itself: x/sys/unix.Mknod is mknodat
	if err := legacy(unix.SYS_MKNOD, r.Blockdev, unix.S_IFBLK|0o600, uintptr(r.BlockNr)); err != nil {
		return fmt.Errorf("mknod block device: %w", err)
	}
	if err := os.Mkdir(r.Mount, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("vigil-test", r.Mount, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m"); err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	if err := unix.Unmount(r.Mount, 0); err != nil {
		return fmt.Errorf("umount: %w", err)
	}
	return nil
}

// legacy calls a path syscall that x/sys/unix only offers as its *at form.
func legacy(nr uintptr, path string, a1, a2 uintptr) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(nr, uintptr(unsafe.Pointer(p)), a1, a2); errno != 0 {
		return errno
	}
	return nil
}

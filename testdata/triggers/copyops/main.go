// Command copyops copies a program into DIR by each of the paths that move
// file data inside the kernel, and writes one through a shared mapping:
// copy_file_range, sendfile, splice (through a pipe), FICLONE (a reflink,
// when DIR's file system has them) and mmap(PROT_WRITE, MAP_SHARED). Each
// copy is made executable; with -run it is also run (it must be a program
// that exits 0 with no arguments, such as /bin/true).
//
// Usage: copyops [-run] SRC DIR
//
// It prints one JSON line: its pid, the source's device and inode, and per
// copy its path, device, inode and size, or why it could not be made.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"
)

type copied struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Inode  uint64 `json:"inode"`
	Size   int64  `json:"size"`
	RunPid int    `json:"run_pid,omitempty"`
	Error  string `json:"error,omitempty"`
}

type report struct {
	Pid      int               `json:"pid"`
	Src      string            `json:"src"`
	SrcDev   uint64            `json:"src_dev"`
	SrcInode uint64            `json:"src_inode"`
	Copies   map[string]copied `json:"copies"` // by syscall
}

func main() {
	run := flag.Bool("run", false, "run every copy made")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: copyops [-run] SRC DIR")
		os.Exit(2)
	}
	src, dir := flag.Arg(0), flag.Arg(1)
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r := report{Pid: os.Getpid(), Src: src, SrcDev: st.Dev, SrcInode: st.Ino, Copies: map[string]copied{}}
	for _, m := range []struct {
		name string
		do   func(in, out *os.File, size int64) error
	}{
		{"copy_file_range", func(in, out *os.File, size int64) error {
			_, err := unix.CopyFileRange(int(in.Fd()), nil, int(out.Fd()), nil, int(size), 0)
			return err
		}},
		{"sendfile", func(in, out *os.File, size int64) error {
			_, err := unix.Sendfile(int(out.Fd()), int(in.Fd()), nil, int(size))
			return err
		}},
		{"splice", func(in, out *os.File, size int64) error {
			var p [2]int
			if err := unix.Pipe(p[:]); err != nil {
				return err
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			for done := int64(0); done < size; {
				n, err := unix.Splice(int(in.Fd()), nil, p[1], nil, int(size-done), 0)
				if err != nil {
					return err
				}
				if n == 0 {
					break
				}
				for left := n; left > 0; {
					m, err := unix.Splice(p[0], nil, int(out.Fd()), nil, int(left), 0)
					if err != nil {
						return err
					}
					left -= m
				}
				done += n
			}
			return nil
		}},
		{"ioctl_ficlone", func(in, out *os.File, size int64) error {
			return unix.IoctlFileClone(int(out.Fd()), int(in.Fd()))
		}},
		{"mmap", func(in, out *os.File, size int64) error {
			data, err := os.ReadFile(in.Name())
			if err != nil {
				return err
			}
			if err := out.Truncate(size); err != nil {
				return err
			}
			mem, err := unix.Mmap(int(out.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				return err
			}
			copy(mem, data)
			if err := unix.Msync(mem, unix.MS_SYNC); err != nil {
				return err
			}
			return unix.Munmap(mem)
		}},
	} {
		dst := filepath.Join(dir, "copy-"+m.name)
		c := copied{Path: dst}
		if err := copyWith(src, dst, m.do); err != nil {
			c.Error = err.Error()
			os.Remove(dst)
			r.Copies[m.name] = c
			continue
		}
		var ds unix.Stat_t
		if err := unix.Stat(dst, &ds); err != nil {
			c.Error = err.Error()
		}
		c.Dev, c.Inode, c.Size = ds.Dev, ds.Ino, ds.Size
		if *run && c.Error == "" {
			cmd := exec.Command(dst)
			if err := cmd.Run(); err != nil {
				c.Error = "running the copy: " + err.Error()
			}
			if cmd.Process != nil {
				c.RunPid = cmd.Process.Pid
			}
		}
		r.Copies[m.name] = c
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

// copyWith copies src into a new file dst (mode 0755) with do.
func copyWith(src, dst string, do func(in, out *os.File, size int64) error) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if err := do(in, out, fi.Size()); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

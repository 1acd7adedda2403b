// Command elfdrop drops an executable the way a downloader does: it writes a
// copy of an ELF program (its own executable unless told otherwise) into a
// directory, /tmp by default, then removes it. -script writes a shell script
// (a #! line) instead. The write that starts the file is a write(2), a
// writev(2) or a pwrite64(2) at offset 0, as -via says.
//
// Usage: elfdrop [-via write|writev|pwrite] [-script] [-keep] [DIR]
//
// It prints one JSON line: its pid, the file written, its device and inode,
// and the first bytes written.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid   int    `json:"pid"`
	Exe   string `json:"exe"`
	File  string `json:"file"`
	Via   string `json:"via"`
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	Head  []byte `json:"head"`
	Size  int    `json:"size"` // bytes written, in one call
}

func main() {
	via := flag.String("via", "write", "write, writev or pwrite")
	script := flag.Bool("script", false, "write a shell script instead of an ELF program")
	keep := flag.Bool("keep", false, "leave the file in place")
	flag.Parse()
	dir := os.TempDir()
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if err := run(dir, *via, *script, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "elfdrop:", err)
		os.Exit(1)
	}
}

func run(dir, via string, script, keep bool) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var data []byte
	if script {
		data = []byte("#!/bin/sh\necho dropped\n")
	} else if data, err = os.ReadFile(exe); err != nil {
		return err
	}
	r := report{Pid: os.Getpid(), Exe: exe, Via: via, File: filepath.Join(dir, fmt.Sprintf("vigil-drop-%d", os.Getpid()))}
	fd, err := unix.Open(r.File, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	switch via {
	case "write":
		_, err = unix.Write(fd, data)
	case "writev":
		// the head in the first iovec, the rest in the second
		split := min(64, len(data))
		_, err = unix.Writev(fd, [][]byte{data[:split], data[split:]})
	case "pwrite":
		_, err = unix.Pwrite(fd, data, 0)
	default:
		err = fmt.Errorf("unknown -via %q", via)
	}
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	r.Dev, r.Inode, r.Head, r.Size = st.Dev, st.Ino, data[:20], len(data)
	if !keep {
		if err := os.Remove(r.File); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

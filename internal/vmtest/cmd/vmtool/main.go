package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/vmtest/internal/bzimage"
	"github.com/vigil-sec/vigil/internal/vmtest/internal/cpio"
	"github.com/vigil-sec/vigil/internal/vmtest/internal/verdict"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "vmlinux":
		err = cmdVmlinux(os.Args[2:])
	case "initramfs":
		err = cmdInitramfs(os.Args[2:])
	case "verdict":
		var ok bool
		ok, err = cmdVerdict(os.Args[2:])
		if err == nil && !ok {
			os.Exit(1)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmtool %s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vmtool vmlinux|initramfs|verdict [flags] args (see go doc ./internal/vmtest/cmd/vmtool)")
	os.Exit(2)
}

func cmdVmlinux(args []string) error {
	fl := flag.NewFlagSet("vmlinux", flag.ExitOnError)
	out := fl.String("o", "", "output ELF `file`")
	fl.Parse(args)
	if *out == "" || fl.NArg() != 1 {
		return fmt.Errorf("usage: vmtool vmlinux -o vmlinux bzImage")
	}
	img, err := os.ReadFile(fl.Arg(0))
	if err != nil {
		return err
	}
	elfImg, info, err := bzimage.Extract(img)
	if err != nil {
		return fmt.Errorf("%s: %w", fl.Arg(0), err)
	}
	if !info.PVH {
		return fmt.Errorf("%s: the kernel has no PVH entry note; boot the bzImage instead", fl.Arg(0))
	}
	// Write beside the target and rename, so a concurrent run never boots
	// a half-written kernel.
	tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(elfImg); err != nil || tmp.Chmod(0o644) != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %s payload, %d-byte ELF with PVH entry\n", fl.Arg(0), info.Codec, info.Size)
	return os.Rename(tmp.Name(), *out)
}

type devList []string

func (d *devList) String() string     { return strings.Join(*d, ",") }
func (d *devList) Set(s string) error { *d = append(*d, s); return nil }

func cmdInitramfs(args []string) error {
	fl := flag.NewFlagSet("initramfs", flag.ExitOnError)
	out := fl.String("o", "", "output cpio `file`")
	var devs devList
	fl.Var(&devs, "dev", "device node `path:c|b:major:minor:mode`, e.g. /dev/console:c:5:1:0600 (repeatable)")
	fl.Parse(args)
	if *out == "" || fl.NArg() == 0 {
		return fmt.Errorf("usage: vmtool initramfs -o out.cpio [-dev spec]... dir...")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := cpio.NewWriter(bw)
	for _, dir := range fl.Args() {
		if err := w.AddTree(dir, "/"); err != nil {
			f.Close()
			return err
		}
	}
	for _, spec := range devs {
		p := strings.Split(spec, ":")
		if len(p) != 5 || len(p[1]) != 1 {
			f.Close()
			return fmt.Errorf("-dev %q: want path:c|b:major:minor:mode", spec)
		}
		major, err1 := strconv.ParseUint(p[2], 10, 32)
		minor, err2 := strconv.ParseUint(p[3], 10, 32)
		mode, err3 := strconv.ParseUint(p[4], 8, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			f.Close()
			return fmt.Errorf("-dev %q: bad number", spec)
		}
		if err := w.Device(p[0], p[1][0], uint32(major), uint32(minor), fs.FileMode(mode)); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cmdVerdict(args []string) (bool, error) {
	fl := flag.NewFlagSet("verdict", flag.ExitOnError)
	kernel := fl.String("kernel", "", "kernel `name` to report")
	status := fl.Int("status", -1, "qemu's exit `status`")
	timedOut := fl.Bool("timed-out", false, "qemu was killed by the timeout")
	timeout := fl.Int("timeout", 0, "the timeout in `seconds`")
	wall := fl.Float64("wall", 0, "host wall-clock `seconds` of the qemu run")
	tail := fl.Int("tail", 40, "serial log `lines` to show on failure")
	fl.Parse(args)
	if fl.NArg() != 1 {
		return false, fmt.Errorf("usage: vmtool verdict -kernel name -status n log")
	}
	raw, err := os.ReadFile(fl.Arg(0))
	if err != nil {
		return false, err
	}
	l := verdict.Parse(raw)
	why := l.Decide(verdict.Run{Status: *status, TimedOut: *timedOut, Timeout: *timeout})

	release := l.Release
	if release == "" {
		release = "did not reach /init"
	}
	timing := fmt.Sprintf("qemu %.1fs", *wall)
	if l.BootSeconds >= 0 {
		timing += fmt.Sprintf(", boot to /init %.2fs", l.BootSeconds)
	}
	if l.DoneSeconds >= 0 && l.BootSeconds >= 0 {
		timing += fmt.Sprintf(", tests %.2fs", l.DoneSeconds-l.BootSeconds)
	}
	counts := fmt.Sprintf("%d passed, %d failed, %d skipped", l.Count("PASS"), l.Count("FAIL"), l.Count("SKIP"))
	if len(why) == 0 {
		fmt.Printf("vmtest: PASS %s (%s): %s; %s\n", *kernel, release, timing, counts)
		for _, s := range l.Skipped() {
			fmt.Printf("  skipped: %s\n", s)
		}
		return true, nil
	}
	fmt.Printf("vmtest: FAIL %s (%s): %s; %s\n", *kernel, release, timing, counts)
	for _, w := range why {
		fmt.Printf("  %s: %s\n", *kernel, w)
	}
	for _, t := range l.Failed() {
		fmt.Printf("  %s: failed %s: %s\n", *kernel, t.Binary, t.Name)
		for _, o := range t.Output {
			fmt.Printf("      %s\n", o)
		}
	}
	for _, p := range l.Panics {
		fmt.Printf("  %s: %s\n", *kernel, strings.ReplaceAll(p, "\n", "\n      "))
	}
	for _, tr := range l.Trouble {
		fmt.Printf("  %s: kernel: %s\n", *kernel, tr)
	}
	n := min(*tail, len(l.Lines))
	fmt.Printf("  --- last %d lines of %s ---\n", n, fl.Arg(0))
	for _, line := range l.Lines[len(l.Lines)-n:] {
		fmt.Printf("  | %s\n", line)
	}
	return false, nil
}

package cpio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

type entry struct {
	name       string
	mode       uint32
	data       string
	rmaj, rmin uint32
}

// parse reads a newc archive the way the kernel's init/initramfs.c does and
// fails the test on any format error.
func parse(t *testing.T, b []byte) []entry {
	t.Helper()
	var out []entry
	off := 0
	for {
		if off+110 > len(b) {
			t.Fatalf("truncated header at offset %d", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("bad magic %q at offset %d", h[:6], off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("field %d at offset %d: %v", i, off, err)
			}
			return uint32(v)
		}
		mode, size, rmaj, rmin, namesize := field(1), field(6), field(9), field(10), field(11)
		if uid, gid, mtime := field(2), field(3), field(5); uid != 0 || gid != 0 || mtime != 0 {
			t.Errorf("uid/gid/mtime = %d/%d/%d at offset %d, want 0", uid, gid, mtime, off)
		}
		nameStart := off + 110
		name := string(b[nameStart : nameStart+int(namesize)-1])
		if b[nameStart+int(namesize)-1] != 0 {
			t.Fatalf("name %q not NUL-terminated", name)
		}
		dataStart := nameStart + int(namesize)
		dataStart += pad4(dataStart)
		if name == "TRAILER!!!" {
			if dataStart != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-dataStart)
			}
			return out
		}
		out = append(out, entry{name, mode, string(b[dataStart : dataStart+int(size)]), rmaj, rmin})
		off = dataStart + int(size)
		off += pad4(off)
	}
}

func TestWriterEntries(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Dir("/tmp", 0o777|os.ModeSticky))
	must(w.File("/bin/busybox", 0o755, []byte("ELF!x")))
	must(w.Symlink("/bin/sh", "busybox"))
	must(w.Device("/dev/console", 'c', 5, 1, 0o600))
	must(w.File("/triggers/setuid", 0o755|os.ModeSetuid, []byte("ab")))
	must(w.Close())

	got := parse(t, buf.Bytes())
	want := []entry{
		{name: "tmp", mode: TypeDir | 0o1777},
		{name: "bin", mode: TypeDir | 0o755},
		{name: "bin/busybox", mode: TypeFile | 0o755, data: "ELF!x"},
		{name: "bin/sh", mode: TypeSymlink | 0o777, data: "busybox"},
		{name: "dev", mode: TypeDir | 0o755},
		{name: "dev/console", mode: TypeChar | 0o600, rmaj: 5, rmin: 1},
		{name: "triggers", mode: TypeDir | 0o755},
		{name: "triggers/setuid", mode: TypeFile | 0o4755, data: "ab"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v (mode %o), want %+v (mode %o)", i, got[i], got[i].mode, want[i], want[i].mode)
		}
	}
}

func TestWriterRejects(t *testing.T) {
	w := NewWriter(&bytes.Buffer{})
	if err := w.File("/a", 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.File("a", 0o644, nil); !errors.Is(err, ErrBadName) {
		t.Errorf("duplicate name: err = %v, want ErrBadName", err)
	}
	if err := w.File("/", 0o644, nil); !errors.Is(err, ErrBadName) {
		t.Errorf("root as a file: err = %v, want ErrBadName", err)
	}
	if err := w.Device("/dev/x", 'p', 1, 1, 0o600); err == nil {
		t.Error("device kind 'p' accepted")
	}
}

func TestAddTreeMerges(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(a, "bin"), 0o755)
	os.WriteFile(filepath.Join(a, "bin", "tool"), []byte("1"), 0o700)
	os.Symlink("tool", filepath.Join(a, "bin", "t"))
	os.MkdirAll(filepath.Join(b, "bin"), 0o755) // same dir in a second tree
	os.WriteFile(filepath.Join(b, "bin", "other"), []byte("22"), 0o644)

	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.AddTree(a, "/"); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTree(b, "/"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]entry{}
	for _, e := range parse(t, buf.Bytes()) {
		if _, dup := got[e.name]; dup {
			t.Errorf("%s written twice", e.name)
		}
		got[e.name] = e
	}
	for name, mode := range map[string]uint32{
		"bin": TypeDir | 0o755, "bin/tool": TypeFile | 0o700, "bin/t": TypeSymlink | 0o777, "bin/other": TypeFile | 0o644,
	} {
		if got[name].mode != mode {
			t.Errorf("%s: mode %o, want %o", name, got[name].mode, mode)
		}
	}
	if got["bin/t"].data != "tool" || got["bin/other"].data != "22" {
		t.Errorf("contents wrong: %+v", got)
	}
}

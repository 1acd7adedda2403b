package cpio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Mode bits of the newc format (the st_mode values of Linux).
const (
	TypeDir     = 0o040000
	TypeFile    = 0o100000
	TypeSymlink = 0o120000
	TypeChar    = 0o020000
	TypeBlock   = 0o060000
	modePerm    = 0o7777 // permissions plus setuid, setgid, sticky
)

// ErrBadName is returned for names that are empty, relative after cleaning,
// or contain a NUL byte.
var ErrBadName = errors.New("bad archive name")

// Writer writes a newc archive. Every entry is owned by root with mtime 0.
type Writer struct {
	w    io.Writer
	ino  uint32
	dirs map[string]bool
	seen map[string]bool
	err  error
}

// NewWriter returns a Writer that writes to w; call Close to finish the archive.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, ino: 300000, dirs: map[string]bool{".": true}, seen: map[string]bool{}}
}

// clean turns "/bin/sh" or "bin/sh" into "bin/sh" (the kernel wants no
// leading slash in member names).
func clean(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("%w: %q has a NUL byte", ErrBadName, name)
	}
	c := path.Clean("/" + name)
	if c == "/" {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return c[1:], nil
}

func (w *Writer) header(name string, mode, nlink uint32, size int, rmaj, rmin uint32) error {
	if w.err != nil {
		return w.err
	}
	w.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		w.ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, len(name)+1, 0)
	buf := append([]byte(hdr), name...)
	buf = append(buf, 0)
	buf = append(buf, make([]byte, pad4(len(buf)))...)
	_, w.err = w.w.Write(buf)
	return w.err
}

func (w *Writer) data(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, w.err = w.w.Write(b); w.err != nil {
		return w.err
	}
	_, w.err = w.w.Write(make([]byte, pad4(len(b))))
	return w.err
}

func pad4(n int) int { return (4 - n%4) % 4 }

// parents writes any directory above name that the archive lacks yet.
func (w *Writer) parents(name string) error {
	dir := path.Dir(name)
	if w.dirs[dir] {
		return nil
	}
	if err := w.parents(dir); err != nil {
		return err
	}
	w.dirs[dir] = true
	w.seen[dir] = true
	return w.header(dir, TypeDir|0o755, 2, 0, 0, 0)
}

func (w *Writer) begin(name string) (string, error) {
	c, err := clean(name)
	if err != nil {
		return "", err
	}
	if w.seen[c] {
		return "", fmt.Errorf("%w: %q added twice", ErrBadName, name)
	}
	w.seen[c] = true
	return c, w.parents(c)
}

// Dir adds a directory with the given permission bits. A directory that an
// earlier entry already created implicitly is an error: add directories first.
func (w *Writer) Dir(name string, perm fs.FileMode) error {
	c, err := w.begin(name)
	if err != nil {
		return err
	}
	w.dirs[c] = true
	return w.header(c, TypeDir|unixPerm(perm), 2, 0, 0, 0)
}

// File adds a regular file with the given content and permission bits
// (setuid/setgid included: pass fs.ModeSetuid etc. or raw 0o4755-style bits).
func (w *Writer) File(name string, perm fs.FileMode, content []byte) error {
	c, err := w.begin(name)
	if err != nil {
		return err
	}
	if err := w.header(c, TypeFile|unixPerm(perm), 1, len(content), 0, 0); err != nil {
		return err
	}
	return w.data(content)
}

// Symlink adds a symbolic link name -> target.
func (w *Writer) Symlink(name, target string) error {
	c, err := w.begin(name)
	if err != nil {
		return err
	}
	if err := w.header(c, TypeSymlink|0o777, 1, len(target), 0, 0); err != nil {
		return err
	}
	return w.data([]byte(target))
}

// Device adds a character (kind 'c') or block (kind 'b') device node.
func (w *Writer) Device(name string, kind byte, major, minor uint32, perm fs.FileMode) error {
	var typ uint32
	switch kind {
	case 'c':
		typ = TypeChar
	case 'b':
		typ = TypeBlock
	default:
		return fmt.Errorf("device %s: kind %q is neither 'c' nor 'b'", name, kind)
	}
	c, err := w.begin(name)
	if err != nil {
		return err
	}
	return w.header(c, typ|unixPerm(perm), 1, 0, major, minor)
}

// unixPerm maps Go's mode bits (fs.ModeSetuid...) and raw Unix bits to st_mode
// permission bits.
func unixPerm(m fs.FileMode) uint32 {
	p := uint32(m) & modePerm
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// AddTree adds the contents of the host directory root under prefix ("/"
// for the archive root), keeping permission bits and symlinks. Other file
// types (sockets, devices) are an error: declare devices with Device.
func (w *Writer) AddTree(root, prefix string) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("walking %s: %w", root, err)
	}
	sort.Strings(paths) // parents sort before their contents
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			continue
		}
		name := path.Join("/", prefix, filepath.ToSlash(rel))
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			c, _ := clean(name)
			if w.dirs[c] { // merged from an earlier tree
				continue
			}
			err = w.Dir(name, fi.Mode())
		case fi.Mode()&fs.ModeSymlink != 0:
			var target string
			if target, err = os.Readlink(p); err == nil {
				err = w.Symlink(name, target)
			}
		case fi.Mode().IsRegular():
			var b []byte
			if b, err = os.ReadFile(p); err == nil {
				err = w.File(name, fi.Mode(), b)
			}
		default:
			err = fmt.Errorf("unsupported file type %v", fi.Mode().Type())
		}
		if err != nil {
			return fmt.Errorf("adding %s as %s: %w", p, name, err)
		}
	}
	return nil
}

// Close writes the trailer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.header("TRAILER!!!", 0, 1, 0, 0, 0); err != nil {
		return err
	}
	return w.err
}

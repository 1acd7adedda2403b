package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
)

// A capture file holds one event per line in the event's JSON form, exactly
// the bytes published on NATS, so capture -> replay round-trips exactly. A
// name ending in .gz is gzip-compressed.

// maxLineBytes bounds one line of a capture file; a longer line is reported
// and skipped rather than read into memory whole.
const maxLineBytes = 16 << 20

// errLineTooLong is the reason given for a line longer than maxLineBytes.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLineBytes)

// captureWriter writes lines to a capture file.
type captureWriter struct {
	path  string
	f     *os.File
	gz    *gzip.Writer
	w     *bufio.Writer
	lines int64
}

// createCapture creates (or truncates) a capture file; "-" is standard output.
func createCapture(path string) (*captureWriter, error) {
	var f *os.File
	if path == "-" {
		f = os.Stdout
	} else {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return nil, fmt.Errorf("creating capture file: %w", err)
		}
	}
	cw := &captureWriter{path: path, f: f}
	var w io.Writer = f
	if strings.HasSuffix(path, ".gz") {
		cw.gz = gzip.NewWriter(f)
		w = cw.gz
	}
	cw.w = bufio.NewWriterSize(w, 256<<10)
	return cw, nil
}

// WriteLine appends one event line; line must not contain a newline.
func (c *captureWriter) WriteLine(line []byte) error {
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("event JSON contains a newline")
	}
	if _, err := c.w.Write(line); err != nil {
		return fmt.Errorf("writing %s: %w", c.path, err)
	}
	if err := c.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("writing %s: %w", c.path, err)
	}
	c.lines++
	return nil
}

// Flush pushes buffered lines to the file (and a gzip block boundary), so a
// capture interrupted hard still holds what was flushed.
func (c *captureWriter) Flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", c.path, err)
	}
	if c.gz != nil {
		if err := c.gz.Flush(); err != nil {
			return fmt.Errorf("writing %s: %w", c.path, err)
		}
	}
	return nil
}

// Close flushes and closes the file.
func (c *captureWriter) Close() error {
	err := c.w.Flush()
	if c.gz != nil {
		err = errors.Join(err, c.gz.Close())
	}
	if c.f != os.Stdout {
		err = errors.Join(err, c.f.Close())
	}
	if err != nil {
		return fmt.Errorf("closing %s: %w", c.path, err)
	}
	return nil
}

// captureReader reads a capture file line by line, counting line numbers and
// the bytes read from the file (compressed bytes for .gz, for progress).
type captureReader struct {
	path    string
	f       *os.File
	gz      *gzip.Reader
	r       *bufio.Reader
	counted *countingReader
	line    int
	size    int64 // file size, -1 when unknown (stdin, pipes)
}

// openCapture opens a capture file; "-" is standard input. A gzip stream is
// recognised by its magic bytes, whatever the file is named.
func openCapture(path string) (*captureReader, error) {
	var f *os.File
	if path == "-" {
		f = os.Stdin
	} else {
		var err error
		f, err = os.Open(path)
		if err != nil {
			return nil, err
		}
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	cr := &captureReader{path: path, f: f, size: size, counted: &countingReader{r: f}}
	br := bufio.NewReaderSize(cr.counted, 256<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		cr.gz = gz
		cr.r = bufio.NewReaderSize(gz, 256<<10)
	} else {
		cr.r = br
	}
	return cr, nil
}

// Next returns the next line without its newline, and its 1-based number.
// A line too long is consumed and returned with errLineTooLong; other errors
// (io.EOF at the end, a corrupt gzip stream) end the reading.
func (c *captureReader) Next() ([]byte, int, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := c.r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > maxLineBytes+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, c.line, fmt.Errorf("%s: after line %d: %w", c.path, c.line, err)
		}
		if errors.Is(err, io.EOF) && len(buf) == 0 && !tooLong {
			return nil, c.line, io.EOF
		}
		c.line++
		if tooLong {
			return nil, c.line, errLineTooLong
		}
		buf = bytes.TrimSuffix(buf, []byte{'\n'})
		buf = bytes.TrimSuffix(buf, []byte{'\r'})
		return buf, c.line, nil
	}
}

// BytesRead is how many bytes of the file have been read so far.
func (c *captureReader) BytesRead() int64 { return c.counted.n.Load() }

// Close closes the file.
func (c *captureReader) Close() error {
	if c.gz != nil {
		c.gz.Close()
	}
	if c.f == os.Stdin {
		return nil
	}
	return c.f.Close()
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

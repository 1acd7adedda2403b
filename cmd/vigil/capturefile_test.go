package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCaptureFileRoundTrip(t *testing.T) {
	lines := []string{`{"a":1}`, `{"b":"ü é \u2028"}`, strings.Repeat("x", 300000), `{}`}
	for _, name := range []string{"plain.jsonl", "packed.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			w, err := createCapture(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if err := w.WriteLine([]byte(l)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.WriteLine([]byte("a\nb")); err == nil {
				t.Error("WriteLine accepted a line with a newline")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(path)
			isGzip := len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b
			if isGzip != strings.HasSuffix(name, ".gz") {
				t.Errorf("gzip = %v for %s", isGzip, name)
			}

			r, err := openCapture(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i, want := range lines {
				got, n, err := r.Next()
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if n != i+1 || string(got) != want {
					t.Errorf("line %d: got #%d %.40q, want %.40q", i+1, n, got, want)
				}
			}
			if _, _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the last line: %v, want EOF", err)
			}
			if r.BytesRead() != int64(len(raw)) {
				t.Errorf("BytesRead = %d, want the file size %d", r.BytesRead(), len(raw))
			}
		})
	}
}

func TestCaptureReaderEdges(t *testing.T) {
	dir := t.TempDir()
	// No newline at the end, CRLF line ends, and a line too long between
	// two good ones.
	long := strings.Repeat("y", maxLineBytes+10)
	content := "one\r\n" + long + "\ntwo\nthree"
	path := filepath.Join(dir, "edges.jsonl")
	os.WriteFile(path, []byte(content), 0o644)
	r, err := openCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type got struct {
		line string
		n    int
		err  error
	}
	var all []got
	for {
		l, n, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		all = append(all, got{string(l), n, err})
		if len(all) > 10 {
			t.Fatal("too many lines")
		}
	}
	want := []got{{"one", 1, nil}, {"", 2, errLineTooLong}, {"two", 3, nil}, {"three", 4, nil}}
	if len(all) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(all), len(want), all)
	}
	for i := range want {
		if all[i].line != want[i].line || all[i].n != want[i].n || !errors.Is(all[i].err, want[i].err) {
			t.Errorf("line %d: got %+v, want %+v", i+1, all[i], want[i])
		}
	}

	// A gzip stream is recognised whatever the name; a corrupt one is an
	// error naming the file, not a silent end.
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write([]byte("{}\n{}\n"))
	gz.Close()
	data := buf.Bytes()
	named := filepath.Join(dir, "noext")
	os.WriteFile(named, data, 0o644)
	if r, err := openCapture(named); err != nil {
		t.Fatal(err)
	} else if l, _, err := r.Next(); err != nil || string(l) != "{}" {
		t.Errorf("gzip without .gz: %q %v", l, err)
	}
	corrupt := filepath.Join(dir, "corrupt.gz")
	os.WriteFile(corrupt, data[:len(data)-6], 0o644)
	r2, err := openCapture(corrupt)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for range 5 {
		if _, _, last = r2.Next(); last != nil {
			break
		}
	}
	if last == nil || errors.Is(last, io.EOF) || !strings.Contains(last.Error(), corrupt) {
		t.Errorf("truncated gzip: %v, want an error naming %s", last, corrupt)
	}
}

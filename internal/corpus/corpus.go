// Package corpus reads the captured event corpora of the tests
// (testdata/corpus/*.jsonl.gz: one JSON event per line, gzip'd).
package corpus

import (
	"bufio"
	"compress/gzip"
	"os"
	"slices"
	"testing"
)

// Lines returns every k-th line of the gzip'd JSON-lines file at path,
// failing tb when it cannot be read.
func Lines(tb testing.TB, path string, k int) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out [][]byte
	for i := 0; sc.Scan(); i++ {
		if i%k == 0 {
			out = append(out, slices.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}

package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad is the cost of loading (parse, check, compile, prepare) the
// shipped signatures plus 50 user signatures: what a hot reload pays.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	for i := range 50 {
		body := goodSig(fmt.Sprintf("s%d", i), fmt.Sprintf("s-%d", i), `["execve", "sched_process_exec"]`)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%d.rego", i)), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(LoadOptions{Builtin: true, Dirs: []string{dir}}); err != nil {
			b.Fatal(err)
		}
	}
}

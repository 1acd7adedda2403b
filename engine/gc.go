package engine

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector target vigil runs with unless GOGC is
// set. The engine keeps a few MiB live (compiled rules, process tables) and
// makes short-lived garbage for every event it evaluates: with Go's default
// of 100 the collector runs every few hundred events and takes a third of
// the CPU. 400 lets the heap grow to about five times the live set (tens of
// MiB) and evaluation runs about a quarter faster (make bench).
const GCPercent = 400

// TuneGC sets GCPercent, unless the GOGC environment variable says
// otherwise. It is for programs (vigil's commands, the benchmarks), not for
// libraries that embed the engine.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
}

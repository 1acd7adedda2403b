package engine

import (
	"os"
	"runtime/debug"
)

// MemoryLimit is the soft limit of the Go heap vigil runs with unless
// GOMEMLIMIT is set: near it the collector runs as often as it must to stay
// under it, whatever GCPercent says, so a burst of events makes the
// collector work harder instead of growing the process without bound (a
// 200k-open burst took vigil run past 1 GB with GOGC=400 alone). Queues are
// bounded separately (the publisher's queue, the ring buffers): the limit
// is for the garbage, not for a backlog.
const MemoryLimit = 224 << 20

// GCPercent is the collector's target below the limit unless GOGC is set.
// The engine keeps a few MiB live (compiled rules, process tables) and makes
// short-lived garbage for every event it evaluates: with Go's default of
// 100 the collector runs every few hundred events; 200 halves that while
// the heap stays small (tens of MiB) when idle.
const GCPercent = 200

// TuneGC sets GCPercent and MemoryLimit, unless the GOGC and GOMEMLIMIT
// environment variables say otherwise. It is for programs (vigil's commands,
// the benchmarks), not for libraries that embed the engine.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(MemoryLimit)
	}
}

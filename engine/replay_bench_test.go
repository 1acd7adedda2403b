package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// BenchmarkReplay replays the corpus captured on a real host
// (testdata/corpus/host-work.jsonl.gz: a Go build, git, gcc, python, shell
// loops, package queries; one JSON line per event as on NATS) through three
// engines in the same run, decoding included, one goroutine:
//
//	vigil-events/s   Engine.EvaluateJSON: the derived conditions of all
//	                 signatures read the JSON bytes; only admitted events
//	                 are decoded and only admitted signatures run Rego
//	                 (the median of VIGIL_BENCH_PASSES replays, default 5)
//	vigil-cpu-ns/event  the process's CPU time (user and system, the
//	                 collector's included) per event over those replays:
//	                 on a shared machine, steadier than the wall clock
//	vigil-evaluate-events/s  event.Unmarshal + Engine.Evaluate: the derived
//	                 conditions tested on the Rego input (what callers of
//	                 Evaluate get)
//	rego-events/s    event.Unmarshal + Engine.Evaluate with the fast path
//	                 off: every signature selecting the event runs Rego
//	                 (the engine before the fast path, without the
//	                 hand-written prefilters it had on 13 signatures)
//	naive-events/s   JSON to a map, every signature evaluated on every
//	                 event through rego.EvalInput (the first
//	                 VIGIL_BENCH_NAIVE_EVENTS events, default 1,500)
//	x-vs-rego, x-vs-naive   the ratios
//	engine-live-MB   the peak of the live heap (as of each collection)
//	                 during vigil's replay; the corpus is mapped outside the
//	                 Go heap, so this is the engine's
//	engine-heap-MB   the peak of the heap including garbage not yet
//	                 collected (vigil runs with GOGC=400)
//	lean-events/s, lean-cpu-ns/event   the corpus encoded as a sensor
//	                 sending process contexts by reference sends it
//	                 (event.ContextEncoder: each context in full once,
//	                 lean after), each line resolved with a fresh
//	                 event.ContextTable per replay (the engine server's
//	                 resolver: pooled buffers) and evaluated;
//	                 full-events/s, full-cpu-ns/event the original lines
//	                 (no ctx) through the same resolver, passes
//	                 alternating with the lean ones;
//	                 lean-vs-full the ratio of the rates, full-B/event and
//	                 lean-B/event the input's size
//	exec-median-µs   sched_process_exec events through EvaluateJSON, median
//	worst-kind-median-µs    the slowest event kind's median
//
// The per-kind medians are printed. vigil and rego must agree on the
// findings, or the benchmark fails.
func BenchmarkReplay(b *testing.B) {
	lines := corpusMapped(b)
	nNaive := min(len(lines), envInt(b, "VIGIL_BENCH_NAIVE_EVENTS", 1500))
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := New(set, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	ref, err := New(set, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	ref.FullEval = true
	leanLines, fullBytes, leanBytes := leanCorpus(b, lines)
	var naive *naiveEngine // built after vigil's replay: its 49 compiled copies would count in the heap
	ctx := context.Background()

	for b.Loop() {
		runtime.GC()
		stop := heapSampler()
		var vigilFindings int
		cpu0 := processCPU(b)
		vigilRate, vigilB, vigilAllocs := measure(len(lines), func() {
			for _, l := range lines {
				fs, err := eng.EvaluateJSON(ctx, l)
				if err != nil {
					b.Fatal(err)
				}
				vigilFindings += len(fs)
			}
		})
		st0 := eng.Stats() // one replay's worth (the engine is fresh on the first iteration)
		// one replay takes a fraction of a second: the rate reported is
		// the median of several, and the CPU time per event their mean
		rates := []float64{vigilRate}
		for range envInt(b, "VIGIL_BENCH_PASSES", 5) - 1 {
			r, _, _ := measure(len(lines), func() {
				for _, l := range lines {
					if _, err := eng.EvaluateJSON(ctx, l); err != nil {
						b.Fatal(err)
					}
				}
			})
			rates = append(rates, r)
		}
		vigilCPU := float64((processCPU(b) - cpu0).Nanoseconds()) / float64(len(rates)*len(lines))
		slices.Sort(rates)
		vigilRate = rates[len(rates)/2]
		peakLive, peakHeap := stop()

		// what callers of Evaluate get (decoding through event.Unmarshal,
		// the derived conditions on the Rego input)
		var decodedFindings int
		decodedRate, _, _ := measure(len(lines), func() {
			for _, l := range lines {
				ev, err := event.Unmarshal(l)
				if err != nil {
					b.Fatal(err)
				}
				decodedFindings += len(eng.Evaluate(ctx, ev))
			}
		})

		var regoFindings int
		regoRate, _, _ := measure(len(lines), func() {
			for _, l := range lines {
				ev, err := event.Unmarshal(l)
				if err != nil {
					b.Fatal(err)
				}
				regoFindings += len(ref.Evaluate(ctx, ev))
			}
		})
		if vigilFindings != regoFindings || decodedFindings != regoFindings {
			b.Fatalf("vigil found %d findings (%d through Evaluate), the full Rego evaluation %d", vigilFindings, decodedFindings, regoFindings)
		}

		// full and lean input, passes alternating
		var fullRates, leanRates []float64
		var fullCPU, leanCPU time.Duration
		for range envInt(b, "VIGIL_BENCH_PASSES", 5) {
			// the full lines go through the server's resolver too:
			// nothing to resolve
			r, cpu, _ := replayResolved(b, eng, lines)
			fullRates = append(fullRates, r)
			fullCPU += cpu
			r, cpu, leanFindings := replayResolved(b, eng, leanLines)
			leanRates = append(leanRates, r)
			leanCPU += cpu
			if leanFindings != vigilFindings {
				b.Fatalf("lean input: %d findings, full input %d", leanFindings, vigilFindings)
			}
		}
		slices.Sort(fullRates)
		slices.Sort(leanRates)
		fullRate, leanRate := fullRates[len(fullRates)/2], leanRates[len(leanRates)/2]

		if naive == nil {
			naive = newNaiveEngine(b, set)
		}
		naiveRate, _, _ := measure(nNaive, func() {
			for _, l := range lines[:nNaive] {
				var m map[string]any
				if err := json.Unmarshal(l, &m); err != nil {
					b.Fatal(err)
				}
				ev, err := event.Unmarshal(l)
				if err != nil {
					b.Fatal(err)
				}
				naive.evaluate(ctx, ev)
			}
		})

		// per event kind, each event timed on its own
		per := map[string][]time.Duration{}
		for _, l := range lines {
			name, _ := eventName(l)
			t0 := time.Now()
			if _, err := eng.EvaluateJSON(ctx, l); err != nil {
				b.Fatal(err)
			}
			per[name] = append(per[name], time.Since(t0))
		}
		names := make([]string, 0, len(per))
		for n := range per {
			names = append(names, n)
		}
		sort.Strings(names)
		worst, execMedian := 0.0, 0.0
		for _, n := range names {
			d := per[n]
			slices.Sort(d)
			med := float64(d[len(d)/2].Nanoseconds()) / 1e3
			worst = max(worst, med)
			if n == "sched_process_exec" {
				execMedian = med
			}
			fmt.Fprintf(os.Stderr, "  %-26s n=%6d median %8.2fµs p99 %9.2fµs\n", n, len(d), med, float64(d[len(d)*99/100].Nanoseconds())/1e3)
		}
		st := st0
		fmt.Fprintf(os.Stderr, "  fast path: %d events selected by some signature, %d turned away before Rego, %d admitted; %d signature evaluations spared, %d run\n",
			st.FastRejected+st.Admitted, st.FastRejected, st.Admitted, st.Skipped, st.Evaluations)
		fmt.Fprintf(os.Stderr, "  of %d events: %d selected by no signature\n", len(lines), st.Unselected)

		b.ReportMetric(vigilRate, "vigil-events/s")
		b.ReportMetric(vigilCPU, "vigil-cpu-ns/event")
		b.ReportMetric(regoRate, "rego-events/s")
		b.ReportMetric(decodedRate, "vigil-evaluate-events/s")
		b.ReportMetric(naiveRate, "naive-events/s")
		b.ReportMetric(vigilRate/regoRate, "x-vs-rego")
		b.ReportMetric(vigilRate/naiveRate, "x-vs-naive")
		b.ReportMetric(vigilB, "vigil-B/event")
		b.ReportMetric(vigilAllocs, "vigil-allocs/event")
		b.ReportMetric(float64(peakLive)/(1<<20), "engine-live-MB")
		b.ReportMetric(float64(peakHeap)/(1<<20), "engine-heap-MB")
		b.ReportMetric(fullRate, "full-events/s")
		b.ReportMetric(leanRate, "lean-events/s")
		b.ReportMetric(leanRate/fullRate, "lean-vs-full")
		b.ReportMetric(float64(fullCPU.Nanoseconds())/float64(len(fullRates)*len(lines)), "full-cpu-ns/event")
		b.ReportMetric(float64(leanCPU.Nanoseconds())/float64(len(leanRates)*len(lines)), "lean-cpu-ns/event")
		b.ReportMetric(float64(fullBytes)/float64(len(lines)), "full-B/event")
		b.ReportMetric(float64(leanBytes)/float64(len(lines)), "lean-B/event")
		b.ReportMetric(execMedian, "exec-median-µs")
		b.ReportMetric(worst, "worst-kind-median-µs")
		b.ReportMetric(float64(vigilFindings), "findings")
	}
}

func eventName(line []byte) (string, bool) {
	var v struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(line, &v) != nil {
		return "", false
	}
	return v.Name, true
}

// corpusMapped decompresses the corpus into a temporary file and maps it,
// so the events live outside the Go heap and the heap measured is the
// engine's alone.
func corpusMapped(b *testing.B) [][]byte {
	return mapLines(b, corpusLines(b, 1))
}

// leanCorpus encodes the corpus as a sensor sending process contexts by
// reference does (rare events in full), mapped like the corpus, and
// returns the sizes of both.
func leanCorpus(b *testing.B, lines [][]byte) (lean [][]byte, fullBytes, leanBytes int) {
	enc := event.NewContextEncoder(DefaultContexts)
	for _, l := range lines {
		ev, err := event.Unmarshal(l)
		if err != nil {
			b.Fatal(err)
		}
		data, err := enc.AppendEvent(nil, ev, event.Rare(ev.Name))
		if err != nil {
			b.Fatal(err)
		}
		lean = append(lean, data)
		fullBytes += len(l)
		leanBytes += len(data)
	}
	return mapLines(b, lean), fullBytes, leanBytes
}

// mapLines copies lines into a mapped temporary file, out of the Go heap.
func mapLines(b *testing.B, lines [][]byte) [][]byte {
	f, err := os.CreateTemp(b.TempDir(), "corpus")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	if _, err := f.Write(bytes.Join(lines, nil)); err != nil {
		b.Fatal(err)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { syscall.Munmap(data) })
	out := make([][]byte, len(lines))
	off := 0
	for i, l := range lines {
		out[i] = data[off : off+len(l) : off+len(l)]
		off += len(l)
	}
	lines = nil
	runtime.GC()
	return out
}

// heapSampler samples the live heap (as of the last collection) and the
// heap's object bytes (garbage included) every few milliseconds until
// stopped, and returns their peaks.
func heapSampler() (stop func() (live, heap int64)) {
	var peakLive, peakHeap atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	sample := func() {
		metrics.Read(samples)
		if v := int64(samples[0].Value.Uint64()); v > peakLive.Load() {
			peakLive.Store(v)
		}
		if v := int64(samples[1].Value.Uint64()); v > peakHeap.Load() {
			peakHeap.Store(v)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() (int64, int64) {
		close(done)
		<-finished
		sample()
		return peakLive.Load(), peakHeap.Load()
	}
}

// BenchmarkMatchJSON is the fast path alone on an event no signature wants:
// an ordinary open of a shared library.
func BenchmarkMatchJSON(b *testing.B) {
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		b.Fatal(err)
	}
	var line []byte
	for _, l := range corpusLines(b, 1) {
		if n, _ := eventName(l); n == "security_file_open" && len(l) > 1500 {
			line = l
			break
		}
	}
	m := set.Matcher()
	buf := make([]*rules.Signature, 0, 16)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		_, sigs, _ := m.MatchJSON(line, buf[:0])
		if len(sigs) > 0 && !sigs[0].FastPath() {
			continue
		}
	}
}

// BenchmarkDecode compares decoding the corpus's events without reflection
// (rules.DecodeEvent) with event.Unmarshal (encoding/json), and reports how
// many take DecodeEvent's own path (the rest fall back to event.Unmarshal).
func BenchmarkDecode(b *testing.B) {
	lines := corpusLines(b, 7)
	b.Run("rules.DecodeEvent", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := rules.DecodeEvent(lines[i%len(lines)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("event.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := event.Unmarshal(lines[i%len(lines)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkReplayVigil is vigil's path of BenchmarkReplay alone (the corpus
// through Engine.EvaluateJSON, one goroutine), one replay per iteration:
// the benchmark to profile (go test -cpuprofile) the fast path with, since
// BenchmarkReplay spends most of its time in the baselines.
func BenchmarkReplayVigil(b *testing.B) {
	lines := corpusMapped(b)
	eng := builtinEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	var n int
	start, cpu0 := time.Now(), processCPU(b)
	for b.Loop() {
		for _, l := range lines {
			if _, err := eng.EvaluateJSON(ctx, l); err != nil {
				b.Fatal(err)
			}
		}
		n += len(lines)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(n), "cpu-ns/event")
}

// processCPU is the CPU time (user and system) the process has used: on a
// shared machine, the cost per event that other tenants do not inflate as
// they do the wall clock (the collector's work counts too).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// replayResolved resolves lines as the engine server does (a fresh
// table, pooled buffers) and evaluates each: the rate, the process CPU it
// took and the findings.
func replayResolved(b *testing.B, eng *Engine, lines [][]byte) (float64, time.Duration, int) {
	ctx := context.Background()
	findings := 0
	c0 := processCPU(b)
	r, _, _ := measure(len(lines), func() {
		res := newCtxResolver(nil, &ServeOptions{Contexts: DefaultContexts})
		for _, l := range lines {
			full, buf, missing, err := res.resolveInto(l)
			if err != nil {
				b.Fatalf("resolving: %v (%s)", err, missing)
			}
			fs, err := eng.EvaluateJSON(ctx, full)
			if err != nil {
				b.Fatal(err)
			}
			putCtxBuf(buf)
			findings += len(fs)
		}
	})
	return r, processCPU(b) - c0, findings
}

// BenchmarkReplayLean is BenchmarkReplay's full-versus-lean comparison
// alone (for profiling): the corpus as it is and encoded lean, resolved
// and evaluated, passes alternating.
func BenchmarkReplayLean(b *testing.B) {
	lines := corpusMapped(b)
	leanLines, fullBytes, leanBytes := leanCorpus(b, lines)
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := New(set, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	var fullCPU, leanCPU time.Duration
	var fullRates, leanRates []float64
	only := os.Getenv("VIGIL_BENCH_ONLY") // "full" or "lean": one of the two (profiles)
	for b.Loop() {
		if only != "lean" {
			r, cpu, _ := replayResolved(b, eng, lines)
			fullCPU += cpu
			fullRates = append(fullRates, r)
		}
		if only != "full" {
			r, cpu, _ := replayResolved(b, eng, leanLines)
			leanCPU += cpu
			leanRates = append(leanRates, r)
		}
	}
	med := func(r []float64) float64 {
		if len(r) == 0 {
			return 0
		}
		slices.Sort(r)
		return r[len(r)/2]
	}
	n := float64(len(lines))
	if len(fullRates) > 0 {
		b.ReportMetric(med(fullRates), "full-events/s")
		b.ReportMetric(float64(fullCPU.Nanoseconds())/(n*float64(len(fullRates))), "full-cpu-ns/event")
	}
	if len(leanRates) > 0 {
		b.ReportMetric(med(leanRates), "lean-events/s")
		b.ReportMetric(float64(leanCPU.Nanoseconds())/(n*float64(len(leanRates))), "lean-cpu-ns/event")
	}
	if len(fullRates) > 0 && len(leanRates) > 0 {
		b.ReportMetric(med(leanRates)/med(fullRates), "lean-vs-full")
	}
	b.ReportMetric(float64(fullBytes)/n, "full-B/event")
	b.ReportMetric(float64(leanBytes)/n, "lean-B/event")
}

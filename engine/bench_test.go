package engine

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/signatures"
)

// TestMain runs the package's tests and benchmarks with the collector
// tuned as vigil's commands tune it: the benchmarks measure what ships.
func TestMain(m *testing.M) {
	TuneGC()
	os.Exit(m.Run())
}

// BenchmarkDispatch replays a corpus of generated events (genEvents: the mix
// of a busy host) through vigil's engine and through a naive engine in the
// same run, and reports both rates and their ratio:
//
//	vigil-events/s      Engine.Evaluate, one goroutine: the event-name index
//	                    sends each event only to the signatures that select
//	                    it, input built directly as an ast.Value, prepared
//	                    queries
//	vigil-par-events/s  the same from GOMAXPROCS goroutines
//	naive-events/s      every signature evaluated on every event, the event
//	                    marshalled to JSON and back into a map and handed to
//	                    rego.EvalInput (what a first cut at a Rego engine does)
//	speedup-x           vigil-events/s / naive-events/s
//	vigil-B/event, vigil-allocs/event, naive-B/event, naive-allocs/event
//
// Each iteration is the whole corpus, so the benchmark runs once at the
// default -benchtime: VIGIL_BENCH_EVENTS events (default 1,000,000) for
// vigil; the naive engine replays the first VIGIL_BENCH_NAIVE_EVENTS of
// them (default 20,000: it evaluates every one of the shipped signatures on
// every event, far too slow for the whole million in the time budget of
// make bench, and the mix is uniform, so a prefix has the same mix).
// Both engines must agree on the number of findings over the naive prefix,
// or the benchmark fails.
func BenchmarkDispatch(b *testing.B) {
	n := envInt(b, "VIGIL_BENCH_EVENTS", 1_000_000)
	nNaive := min(n, envInt(b, "VIGIL_BENCH_NAIVE_EVENTS", 20_000))
	events := genEvents(n, 1)

	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := New(set, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	naive := newNaiveEngine(b, set)
	ctx := context.Background()

	b.ResetTimer()
	for b.Loop() {
		// vigil, one goroutine.
		var vigilFindings, vigilPrefixFindings int
		vigilRate, vigilB, vigilAllocs := measure(n, func() {
			for i, ev := range events {
				k := len(eng.Evaluate(ctx, ev))
				vigilFindings += k
				if i < nNaive {
					vigilPrefixFindings += k
				}
			}
		})

		// vigil, GOMAXPROCS goroutines sharing the engine.
		workers := runtime.GOMAXPROCS(0)
		var parFindings atomic.Int64
		parRate, _, _ := measure(n, func() {
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					k := 0
					for i := w; i < len(events); i += workers {
						k += len(eng.Evaluate(ctx, events[i]))
					}
					parFindings.Add(int64(k))
				})
			}
			wg.Wait()
		})

		// naive.
		var naiveFindings int
		naiveRate, naiveB, naiveAllocs := measure(nNaive, func() {
			for _, ev := range events[:nNaive] {
				naiveFindings += naive.evaluate(ctx, ev)
			}
		})

		if vigilPrefixFindings != naiveFindings {
			b.Fatalf("vigil found %d findings in the first %d events, the naive engine %d", vigilPrefixFindings, nNaive, naiveFindings)
		}
		if int(parFindings.Load()) != vigilFindings {
			b.Fatalf("parallel evaluation found %d findings, sequential %d; engine stats %+v", parFindings.Load(), vigilFindings, eng.Stats())
		}
		if st := eng.Stats(); st.Errors+st.Timeouts != 0 {
			b.Fatalf("signature errors during the benchmark: %+v", st)
		}
		b.ReportMetric(vigilRate, "vigil-events/s")
		b.ReportMetric(parRate, "vigil-par-events/s")
		b.ReportMetric(naiveRate, "naive-events/s")
		b.ReportMetric(vigilRate/naiveRate, "speedup-x")
		b.ReportMetric(vigilB, "vigil-B/event")
		b.ReportMetric(vigilAllocs, "vigil-allocs/event")
		b.ReportMetric(naiveB, "naive-B/event")
		b.ReportMetric(naiveAllocs, "naive-allocs/event")
		b.ReportMetric(float64(vigilFindings), "findings")
	}
}

// BenchmarkInput compares building the Rego input of one event directly
// (rules.Input) with the JSON round trip the naive engine pays.
func BenchmarkInput(b *testing.B) {
	events := genEvents(4096, 2)
	b.Run("ast", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = rules.Input(events[i%len(events)])
			i++
		}
	})
	b.Run("json-roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			data, err := json.Marshal(events[i%len(events)])
			if err != nil {
				b.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// measure runs f once and returns events per second and heap bytes and
// allocations per event.
func measure(events int, f func()) (rate, bytesPer, allocsPer float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	rate = float64(events) / took.Seconds()
	bytesPer = float64(after.TotalAlloc-before.TotalAlloc) / float64(events)
	allocsPer = float64(after.Mallocs-before.Mallocs) / float64(events)
	return rate, bytesPer, allocsPer
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// naiveEngine is the baseline: the same signatures compiled by plain
// rego.New, every one evaluated on every event, input through JSON.
type naiveEngine struct {
	queries []rego.PreparedEvalQuery
	// the events each query's signature selects: findings on others are
	// not counted (the contract says a signature sees only those), so the
	// two engines' answers compare
	selects []map[string]bool
}

func newNaiveEngine(b *testing.B, set *rules.Set) *naiveEngine {
	var mods []func(*rego.Rego)
	err := fs.WalkDir(signatures.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || len(p) < 5 || p[len(p)-5:] != ".rego" || (len(p) > 10 && p[len(p)-10:] == "_test.rego") {
			return err
		}
		src, err := fs.ReadFile(signatures.FS(), p)
		if err != nil {
			return err
		}
		mods = append(mods, rego.Module(p, string(src)))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ne := &naiveEngine{}
	for _, sig := range set.Signatures() {
		opts := append([]func(*rego.Rego){rego.Query("data." + sig.Package + ".finding")}, mods...)
		pq, err := rego.New(opts...).PrepareForEval(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		ne.queries = append(ne.queries, pq)
		sel := map[string]bool{}
		for _, e := range sig.Events {
			sel[e] = true
		}
		ne.selects = append(ne.selects, sel)
	}
	return ne
}

// evaluate returns the number of findings for ev.
func (ne *naiveEngine) evaluate(ctx context.Context, ev *event.Event) int {
	data, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	var input map[string]any
	if err := json.Unmarshal(data, &input); err != nil {
		panic(err)
	}
	n := 0
	for i, q := range ne.queries {
		rs, err := q.Eval(ctx, rego.EvalInput(input))
		if err != nil {
			panic(err)
		}
		if len(rs) == 1 && ne.selects[i][ev.Name] {
			if set, ok := rs[0].Expressions[0].Value.([]any); ok {
				n += len(set)
			}
		}
	}
	return n
}

// BenchmarkEvaluateExec is the cost of one sched_process_exec event through
// Evaluate (input conversion plus the signatures selecting exec), the
// engine's most frequent evaluated event.
func BenchmarkEvaluateExec(b *testing.B) {
	var execs []*event.Event
	for _, ev := range genEvents(20000, 3) {
		if ev.Name == "sched_process_exec" {
			execs = append(execs, ev)
		}
	}
	eng := builtinEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		eng.Evaluate(ctx, execs[i%len(execs)])
		i++
	}
}

// builtinEngine is an engine with the shipped signatures and no log.
func builtinEngine(tb testing.TB) *Engine {
	tb.Helper()
	set, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := New(set, Options{Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// BenchmarkDNS is the cost of net_packet_dns events through the shipped
// signatures, the captured corpus holding only four. The events are a
// host's lookups: ordinary names (package and code hosts, Kubernetes
// search-path expansions, PTR and SRV lookups, long CDN and cloud names)
// and one name in 20 shaped like data over DNS, each a query followed by its
// response, the process of the corpus's DNS query. Each event goes through
// Engine.EvaluateJSON on its own and is timed; three engines in the same
// run:
//
//	vigil    the shipped signatures
//	before   the shipped signatures with dns-tunneling in the form it had
//	         before it was written for speed (testdata/dns)
//	rego     the shipped signatures, the fast path off (every signature
//	         selecting the event runs Rego)
//
// reported per engine: query-median-µs (queries only: the fast path turns
// responses away), query-p99-µs, median-µs (all DNS events, as
// BenchmarkReplay's per-kind median), events/s; and
// query-x-vs-before, the ratio of the query medians. vigil and before must
// report the same number of findings, or the benchmark fails
// (TestDNSTunnelingAgreesWithReference compares them field by field).
func BenchmarkDNS(b *testing.B) {
	tmpl := dnsTemplate(b)
	r := rand.New(rand.NewPCG(8, 53))
	var lines [][]byte
	var query []bool
	for i := range 2000 {
		name := benignDNSNames[r.IntN(len(benignDNSNames))]
		if i%20 == 7 {
			name = tunnelDNSName(r)
		}
		qtype := []string{"A", "AAAA", "A", "AAAA", "SRV", "PTR", "TXT", "HTTPS"}[r.IntN(8)]
		lines = append(lines, dnsEvent(b, tmpl, name, qtype, false), dnsEvent(b, tmpl, name, qtype, true))
		query = append(query, true, false)
	}
	vigil := builtinEngine(b)
	before, err := New(shippedWith(b, map[string]string{
		"command_and_control/dns_tunneling.rego": beforeDNSTunneling(b),
	}), Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	rego := builtinEngine(b)
	rego.FullEval = true
	ctx := context.Background()

	type result struct {
		queryMedian, queryP99, median, rate float64
		findings                            int
	}
	run := func(eng *Engine) result {
		var all, queries []time.Duration
		var res result
		start := time.Now()
		for i, l := range lines {
			t0 := time.Now()
			fs, err := eng.EvaluateJSON(ctx, l)
			d := time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			res.findings += len(fs)
			all = append(all, d)
			if query[i] {
				queries = append(queries, d)
			}
		}
		res.rate = float64(len(lines)) / time.Since(start).Seconds()
		slices.Sort(all)
		slices.Sort(queries)
		µs := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
		res.median = µs(all[len(all)/2])
		res.queryMedian = µs(queries[len(queries)/2])
		res.queryP99 = µs(queries[len(queries)*99/100])
		return res
	}
	for b.Loop() {
		v, bf, rg := run(vigil), run(before), run(rego)
		if v.findings != bf.findings || v.findings != rg.findings {
			b.Fatalf("findings: vigil %d, before %d, rego %d", v.findings, bf.findings, rg.findings)
		}
		for _, m := range []struct {
			prefix string
			r      result
		}{{"", v}, {"before-", bf}, {"rego-", rg}} {
			b.ReportMetric(m.r.queryMedian, m.prefix+"query-median-µs")
			b.ReportMetric(m.r.queryP99, m.prefix+"query-p99-µs")
			b.ReportMetric(m.r.median, m.prefix+"median-µs")
			b.ReportMetric(m.r.rate, m.prefix+"events/s")
		}
		b.ReportMetric(bf.queryMedian/v.queryMedian, "query-x-vs-before")
		b.ReportMetric(float64(v.findings), "findings")
	}
}

// BenchmarkDNSVigil is vigil's path of BenchmarkDNS alone, queries only
// (the responses never reach Rego), one query per iteration: the benchmark
// to profile DNS evaluation with.
func BenchmarkDNSVigil(b *testing.B) {
	tmpl := dnsTemplate(b)
	r := rand.New(rand.NewPCG(8, 53))
	var lines [][]byte
	for i := range 2000 {
		name := benignDNSNames[r.IntN(len(benignDNSNames))]
		if i%20 == 7 {
			name = tunnelDNSName(r)
		}
		lines = append(lines, dnsEvent(b, tmpl, name, "A", false))
	}
	eng := builtinEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := eng.EvaluateJSON(ctx, lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

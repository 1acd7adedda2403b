package main

import (
	"testing"
	"time"
)

// TestElasticProcs checks the processors' decisions (procs.go): one
// processor until a sample uses most of one CPU, then every CPU until use
// stays below half of one for procsCalm, then one again; a busy sample in
// between restarts the calm; a one-CPU machine never changes.
func TestElasticProcs(t *testing.T) {
	c := &procsControl{max: 4, cur: 1}
	step := procsSample
	steps := []struct {
		used float64
		want int
	}{
		{0.1, 1}, {0.79, 1}, // below procsUp: one processor is enough
		{0.95, 4},          // a flood: every CPU at once
		{1.6, 4}, {0.6, 4}, // busy, then not calm enough
		{0.2, 4}, // calm starts
		{0.9, 4}, // busy again: the calm restarts
	}
	for i, s := range steps {
		if got := c.next(s.used, 0, step); got != s.want {
			t.Fatalf("step %d (used %.2f): %d processors, want %d", i, s.used, got, s.want)
		}
	}
	calmSteps := int(procsCalm / step)
	for i := 0; i < calmSteps-1; i++ {
		if got := c.next(0.3, 0, step); got != 4 {
			t.Fatalf("calm sample %d of %d: %d processors, want still 4", i+1, calmSteps, got)
		}
	}
	if got := c.next(0.3, 0, step); got != 1 {
		t.Fatalf("after %v below %.1f of a CPU: %d processors, want 1", procsCalm, procsDown, got)
	}
	if got := c.next(0.85, 0, 10*time.Millisecond); got != 4 {
		t.Fatalf("a flood after the calm: %d processors, want 4", got)
	}

	// A backlog takes every CPU whatever the CPU use (one processor that
	// gets little CPU on a busy host), and keeps them while it lasts.
	c = &procsControl{max: 2, cur: 1}
	if got := c.next(0.2, procsBacklog/2, step); got != 1 {
		t.Fatalf("a small backlog: %d processors, want 1", got)
	}
	if got := c.next(0.2, procsBacklog, step); got != 2 {
		t.Fatalf("a backlog at %.3f with 0.2 of a CPU used: %d processors, want 2", procsBacklog, got)
	}
	for i := 0; i < 2*calmSteps; i++ {
		if got := c.next(0.1, 0.5, step); got != 2 {
			t.Fatalf("sample %d with half a buffer waiting: %d processors, want 2", i, got)
		}
	}
	for i := 0; i < calmSteps; i++ {
		c.next(0.1, 0, step)
	}
	if c.cur != 1 {
		t.Fatalf("after the backlog and %v of calm: %d processors, want 1", procsCalm, c.cur)
	}

	// The gauges: the largest backlog, none without gauges.
	var b backlogs
	if got := b.max(); got != 0 {
		t.Fatalf("no gauge: backlog %v", got)
	}
	b.add(func() float64 { return 0.25 })
	b.add(func() float64 { return 0.5 })
	if got := b.max(); got != 0.5 {
		t.Fatalf("backlogs 0.25 and 0.5: max %v", got)
	}
	var none *backlogs
	none.add(func() float64 { return 1 }) // vigil run with --max-procs: no gauges kept

	one := &procsControl{max: 1, cur: 1}
	for _, used := range []float64{0.1, 1.0, 0.0} {
		if got := one.next(used, 1, step); got != 1 {
			t.Fatalf("one CPU (used %.1f): %d processors", used, got)
		}
	}
}

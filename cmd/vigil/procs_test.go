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
		if got := c.next(s.used, step); got != s.want {
			t.Fatalf("step %d (used %.2f): %d processors, want %d", i, s.used, got, s.want)
		}
	}
	calmSteps := int(procsCalm / step)
	for i := 0; i < calmSteps-1; i++ {
		if got := c.next(0.3, step); got != 4 {
			t.Fatalf("calm sample %d of %d: %d processors, want still 4", i+1, calmSteps, got)
		}
	}
	if got := c.next(0.3, step); got != 1 {
		t.Fatalf("after %v below %.1f of a CPU: %d processors, want 1", procsCalm, procsDown, got)
	}
	if got := c.next(0.85, 10*time.Millisecond); got != 4 {
		t.Fatalf("a flood after the calm: %d processors, want 4", got)
	}

	one := &procsControl{max: 1, cur: 1}
	for _, used := range []float64{0.1, 1.0, 0.0} {
		if got := one.next(used, step); got != 1 {
			t.Fatalf("one CPU (used %.1f): %d processors", used, got)
		}
	}
}

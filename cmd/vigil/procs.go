package main

import (
	"context"
	"runtime"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Elastic processors (vigil run --max-procs 0, the default).
//
// Each event crosses half a dozen goroutines in vigil run (ring reader,
// publisher, the server's client reader, the stream, the engine's consumer
// and worker) and back. With every CPU available to Go, each hand-off at a
// host's usual rates wakes an OS thread on another processor, and those
// wake-ups cost more CPU than the work (docs/performance.md: about a third
// of vigil's CPU per event). On one processor the hand-offs stay in one
// thread, but a flood then has one CPU to get through, and what the
// publisher cannot take is dropped.
//
// So vigil run uses one processor while one is enough and every CPU while
// it is not: it samples its own CPU time; when it used most of one CPU over
// a sample (a flood starting), it takes every CPU at once; when, with every
// CPU, it used less than half of one for a while, it goes back to one.
const (
	procsSample = 100 * time.Millisecond
	// procsUp: the share of one CPU used over a sample, on one processor,
	// that takes every CPU (one processor cannot give more than 1.0)
	procsUp = 0.8
	// procsDown: the share of one CPU below which, for procsCalm, every
	// CPU goes back to one processor (what ran on several then needs less
	// on one: the hand-offs no longer wake threads)
	procsDown = 0.5
	procsCalm = 2 * time.Second
)

// procsControl decides the processors from samples of CPU use.
type procsControl struct {
	max  int           // every CPU
	cur  int           // processors now
	calm time.Duration // how long use has been below procsDown at max
}

// next takes the share of one CPU used over the last sample of length d
// and returns the processors to run on from now.
func (c *procsControl) next(used float64, d time.Duration) int {
	if c.max <= 1 {
		return c.cur
	}
	switch {
	case c.cur < c.max && used >= procsUp:
		c.cur, c.calm = c.max, 0
	case c.cur == c.max && used < procsDown:
		c.calm += d
		if c.calm >= procsCalm {
			c.cur, c.calm = 1, 0
		}
	case c.cur == c.max:
		c.calm = 0
	}
	return c.cur
}

// processCPU returns the CPU time the process has used (user and system).
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runElasticProcs adjusts GOMAXPROCS between 1 and every CPU until ctx
// ends. It starts at every CPU: vigil run starts up on them (loading BPF,
// compiling rules) and sizes its engine's workers by them.
func runElasticProcs(ctx context.Context, log zerolog.Logger) {
	c := &procsControl{max: runtime.NumCPU(), cur: runtime.NumCPU()}
	runtime.GOMAXPROCS(c.cur)
	if c.max <= 1 {
		return
	}
	tick := time.NewTicker(procsSample)
	defer tick.Stop()
	last, lastCPU := time.Now(), processCPU()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			cpu := processCPU()
			d := now.Sub(last)
			if d <= 0 {
				continue
			}
			used := float64(cpu-lastCPU) / float64(d)
			last, lastCPU = now, cpu
			before := c.cur
			if n := c.next(used, d); n != before {
				runtime.GOMAXPROCS(n)
				log.Debug().Int("max_procs", n).Float64("cpu_used", used).Msg("processors changed")
			}
		}
	}
}

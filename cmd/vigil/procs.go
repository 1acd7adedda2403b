package main

import (
	"context"
	"math"
	"runtime"
	"sync"
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
// it is not. It samples its own CPU time and the backlogs where it loses
// events when it falls behind (the sensor's ring buffer and its publisher's
// queue). It takes every CPU at once when a sample used most of one CPU (a
// flood starting) or found a backlog: on a host whose CPUs are busy with
// other work, one processor may get far less than one CPU, and the
// backlog is then the only sign (a make test run lost 16k file-open events
// of other tests' floods that way). With every CPU, once it used less than
// half of one and had no backlog for a while, it goes back to one.
const (
	procsSample = 100 * time.Millisecond
	// procsUp: the share of one CPU used over a sample, on one processor,
	// that takes every CPU (one processor cannot give more than 1.0)
	procsUp = 0.8
	// procsBacklog: the share of a ring buffer or queue holding what is
	// not handled yet that takes every CPU (a flood fills the 8 MiB ring
	// in tens of milliseconds at worst: a sample must see it early)
	procsBacklog = 1.0 / 16
	// procsDown: the share of one CPU below which, with no backlog, for
	// procsCalm, every CPU goes back to one processor (what ran on
	// several then needs less on one: the hand-offs no longer wake
	// threads)
	procsDown = 0.5
	procsCalm = 2 * time.Second
)

// procsControl decides the processors from samples of CPU use and backlog.
type procsControl struct {
	max  int           // every CPU
	cur  int           // processors now
	calm time.Duration // how long use has been below procsDown at max
}

// next takes the share of one CPU used over the last sample of length d and
// the largest backlog seen at its end (a share of its buffer), and returns
// the processors to run on from now.
func (c *procsControl) next(used, backlog float64, d time.Duration) int {
	if c.max <= 1 {
		return c.cur
	}
	busy := used >= procsUp || backlog >= procsBacklog
	switch {
	case c.cur < c.max && busy:
		c.cur, c.calm = c.max, 0
	case c.cur == c.max && used < procsDown && backlog < procsBacklog:
		c.calm += d
		if c.calm >= procsCalm {
			c.cur, c.calm = 1, 0
		}
	case c.cur == c.max:
		c.calm = 0
	}
	return c.cur
}

// backlogs holds the gauges of what vigil run has not handled yet, each a
// share of its buffer (the sensor adds its ring and publisher queue once
// they run). It is safe for concurrent use.
type backlogs struct {
	mu     sync.Mutex
	gauges []func() float64
}

func (b *backlogs) add(g func() float64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.gauges = append(b.gauges, g)
	b.mu.Unlock()
}

// max returns the largest backlog now (0 with no gauge).
func (b *backlogs) max() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := 0.0
	for _, g := range b.gauges {
		m = math.Max(m, g())
	}
	return m
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
// ends, from its CPU use and the backlogs in b. It starts at every CPU: vigil run starts up on them (loading BPF,
// compiling rules) and sizes its engine's workers by them.
func runElasticProcs(ctx context.Context, log zerolog.Logger, b *backlogs) {
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
			backlog := b.max()
			if n := c.next(used, backlog, d); n != before {
				runtime.GOMAXPROCS(n)
				log.Debug().Int("max_procs", n).Float64("cpu_used", used).Float64("backlog", backlog).Msg("processors changed")
			}
		}
	}
}

package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor"
)

// execMix is the process events of the corpus (what a fork+exec loop
// sends: fork, execve, bprm check, exec, mmap, exit), in capture order.
func execMix(tb testing.TB) []*event.Event {
	tb.Helper()
	f, err := os.Open("../../testdata/corpus/host-work.jsonl.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	keep := map[string]bool{"sched_process_fork": true, "execve": true, "security_bprm_check": true,
		"sched_process_exec": true, "security_mmap_file": true, "sched_process_exit": true}
	var out []*event.Event
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		ev, err := event.Unmarshal(sc.Bytes())
		if err != nil {
			tb.Fatalf("host-work.jsonl.gz:%d: %v", line, err)
		}
		if keep[ev.Name] {
			out = append(out, ev)
			if len(out) == 3000 {
				break
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("no process events in the corpus")
	}
	return out
}

// BenchmarkRunPipeline measures vigil run's CPU per event between the
// sensor's publisher and the engine's acknowledgement, without BPF: the
// embedded server with its JetStream file store, the engine with the
// shipped signatures and the publisher, connected in process as vigil run
// connects them. Events (the process events of the corpus) come as the
// ring reader hands them over during a fork+exec loop: a burst every 5 ms,
// 2,000 a second, so that what is measured is the cost at a host's rate
// (wake-ups between goroutines), not the throughput. It reports the
// process's CPU (user+system) per event, for every CPU, one processor
// (--max-procs 1) and vigil run's default (processors following the load),
// and the events stream's async writes (--events-persist async), in the
// same run.
func BenchmarkRunPipeline(b *testing.B) {
	engine.TuneGC() // as vigil's main does
	evs := execMix(b)
	for _, c := range []struct {
		procs   int
		persist string
	}{{0, "sync"}, {1, "sync"}, {-1, "sync"}, {0, "async"}, {1, "async"}} {
		name := fmt.Sprintf("procs=%d/persist=%s", c.procs, c.persist)
		if c.procs < 0 {
			name = "procs=elastic/persist=" + c.persist
		}
		b.Run(name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
			if c.procs > 0 {
				runtime.GOMAXPROCS(c.procs)
			}
			if c.procs < 0 {
				// vigil run's default (procs.go)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { runElasticProcs(ctx, zerolog.Nop(), &backlogs{}); close(done) }() // 2,000 events a second: no backlog to see
				defer func() { cancel(); <-done }()
			}
			runPipeline(b, evs, c.persist)
		})
	}
}

func runPipeline(b *testing.B, evs []*event.Event, persist string) {
	log := zerolog.Nop()
	state := b.TempDir()
	srv, err := startEmbedded(embeddedConfig{listen: "127.0.0.1:-1", stateDir: state}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	engineNC, err := srv.connect(log, "vigil-engine")
	if err != nil {
		b.Fatal(err)
	}
	defer engineNC.Close()
	sf := &sensorFlags{host: "vm"}
	sensorNC, err := srv.connect(log, "vigil-sensor", sf.natsOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer sensorNC.Close()

	cmd := &cobra.Command{}
	ef := &engineFlags{}
	ef.register(cmd)
	if err := cmd.Flags().Parse([]string{"--no-watch", "--output", "none", "--events-persist", persist}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	engineDone := make(chan error, 1)
	go func() { engineDone <- runEngine(ctx, log, engineNC, ef, io.Discard, nil) }()
	defer func() {
		cancel()
		if err := <-engineDone; err != nil {
			b.Error(err)
		}
	}()
	js, err := jetstream.New(sensorNC)
	if err != nil {
		b.Fatal(err)
	}
	cons := waitConsumer(b, js)
	pub := sensor.NewPublisher(sensorNC, sensor.PublisherOptions{Host: "vm", Logger: log})
	defer pub.Close(context.Background())

	const burst, every = 10, 5 * time.Millisecond
	next := 0
	send := func(n int) {
		for range n {
			pub.Publish(evs[next%len(evs)])
			next++
		}
	}
	// warm up: the stream, the consumer and the engine's tables
	send(2000)
	waitEvaluated(b, cons, 2000)
	runtime.GC()
	b.ResetTimer()
	cpu0 := processCPU()
	tick := time.NewTicker(every)
	for sent := 0; sent < b.N; sent += burst {
		<-tick.C
		send(min(burst, b.N-sent))
	}
	tick.Stop()
	waitEvaluated(b, cons, uint64(2000+b.N))
	cpu := processCPU() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(0, "ns/op")
}

func waitConsumer(b *testing.B, js jetstream.JetStream) jetstream.Consumer {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cons, err := js.Consumer(ctx, engine.EventsStream, engine.DefaultQueue)
		cancel()
		if err == nil {
			return cons
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("the engine's consumer did not appear")
	return nil
}

// waitEvaluated waits until the engines' consumer acknowledged n events.
func waitEvaluated(b *testing.B, cons jetstream.Consumer, n uint64) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		info, err := cons.Info(ctx)
		cancel()
		if err == nil && info.AckFloor.Stream >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("the engine did not acknowledge %d events in time", n)
}

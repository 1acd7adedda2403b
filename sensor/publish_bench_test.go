package sensor

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// BenchmarkPublisherThroughput measures events per second from Publish to
// the stream on a real nats-server with JetStream (a file-backed stream on
// vigil.events.>, as the engines declare it): fire-and-forget core NATS
// publishing (core, the baseline) and acknowledged JetStream publishing
// (acks) in the same run. An op is one event; the time runs until Close
// returned (the server has every event: flushed for core, acknowledged for
// acks); %stored is the share of them the stream holds.
// go test ./sensor/ -run '^$' -bench PublisherThroughput -benchtime 200000x
func BenchmarkPublisherThroughput(b *testing.B) {
	for _, mode := range publishModes {
		b.Run(mode.name, func(b *testing.B) {
			srv := natstest.Start(b, 0, "-js", "-sd", b.TempDir())
			nc := connect(b, srv.URL)
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.AllEvents}})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			evs := make([]*event.Event, 64)
			for i := range evs {
				evs[i] = testEvent("security_file_open", uint32(1000+i))
				evs[i].Host = "bench"
				evs[i].Args = map[string]any{"pathname": "/usr/lib/x86_64-linux-gnu/libc.so.6", "flags": uint64(0x8000), "mode": uint64(0o100644)}
			}
			opts := PublisherOptions{Host: "bench", QueueLen: b.N + 1, Logger: zerolog.Nop()}
			mode.set(&opts)
			pub := NewPublisher(nc, opts)
			b.ResetTimer()
			cpu0 := processCPU(b)
			start := time.Now()
			for i := 0; i < b.N; i++ {
				pub.Publish(evs[i%len(evs)])
			}
			// Close returns once the server has every event: flushed
			// (core) or acknowledged (acks).
			if err := pub.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			// The time runs until the stream holds every event (it may
			// drop core messages it cannot take in fast enough: %stored).
			var stored uint64
			last, lastChange := uint64(0), time.Now()
			for time.Since(lastChange) < 3*time.Second {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				info, err := st.Info(ctx)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if stored = info.State.Msgs; stored >= uint64(b.N) {
					break
				}
				if stored != last {
					last, lastChange = stored, time.Now()
				}
				time.Sleep(time.Millisecond)
			}
			took := time.Since(start)
			cpu := processCPU(b) - cpu0
			b.StopTimer()
			if s := pub.Stats(); s.Published != uint64(b.N) || s.Dropped+s.PublishErrors != 0 {
				b.Fatalf("stats %+v: want %d published, nothing lost", s, b.N)
			}
			b.ReportMetric(100*float64(stored)/float64(b.N), "%stored")
			b.ReportMetric(float64(stored)/took.Seconds(), "stored/s")
			// this process's CPU (the publisher and the NATS client; the
			// server is another process) per event
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "client-cpu-us/event")
		})
	}
}

// processCPU is the CPU time this process used so far (user and system).
func processCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/metrics"
	"github.com/vigil-sec/vigil/sensor"
)

// sensorFlags configure the sensor, standalone (vigil sensor) or in vigil run.
type sensorFlags struct {
	// backlogs, when set (vigil run's elastic processors), is given the
	// sensor's ring buffer and publisher queue backlogs once they run
	backlogs      *backlogs
	host          string
	ringBytes     int
	statsInterval time.Duration
	enable        []string
	disable       []string
	execEnv       string
	captureDir    string
	interest      interestFlags // which events: the engines' interest, or all (interest.go)
	bufferBytes   int
	queueLen      int
	spoolDir      string
	spoolBytes    int64
	noAcks        bool
	ackWindow     int
	inboxPrefix   string
	fullContext   bool
}

// natsOptions are the sensor connection's options: its reply subjects
// (JetStream acknowledgements) under a per-host inbox prefix, so that a
// permission layout can let the sensor of host H read only its own.
func (f *sensorFlags) natsOptions() []nats.Option {
	prefix := f.inboxPrefix
	if prefix == "" {
		prefix = "_INBOX." + event.Token(f.host)
	}
	// The publisher keeps events itself while NATS is unreachable; the
	// client's buffer only takes what races with a disconnection.
	return []nats.Option{nats.CustomInboxPrefix(prefix), nats.ReconnectBufSize(1 << 20)}
}

func (f *sensorFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.host, "host", hostname(), "host name events are labelled with (and the last token of their subject)")
	fs.IntVar(&f.ringBytes, "ring-buffer-bytes", 0, "size of the BPF ring buffer in bytes, a power of two (0: the sensor's default)")
	fs.StringSliceVar(&f.enable, "enable-events", nil, "turn on events that are off by default (comma separated names; vigil events marks them)")
	fs.StringSliceVar(&f.disable, "disable-events", nil, "turn off events (comma separated names)")
	fs.StringVar(&f.execEnv, "exec-env", sensor.ExecEnvSecurity, "environment variables exec events carry: security (LD_*, HISTFILE, GCONV_PATH, ... : what changes how programs load or log), all, or none")
	fs.StringVar(&f.captureDir, "capture-dir", "", "keep the image of every kernel module being loaded in DIR, named by its sha256, and report it as a module_image_captured event")
	f.interest.register(cmd)
	fs.IntVar(&f.bufferBytes, "buffer-bytes", 64<<20, "bytes of events kept in memory while NATS is unreachable (or until sent again after a missing acknowledgement), sent when it is back; beyond, they go to --spool-dir, or are dropped and counted per event")
	fs.BoolVar(&f.noAcks, "no-publish-acks", false, "publish events as core NATS messages only; by default, where a JetStream stream takes them (the engines' VIGIL_EVENTS), each is acknowledged and sent again, with the same message id, when its acknowledgement does not come (e.g. NATS died with it in flight)")
	fs.IntVar(&f.ackWindow, "publish-window", 8192, "the most events published and waiting for their JetStream acknowledgement")
	fs.StringVar(&f.inboxPrefix, "nats-inbox-prefix", "", "subject prefix of the sensor's reply inbox, where JetStream acknowledgements come (default _INBOX.<host>: a permission layout lets each sensor subscribe to its own)")
	fs.IntVar(&f.queueLen, "publish-queue", 16384, "events waiting to be handed to the NATS client; beyond, dropped and counted per event")
	fs.StringVar(&f.spoolDir, "spool-dir", "", "keep the events that do not fit --buffer-bytes while NATS is unreachable in a file in DIR (created 0700), sent in order when NATS is back, also after a restart (default: no spool)")
	fs.Int64Var(&f.spoolBytes, "spool-bytes", 1<<30, "the most bytes of events the spool holds; beyond, events are dropped and counted per event")
	fs.BoolVar(&f.fullContext, "full-context", false, "send every event with its full process context (ids, credentials, exe, argv, ancestry), each message standing alone; by default an event whose process context was sent before carries only its key (process.ctx), and the sensor answers requests for contexts on vigil.context.<host>")
	fs.DurationVar(&f.statsInterval, "publisher-stats-interval", 5*time.Minute, "log the event publisher's counters this often (0: only at exit); the sensor logs its own when they change")
}

func newSensorCmd(g *globalFlags) *cobra.Command {
	var nf natsFlags
	var metricsListen string
	f := &sensorFlags{}
	cmd := &cobra.Command{
		Use:   "sensor",
		Short: "Run the eBPF sensor and publish events on NATS (needs root)",
		Long: `sensor loads vigil's BPF programs, attaches for each event the best probe the
kernel accepts, and publishes every event as JSON on vigil.events.<event>.<host>.
While NATS is unreachable it keeps running, keeps events in memory (up to
--buffer-bytes, then --spool-dir) and sends them when it is back; events it
cannot keep are counted per event and reported. Where a JetStream stream takes
the events (the engines' VIGIL_EVENTS), each is acknowledged by the stream and
sent again, with the same message id, when its acknowledgement does not come.

An event's process context (ids, credentials, exe, argv, namespaces,
ancestry) is most of its bytes and the same for every event of a process: the
first routine event of a context carries it in full with its key
("process":{...,"ctx":"<key>"}), later ones only the thread and the key
("process":{"tid":..,"ctx":"<key>"}, host_tid too where it differs) and
leave out the probe (the same for every event of a kind: vigil events names
it); critical events always carry it in full. A context sent in full lists
only the ancestors before a context sent earlier and names that one
("ancestors":[...],"ancestors_ctx":"<key>": a sibling's or the parent's), as
its ancestry is the same. Consumers (vigil engine, vigil capture) put the contexts
back; one that missed a context asks the sensor for it on
vigil.context.<host> (the request's data is the key). --full-context sends
every event whole, as a self-contained JSON object.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			nc, err := nf.connect(log, "vigil-sensor", keepTrying, f.natsOptions()...)
			if err != nil {
				return err
			}
			defer nc.Close()
			return untilConnected(cmd.Context(), nc, nf.connectTimeout, func(ctx context.Context) error {
				reg, err := startMetrics(ctx, metricsListen, log)
				if err != nil {
					return err
				}
				return runSensor(ctx, log, nc, f, reg)
			})
		},
	}
	nf.register(cmd.Flags(), "nats", "NATS server to publish events to", false)
	f.register(cmd)
	registerMetricsFlag(cmd, &metricsListen)
	return cmd
}

// runSensor runs the sensor until ctx is done, publishing on nc (the caller's).
func runSensor(ctx context.Context, log zerolog.Logger, nc *nats.Conn, f *sensorFlags, reg *prometheus.Registry) error {
	slog := log.With().Str("component", "sensor").Logger()
	in, err := f.interest.initial(ctx, slog, nc)
	if err != nil {
		return err
	}
	s, err := sensor.New(sensor.Config{Host: f.host, Logger: slog, RingBufferBytes: f.ringBytes, Enable: f.enable, Disable: f.disable, ExecEnv: f.execEnv, CaptureDir: f.captureDir, Interest: in,
		// the events only go to the publisher, which encodes listed arguments
		LazyArgs: true})
	if err != nil {
		return fmt.Errorf("starting the sensor: %w", err)
	}
	defer s.Close()
	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	go f.interest.follow(followCtx, slog, nc, s, in)
	attached, failed := 0, 0
	for _, p := range s.Probes() {
		switch {
		case p.Disabled:
		case p.Probe == "":
			failed++
		default:
			attached++
		}
	}

	var spool *sensor.Spool
	if f.spoolDir != "" {
		if spool, err = sensor.OpenSpool(f.spoolDir, f.spoolBytes); err != nil {
			return fmt.Errorf("--spool-dir: %w", err)
		}
		if n := spool.Damaged(); n > 0 {
			slog.Warn().Int64("bytes", n).Str("dir", f.spoolDir).Msg("the spool ended in a damaged record (a crash while writing): it was cut off")
		}
		if n := spool.Pending(); n > 0 {
			slog.Info().Int64("bytes", n).Str("dir", f.spoolDir).Msg("events left in the spool by the last run: sending them once NATS is reachable")
		}
	}
	pub := sensor.NewPublisher(nc, sensor.PublisherOptions{Host: f.host, Logger: slog, QueueLen: f.queueLen, Spool: spool,
		BufferBytes: f.bufferBytes, NoAcks: f.noAcks, AckWindow: f.ackWindow, FullContext: f.fullContext})
	if reg != nil {
		metrics.NewSensor(reg, s, pub)
	}
	f.backlogs.add(s.RingBacklog)
	f.backlogs.add(pub.Backlog)
	runDone := make(chan error, 1)
	go func() { runDone <- s.RunLanes(ctx, pub.Publish, pub.PublishCritical) }()
	slog.Info().Str("host", f.host).Int("events_attached", attached).Int("events_unavailable", failed).Msg("sensor ready")
	// Loading the BPF objects parsed the kernel's BTF and the objects'
	// specs: tens of MiB of garbage that the collector frees but the
	// runtime keeps mapped for a while. Handing it back now takes the idle
	// RSS of vigil run from about 155 to about 115 MiB (issue 9: <= 150).
	debug.FreeOSMemory()

	var tick <-chan time.Time
	if f.statsInterval > 0 {
		t := time.NewTicker(f.statsInterval)
		defer t.Stop()
		tick = t.C
	}
	var runErr error
loop:
	for {
		select {
		case <-tick:
			ps := pub.Stats()
			ev := slog.Info()
			if ps.Dropped+ps.PublishErrors+ps.MarshalErrors > 0 {
				ev = slog.Warn()
			}
			ev.Uint64("published", ps.Published).Uint64("acked", ps.Acked).Uint64("retried", ps.Retried).Uint64("dropped", ps.Dropped).Uint64("publish_errors", ps.PublishErrors).
				Uint64("lean", ps.Lean).Uint64("bytes", ps.Bytes).Uint64("context_requests", ps.ContextRequests).Uint64("context_misses", ps.ContextMisses).
				Uint64("marshal_errors", ps.MarshalErrors).Interface("dropped_by_event", ps.DroppedByEvent).Msg("publisher counters")
		case runErr = <-runDone:
			break loop
		}
	}
	if errors.Is(runErr, context.Canceled) {
		runErr = nil
	}
	flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Close(flushCtx); err != nil {
		slog.Warn().Err(err).Msg("flushing events to NATS")
	}
	slog.Info().Interface("sensor", s.Stats()).Interface("publisher", pub.Stats()).Msg("sensor stopped")
	return runErr
}

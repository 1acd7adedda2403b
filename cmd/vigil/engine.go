package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/internal/metrics"
)

// registerMetricsFlag adds --metrics-listen.
func registerMetricsFlag(cmd *cobra.Command, addr *string) {
	cmd.Flags().StringVar(addr, "metrics-listen", "", "serve Prometheus metrics on http://ADDR/metrics, e.g. 127.0.0.1:9464 (default: off)")
}

// startMetrics serves a new registry on addr until ctx ends; nil, nil when
// addr is empty.
func startMetrics(ctx context.Context, addr string, log zerolog.Logger) (*prometheus.Registry, error) {
	if addr == "" {
		return nil, nil
	}
	reg := metrics.NewRegistry()
	if _, err := metrics.Serve(ctx, addr, reg, log); err != nil {
		return nil, err
	}
	return reg, nil
}

// engineFlags configure the engine, standalone (vigil engine) or in vigil run.
type engineFlags struct {
	rules         ruleFlags
	out           outputFlags
	workers       int
	queue         string
	noWatch       bool
	statsInterval time.Duration
	dedupe        time.Duration
	interest      *interestFeed // set by vigil run: the sensor in the process follows it
	durable       string
	ackWait       time.Duration
	maxInFlight   int
	stopTimeout   time.Duration
	memoryLimit   int64
	streams       engine.StreamOptions
	ctxTimeout    time.Duration
	ctxHistory    int
	contexts      int
}

func (f *engineFlags) register(cmd *cobra.Command) {
	f.rules.register(cmd)
	f.out.register(cmd)
	fs := cmd.Flags()
	fs.IntVar(&f.workers, "workers", 0, "events evaluated in parallel (default: the processors Go runs on: the number of CPUs, or --max-procs in vigil run)")
	fs.StringVar(&f.queue, "queue", engine.DefaultQueue, "NATS queue group: engines in the same group share the events")
	fs.BoolVar(&f.noWatch, "no-watch", false, "do not reload when files in the --rules folders change (SIGHUP still reloads)")
	fs.DurationVar(&f.statsInterval, "stats-interval", 5*time.Minute, "log the engine's counters this often (0: only at exit)")
	fs.StringVar(&f.durable, "durable", string(engine.JetStreamAuto), "consume events from JetStream: auto (when the server has it), on (required), off (core NATS, at most once)")
	fs.DurationVar(&f.ackWait, "ack-wait", 30*time.Second, "with JetStream: an event not acknowledged within this long goes to another engine")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 1024, "with JetStream: events taken and not yet acknowledged, for the whole engine group (flow control)")
	fs.DurationVar(&f.stopTimeout, "stop-timeout", 10*time.Second, "on SIGTERM, finish the events in hand within this long; the rest stays unacknowledged (JetStream) or is counted as dropped (core NATS)")
	// The Go runtime's limit: the process's RSS adds what is not Go's
	// (the ring buffers' mappings, the NATS server's file store pages), so
	// vigil run's stays under 300 MB at 224 MiB; at 300 MiB a host running
	// tens of thousands of processes took it to 333 MiB.
	fs.Int64Var(&f.memoryLimit, "memory-limit-mib", engine.MemoryLimit>>20, "soft memory limit of the process in MiB (Go runtime; 0: none); queues are bounded besides")
	fs.DurationVar(&f.streams.EventsMaxAge, "events-max-age", 24*time.Hour, "how long the VIGIL_EVENTS stream keeps events")
	fs.Int64Var(&f.streams.EventsMaxBytes, "events-max-bytes", 1<<30, "size limit of the VIGIL_EVENTS stream (oldest dropped beyond)")
	fs.StringVar(&f.streams.EventsRetention, "events-retention", "limits", "retention of VIGIL_EVENTS: limits (age and size) or workqueue (removed once acknowledged)")
	fs.StringVar(&f.streams.EventsPersist, "events-persist", "sync", "how VIGIL_EVENTS writes events when it is created: sync (to the file before the sensor's publish is acknowledged) or async (acknowledged at once, written within milliseconds in batches; a crash of the server can lose the last few)")
	fs.DurationVar(&f.streams.FindingsMaxAge, "findings-max-age", 30*24*time.Hour, "how long the VIGIL_FINDINGS stream keeps findings")
	fs.Int64Var(&f.streams.FindingsMaxBytes, "findings-max-bytes", 1<<30, "size limit of the VIGIL_FINDINGS stream")
	fs.DurationVar(&f.ctxTimeout, "context-timeout", engine.DefaultContextTimeout, "lean events: how long to wait for a sensor's answer when asked for a process context the engine has not seen (an event left unresolved is counted, not evaluated)")
	fs.IntVar(&f.ctxHistory, "context-history", engine.DefaultContextHistory, "lean events from JetStream: how many of a host's earlier events to read back for a context neither the engine nor the sensor has (both restarted); -1: none")
	fs.IntVar(&f.contexts, "contexts", engine.DefaultContexts, "lean events: process contexts the engine keeps (about twice this; the ones in use stay)")
	fs.DurationVar(&f.dedupe, "dedupe", 10*time.Second, "drop a finding identical to one reported less than this long ago (same signature, process and fields; counted as suppressed), e.g. one per thread of a multi-threaded setuid(0); 0 keeps every finding")
}

func newEngineCmd(g *globalFlags) *cobra.Command {
	var nf natsFlags
	var metricsListen string
	f := &engineFlags{}
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Evaluate signatures on the events from NATS and publish the findings",
		Long: `engine consumes vigil.events.> as one of the engine group vigil-engine (engines
share the work). When the NATS server has JetStream, it declares the streams
VIGIL_EVENTS and VIGIL_FINDINGS and reads events through the group's durable
consumer: an event is acknowledged only once its findings are stored, so an
engine that dies loses nothing (another, or the restarted one, takes the event
again; findings carry a stable id and are stored once). Without JetStream it
subscribes with core NATS (at most once; losses are counted). It evaluates the signatures that select each event, publishes
every finding as JSON on vigil.findings.<signature-id>.<host> and prints it.

Sensors send a process's context (ids, credentials, exe, argv, ancestry) in
full once and refer to it by key after ("lean" events). The engine keeps the
contexts it has seen and rebuilds each lean event in full before evaluating
it, so signatures and findings see the whole process. A context it has not
seen is asked of the event's sensor on vigil.context.<host>; failing that
(the sensor restarted too), events from JetStream look for it among the
host's events stored before them (--context-history of them, read once). A
lean event that cannot be resolved is not evaluated, and is counted per
event ("unresolved" in the counters logged, vigil_engine_unresolved_total).

It reloads the signatures when files in the --rules folders change and on
SIGHUP; a set that does not compile is reported and the previous one stays.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			nc, err := nf.connect(log, "vigil-engine", keepTrying)
			if err != nil {
				return err
			}
			defer nc.Close()
			return untilConnected(cmd.Context(), nc, nf.connectTimeout, func(ctx context.Context) error {
				reg, err := startMetrics(ctx, metricsListen, log)
				if err != nil {
					return err
				}
				return runEngine(ctx, log, nc, f, cmd.OutOrStdout(), reg)
			})
		},
	}
	nf.register(cmd.Flags(), "nats", "NATS server to read events from and publish findings to", false)
	f.register(cmd)
	registerMetricsFlag(cmd, &metricsListen)
	return cmd
}

// runEngine serves until ctx is done; nc is the caller's.
func runEngine(ctx context.Context, log zerolog.Logger, nc *nats.Conn, f *engineFlags, stdout io.Writer, reg *prometheus.Registry) error {
	switch engine.JetStreamMode(f.durable) {
	case engine.JetStreamAuto, engine.JetStreamOn, engine.JetStreamOff:
	default:
		return fmt.Errorf("--durable %q: want auto, on or off", f.durable)
	}
	if _, err := f.streams.StreamConfigs(); err != nil {
		return fmt.Errorf("--events-retention/--events-persist: %w", err)
	}
	if f.memoryLimit > 0 {
		debug.SetMemoryLimit(f.memoryLimit << 20)
	}
	set, err := f.rules.load()
	if err != nil {
		return err
	}
	elog := log.With().Str("component", "engine").Logger()
	eng, err := engine.New(set, engine.Options{Logger: elog, Dedupe: f.dedupe})
	if err != nil {
		return fmt.Errorf("starting the engine: %w", err)
	}
	out, err := f.out.open(stdout)
	if err != nil {
		return err
	}
	defer out.Close()

	opts := engine.ServeOptions{
		Queue:       f.queue,
		Workers:     f.workers,
		Output:      out,
		Logger:      elog,
		JetStream:   engine.JetStreamMode(f.durable),
		Streams:     f.streams,
		AckWait:     f.ackWait,
		MaxInFlight: f.maxInFlight,
		StopTimeout: f.stopTimeout,

		ContextTimeout: f.ctxTimeout,
		ContextHistory: f.ctxHistory,
		Contexts:       f.contexts,
	}
	var em *metrics.Engine
	if reg != nil {
		em = metrics.NewEngine(reg, eng)
		opts.Observe = em.Observe
	}
	srv := engine.NewServer(nc, eng, opts)
	if em != nil {
		em.SetServer(srv)
	}
	var watch []string
	if !f.noWatch {
		watch = f.rules.dirs
	}
	reloader := engine.NewReloader(eng, engine.ReloadOptions{
		Load:   f.rules.load,
		Paths:  watch,
		Logger: elog,
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go publishInterest(ctx, elog, nc, eng, f.queue, f.interest)
	reloadDone := make(chan error, 1)
	go func() { reloadDone <- reloader.Run(ctx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Run(ctx) }()

	select {
	case <-srv.Ready():
		elog.Info().Int("signatures", len(set.Signatures())).Strs("events", set.Events()).Msg("engine ready")
	case err := <-serveDone:
		return err
	}

	var tick <-chan time.Time
	if f.statsInterval > 0 {
		t := time.NewTicker(f.statsInterval)
		defer t.Stop()
		tick = t.C
	}
	var serveErr error
loop:
	for {
		select {
		case <-tick:
			logEngineStats(elog.Info(), srv, eng).Msg("engine counters")
		case err := <-reloadDone:
			if err != nil {
				elog.Error().Err(err).Msg("rule watcher stopped; SIGHUP and file changes no longer reload")
			}
			reloadDone = nil
		case serveErr = <-serveDone:
			break loop
		}
	}
	cancel()
	if nc.IsConnected() {
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			elog.Warn().Err(err).Msg("flushing findings to NATS")
		}
	}
	logEngineStats(elog.Info(), srv, eng).Msg("engine stopped")
	return serveErr
}

func logEngineStats(ev *zerolog.Event, srv *engine.Server, eng *engine.Engine) *zerolog.Event {
	s := srv.Stats()
	return ev.Bool("jetstream", s.JetStream).Uint64("received", s.Received).Uint64("bad_messages", s.BadMessages).
		Uint64("refused", s.Refused).Uint64("evaluated", s.Evaluated).Uint64("findings", s.Findings).
		Uint64("publish_errors", s.PublishErrors).Uint64("output_errors", s.OutputErrors).
		Uint64("dropped", s.Dropped).Uint64("redelivered", s.Redelivered).Uint64("retried", s.Retried).
		Uint64("handed_back", s.HandedBack).Uint64("consumer_pending", s.Pending).
		Uint64("resolved", s.Resolved).Uint64("context_requests", s.ContextRequests).Uint64("context_answers", s.ContextAnswers).Uint64("context_events_read_back", s.ContextEventsReadBack).
		Int("contexts", s.Contexts).Uint64("unresolved", s.Unresolved).Interface("unresolved_by_event", s.UnresolvedByEvent).
		Interface("engine", eng.Stats())
}

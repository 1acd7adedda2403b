package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
)

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
}

func (f *engineFlags) register(cmd *cobra.Command) {
	f.rules.register(cmd)
	f.out.register(cmd)
	fs := cmd.Flags()
	fs.IntVar(&f.workers, "workers", 0, "events evaluated in parallel (default: number of CPUs)")
	fs.StringVar(&f.queue, "queue", engine.DefaultQueue, "NATS queue group: engines in the same group share the events")
	fs.BoolVar(&f.noWatch, "no-watch", false, "do not reload when files in the --rules folders change (SIGHUP still reloads)")
	fs.DurationVar(&f.statsInterval, "stats-interval", 5*time.Minute, "log the engine's counters this often (0: only at exit)")
	fs.DurationVar(&f.dedupe, "dedupe", 10*time.Second, "drop a finding identical to one reported less than this long ago (same signature, process and fields; counted as suppressed), e.g. one per thread of a multi-threaded setuid(0); 0 keeps every finding")
}

func newEngineCmd(g *globalFlags) *cobra.Command {
	var nf natsFlags
	f := &engineFlags{}
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Evaluate signatures on the events from NATS and publish the findings",
		Long: `engine subscribes to vigil.events.> in the queue group vigil-engine (engines
share the work), evaluates the signatures that select each event, publishes
every finding as JSON on vigil.findings.<signature-id>.<host> and prints it.

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
			return runEngine(cmd.Context(), log, nc, f, cmd.OutOrStdout())
		},
	}
	nf.register(cmd.Flags(), "nats", "NATS server to read events from and publish findings to", false)
	f.register(cmd)
	return cmd
}

// runEngine serves until ctx is done; nc is the caller's.
func runEngine(ctx context.Context, log zerolog.Logger, nc *nats.Conn, f *engineFlags, stdout io.Writer) error {
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

	srv := engine.NewServer(nc, eng, engine.ServeOptions{
		Queue:   f.queue,
		Workers: f.workers,
		Output:  out,
		Logger:  elog,
	})
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
	return ev.Uint64("received", s.Received).Uint64("bad_messages", s.BadMessages).
		Uint64("evaluated", s.Evaluated).Uint64("findings", s.Findings).
		Uint64("publish_errors", s.PublishErrors).Uint64("output_errors", s.OutputErrors).
		Uint64("dropped", s.Dropped).Interface("engine", eng.Stats())
}

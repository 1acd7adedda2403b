package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"
)

type runFlags struct {
	embedded embeddedConfig
	sensor   sensorFlags
	engine   engineFlags
	noSensor bool
	metrics  string
	maxProcs int
}

func newRunCmd(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run everything in one process: NATS server, sensor and engine (needs root)",
		Long: `run starts an embedded NATS server (on 127.0.0.1:4222 by default), the eBPF
sensor publishing events to it, and the engine evaluating them; findings are
printed and published on vigil.findings.<signature-id>.<host>, where any NATS
client can read them:

    nats sub --nkey /var/lib/vigil/nats/reader.nk 'vigil.findings.>'

The server requires credentials: on first start vigil creates nkey seeds in
<state-dir>/nats (mode 0600): vigil.nk for its own connections (and sensors
or engines on this host), reader.nk for clients that only read findings.
Anonymous clients are refused. With --nats-config the file's authorization
rules apply and vigil's own connections use --nats-user/--nats-password,
--nats-token, --nats-nkey or --nats-creds.

JetStream is on, with its store in <state-dir>/jetstream: events and findings
are kept in the streams VIGIL_EVENTS and VIGIL_FINDINGS, and the engine
acknowledges an event only once its findings are stored, so a crash or a
restart loses nothing. Ctrl-C or SIGTERM stops it cleanly.

Its Go code runs on one processor while one is enough and on every CPU when
it is not (a flood): one processor costs less CPU per event at a host's usual
rates (the hand-offs between its parts stay in one thread), but alone it
caps what a flood can get through, and what vigil cannot take is dropped
(counted). --max-procs N (or $GOMAXPROCS) fixes the number instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			// By default the processors follow the load (procs.go): one
			// while one is enough, every CPU in a flood. --max-procs N
			// fixes them; $GOMAXPROCS, when set, wins over the default.
			elastic := false
			if cmd.Flags().Changed("max-procs") || os.Getenv("GOMAXPROCS") == "" {
				if f.maxProcs > 0 {
					runtime.GOMAXPROCS(f.maxProcs)
				} else {
					runtime.GOMAXPROCS(runtime.NumCPU())
					elastic = true
				}
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()

			srv, err := startEmbedded(f.embedded, log)
			if err != nil {
				return err
			}
			defer func() {
				srv.Shutdown()
				srv.WaitForShutdown()
				log.Info().Msg("embedded NATS server stopped")
			}()
			ready := log.Info().Str("url", srv.ClientURL()).Bool("jetstream", !f.embedded.noJetStream).Int("max_procs", runtime.GOMAXPROCS(0))
			if srv.readerKey != "" {
				ready = ready.Str("read_findings", fmt.Sprintf("nats sub --server %s --nkey %s 'vigil.findings.>'", srv.ClientURL(), srv.readerKey))
			}
			ready.Msg("embedded NATS server ready")
			reg, err := startMetrics(ctx, f.metrics, log)
			if err != nil {
				return err
			}

			engineNC, err := srv.connect(log, "vigil-engine")
			if err != nil {
				return err
			}
			defer engineNC.Close()

			if !f.noSensor && f.sensor.interest.events != "all" {
				f.engine.interest = newInterestFeed()
				f.sensor.interest.local = f.engine.interest
			}
			if elastic {
				f.sensor.backlogs = &backlogs{}
				go runElasticProcs(ctx, log, f.sensor.backlogs)
			}
			errs := make(chan error, 2)
			running := 1
			go func() { errs <- wrapErr("engine", runEngine(ctx, log, engineNC, &f.engine, cmd.OutOrStdout(), reg)) }()
			if !f.noSensor {
				sensorNC, err := srv.connect(log, "vigil-sensor", f.sensor.natsOptions()...)
				if err != nil {
					return err
				}
				defer sensorNC.Close()
				running++
				go func() { errs <- wrapErr("sensor", runSensor(ctx, log, sensorNC, &f.sensor, reg)) }()
			}

			// The first part to stop (Ctrl-C, or a failure) stops the others.
			var all []error
			for ; running > 0; running-- {
				err := <-errs
				if err != nil {
					log.Error().Err(err).Msg("stopping")
					all = append(all, err)
				}
				cancel()
			}
			return errors.Join(all...)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.embedded.listen, "nats-listen", "127.0.0.1:4222", "address the embedded NATS server listens on")
	fs.StringVar(&f.embedded.configFile, "nats-config", "", "nats-server configuration file for the embedded server (TLS, accounts, ...); overrides --nats-listen")
	fs.StringVar(&f.embedded.stateDir, "state-dir", "/var/lib/vigil", "folder for vigil's state: the JetStream store and the NATS credentials")
	fs.StringVar(&f.embedded.jetStream, "jetstream", "", "JetStream store folder (default <state-dir>/jetstream)")
	fs.BoolVar(&f.embedded.noJetStream, "no-jetstream", false, "run the embedded server without JetStream (events are not kept; losses are counted)")
	f.embedded.creds.registerCredentials(fs)
	registerMetricsFlag(cmd, &f.metrics)
	fs.IntVar(&f.maxProcs, "max-procs", 0, "processors vigil's Go code runs on at once (GOMAXPROCS; 0: one while its CPU use stays below most of one CPU, every CPU above that; $GOMAXPROCS wins unless this is given)")
	fs.BoolVar(&f.noSensor, "no-sensor", false, "run without the sensor (engine and NATS only; events come from other sensors or replay --publish-events)")
	f.sensor.register(cmd)
	f.engine.register(cmd)
	return cmd
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

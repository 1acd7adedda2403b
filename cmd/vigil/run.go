package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
)

type runFlags struct {
	embedded embeddedConfig
	sensor   sensorFlags
	engine   engineFlags
	noSensor bool
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

    nats sub 'vigil.findings.>'

Ctrl-C or SIGTERM stops it cleanly. With --jetstream DIR, events and findings
are also kept in JetStream streams (VIGIL_EVENTS, VIGIL_FINDINGS) under DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
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
			log.Info().Str("url", srv.ClientURL()).Bool("jetstream", f.embedded.jetStream != "").Msg("embedded NATS server ready")

			connect := func(name string) (*nats.Conn, error) {
				opts := append(commonOptions(log, name), nats.InProcessServer(srv))
				nc, err := nats.Connect(srv.ClientURL(), opts...)
				if err != nil {
					return nil, fmt.Errorf("connecting to the embedded NATS server: %w", err)
				}
				return nc, nil
			}
			engineNC, err := connect("vigil-engine")
			if err != nil {
				return err
			}
			defer engineNC.Close()
			if f.embedded.jetStream != "" {
				if err := declareStreams(ctx, engineNC, f.embedded); err != nil {
					return err
				}
			}

			if !f.noSensor && f.sensor.interest.events != "all" {
				f.engine.interest = newInterestFeed()
				f.sensor.interest.local = f.engine.interest
			}
			errs := make(chan error, 2)
			running := 1
			go func() { errs <- wrapErr("engine", runEngine(ctx, log, engineNC, &f.engine, cmd.OutOrStdout())) }()
			if !f.noSensor {
				sensorNC, err := connect("vigil-sensor")
				if err != nil {
					return err
				}
				defer sensorNC.Close()
				running++
				go func() { errs <- wrapErr("sensor", runSensor(ctx, log, sensorNC, &f.sensor)) }()
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
	fs.StringVar(&f.embedded.jetStream, "jetstream", "", "enable JetStream with its store in this folder, keeping events and findings in streams")
	fs.DurationVar(&f.embedded.eventsAge, "jetstream-events-age", 24*time.Hour, "how long JetStream keeps events")
	fs.DurationVar(&f.embedded.findingAge, "jetstream-findings-age", 30*24*time.Hour, "how long JetStream keeps findings")
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

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/vigil-sec/vigil/event"
)

// embeddedConfig configures the NATS server vigil run embeds.
type embeddedConfig struct {
	listen     string // host:port
	configFile string // a nats-server configuration file; overrides listen
	jetStream  string // JetStream store directory; empty: no JetStream
	eventsAge  time.Duration
	findingAge time.Duration
}

// Stream names vigil declares when JetStream is on.
const (
	eventsStream   = "VIGIL_EVENTS"
	findingsStream = "VIGIL_FINDINGS"
)

// startEmbedded starts an in-process NATS server and waits until it accepts
// connections.
func startEmbedded(cfg embeddedConfig, log zerolog.Logger) (*server.Server, error) {
	var opts *server.Options
	if cfg.configFile != "" {
		o, err := server.ProcessConfigFile(cfg.configFile)
		if err != nil {
			return nil, fmt.Errorf("reading NATS configuration %s: %w", cfg.configFile, err)
		}
		opts = o
	} else {
		host, portStr, err := net.SplitHostPort(cfg.listen)
		if err != nil {
			return nil, fmt.Errorf("--nats-listen %q: %w", cfg.listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < -1 || port > 65535 {
			return nil, fmt.Errorf("--nats-listen %q: bad port", cfg.listen)
		}
		opts = &server.Options{Host: host, Port: port}
	}
	opts.ServerName = "vigil-" + event.Token(hostname())
	opts.NoSigs = true // vigil handles signals itself
	if cfg.jetStream != "" {
		opts.JetStream = true
		opts.StoreDir = cfg.jetStream
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("creating the embedded NATS server: %w", err)
	}
	nl := &natsLogger{log: log.With().Str("component", "nats-server").Logger()}
	srv.SetLoggerV2(nl, false, false, false)
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		if msg := nl.fatalMessage(); msg != "" {
			srv.Shutdown()
			return nil, fmt.Errorf("starting the embedded NATS server: %s", msg)
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			return nil, errors.New("the embedded NATS server did not become ready within 10s")
		}
	}
	return srv, nil
}

// declareStreams creates or updates vigil's JetStream streams. It is
// idempotent, so every start may call it.
func declareStreams(ctx context.Context, nc *nats.Conn, cfg embeddedConfig) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("opening JetStream: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, sc := range []jetstream.StreamConfig{
		{Name: eventsStream, Subjects: []string{event.AllEvents}, MaxAge: cfg.eventsAge, Storage: jetstream.FileStorage, Discard: jetstream.DiscardOld},
		{Name: findingsStream, Subjects: []string{event.AllFindings}, MaxAge: cfg.findingAge, Storage: jetstream.FileStorage, Discard: jetstream.DiscardOld},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("declaring JetStream stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// natsLogger sends the embedded server's logs to zerolog. A fatal message
// (the server cannot listen, ...) is kept for startEmbedded to report rather
// than ending the process as the server's own logger would.
type natsLogger struct {
	log   zerolog.Logger
	mu    sync.Mutex
	fatal string
}

func (l *natsLogger) fatalMessage() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug().Msgf(format, v...) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn().Msgf(format, v...) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log.Error().Msgf(format, v...) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log.Debug().Msgf(format, v...) }
func (l *natsLogger) Tracef(format string, v ...any)  { l.log.Trace().Msgf(format, v...) }
func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error().Msg(msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatal == "" {
		l.fatal = msg
	}
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
)

// embeddedConfig configures the NATS server vigil run embeds.
type embeddedConfig struct {
	listen      string // host:port
	configFile  string // a nats-server configuration file; overrides listen
	stateDir    string // where vigil keeps its state: JetStream store, credentials
	jetStream   string // JetStream store directory (default <stateDir>/jetstream)
	noJetStream bool
	// creds are the credentials vigil's own connections use with a
	// --nats-config that requires authentication.
	creds natsFlags
}

// embeddedServer is the running server and what vigil's own connections
// need to connect to it.
type embeddedServer struct {
	*server.Server
	clientOpts []nats.Option
	// readerKey is the nkey seed file allowed to read findings (empty with
	// --nats-config).
	readerKey string
}

// startEmbedded starts an in-process NATS server and waits until it accepts
// connections. Without --nats-config it requires authentication: vigil's own
// connections use the nkey in <state>/nats/vigil.nk, and readers of findings
// the one in reader.nk; both are created on first start.
func startEmbedded(cfg embeddedConfig, log zerolog.Logger) (*embeddedServer, error) {
	var opts *server.Options
	es := &embeddedServer{}
	if cfg.configFile != "" {
		o, err := server.ProcessConfigFile(cfg.configFile)
		if err != nil {
			return nil, fmt.Errorf("reading NATS configuration %s: %w", cfg.configFile, err)
		}
		opts = o
		copts, err := cfg.creds.options()
		if err != nil {
			return nil, err
		}
		es.clientOpts = copts
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
		keys, err := ensureCredentials(filepath.Join(cfg.stateDir, "nats"), log)
		if err != nil {
			return nil, err
		}
		opts.Nkeys = []*server.NkeyUser{
			{Nkey: keys.vigilPub},
			{Nkey: keys.readerPub, Permissions: findingsReaderPermissions()},
		}
		o, err := nats.NkeyOptionFromSeed(keys.vigilSeed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keys.vigilSeed, err)
		}
		es.clientOpts = []nats.Option{o}
		es.readerKey = keys.readerSeed
	}
	opts.ServerName = "vigil-" + event.Token(hostname())
	opts.NoSigs = true // vigil handles signals itself
	if !cfg.noJetStream {
		opts.JetStream = true
		switch {
		case cfg.jetStream != "":
			opts.StoreDir = cfg.jetStream
		case opts.StoreDir == "":
			opts.StoreDir = filepath.Join(cfg.stateDir, "jetstream")
		}
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
	es.Server = srv
	return es, nil
}

// connect opens one of vigil's own connections to the server, in process
// (no socket: nats.InProcessServer).
func (es *embeddedServer) connect(log zerolog.Logger, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append(commonOptions(log, name), nats.InProcessServer(es.Server))
	opts = append(opts, es.clientOpts...)
	opts = append(opts, extra...)
	nc, err := nats.Connect(es.ClientURL(), opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the embedded NATS server: %w", err)
	}
	return nc, nil
}

// findingsReaderPermissions lets a client read findings, with core NATS or
// a JetStream consumer on VIGIL_FINDINGS, and nothing else.
func findingsReaderPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO." + engine.FindingsStream,
			"$JS.API.STREAM.MSG.GET." + engine.FindingsStream,
			"$JS.API.DIRECT.GET." + engine.FindingsStream + ".>",
			"$JS.API.CONSUMER.CREATE." + engine.FindingsStream,
			"$JS.API.CONSUMER.CREATE." + engine.FindingsStream + ".>",
			"$JS.API.CONSUMER.DURABLE.CREATE." + engine.FindingsStream + ".>",
			"$JS.API.CONSUMER.INFO." + engine.FindingsStream + ".>",
			"$JS.API.CONSUMER.DELETE." + engine.FindingsStream + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + engine.FindingsStream + ".>",
			"$JS.ACK." + engine.FindingsStream + ".>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{event.AllFindings, "_INBOX.>"}},
	}
}

// embeddedKeys are the nkeys of the embedded server's two users.
type embeddedKeys struct {
	vigilSeed, readerSeed string // seed files
	vigilPub, readerPub   string // public keys
}

// ensureCredentials loads the nkey seed files in dir, creating them (0600)
// on first start.
func ensureCredentials(dir string, log zerolog.Logger) (embeddedKeys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return embeddedKeys{}, fmt.Errorf("creating the credentials folder: %w", err)
	}
	k := embeddedKeys{vigilSeed: filepath.Join(dir, "vigil.nk"), readerSeed: filepath.Join(dir, "reader.nk")}
	var err error
	if k.vigilPub, err = loadOrCreateSeed(k.vigilSeed, log); err != nil {
		return k, err
	}
	if k.readerPub, err = loadOrCreateSeed(k.readerSeed, log); err != nil {
		return k, err
	}
	return k, nil
}

func loadOrCreateSeed(path string, log zerolog.Logger) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", fmt.Errorf("creating an nkey: %w", err)
		}
		seed, _ := kp.Seed()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("creating %s: %w", path, err)
		}
		_, werr := f.Write(append(seed, '\n'))
		if err := errors.Join(werr, f.Close()); err != nil {
			return "", fmt.Errorf("writing %s: %w", path, err)
		}
		log.Info().Str("file", path).Msg("created NATS credentials (nkey seed, mode 0600)")
		data = seed
	} else if err != nil {
		return "", fmt.Errorf("reading NATS credentials: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: mode %v lets others read the credentials; chmod 600 it", path, fi.Mode().Perm())
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(data))
	if err != nil {
		return "", fmt.Errorf("%s: not an nkey seed: %w", path, err)
	}
	return kp.PublicKey()
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

package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
)

// defaultNATSURL is where clients connect when neither --nats nor $NATS_URL says otherwise.
const defaultNATSURL = "nats://127.0.0.1:4222"

// natsFlags are the connection options every NATS client subcommand takes.
type natsFlags struct {
	url      string
	creds    string
	nkey     string
	user     string
	password string
	token    string
	tlsCA    string
	tlsCert  string
	tlsKey   string
}

// register adds the connection flags; the URL flag is called flagName. With
// optional set, the URL defaults to empty (no connection) rather than to
// $NATS_URL or the local server.
func (f *natsFlags) register(fs *pflag.FlagSet, flagName, usage string, optional bool) {
	def := ""
	if !optional {
		def = os.Getenv("NATS_URL")
		if def == "" {
			def = defaultNATSURL
		}
		usage += " (default $NATS_URL or " + defaultNATSURL + ")"
	}
	fs.StringVar(&f.url, flagName, def, usage+"; a comma-separated list of servers; user:password@host works")
	fs.StringVar(&f.creds, "nats-creds", "", "NATS user credentials file (JWT + nkey seed)")
	fs.StringVar(&f.nkey, "nats-nkey", "", "NATS nkey seed file")
	fs.StringVar(&f.user, "nats-user", "", "NATS user name")
	fs.StringVar(&f.password, "nats-password", "", "NATS password (default $NATS_PASSWORD)")
	fs.StringVar(&f.token, "nats-token", "", "NATS authentication token (default $NATS_TOKEN)")
	fs.StringVar(&f.tlsCA, "nats-tls-ca", "", "CA certificate file to verify the NATS server with")
	fs.StringVar(&f.tlsCert, "nats-tls-cert", "", "client certificate file for NATS TLS authentication")
	fs.StringVar(&f.tlsKey, "nats-tls-key", "", "client key file for NATS TLS authentication")
}

// options turns the flags into nats.go options; it checks the files exist so a
// typo is reported before the first connection attempt.
func (f *natsFlags) options() ([]nats.Option, error) {
	var opts []nats.Option
	if f.creds != "" && f.nkey != "" {
		return nil, errors.New("--nats-creds and --nats-nkey are exclusive")
	}
	for _, file := range []struct{ flag, path string }{
		{"--nats-creds", f.creds}, {"--nats-nkey", f.nkey}, {"--nats-tls-ca", f.tlsCA},
		{"--nats-tls-cert", f.tlsCert}, {"--nats-tls-key", f.tlsKey},
	} {
		if file.path == "" {
			continue
		}
		if _, err := os.Stat(file.path); err != nil {
			return nil, fmt.Errorf("%s: %w", file.flag, err)
		}
	}
	if f.creds != "" {
		opts = append(opts, nats.UserCredentials(f.creds))
	}
	if f.nkey != "" {
		o, err := nats.NkeyOptionFromSeed(f.nkey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey %s: %w", f.nkey, err)
		}
		opts = append(opts, o)
	}
	password := f.password
	if password == "" {
		password = os.Getenv("NATS_PASSWORD")
	}
	if f.user != "" {
		opts = append(opts, nats.UserInfo(f.user, password))
	} else if f.password != "" {
		return nil, errors.New("--nats-password needs --nats-user")
	}
	token := f.token
	if token == "" {
		token = os.Getenv("NATS_TOKEN")
	}
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	if f.tlsCA != "" {
		opts = append(opts, nats.RootCAs(f.tlsCA))
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("--nats-tls-cert and --nats-tls-key go together")
	}
	if f.tlsCert != "" {
		opts = append(opts, nats.ClientCert(f.tlsCert, f.tlsKey))
	}
	return opts, nil
}

// connectMode says what to do when the first connection attempt fails.
type connectMode int

const (
	// failFast returns the error: for one-shot commands (capture, replay --publish).
	failFast connectMode = iota
	// keepTrying connects in the background with backoff: for daemons (sensor,
	// engine) that must start even while NATS is down.
	keepTrying
)

// connect opens a NATS connection that reconnects forever with backoff and
// logs disconnections, reconnections and asynchronous errors.
func (f *natsFlags) connect(log zerolog.Logger, name string, mode connectMode, extra ...nats.Option) (*nats.Conn, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, commonOptions(log, name)...)
	opts = append(opts, extra...)
	if mode == keepTrying {
		opts = append(opts, nats.RetryOnFailedConnect(true))
	}
	url := strings.ReplaceAll(f.url, " ", "")
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s: %w", redactURL(url), err)
	}
	// The connect handler logs the connection.
	if !nc.IsConnected() {
		log.Warn().Str("url", redactURL(url)).Msg("NATS not reachable yet; retrying in the background")
	}
	return nc, nil
}

// commonOptions are the reconnect and logging options every vigil connection uses.
func commonOptions(log zerolog.Logger, name string) []nats.Option {
	log = log.With().Str("conn", name).Logger()
	return []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		// Keep publishing while disconnected: nats.go buffers up to this much
		// and returns an error (counted by the publishers) beyond it.
		nats.ReconnectBufSize(64 << 20),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			// err is nil when vigil closes the connection itself.
			if err != nil {
				log.Warn().Err(err).Msg("disconnected from NATS; reconnecting")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info().Str("url", nc.ConnectedUrlRedacted()).Uint64("reconnects", nc.Stats().Reconnects).Msg("reconnected to NATS")
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("connected to NATS")
		}),
		nats.ReconnectErrHandler(func(nc *nats.Conn, err error) {
			log.Debug().Err(err).Msg("NATS reconnect attempt failed")
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			ev := log.Error().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
				if n, derr := sub.Dropped(); derr == nil {
					ev = ev.Int("dropped", n)
				}
			}
			ev.Msg("NATS error")
		}),
	}
}

// reconnectDelay backs off exponentially from 250ms to 10s, with jitter so
// many sensors do not reconnect in lock step.
func reconnectDelay(attempts int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < attempts && d < 10*time.Second; i++ {
		d *= 2
	}
	d = min(d, 10*time.Second)
	return d + rand.N(d/4+1)
}

// redactURL hides passwords in a (list of) NATS URL(s) for logs and errors.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, u := range parts {
		scheme, rest, ok := strings.Cut(u, "://")
		if !ok {
			rest, scheme = u, ""
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			continue
		}
		// user:password keeps the user; a lone token is hidden whole.
		red := "xxxxx@" + rest[at+1:]
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			red = user + ":" + red
		}
		if scheme != "" {
			red = scheme + "://" + red
		}
		parts[i] = red
	}
	return strings.Join(parts, ",")
}

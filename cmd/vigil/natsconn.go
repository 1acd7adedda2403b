package main

import (
	"context"
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
	// connectTimeout bounds how long a daemon waits for its first
	// connection before it gives up (0: forever).
	connectTimeout time.Duration
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
	if !optional {
		fs.DurationVar(&f.connectTimeout, "nats-connect-timeout", 2*time.Minute, "give up (exit with an error) when no connection to NATS succeeded within this long, e.g. wrong credentials (0: keep trying)")
	}
}

// registerCredentials adds only the credential flags (for vigil run, whose
// own connections need them when --nats-config requires authentication).
func (f *natsFlags) registerCredentials(fs *pflag.FlagSet) {
	fs.StringVar(&f.creds, "nats-creds", "", "with --nats-config: credentials file (JWT + nkey seed) vigil's own connections use")
	fs.StringVar(&f.nkey, "nats-nkey", "", "with --nats-config: nkey seed file vigil's own connections use")
	fs.StringVar(&f.user, "nats-user", "", "with --nats-config: user name vigil's own connections use")
	fs.StringVar(&f.password, "nats-password", "", "with --nats-config: password of --nats-user (default $NATS_PASSWORD)")
	fs.StringVar(&f.token, "nats-token", "", "with --nats-config: token vigil's own connections use (default $NATS_TOKEN)")
}

// errNeverConnected is returned when a daemon's first connection did not
// succeed within --nats-connect-timeout.
var errNeverConnected = errors.New("no connection to NATS")

// waitConnected returns nil once nc is connected, or an error when it was
// closed first (nats.go gives up on repeated authorization errors) or d
// passed (d <= 0: no limit). It returns nil when ctx ends.
func waitConnected(ctx context.Context, nc *nats.Conn, d time.Duration) error {
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if nc.IsConnected() {
			return nil
		}
		if nc.IsClosed() {
			return fmt.Errorf("%w: %v", errNeverConnected, nc.LastError())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return fmt.Errorf("%w within %s (--nats-connect-timeout): %v", errNeverConnected, d, nc.LastError())
		case <-tick.C:
		}
	}
}

// untilConnected runs fn with a context that ends, with the connection
// error, when nc does not connect within d.
func untilConnected(ctx context.Context, nc *nats.Conn, d time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		if err := waitConnected(ctx, nc, d); err != nil {
			cancel(err)
		}
	}()
	err := fn(ctx)
	if cause := context.Cause(ctx); errors.Is(cause, errNeverConnected) {
		return cause
	}
	return err
}

// isAuthError reports an error the server gives for bad or missing
// credentials or a permission it does not grant.
func isAuthError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrPermissionViolation) {
		return true
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "authorization") || strings.Contains(s, "authentication")
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
			if isAuthError(err) {
				log.Error().Err(err).Msg("NATS refused the credentials: check --nats-creds/--nats-nkey/--nats-user/--nats-token")
				return
			}
			log.Debug().Err(err).Msg("NATS reconnect attempt failed")
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			if err := nc.LastError(); err != nil {
				log.Error().Err(err).Msg("NATS connection closed")
			}
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
	// Capped at 2s: a server back after an outage is found within ~2.5s
	// (with 10s, sensors and engines came back up to 10s after it).
	const most = 2 * time.Second
	d := 250 * time.Millisecond
	for i := 1; i < attempts && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
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

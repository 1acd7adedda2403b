package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// DefaultQueue is the NATS queue group engines join, so that several engines
// share the events between them rather than each evaluating all of them.
const DefaultQueue = "vigil-engine"

// ServeOptions configures a Server.
type ServeOptions struct {
	// Subject to subscribe to; default event.AllEvents (vigil.events.>).
	Subject string
	// Queue group; default DefaultQueue.
	Queue string
	// Workers evaluating events in parallel; default GOMAXPROCS.
	Workers int
	// Output receives every finding after it is published (may be nil).
	Output Output
	// NoPublish keeps findings off NATS (they still go to Output).
	NoPublish bool
	// PendingMsgs and PendingBytes bound the messages the NATS client holds
	// for this subscription; beyond them it drops (counted in Stats.Dropped).
	// Defaults: 1<<20 messages, 1 GiB.
	PendingMsgs, PendingBytes int
	Logger                    zerolog.Logger
}

// ServeStats counts what a Server did.
type ServeStats struct {
	Received      uint64 // messages taken from NATS
	BadMessages   uint64 // messages that were not an event (logged with their subject)
	Evaluated     uint64 // events evaluated
	Findings      uint64 // findings produced
	PublishErrors uint64 // findings NATS refused
	OutputErrors  uint64 // findings an output could not write
	Dropped       uint64 // messages the NATS client dropped because the engine fell behind
}

// Server feeds events from NATS to an Engine and publishes its findings on
// vigil.findings.<signature-id>.<host>.
type Server struct {
	nc    *nats.Conn
	eng   *Engine
	opts  ServeOptions
	ready chan struct{}
	sub   atomic.Pointer[nats.Subscription]

	received, bad, evaluated, findings, publishErrs, outputErrs atomic.Uint64
	// lostAtStop counts messages that arrived while stopping; slowDropped is
	// the client's slow-consumer count, kept when the subscription ends.
	lostAtStop, slowDropped atomic.Uint64
	lastBadLog              atomic.Int64
}

// NewServer prepares a server; Run starts it. The caller owns nc and eng.
func NewServer(nc *nats.Conn, eng *Engine, opts ServeOptions) *Server {
	if opts.Subject == "" {
		opts.Subject = event.AllEvents
	}
	if opts.Queue == "" {
		opts.Queue = DefaultQueue
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.PendingMsgs == 0 {
		opts.PendingMsgs = 1 << 20
	}
	if opts.PendingBytes == 0 {
		opts.PendingBytes = 1 << 30
	}
	return &Server{nc: nc, eng: eng, opts: opts, ready: make(chan struct{})}
}

// Ready is closed once the subscription is in place on the server.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run subscribes and evaluates events until ctx is done. It then drains the
// subscription (events already received are evaluated, their findings
// published) and returns. It returns an error only when it cannot subscribe.
func (s *Server) Run(ctx context.Context) error {
	jobs := make(chan *nats.Msg, 4*s.opts.Workers)
	stopping := make(chan struct{})
	sub, err := s.nc.QueueSubscribe(s.opts.Subject, s.opts.Queue, func(m *nats.Msg) {
		s.received.Add(1)
		select {
		case jobs <- m:
		case <-stopping:
			s.lostAtStop.Add(1)
		}
	})
	if err != nil {
		return fmt.Errorf("subscribing to %s: %w", s.opts.Subject, err)
	}
	if err := sub.SetPendingLimits(s.opts.PendingMsgs, s.opts.PendingBytes); err != nil {
		sub.Unsubscribe()
		return fmt.Errorf("subscribing to %s: %w", s.opts.Subject, err)
	}
	s.sub.Store(sub)
	// The subscription is in place once the server has seen it; while
	// disconnected, nats.go sends it on reconnect.
	if s.nc.IsConnected() {
		if err := s.nc.FlushTimeout(10 * time.Second); err != nil {
			s.opts.Logger.Warn().Err(err).Msg("confirming the subscription")
		}
	}
	close(s.ready)

	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case m := <-jobs:
					s.handle(m)
				case <-stopping:
					for {
						select {
						case m := <-jobs:
							s.handle(m)
						default:
							return
						}
					}
				}
			}
		}()
	}

	<-ctx.Done()
	s.recordDropped(sub)
	s.drain(sub)
	close(stopping)
	wg.Wait()
	return nil
}

// drain stops the subscription after the messages already delivered to the
// client have been handed to the workers.
func (s *Server) drain(sub *nats.Subscription) {
	if err := sub.Drain(); err != nil {
		sub.Unsubscribe()
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for sub.IsValid() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sub.IsValid() {
		s.opts.Logger.Warn().Msg("the subscription did not drain within 10s")
		sub.Unsubscribe()
	}
}

// handle decodes, evaluates and publishes for one message.
func (s *Server) handle(m *nats.Msg) {
	ev, err := event.Unmarshal(m.Data)
	if err != nil {
		n := s.bad.Add(1)
		s.logBad(m.Subject, err, n)
		return
	}
	s.evaluated.Add(1)
	// Evaluations are bounded by the engine's own time limit, not by the
	// server's lifetime: an event received is evaluated to the end.
	fs := s.eng.Evaluate(context.Background(), ev)
	for i := range fs {
		f := &fs[i]
		if f.Host == "" {
			f.Host = ev.Host
		}
		s.findings.Add(1)
		if !s.opts.NoPublish {
			if err := PublishFinding(s.nc, f); err != nil {
				s.publishErrs.Add(1)
				s.opts.Logger.Error().Err(err).Str("signature", f.Signature.ID).Msg("publishing a finding")
			}
		}
		if s.opts.Output != nil {
			if err := s.opts.Output.Write(f); err != nil {
				s.outputErrs.Add(1)
				s.opts.Logger.Error().Err(err).Str("signature", f.Signature.ID).Msg("writing a finding")
			}
		}
	}
}

// logBad logs a message that is not an event, at most ten a second, with
// the running count.
func (s *Server) logBad(subject string, err error, count uint64) {
	now := time.Now().UnixNano()
	last := s.lastBadLog.Load()
	if count > 10 && now-last < int64(100*time.Millisecond) {
		return
	}
	s.lastBadLog.Store(now)
	s.opts.Logger.Warn().Str("subject", subject).Err(err).Uint64("bad_messages", count).Msg("skipping a message that is not an event")
}

// Stats returns the counters so far.
func (s *Server) Stats() ServeStats {
	st := ServeStats{
		Received:      s.received.Load(),
		BadMessages:   s.bad.Load(),
		Evaluated:     s.evaluated.Load(),
		Findings:      s.findings.Load(),
		PublishErrors: s.publishErrs.Load(),
		OutputErrors:  s.outputErrs.Load(),
	}
	if sub := s.sub.Load(); sub != nil {
		s.recordDropped(sub)
	}
	st.Dropped = s.lostAtStop.Load() + s.slowDropped.Load()
	return st
}

func (s *Server) recordDropped(sub *nats.Subscription) {
	if n, err := sub.Dropped(); err == nil {
		s.slowDropped.Store(uint64(n))
	}
}

// PublishFinding publishes f as JSON on vigil.findings.<signature-id>.<host>.
func PublishFinding(nc *nats.Conn, f *Finding) error {
	data, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("encoding finding of %s: %w", f.Signature.ID, err)
	}
	subject := f.Subject()
	if f.Host == "" && f.Event != nil {
		subject = event.FindingSubject(f.Signature.ID, f.Event.Host)
	}
	if err := nc.Publish(subject, data); err != nil {
		return fmt.Errorf("publishing finding of %s: %w", f.Signature.ID, err)
	}
	return nil
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// DefaultQueue is the NATS queue group engines join, so that several engines
// share the events between them rather than each evaluating all of them. It
// is also the name of their shared durable JetStream consumer.
const DefaultQueue = "vigil-engine"

// JetStreamMode says whether a Server consumes events from JetStream.
type JetStreamMode string

const (
	// JetStreamAuto uses JetStream when the server has it, core NATS otherwise.
	JetStreamAuto JetStreamMode = "auto"
	// JetStreamOn requires JetStream: Run fails without it.
	JetStreamOn JetStreamMode = "on"
	// JetStreamOff subscribes with core NATS (at most once) even when the
	// server has JetStream.
	JetStreamOff JetStreamMode = "off"
)

// ServeOptions configures a Server.
type ServeOptions struct {
	// Subject to subscribe to; default event.AllEvents (vigil.events.>).
	Subject string
	// Queue group, and the durable consumer's name; default DefaultQueue.
	Queue string
	// Workers evaluating events in parallel; default GOMAXPROCS.
	Workers int
	// Output receives every finding after it is published (may be nil).
	Output Output
	// NoPublish keeps findings off NATS (they still go to Output).
	NoPublish bool
	// JetStream: auto (default), on or off.
	JetStream JetStreamMode
	// Streams are the limits of VIGIL_EVENTS and VIGIL_FINDINGS, declared at
	// start when JetStream is used.
	Streams StreamOptions
	// AckWait is how long JetStream waits for an engine's acknowledgement
	// before it gives the event to another engine (default 30s).
	AckWait time.Duration
	// MaxInFlight bounds the events taken from JetStream and not yet
	// acknowledged, by this engine and by every engine of the group (the
	// consumer's MaxAckPending): flow control, so memory stays bounded
	// whatever the backlog. Default 1024.
	MaxInFlight int
	// PendingMsgs and PendingBytes bound the messages the NATS client holds
	// for a core NATS subscription; beyond them it drops (counted in
	// Stats.Dropped). Defaults: 65536 messages, 64 MiB.
	PendingMsgs, PendingBytes int
	// StopTimeout bounds the time Run takes to finish the events in hand
	// once its context ends (default 10s). With JetStream, what is not
	// finished stays unacknowledged and is delivered again; with core NATS
	// it is counted as dropped.
	StopTimeout time.Duration
	// NoCriticalLane keeps critical events with the rest: no second
	// consumer (or queue subscription) for them.
	NoCriticalLane bool
	// Observe, when set, is called after each evaluation with the event's
	// name and how long evaluating it took (for latency histograms).
	Observe func(eventName string, took time.Duration)
	// Contexts is the size of the table of process contexts that lean
	// events are resolved with (default DefaultContexts; it holds about
	// twice as many, the ones in use stay).
	Contexts int
	// ContextTimeout bounds the wait for a sensor's answer to a request
	// for a context the table does not hold (default
	// DefaultContextTimeout); ContextRequests bounds such requests in
	// flight (default DefaultContextRequests).
	ContextTimeout  time.Duration
	ContextRequests int
	// ContextHistory bounds how many of a host's events stored before a
	// lean event are read back from its JetStream stream for a context
	// neither the table nor the sensor has (both restarted): default
	// DefaultContextHistory, -1 reads nothing back.
	ContextHistory int
	Logger         zerolog.Logger
}

// ServeStats counts what a Server did.
type ServeStats struct {
	JetStream     bool   // events come from the durable JetStream consumer
	Received      uint64 // messages taken from NATS
	BadMessages   uint64 // messages that were not an event (logged with their subject)
	Refused       uint64 // events whose subject disagrees with their body (name or host)
	Evaluated     uint64 // events evaluated
	Findings      uint64 // findings produced
	PublishErrors uint64 // findings NATS refused or did not acknowledge
	OutputErrors  uint64 // findings an output could not write
	// Duplicates counts findings VIGIL_FINDINGS had stored already (an
	// event evaluated again), neither counted in Findings nor written again.
	Duplicates uint64
	// Dropped counts events lost: dropped by the NATS client because the
	// engine fell behind, or received but not evaluated at stop (core NATS
	// only; JetStream redelivers instead).
	Dropped uint64
	// Redelivered counts events JetStream delivered more than once (an
	// engine died or did not acknowledge in time); Retried counts events
	// this engine handed back because a finding could not be stored;
	// HandedBack counts events left unacknowledged at stop.
	Redelivered, Retried, HandedBack uint64
	// Critical counts events taken through the critical lane (rare events
	// that signatures of high severity select), evaluated ahead of the
	// routine ones.
	Critical uint64
	// Pending is the consumer's backlog (events not yet delivered) and
	// AckPending the events delivered and not yet acknowledged, as last
	// read from JetStream.
	Pending, AckPending uint64
	// Lean events (process context by reference): Resolved counts the
	// events rebuilt to their full form, ContextRequests the contexts
	// asked of sensors (ContextAnswers were answered), Contexts is the
	// size of the context table. Unresolved counts the lean events whose
	// context could not be found (not evaluated; logged), in all and per
	// event name.
	Resolved, ContextRequests, ContextAnswers uint64
	Contexts                                  int
	// ContextReadBacks counts the reads of a stream's earlier events for
	// contexts, ContextEventsReadBack the events they read.
	ContextReadBacks, ContextEventsReadBack uint64
	Unresolved                              uint64
	UnresolvedByEvent                       map[string]uint64
}

// Server feeds events from NATS to an Engine and publishes its findings on
// vigil.findings.<signature-id>.<host>.
type Server struct {
	nc    *nats.Conn
	eng   *Engine
	opts  ServeOptions
	sink  *Sink
	ready chan struct{}
	sub   atomic.Pointer[nats.Subscription]
	js    atomic.Bool
	ctxr  *ctxResolver

	received, bad, refused, evaluated, critical atomic.Uint64
	redelivered, retried, handedBack            atomic.Uint64
	pending, ackPending                         atomic.Uint64
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
	if opts.JetStream == "" {
		opts.JetStream = JetStreamAuto
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 30 * time.Second
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1024
	}
	if opts.PendingMsgs == 0 {
		opts.PendingMsgs = 1 << 16
	}
	if opts.PendingBytes == 0 {
		opts.PendingBytes = 64 << 20
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	if opts.Contexts <= 0 {
		opts.Contexts = DefaultContexts
	}
	if opts.ContextTimeout <= 0 {
		opts.ContextTimeout = DefaultContextTimeout
	}
	if opts.ContextRequests <= 0 {
		opts.ContextRequests = DefaultContextRequests
	}
	s := &Server{nc: nc, eng: eng, opts: opts, ready: make(chan struct{})}
	s.ctxr = newCtxResolver(nc, &s.opts)
	s.sink = &Sink{Output: opts.Output, Logger: opts.Logger}
	return s
}

// Ready is closed once the subscription (or the durable consumer) is in
// place on the server.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run consumes and evaluates events until ctx is done, then finishes the
// events in hand (within StopTimeout) and returns. With JetStream (mode auto
// and the server has it, or mode on) it declares the streams, consumes from
// the durable consumer shared by the engine group and acknowledges an event
// only once its findings are stored in VIGIL_FINDINGS. Otherwise it
// subscribes in the queue group with core NATS. It returns an error only when
// it cannot start.
func (s *Server) Run(ctx context.Context) error {
	if s.opts.JetStream != JetStreamOff {
		js, err := s.detectJetStream(ctx)
		switch {
		case err == nil:
			return s.runJetStream(ctx, js)
		case ctx.Err() != nil:
			return nil
		case s.opts.JetStream == JetStreamOn:
			return fmt.Errorf("JetStream: %w", err)
		default:
			s.opts.Logger.Warn().Err(err).Msg("the NATS server has no JetStream: consuming with core NATS, at most once (events lost while no engine runs; drops are counted)")
		}
	}
	return s.runCore(ctx)
}

// detectJetStream waits for the connection and asks the server for the
// account's JetStream information.
func (s *Server) detectJetStream(ctx context.Context) (jetstream.JetStream, error) {
	for !s.nc.IsConnected() {
		if s.nc.IsClosed() {
			return nil, nats.ErrConnectionClosed
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(actx); err != nil {
		return nil, err
	}
	return js, nil
}

// CriticalSuffix ends the name of the engines' second durable consumer (and
// core NATS queue group): the critical lane, which carries only the rare
// events that signatures of high severity select, so that they are
// evaluated ahead of any backlog of routine events.
const CriticalSuffix = "-critical"

// criticalEvents are the events of the critical lane: none when the server
// consumes a subject of its own choosing.
func (s *Server) criticalEvents() []string {
	if s.opts.Subject != event.AllEvents || s.opts.NoCriticalLane {
		return nil
	}
	return event.RareEvents()
}

// criticalConsumer declares (or finds) the critical lane's consumer and
// returns the stream sequence it starts at.
func (s *Server) criticalConsumer(ctx context.Context, js jetstream.JetStream, routine jetstream.ConsumerConfig, crit []string) (jetstream.Consumer, uint64, error) {
	name := s.opts.Queue + CriticalSuffix
	subjects := criticalSubjects(crit)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := js.Consumer(cctx, EventsStream, name)
	if err == nil {
		cfg := cons.CachedInfo().Config
		if cfg.DeliverPolicy != jetstream.DeliverByStartSequencePolicy || cfg.OptStartSeq == 0 {
			return nil, 0, fmt.Errorf("the consumer %s exists and does not start at a fixed sequence", name)
		}
		if !slices.Equal(cfg.FilterSubjects, subjects) {
			// Another set of rare events (another vigil version): the
			// events only the new set names, between the lane's start and
			// now, were the routine consumer's to take and are not
			// delivered again; the rest is unaffected.
			cfg.FilterSubjects = subjects
			if cons, err = js.UpdateConsumer(cctx, EventsStream, cfg); err != nil {
				return nil, 0, fmt.Errorf("updating the consumer %s: %w", name, err)
			}
		}
		return cons, cfg.OptStartSeq, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, 0, err
	}
	st, err := js.Stream(cctx, EventsStream)
	if err != nil {
		return nil, 0, err
	}
	info, err := st.Info(cctx)
	if err != nil {
		return nil, 0, err
	}
	cc := routine
	cc.Durable = name
	cc.Description = "vigil engines' critical lane: rare events, evaluated ahead of the rest"
	cc.FilterSubject = ""
	cc.FilterSubjects = subjects
	cc.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
	cc.OptStartSeq = info.State.LastSeq + 1
	cc.MaxAckPending = max(s.opts.MaxInFlight/4, 64)
	cons, err = js.CreateConsumer(cctx, EventsStream, cc)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		// Another engine of the group created it meanwhile.
		cons, err = js.Consumer(cctx, EventsStream, name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("declaring the consumer %s: %w", name, err)
	}
	return cons, cons.CachedInfo().Config.OptStartSeq, nil
}

func criticalSubjects(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = event.EventsPrefix + "." + event.Token(n) + ".>"
	}
	return out
}

func (s *Server) runJetStream(ctx context.Context, js jetstream.JetStream) error {
	log := s.opts.Logger
	if err := EnsureStreams(ctx, js, s.opts.Streams, log); err != nil {
		return err
	}
	cc := jetstream.ConsumerConfig{
		Durable:       s.opts.Queue,
		Description:   "vigil engines: each event to one engine, acknowledged once its findings are stored",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.opts.AckWait,
		MaxAckPending: s.opts.MaxInFlight,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxDeliver:    -1,
	}
	if s.opts.Subject != event.AllEvents {
		cc.FilterSubject = s.opts.Subject
	}
	cons, err := s.consumer(ctx, js, cc)
	if err != nil {
		return err
	}
	// The critical lane: a second durable consumer on the same stream,
	// filtered to the critical events. It only speeds them up: the routine
	// consumer still takes every event (a critical one included), so
	// nothing depends on the two agreeing; the second evaluation makes the
	// same finding ids, which VIGIL_FINDINGS drops as duplicates (and the
	// sink does not write again). It starts with the events that arrive
	// after its creation: the older ones are the routine consumer's. A
	// work-queue stream allows no overlapping consumers: no lane there.
	// The critical lane: a second durable consumer on the same stream,
	// filtered to the rare events (event.RareEvents), which this engine's
	// workers take first. It starts at a stream sequence fixed when it is
	// created (OptStartSeq): the routine consumer skips (acknowledges
	// without evaluating) the rare events from that sequence on, which the
	// lane delivers, and evaluates those before it. A work-queue stream
	// allows no overlapping consumers: no lane there.
	var critCons jetstream.Consumer
	var critStart uint64 // 0: no lane, the routine consumer takes everything
	crit := s.criticalEvents()
	if len(crit) > 0 && s.opts.Streams.EventsRetention == "workqueue" {
		log.Info().Msg("no critical lane: the events stream has work-queue retention, which allows no second consumer over the same events")
		crit = nil
	}
	if len(crit) > 0 {
		var err error
		critCons, critStart, err = s.criticalConsumer(ctx, js, cc, crit)
		if err != nil {
			log.Warn().Err(err).Msg("no critical lane: critical events go with the rest")
			critCons, critStart = nil, 0
		} else {
			log.Info().Strs("events", crit).Str("consumer", s.opts.Queue+CriticalSuffix).Uint64("from_sequence", critStart).Msg("critical lane")
		}
	}
	rare := map[string]bool{}
	for _, n := range crit {
		rare[event.Token(n)] = true
	}
	s.sink.Publisher = JetStreamPublisher{JS: js}
	if s.opts.NoPublish {
		s.sink.Publisher = nil
	}
	s.js.Store(true)

	jobs := make(chan jsJob, s.opts.Workers)
	critJobs := make(chan jsJob, s.opts.Workers)
	stopping := make(chan struct{})
	// Each lane resolves lean events in the order its consumer delivers
	// them, before they go to the workers.
	lane := func(queue chan jsJob, requests int) *ctxLane {
		return s.ctxr.lane(requests, func(msg any, data []byte, buf *[]byte) {
			m := msg.(jetstream.Msg)
			select {
			case queue <- jsJob{m: m, data: data, buf: buf}:
			case <-stopping:
				s.handedBack.Add(1)
				m.Nak()
				putCtxBuf(buf)
			}
		}, func(msg any) {
			// Counted and logged; delivering it again would not help.
			msg.(jetstream.Msg).Term()
		})
	}
	routineLane, critLane := lane(jobs, s.opts.ContextRequests), lane(critJobs, 8)
	handler := func(ln *ctxLane, routine bool) jetstream.MessageHandler {
		return func(m jetstream.Msg) {
			if routine && critStart > 0 && rare[subjectEvent(m.Subject())] {
				if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= critStart {
					m.Ack() // the critical lane's
					return
				}
			}
			s.received.Add(1)
			select {
			case <-stopping:
				// Handed back now rather than after AckWait.
				s.handedBack.Add(1)
				m.Nak()
				return
			default:
			}
			ln.resolve(m.Subject(), m.Data(), m)
		}
	}
	errHandler := jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, nats.ErrDisconnected) {
			log.Debug().Err(err).Msg("JetStream consumer")
			return
		}
		log.Warn().Err(err).Msg("JetStream consumer")
	})
	// Pull requests expire after 5s and the server sends a heartbeat every
	// 2.5s: a pull lost with a restarted server is noticed (two missed
	// heartbeats) and renewed within 5s, rather than the 30s of the
	// client's default 30s expiry (the recovery measured after a server
	// kill took 30-40s).
	expiry := jetstream.PullExpiry(5 * time.Second)
	batch := min(max(4*s.opts.Workers, 16), s.opts.MaxInFlight)
	consumeCtx, err := cons.Consume(handler(routineLane, true), jetstream.PullMaxMessages(batch), expiry, errHandler)
	if err != nil {
		return fmt.Errorf("consuming from %s: %w", EventsStream, err)
	}
	contexts := []jetstream.ConsumeContext{consumeCtx}
	if critCons != nil {
		cctx, err := critCons.Consume(handler(critLane, false), jetstream.PullMaxMessages(16), expiry, errHandler)
		if err != nil {
			log.Warn().Err(err).Msg("no critical lane: consuming from its consumer failed; critical events go with the rest")
		} else {
			contexts = append(contexts, cctx)
		}
	}
	log.Info().Str("stream", EventsStream).Str("consumer", s.opts.Queue).Int("max_in_flight", s.opts.MaxInFlight).Msg("consuming events from JetStream")
	close(s.ready)

	lagDone := make(chan struct{})
	go func() {
		defer close(lagDone)
		s.watchLag(ctx, cons)
	}()

	var deadline atomic.Int64 // unix nanos after which workers hand events back
	consumerStopped := make(chan struct{})
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j, crit, ok := nextJob(critJobs, jobs, consumerStopped)
				if !ok {
					return
				}
				if d := deadline.Load(); d != 0 && time.Now().UnixNano() > d {
					s.handedBack.Add(1)
					j.m.Nak()
					putCtxBuf(j.buf)
					continue
				}
				if crit {
					s.critical.Add(1)
				}
				s.handleJS(j.m, j.data)
				putCtxBuf(j.buf)
			}
		}()
	}

	<-ctx.Done()
	deadline.Store(time.Now().Add(s.opts.StopTimeout).UnixNano())
	close(stopping)
	// Drain hands the messages already pulled to the handler, which hands
	// them back at once (rather than after AckWait).
	for _, c := range contexts {
		c.Drain()
	}
	for _, c := range contexts {
		select {
		case <-c.Closed():
		case <-time.After(s.opts.StopTimeout):
			log.Warn().Msg("the JetStream consumer did not stop in time")
		}
	}
	// jobs is never closed: a late handler call must not send on a closed
	// channel. What it queues after the workers are gone stays
	// unacknowledged and is delivered again after AckWait. Context
	// requests in flight end within their timeout; their events are
	// handed back (stopping is closed).
	s.ctxr.wait()
	close(consumerStopped)
	wg.Wait()
	<-lagDone
	if n := s.handedBack.Load(); n > 0 {
		log.Info().Uint64("events", n).Msg("events left unacknowledged at stop: JetStream delivers them again")
	}
	return nil
}

// nextJob takes the next event for a worker, a critical one whenever one
// waits. Once stopped is closed it returns what is still queued, then false.
func nextJob[M any](crit, routine <-chan M, stopped <-chan struct{}) (M, bool, bool) {
	select {
	case m := <-crit:
		return m, true, true
	default:
	}
	select {
	case m := <-crit:
		return m, true, true
	case m := <-routine:
		return m, false, true
	case <-stopped:
		select {
		case m := <-crit:
			return m, true, true
		case m := <-routine:
			return m, false, true
		default:
			var zero M
			return zero, false, false
		}
	}
}

// consumer declares a durable consumer, or uses it as it is when this
// engine may not change it.
func (s *Server) consumer(ctx context.Context, js jetstream.JetStream, cc jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.CreateOrUpdateConsumer(cctx, EventsStream, cc)
	cancel()
	if err == nil {
		return cons, nil
	}
	cctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	cons, ierr := js.Consumer(cctx, EventsStream, cc.Durable)
	cancel()
	if ierr != nil {
		return nil, fmt.Errorf("declaring the JetStream consumer %s on %s: %w", cc.Durable, EventsStream, errors.Join(err, ierr))
	}
	s.opts.Logger.Warn().Err(err).Str("consumer", cc.Durable).Msg("using the existing consumer as it is: it could not be updated")
	return cons, nil
}

// watchLag reads the consumer's backlog every few seconds.
func (s *Server) watchLag(ctx context.Context, cons jetstream.Consumer) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if info, err := cons.Info(ictx); err == nil {
			s.pending.Store(info.NumPending)
			s.ackPending.Store(uint64(info.NumAckPending))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// jsJob is an event from JetStream with its data in full form (in buf,
// pooled, when it was rebuilt from a lean event).
type jsJob struct {
	m    jetstream.Msg
	data []byte
	buf  *[]byte
}

// coreJob is an event from core NATS, its data in full form (m.Data; in
// buf, pooled, when it was rebuilt from a lean event).
type coreJob struct {
	m   *nats.Msg
	buf *[]byte
}

// handleJS evaluates one event from JetStream and acknowledges it once its
// findings are stored; when one could not be, the event is handed back to be
// evaluated again (the findings already stored are de-duplicated by id).
func (s *Server) handleJS(m jetstream.Msg, data []byte) {
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		s.redelivered.Add(1)
	}
	ev, fs, ok := s.evaluate(m.Subject(), data)
	if !ok {
		// Counted and logged; delivering it again would not help.
		m.Term()
		return
	}
	if err := s.sink.Emit(context.Background(), ev, fs); errors.Is(err, ErrNotDelivered) {
		s.eng.Forget(fs)
		s.retried.Add(1)
		m.NakWithDelay(time.Second)
		return
	}
	m.Ack()
}

func (s *Server) runCore(ctx context.Context) error {
	if !s.opts.NoPublish {
		s.sink.Publisher = CorePublisher{NC: s.nc}
	}
	jobs := make(chan coreJob, 4*s.opts.Workers)
	critJobs := make(chan coreJob, s.opts.Workers)
	stopping := make(chan struct{})
	// The critical lane: critical events also come through a queue
	// subscription of their own (group <queue>-critical), whose messages the
	// client holds apart from the routine backlog; the routine subscription
	// skips them. Core NATS delivers at most once anyway.
	crit := map[string]bool{}
	for _, n := range s.criticalEvents() {
		crit[event.Token(n)] = true
	}
	enqueue := func(queue chan coreJob) func(coreJob) {
		return func(j coreJob) {
			select {
			case queue <- j:
			case <-stopping:
				s.lostAtStop.Add(1)
				putCtxBuf(j.buf)
			}
		}
	}
	// Each lane resolves lean events in the order its subscription
	// delivers them, before they go to the workers.
	lane := func(queue chan coreJob, requests int) *ctxLane {
		toQueue := enqueue(queue)
		return s.ctxr.lane(requests, func(msg any, data []byte, buf *[]byte) {
			m := msg.(*nats.Msg)
			m.Data = data
			toQueue(coreJob{m: m, buf: buf})
		}, func(any) {})
	}
	routineLane, critLane := lane(jobs, s.opts.ContextRequests), lane(critJobs, 8)
	sub, err := s.nc.QueueSubscribe(s.opts.Subject, s.opts.Queue, func(m *nats.Msg) {
		if len(crit) > 0 && crit[subjectEvent(m.Subject)] {
			return
		}
		s.received.Add(1)
		routineLane.resolve(m.Subject, m.Data, m)
	})
	if err != nil {
		return fmt.Errorf("subscribing to %s: %w", s.opts.Subject, err)
	}
	if err := sub.SetPendingLimits(s.opts.PendingMsgs, s.opts.PendingBytes); err != nil {
		sub.Unsubscribe()
		return fmt.Errorf("subscribing to %s: %w", s.opts.Subject, err)
	}
	s.sub.Store(sub)
	var critSubs []*nats.Subscription
	for n := range crit {
		cs, err := s.nc.QueueSubscribe(event.EventsPrefix+"."+n+".>", s.opts.Queue+CriticalSuffix, func(m *nats.Msg) {
			s.received.Add(1)
			critLane.resolve(m.Subject, m.Data, m)
		})
		if err != nil {
			sub.Unsubscribe()
			for _, cs := range critSubs {
				cs.Unsubscribe()
			}
			return fmt.Errorf("subscribing to the critical event %s: %w", n, err)
		}
		critSubs = append(critSubs, cs)
	}
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
				j, critical, ok := nextJob(critJobs, jobs, stopping)
				if !ok {
					return
				}
				if critical {
					s.critical.Add(1)
				}
				s.handleCore(j.m)
				putCtxBuf(j.buf)
			}
		}()
	}

	<-ctx.Done()
	s.recordDropped(sub)
	for _, cs := range critSubs {
		s.drain(cs)
	}
	s.drain(sub)
	// Context requests in flight end within their timeout and hand their
	// events to the workers, still running.
	s.ctxr.wait()
	close(stopping)
	wg.Wait()
	if n := s.lostAtStop.Load(); n > 0 {
		s.opts.Logger.Warn().Uint64("events", n).Msg("events received but not evaluated at stop (core NATS: they are lost)")
	}
	return nil
}

// subjectEvent is the event token of an event subject
// (vigil.events.<event>.<host>).
func subjectEvent(subject string) string {
	rest, ok := strings.CutPrefix(subject, event.EventsPrefix+".")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ".")
	return name
}

// drain stops the subscription after the messages already delivered to the
// client have been handed to the workers; what is still pending after
// StopTimeout is counted as lost.
func (s *Server) drain(sub *nats.Subscription) {
	if err := sub.Drain(); err != nil {
		if n, _, perr := sub.Pending(); perr == nil {
			s.lostAtStop.Add(uint64(n))
		}
		sub.Unsubscribe()
		return
	}
	deadline := time.Now().Add(s.opts.StopTimeout)
	for sub.IsValid() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sub.IsValid() {
		n, _, _ := sub.Pending()
		s.lostAtStop.Add(uint64(max(n, 0)))
		s.opts.Logger.Warn().Dur("timeout", s.opts.StopTimeout).Int("events", n).Msg("the subscription did not drain in time; the events still pending are dropped (counted)")
		sub.Unsubscribe()
	}
}

// handleCore decodes, evaluates and publishes for one core NATS message.
func (s *Server) handleCore(m *nats.Msg) {
	ev, fs, ok := s.evaluate(m.Subject, m.Data)
	if !ok {
		return
	}
	s.sink.Emit(context.Background(), ev, fs)
}

// evaluate evaluates one message on the engine's fast path (EvaluateMessage:
// only the signatures whose derived condition admits the event run Rego),
// refusing (and counting) one that is not an event or whose
// subject names another event or host than its body: a publisher allowed
// to publish only its own host's subjects must not be able to report events
// for another host. ev is the decoded event when there are findings (nil
// otherwise).
func (s *Server) evaluate(subject string, data []byte) (ev *event.Event, fs []Finding, ok bool) {
	start := time.Now()
	// Evaluations are bounded by the engine's own time limit, not by the
	// server's lifetime: an event received is evaluated to the end.
	// A malformed event is counted whatever the signatures want
	// (validate): the decoding has no reflection and no Rego runs.
	name, fs, err := s.eng.EvaluateMessage(context.Background(), data, true, func(name, host string) error {
		if want := event.EventSubject(name, host); subject != want && strings.HasPrefix(subject, event.EventsPrefix+".") {
			return fmt.Errorf("the body is a %s event of host %q (subject %s)", name, host, want)
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrRefused):
		n := s.refused.Add(1)
		s.logBad(subject, err, n, "refusing an event whose subject and body disagree")
		return nil, nil, false
	case err != nil:
		n := s.bad.Add(1)
		s.logBad(subject, err, n, "skipping a message that is not an event")
		return nil, nil, false
	}
	s.evaluated.Add(1)
	if s.opts.Observe != nil {
		s.opts.Observe(name, time.Since(start))
	}
	if len(fs) > 0 {
		ev = fs[0].Event
	}
	return ev, fs, true
}

// logBad logs a refused message, at most ten a second, with the running
// count.
func (s *Server) logBad(subject string, err error, count uint64, msg string) {
	now := time.Now().UnixNano()
	last := s.lastBadLog.Load()
	if count > 10 && now-last < int64(100*time.Millisecond) {
		return
	}
	s.lastBadLog.Store(now)
	s.opts.Logger.Warn().Str("subject", subject).Err(err).Uint64("count", count).Msg(msg)
}

// Stats returns the counters so far.
func (s *Server) Stats() ServeStats {
	sk := s.sink.Stats()
	st := ServeStats{
		JetStream:     s.js.Load(),
		Received:      s.received.Load(),
		BadMessages:   s.bad.Load(),
		Refused:       s.refused.Load(),
		Evaluated:     s.evaluated.Load(),
		Critical:      s.critical.Load(),
		Findings:      sk.Findings,
		PublishErrors: sk.PublishErrors,
		OutputErrors:  sk.OutputErrors,
		Duplicates:    sk.Duplicates,
		Redelivered:   s.redelivered.Load(),
		Retried:       s.retried.Load(),
		HandedBack:    s.handedBack.Load(),
		Pending:       s.pending.Load(),
		AckPending:    s.ackPending.Load(),

		Resolved:          s.ctxr.resolved.Load(),
		ContextRequests:   s.ctxr.requests.Load(),
		ContextAnswers:    s.ctxr.answered.Load(),
		Contexts:          s.ctxr.table.Len(),
		Unresolved:        s.ctxr.unresolvedN.Load(),
		UnresolvedByEvent: s.ctxr.unresolvedByEvent(),
	}
	if h := s.ctxr.history; h != nil {
		st.ContextReadBacks, st.ContextEventsReadBack = h.scans.Load(), h.read.Load()
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

// PublishFinding publishes f as JSON on vigil.findings.<signature-id>.<host>
// with core NATS.
func PublishFinding(nc *nats.Conn, f *Finding) error {
	Complete(f, f.Event)
	data, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("encoding finding of %s: %w", f.Signature.ID, err)
	}
	if err := nc.Publish(f.Subject(), data); err != nil {
		return fmt.Errorf("publishing finding of %s: %w", f.Signature.ID, err)
	}
	return nil
}

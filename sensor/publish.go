package sensor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// ErrPublisherClosed is returned by Publisher.Close when called twice.
var ErrPublisherClosed = errors.New("publisher closed")

// PublisherOptions configures a Publisher.
type PublisherOptions struct {
	// Host labels events whose Host field is empty and names the subject's
	// host token (event.EventSubject).
	Host string
	// QueueLen bounds the events waiting to be handed to NATS (default 16384).
	// When it is full, Publish drops the event and counts it rather than
	// stall the ring buffer reader that calls it.
	QueueLen int
	// CriticalQueueLen bounds the critical events waiting (default 4096):
	// they have a queue of their own, which the publisher empties first.
	CriticalQueueLen int
	// Spool, when set, takes the events that do not fit the NATS client's
	// memory buffer while NATS is unreachable; they go out, in order, once
	// it is back (also after a restart: the spool is a file). The Publisher
	// closes it.
	Spool *Spool
	// Logger receives drop and error reports (rate-limited).
	Logger zerolog.Logger
}

// PublishStats counts what a Publisher did.
type PublishStats struct {
	Published     uint64 // handed to the NATS connection
	Dropped       uint64 // queue full: the publisher could not keep up
	PublishErrors uint64 // the NATS client refused the message (e.g. reconnect buffer full)
	MarshalErrors uint64 // the event had no JSON form
	// DroppedByEvent counts the events lost, queue full or refused by the
	// NATS client (its reconnect buffer is full while NATS is unreachable),
	// per event name.
	DroppedByEvent map[string]uint64
	Queued         int    // events waiting in the queue now
	Critical       uint64 // of Published, sent through the critical lane
	Buffered       int    // bytes the NATS client holds (while disconnected)
	// Spooled is the bytes of events waiting in the disk spool; Replayed
	// counts the events sent from it (also in Published); SpoolDropped
	// counts the events the full spool could not take (also in
	// DroppedByEvent).
	Spooled                uint64
	Replayed, SpoolDropped uint64
}

// Publisher publishes events as JSON on vigil.events.<event>.<host>.
//
// Publish never blocks: it marshals the event and queues the bytes; one
// goroutine hands them to nats.go, which buffers while disconnected.
// PublishCritical queues on a second queue, which that goroutine always
// empties first: a critical event waits behind no backlog of routine ones.
// With a Spool, what nats.go's buffer cannot take goes to disk and out again
// when NATS is back. Events that do not fit the queue, messages nats.go
// refuses and events the spool cannot take are counted per event and
// reported, never lost silently. Close flushes what is queued.
type Publisher struct {
	nc    *nats.Conn
	opts  PublisherOptions
	queue chan message
	crit  chan message // the critical lane, sent first
	done  chan struct{}
	once  sync.Once

	published, dropped, publishErrs, marshalErrs, critical atomic.Uint64
	replayed, spoolDropped, spooled                        atomic.Uint64
	byEvent                                                sync.Map     // event name -> *atomic.Uint64
	lastReport                                             atomic.Int64 // unix nanos of the last drop/error log
}

type message struct {
	name    string
	subject string
	data    []byte
}

// lost counts one event lost, per event name.
func (p *Publisher) lost(name string) {
	c, ok := p.byEvent.Load(name)
	if !ok {
		c, _ = p.byEvent.LoadOrStore(name, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
}

// NewPublisher starts a publisher on nc. The caller keeps ownership of nc and
// closes it after Publisher.Close.
func NewPublisher(nc *nats.Conn, opts PublisherOptions) *Publisher {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 16384
	}
	if opts.CriticalQueueLen <= 0 {
		opts.CriticalQueueLen = 4096
	}
	p := &Publisher{
		nc:    nc,
		opts:  opts,
		queue: make(chan message, opts.QueueLen),
		crit:  make(chan message, opts.CriticalQueueLen),
		done:  make(chan struct{}),
	}
	if opts.Spool != nil {
		p.spooled.Store(uint64(opts.Spool.Pending()))
	}
	go p.loop()
	return p
}

// Publish queues ev for publication. It is safe for concurrent use and does
// not keep ev after it returns.
func (p *Publisher) Publish(ev *event.Event) { p.enqueue(p.queue, ev) }

// PublishCritical queues ev in the critical lane, sent before any routine
// event waiting.
func (p *Publisher) PublishCritical(ev *event.Event) { p.enqueue(p.crit, ev) }

func (p *Publisher) enqueue(queue chan message, ev *event.Event) {
	host := ev.Host
	if host == "" {
		// Label a copy: the caller's event is left as it was.
		cp := *ev
		cp.Host = p.opts.Host
		ev, host = &cp, cp.Host
	}
	data, err := ev.Marshal()
	if err != nil {
		p.marshalErrs.Add(1)
		p.report("marshalling an event", err, ev.Name)
		return
	}
	select {
	case queue <- message{name: ev.Name, subject: event.EventSubject(ev.Name, host), data: data}:
	default:
		p.dropped.Add(1)
		p.lost(ev.Name)
		p.report("dropping events: the NATS publisher queue is full", nil, ev.Name)
	}
}

func (p *Publisher) loop() {
	defer close(p.done)
	// While the spool holds events, a tick replays them once NATS is back,
	// even when no new event comes.
	var tick <-chan time.Time
	if p.opts.Spool != nil {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	crit, queue := p.crit, p.queue // nil once closed and empty
	for crit != nil || queue != nil {
		// The critical lane first, whenever it holds something.
		select {
		case m, ok := <-crit:
			if !ok {
				crit = nil
				continue
			}
			p.send(m, true)
			continue
		default:
		}
		select {
		case m, ok := <-crit:
			if !ok {
				crit = nil
				continue
			}
			p.send(m, true)
		case m, ok := <-queue:
			if !ok {
				queue = nil
				continue
			}
			p.send(m, false)
		case <-tick:
			p.replay(4096)
		}
	}
}

func (p *Publisher) send(m message, critical bool) {
	sp := p.opts.Spool
	// While the spool holds events, routine ones join it behind them, to
	// keep their order; a critical one goes first whenever NATS takes it.
	if sp != nil && sp.Pending() > 0 && !critical {
		p.toSpool(m)
		p.replay(1024)
		return
	}
	err := p.nc.Publish(m.subject, m.data)
	if sp != nil && errors.Is(err, nats.ErrReconnectBufExceeded) {
		p.toSpool(m)
		return
	}
	if err != nil {
		p.publishErrs.Add(1)
		p.lost(m.name)
		p.report("publishing an event", err, m.subject)
		return
	}
	p.published.Add(1)
	if critical {
		p.critical.Add(1)
	}
}

func (p *Publisher) toSpool(m message) {
	sp := p.opts.Spool
	if err := sp.Append(m.subject, m.data); err != nil {
		p.spoolDropped.Add(1)
		p.lost(m.name)
		p.report("dropping events: the spool cannot take them", err, m.name)
		return
	}
	p.spooled.Store(uint64(sp.Pending()))
}

// replay sends up to n spooled events, oldest first, while NATS is
// connected and takes them.
func (p *Publisher) replay(n int) {
	sp := p.opts.Spool
	if sp == nil {
		return
	}
	defer func() { p.spooled.Store(uint64(sp.Pending())) }()
	for ; n > 0 && sp.Pending() > 0 && p.nc.IsConnected(); n-- {
		subject, data, err := sp.Next()
		if err == nil {
			if err = p.nc.Publish(subject, data); err != nil {
				return // NATS went away again: the record stays
			}
			p.published.Add(1)
			p.replayed.Add(1)
			err = sp.Done()
		}
		if err != nil {
			p.report("replaying the spool", err, "")
			return
		}
	}
}

// report logs at most once a second, with the running totals, so a storm of
// drops does not become a storm of log lines.
func (p *Publisher) report(msg string, err error, what string) {
	now := time.Now().UnixNano()
	last := p.lastReport.Load()
	if now-last < int64(time.Second) || !p.lastReport.CompareAndSwap(last, now) {
		return
	}
	s := p.Stats()
	p.opts.Logger.Warn().Err(err).Str("about", what).
		Uint64("dropped", s.Dropped).Uint64("publish_errors", s.PublishErrors).
		Uint64("marshal_errors", s.MarshalErrors).Msg(msg)
}

// Stats returns the counters so far.
func (p *Publisher) Stats() PublishStats {
	st := PublishStats{
		Published:      p.published.Load(),
		Dropped:        p.dropped.Load(),
		PublishErrors:  p.publishErrs.Load(),
		MarshalErrors:  p.marshalErrs.Load(),
		DroppedByEvent: map[string]uint64{},
		Queued:         len(p.queue) + len(p.crit),
		Spooled:        p.spooled.Load(),
		Replayed:       p.replayed.Load(),
		SpoolDropped:   p.spoolDropped.Load(),
		Critical:       p.critical.Load(),
	}
	if p.nc != nil {
		if n, err := p.nc.Buffered(); err == nil {
			st.Buffered = n
		}
	}
	p.byEvent.Range(func(k, v any) bool {
		st.DroppedByEvent[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return st
}

// Close stops accepting events, hands the queued ones to NATS and flushes the
// connection, waiting at most until ctx is done (10s for the flush when ctx
// has no deadline). Publish must not be called
// during or after Close.
func (p *Publisher) Close(ctx context.Context) error {
	closed := false
	p.once.Do(func() { close(p.queue); close(p.crit); closed = true })
	if !closed {
		return ErrPublisherClosed
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	var spoolErr error
	if sp := p.opts.Spool; sp != nil {
		// Send what NATS takes before ctx ends; the rest stays on disk for
		// the next start.
		for sp.Pending() > 0 && p.nc.IsConnected() && ctx.Err() == nil {
			before := sp.Pending()
			p.replay(4096)
			if sp.Pending() == before {
				break
			}
		}
		if n := sp.Pending(); n > 0 {
			p.opts.Logger.Info().Int64("bytes", n).Str("spool", sp.f.Name()).Msg("events left in the spool: they go out at the next start")
		}
		spoolErr = sp.Close()
	}
	if p.nc.IsClosed() {
		return spoolErr
	}
	if !p.nc.IsConnected() {
		if n, err := p.nc.Buffered(); err == nil && n > 0 {
			p.opts.Logger.Warn().Int("bytes", n).Msg("stopping while NATS is unreachable: the events in the client's memory buffer are lost")
		}
		return spoolErr
	}
	if err := p.nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return errors.Join(err, spoolErr)
	}
	return spoolErr
}

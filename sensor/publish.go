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
}

// Publisher publishes events as JSON on vigil.events.<event>.<host>.
//
// Publish never blocks: it marshals the event and queues the bytes; one
// goroutine hands them to nats.go, which buffers while disconnected.
// PublishCritical queues on a second queue, which that goroutine always
// empties first: a critical event waits behind no backlog of routine ones.
// Events
// that do not fit the queue, and messages nats.go refuses, are counted and
// reported, never lost silently. Close flushes what is queued.
type Publisher struct {
	nc    *nats.Conn
	opts  PublisherOptions
	queue chan message
	crit  chan message // the critical lane, sent first
	done  chan struct{}
	once  sync.Once

	published, dropped, publishErrs, marshalErrs, critical atomic.Uint64
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
		}
	}
}

func (p *Publisher) send(m message, critical bool) {
	if err := p.nc.Publish(m.subject, m.data); err != nil {
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
	if p.nc.IsClosed() {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := p.nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return err
	}
	return nil
}

package sensor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/proc"
)

// ErrPublisherClosed is returned by Publisher.Close when called twice.
var ErrPublisherClosed = errors.New("publisher closed")

// PublisherOptions configures a Publisher.
type PublisherOptions struct {
	// Host labels events whose Host field is empty and names the subject's
	// host token (event.EventSubject).
	Host string
	// QueueLen bounds the events waiting to be handed to the publishing
	// goroutine (default 16384). When it is full, Publish drops the event
	// and counts it rather than stall the ring buffer reader that calls it.
	QueueLen int
	// CriticalQueueLen bounds the critical events waiting (default 4096):
	// they have a queue of their own, which the publisher empties first.
	CriticalQueueLen int
	// BufferBytes bounds the events kept in memory while they cannot be
	// sent (NATS unreachable, or sent again after a missing
	// acknowledgement) (default 64 MiB). Beyond, they go to the Spool, or
	// are dropped and counted per event.
	BufferBytes int
	// NoAcks publishes every event as a core NATS message, without asking
	// JetStream to acknowledge it (the events the client holds when the
	// server dies are lost, uncounted).
	NoAcks bool
	// AckWindow bounds the events published and not yet acknowledged
	// (default 8192). With it full, the publisher waits for
	// acknowledgements before sending more.
	AckWindow int
	// AckTimeout is how long an acknowledgement may take before the event
	// is sent again (default 5s).
	AckTimeout time.Duration
	// Spool, when set, takes the events that do not fit BufferBytes while
	// NATS is unreachable; they go out, in order, once it is back (also
	// after a restart: the spool is a file). The Publisher closes it.
	Spool *Spool
	// FullContext sends every event whole, with its full process context,
	// as it was before lean events: each message stands alone. By default a
	// routine event whose process context this publisher sent before
	// carries only a reference to it ("ctx", see event.ContextEncoder), and
	// the publisher answers requests for contexts on
	// event.ContextSubject(Host). Critical events are always whole.
	FullContext bool
	// ContextLimit bounds the process contexts remembered to send events
	// lean and to answer requests (about 2*ContextLimit; default
	// DefaultContextLimit). A context forgotten is sent whole again.
	ContextLimit int
	// Logger receives drop and error reports (rate-limited).
	Logger zerolog.Logger
}

// DefaultContextLimit is PublisherOptions.ContextLimit's default, sized from
// the sensor's process table bound (proc.DefaultMaxEntries, 65,536): the
// encoder remembers between 8,192 and 16,384 contexts, the last version of
// each process and the contexts sent, far more than a host has processes
// alive at once (those of processes long gone, or quiet for a long time,
// are what is forgotten: sent whole again, or answered with an error to a
// consumer that asks that late). A context holds its full process object,
// 0.5-2.5 KB with the ancestry's argv: at most ~40 MB on the build VM,
// whose ancestry is unusually long.
const DefaultContextLimit = proc.DefaultMaxEntries / 8

// Bounds of the context requests waiting for the responder; beyond, the NATS
// client drops them (counted in PublishStats.ContextDropped) and the
// requester times out and may ask again.
const (
	contextPendingMsgs  = 16384
	contextPendingBytes = 1 << 20
)

// PublishStats counts what a Publisher did.
type PublishStats struct {
	// Published counts the events delivered: stored by JetStream (its
	// acknowledgement came; also in Acked) or, where no stream takes
	// them, handed to the NATS connection as core messages.
	Published uint64
	// Acked counts, of Published, the events a JetStream stream
	// acknowledged; Unacked those published as core NATS messages (no
	// stream takes them, or NoAcks).
	Acked, Unacked uint64
	// Retried counts the events sent again after their acknowledgement
	// did not come (NATS went away, or it timed out); the stream drops
	// the copies it has by their message id.
	Retried       uint64
	Dropped       uint64 // lost: the queue, or the memory buffer without a spool, was full
	PublishErrors uint64 // the NATS client or the stream refused the event for good (e.g. too large)
	MarshalErrors uint64 // the event had no JSON form
	// DroppedByEvent counts the events lost (Dropped, PublishErrors,
	// SpoolDropped), per event name.
	DroppedByEvent map[string]uint64
	Queued         int    // events waiting in the queue now
	InFlight       int    // events published and waiting for their acknowledgement
	Critical       uint64 // of Published, sent through the critical lane
	Buffered       int    // bytes of events held in memory until NATS takes them
	// Spooled is the bytes of events waiting in the disk spool; Replayed
	// counts the events sent from it (also in Published); SpoolDropped
	// counts the events the full spool could not take (also in
	// DroppedByEvent).
	Spooled                uint64
	Replayed, SpoolDropped uint64
	// Bytes counts the bytes of the events delivered (their JSON).
	Bytes uint64
	// Lean counts, of Published, the events sent with their process
	// context by reference.
	Lean uint64
	// ContextRequests counts the requests for a process context on
	// event.ContextSubject; ContextAnswers those answered with the
	// context, ContextMisses the others (a context this publisher never
	// sent or no longer remembers, or a bad request: answered with an
	// error, unless it has no reply subject);
	// ContextDropped those the NATS client dropped unanswered because the
	// responder was 16,384 requests behind (not in ContextRequests).
	ContextRequests, ContextAnswers, ContextMisses, ContextDropped uint64
}

// Publisher publishes events as JSON on vigil.events.<event>.<host>.
//
// Publish never blocks: it marshals the event and queues the bytes; one
// goroutine sends them. Where a JetStream stream takes the events, that
// goroutine publishes each with a per-event message id (Nats-Msg-Id) and a
// reply subject of its own under one inbox the publisher subscribes to, and
// keeps up to AckWindow events in flight; the stream's acknowledgements
// come back on that one subscription and are matched to the events by the
// send number in their subject (no future, timer or channel per event, as
// nats.go's PublishMsgAsync has). An event whose acknowledgement does not
// come (the server died with it in the client's write buffer, the
// connection dropped, or it timed out) is sent again, in order, with the
// same id, so that the stream keeps one copy. Where none does (the server
// answers "no responders"), events go out as core NATS messages, and the
// publisher asks again every second.
//
// PublishCritical queues on a second queue, which that goroutine always
// empties first: a critical event waits behind no backlog of routine ones.
// While NATS is unreachable, events wait in memory (BufferBytes), then in
// the Spool. Events that do not fit the queue, the memory buffer or the
// spool are counted per event and reported, never lost silently. Close
// sends what is queued.
type Publisher struct {
	nc    *nats.Conn
	js    jetstream.JetStream // nil: core NATS only
	opts  PublisherOptions
	queue *lane // encoded events from Publish
	crit  *lane // the critical lane, sent first
	done  chan struct{}
	stop  chan struct{} // closed by Close: ends watchStream
	once  sync.Once
	// stream is set while a JetStream stream takes the host's events
	// (watchStream asks the server).
	stream atomic.Bool
	// asked is set once watchStream had its first answer: until then (at
	// most firstAsk after start) nothing is sent, so that the first
	// events do not go out without acknowledgements for want of asking.
	asked   atomic.Bool
	started time.Time
	// closeCtx bounds how long the goroutine drains after Close; written
	// before the queues close, read after.
	closeCtx context.Context

	// Acknowledgements: sub receives them on inbox + send number;
	// onAck (the subscription's goroutine) appends them to acks and
	// notes it on ackNote; the publishing goroutine takes them. sub is
	// nil when events go out as core NATS messages only.
	sub     *nats.Subscription
	inbox   string
	status  chan nats.Status // RECONNECTING, CLOSED: what is in flight is sent again
	ackMu   sync.Mutex
	acks    []ackResult
	ackNote chan struct{}

	// owned by the publishing goroutine
	idPrefix  string
	seq       uint64
	sendSeq   uint64      // numbers every acknowledged send (the reply subject's last token)
	spareAcks []ackResult // the other half of acks' double buffer
	out       nats.Msg    // reused for every acknowledged send (PublishMsg keeps nothing)
	outID     []string    // out's Nats-Msg-Id header value
	sendBuf   []byte      // the reply subject and message id of out (send)
	mem, cmem fifo        // routine and critical events waiting in memory, oldest first
	inflight  fifo        // published, waiting for their acknowledgement, in order
	coreUntil time.Time   // publish as core NATS until then (no stream answered)
	holdUntil time.Time   // after a failure, send nothing until then
	// now is the time the publishing goroutine read last, once for a
	// batch of events taken from the queue (reading the clock cost as
	// much as a tenth of the CPU per event): what canSend compares with
	// and sends are stamped with.
	now time.Time

	published, acked, unacked, retried, dropped, publishErrs, marshalErrs, critical atomic.Uint64
	replayed, spoolDropped, spooled                                                 atomic.Uint64
	memBytes, inFlight                                                              atomic.Int64
	byEvent                                                                         sync.Map // event name -> *atomic.Uint64
	subjects                                                                        [event.IDLimit]atomic.Pointer[cachedSubject]
	lastReport                                                                      atomic.Int64 // unix nanos of the last drop/error log

	// Lean events (nil enc: every event whole, PublisherOptions.FullContext).
	// enc encodes the events labelled with the publisher's own host;
	// ctxSub answers requests for the contexts it sent; spoolCtx makes
	// lean events whole again before they go to the spool, which outlives
	// the encoder's memory (a restart).
	enc                                             *event.ContextEncoder
	ctxSub                                          *nats.Subscription
	spoolCtx                                        *event.ContextTable
	bytes, lean, ctxRequests, ctxAnswers, ctxMisses atomic.Uint64
	ctxDroppedAtClose                               atomic.Uint64
}

type message struct {
	name    string
	subject string
	// The Nats-Msg-Id, the same on every send of this event: id, or
	// made from seq when id is empty (messageID).
	id   string
	seq  uint64
	data []byte
	// critical: through the critical lane; spooled: read back from the
	// spool (counted in Replayed once delivered); lean: with its process
	// context by reference
	critical, spooled, lean bool
	refusals                int // times the stream refused it
	// in flight: its send number (the reply subject's), when it was sent,
	// and what its acknowledgement said once it came
	sendSeq uint64
	sentAt  time.Time
	state   ackState
	ackErr  error
}

// ackState is what became of an event in flight.
type ackState uint8

const (
	ackPending ackState = iota
	ackOK
	ackFailed
)

// ackResult is one acknowledgement, as onAck read it.
type ackResult struct {
	seq   uint64
	state ackState
	err   error
}

// fifo is a queue of messages, oldest first, that can take messages back
// at its front: a ring whose size is a power of two, doubled when full, so
// that a queue that stays about as long (the events in flight, bounded by
// the window) never allocates or moves its messages again.
type fifo struct {
	items   []message // the ring: len(items) is 0 or a power of two
	head, n int
}

func (q *fifo) len() int { return q.n }

func (q *fifo) push(m message) {
	if q.n == len(q.items) {
		q.resize(q.n + 1)
	}
	q.items[(q.head+q.n)&(len(q.items)-1)] = m
	q.n++
}

func (q *fifo) pop() message {
	m := q.items[q.head]
	q.items[q.head] = message{}
	q.head = (q.head + 1) & (len(q.items) - 1)
	if q.n--; q.n == 0 {
		q.head = 0
	}
	return m
}

func (q *fifo) front() *message { return &q.items[q.head] }

// at is the i-th message from the front (i < len).
func (q *fifo) at(i int) *message { return &q.items[(q.head+i)&(len(q.items)-1)] }

// resize moves the messages, in order, to the front of a ring of room for
// at least n, twice the old one at least.
func (q *fifo) resize(n int) {
	size := max(16, 2*len(q.items))
	for size < n {
		size *= 2
	}
	items := make([]message, size)
	q.copyTo(items)
	q.items, q.head = items, 0
}

// copyTo copies the messages, in order, to dst.
func (q *fifo) copyTo(dst []message) {
	if q.n == 0 {
		return
	}
	if end := q.head + q.n; end <= len(q.items) {
		copy(dst, q.items[q.head:end])
	} else {
		k := copy(dst, q.items[q.head:])
		copy(dst[k:], q.items[:end-len(q.items)])
	}
}

// pushFront puts ms, in their order, before what q holds.
func (q *fifo) pushFront(ms []message) {
	if len(ms) == 0 {
		return
	}
	size := max(16, len(q.items))
	for size < len(ms)+q.n {
		size *= 2
	}
	items := make([]message, size)
	k := copy(items, ms)
	q.copyTo(items[k:])
	q.items, q.head, q.n = items, 0, q.n+k
}

// take empties q, returning its messages in order.
func (q *fifo) take() []message {
	ms := make([]message, q.n)
	q.copyTo(ms)
	clear(q.items)
	q.head, q.n = 0, 0
	return ms
}

const (
	// coreRecheck is how long events go out as core NATS messages after
	// no stream answered, before the next one asks JetStream again.
	coreRecheck = time.Second
	// firstAsk bounds the wait for watchStream's first answer.
	firstAsk = 3 * time.Second
	// retryHold is the pause before sending again after a failure.
	retryHold = 100 * time.Millisecond
	// maxRefusals is how often the stream may refuse an event (an error
	// in its acknowledgement, or none within AckTimeout while connected)
	// before it is counted lost.
	maxRefusals = 5
)

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
	p := newPublisher(nc, opts)
	p.startResponder()
	if p.js != nil {
		go p.watchStream()
	}
	go p.loop()
	return p
}

// watchStream asks the server, now and then, whether a stream takes the
// host's events: a JetStream publish to a subject no stream takes is
// answered by nobody when a core subscriber (an engine without JetStream)
// has it, and would time out.
func (p *Publisher) watchStream() {
	subject := "vigil.events.*." + event.Token(p.opts.Host)
	known, lastErr := "", ""
	for {
		// While disconnected, look often: the first events after a
		// (re)connection should not go out unacknowledged for want of
		// asking.
		wait := 200 * time.Millisecond
		if p.nc.IsConnected() {
			wait = 2 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			name, err := p.js.StreamNameBySubject(ctx, subject)
			cancel()
			switch {
			case err == nil:
				p.stream.Store(true)
				if name != known {
					p.opts.Logger.Info().Str("stream", name).Msg("publishing events with JetStream acknowledgements")
					if p.enc != nil {
						// What went out before as core NATS messages is
						// stored nowhere: contexts (and the anchors
						// ancestries refer to) are sent in full again,
						// into the stream, for a consumer that reads it
						// back (engine/ctxhistory.go).
						p.enc.Resend()
					}
				}
				known, lastErr = name, ""
				wait = 10 * time.Second
			case errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
				errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
				p.stream.Store(false)
				if known != "-" {
					p.opts.Logger.Info().Str("subject", subject).Msg("no JetStream stream takes the events (yet): publishing them as core NATS messages, without acknowledgements")
				}
				known, lastErr = "-", ""
			default:
				// Unreachable or not allowed: keep what was known.
				if err.Error() != lastErr && p.nc.IsConnected() {
					p.opts.Logger.Warn().Err(err).Str("subject", subject).
						Msg("cannot ask JetStream which stream takes the events (the sensor needs to publish on $JS.API.STREAM.NAMES)")
				}
				lastErr = err.Error()
			}
			p.asked.Store(true)
		}
		select {
		case <-p.stop:
			return
		case <-time.After(wait):
		}
	}
}

// newPublisher is NewPublisher without starting its goroutine.
func newPublisher(nc *nats.Conn, opts PublisherOptions) *Publisher {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 16384
	}
	if opts.CriticalQueueLen <= 0 {
		opts.CriticalQueueLen = 4096
	}
	if opts.BufferBytes <= 0 {
		opts.BufferBytes = 64 << 20
	}
	if opts.AckWindow <= 0 {
		opts.AckWindow = 8192
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 5 * time.Second
	}
	if opts.ContextLimit <= 0 {
		opts.ContextLimit = DefaultContextLimit
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	p := &Publisher{
		nc:       nc,
		opts:     opts,
		queue:    newLane(opts.QueueLen),
		crit:     newLane(opts.CriticalQueueLen),
		done:     make(chan struct{}),
		stop:     make(chan struct{}),
		started:  time.Now(),
		idPrefix: event.Token(opts.Host) + "-" + hex.EncodeToString(rnd[:]) + "-",
	}
	if !opts.FullContext {
		p.enc = event.NewContextEncoder(opts.ContextLimit)
	}
	if !opts.NoAcks {
		js, err := jetstream.New(nc)
		if err == nil {
			p.inbox = nc.NewInbox() + "."
			p.ackNote = make(chan struct{}, 1)
			p.sub, err = nc.Subscribe(p.inbox+"*", p.onAck)
		}
		if err != nil {
			p.sub, p.ackNote = nil, nil
			opts.Logger.Warn().Err(err).Msg("JetStream publishing unavailable: events go out as core NATS messages")
		} else {
			p.js = js
			p.status = nc.StatusChanged(nats.RECONNECTING, nats.CLOSED)
			p.outID = []string{""}
			p.out.Header = nats.Header{jetstream.MsgIDHeader: p.outID}
		}
	}
	if opts.Spool != nil {
		p.spooled.Store(uint64(opts.Spool.Pending()))
	}
	return p
}

// Publish queues ev for publication. It is safe for concurrent use and does
// not keep ev after it returns.
func (p *Publisher) Publish(ev *event.Event) { p.enqueue(p.queue, ev, false) }

// PublishCritical queues ev in the critical lane, sent before any routine
// event waiting.
func (p *Publisher) PublishCritical(ev *event.Event) { p.enqueue(p.crit, ev, true) }

func (p *Publisher) enqueue(queue *lane, ev *event.Event, critical bool) {
	host := ev.Host
	if host == "" {
		// Label a copy: the caller's event is left as it was.
		cp := *ev
		cp.Host = p.opts.Host
		ev, host = &cp, cp.Host
	}
	var data []byte
	var err error
	lean := false
	if p.enc != nil && host == p.opts.Host {
		// Contexts are asked of this publisher by its own host's name:
		// another host's events go out whole.
		data, err = encodeWith(func(buf []byte) (out []byte, err error) {
			out, lean, err = p.enc.Encode(buf, ev, critical)
			return out, err
		})
	} else {
		data, err = encodeEvent(ev)
	}
	if err != nil {
		p.marshalErrs.Add(1)
		p.report("marshalling an event", err, ev.Name)
		return
	}
	if !queue.put(message{name: ev.Name, subject: p.subject(ev, host), data: data, critical: critical, lean: lean}) {
		eventBuffers.put(data)
		p.dropped.Add(1)
		p.lost(ev.Name)
		p.report("dropping events: the NATS publisher queue is full", nil, ev.Name)
	}
}

// encodeBuffers are the buffers events are encoded in before they are
// copied to their exact size; one that grew beyond maxEncodeBuffer (a huge
// event) is left to the collector.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxEncodeBuffer = 64 << 10

// encodeEvent is ev's JSON form, encoded in a reused buffer and kept in a
// slice of about its size from eventBuffers: a queued event holds its bytes
// only. The publisher puts the slice back once it is done with the event
// (release).
func encodeEvent(ev *event.Event) ([]byte, error) { return encodeWith(ev.AppendJSON) }

// encodeWith is encodeEvent with the JSON written by appendJSON.
func encodeWith(appendJSON func([]byte) ([]byte, error)) ([]byte, error) {
	bp := encodeBuffers.Get().(*[]byte)
	buf, err := appendJSON((*bp)[:0])
	if err != nil {
		encodeBuffers.Put(bp)
		return nil, err
	}
	data := append(eventBuffers.get(len(buf)), buf...)
	if cap(buf) <= maxEncodeBuffer {
		*bp = buf
		encodeBuffers.Put(bp)
	}
	return data, nil
}

// startResponder subscribes to event.ContextSubject(Host) to answer
// requests for the contexts the encoder sent (a consumer that missed the
// whole event: dropped, reordered by a resend, or read after a restart).
// The answers come from the subscription's goroutine: they take the
// encoder's lock for a map lookup and never wait for the publishing
// goroutine.
func (p *Publisher) startResponder() {
	if p.enc == nil {
		return
	}
	subject := event.ContextSubject(p.opts.Host)
	sub, err := p.nc.Subscribe(subject, p.answerContext)
	if err == nil {
		err = sub.SetPendingLimits(contextPendingMsgs, contextPendingBytes)
	}
	if err != nil {
		p.opts.Logger.Warn().Err(err).Str("subject", subject).Msg("cannot answer requests for process contexts: consumers that miss a context cannot resolve the events that refer to it")
		if sub != nil {
			sub.Unsubscribe()
		}
		return
	}
	p.ctxSub = sub
}

// answerContext answers one request for a process context: its data is
// the key, the answer the full process object, or an empty message with a
// event.ContextErrorHeader.
func (p *Publisher) answerContext(msg *nats.Msg) {
	p.ctxRequests.Add(1)
	if msg.Reply == "" {
		p.ctxMisses.Add(1)
		return
	}
	key := string(bytes.TrimSpace(msg.Data))
	reply := nats.Msg{Subject: msg.Reply}
	if obj, ok := p.enc.Context(key); ok {
		reply.Data = obj
		p.ctxAnswers.Add(1)
	} else {
		p.ctxMisses.Add(1)
		why := "unknown process context " + strconv.Quote(key) + " (never sent by this sensor, or forgotten)"
		if len(key) != 16 {
			why = "a request for a process context holds its 16-digit key, not " + strconv.Quote(key[:min(len(key), 64)])
		}
		reply.Header = nats.Header{event.ContextErrorHeader: []string{why}}
	}
	if err := p.nc.PublishMsg(&reply); err != nil {
		p.report("answering a request for a process context", err, msg.Subject)
	}
}

// whole returns the event data with its process context in full: a lean
// event, or a full one whose ancestry refers to another context, is made
// whole again from the encoder's contexts (the data as it is when the
// encoder no longer has them).
func (p *Publisher) whole(data []byte) []byte {
	if p.spoolCtx == nil {
		p.spoolCtx = event.NewContextTable(256)
	}
	out, missing, err := p.spoolCtx.Resolve(nil, data)
	if errors.Is(err, event.ErrUnknownContext) {
		if obj, ok := p.enc.Context(missing); ok {
			if _, err = p.spoolCtx.Add(obj); err == nil {
				out, _, err = p.spoolCtx.Resolve(nil, data)
			}
		}
	}
	if err != nil {
		return data
	}
	return out
}

// subject is event.EventSubject(ev.Name, host), made once per event for
// the publisher's own host (by event id; the name is checked, an event read
// back from JSON may have none).
func (p *Publisher) subject(ev *event.Event, host string) string {
	if host != p.opts.Host || ev.ID == 0 || ev.ID >= event.IDLimit {
		return event.EventSubject(ev.Name, host)
	}
	if c := p.subjects[ev.ID].Load(); c != nil && c.name == ev.Name {
		return c.subject
	}
	c := &cachedSubject{name: ev.Name, subject: event.EventSubject(ev.Name, host)}
	p.subjects[ev.ID].Store(c)
	return c.subject
}

type cachedSubject struct{ name, subject string }

func (p *Publisher) loop() {
	defer close(p.done)
	// A tick sends what waits once NATS is back, even when no new event
	// comes.
	tick := time.NewTicker(retryHold)
	defer tick.Stop()
	p.now = time.Now()
	for {
		p.pump()
		p.queue.settle()
		p.crit.settle()
		// The critical lane first, whenever it holds something.
		if m, ok := p.crit.take(); ok {
			p.now = time.Now()
			p.accept(m)
			continue
		}
		var queued <-chan struct{}
		if !p.windowFull() { // else acknowledgements first: the queue holds the rest
			if m, ok := p.queue.take(); ok {
				p.now = time.Now()
				p.accept(m)
				p.takeBatch()
				continue
			}
			queued = p.queue.note
		}
		if p.crit.ended() && p.queue.ended() {
			break
		}
		select {
		case <-p.crit.note:
		case <-queued:
		case <-p.ackNote:
			p.now = time.Now()
			p.takeAcks()
		case st := <-p.status:
			p.now = time.Now()
			p.connChanged(st)
		case <-tick.C:
			p.now = time.Now()
			p.checkTimeout()
		}
	}
	p.drain(tick.C)
}

// maxBatch bounds the events takeBatch accepts with one reading of the
// clock.
const maxBatch = 256

// takeBatch accepts what else waits in the queue, up to maxBatch events in
// all, without going back to the select: under load, a wake-up and a
// reading of the clock serve a batch of events rather than each. It stops
// as soon as a critical event waits or the window of acknowledgements is
// full.
func (p *Publisher) takeBatch() {
	for n := 1; n < maxBatch && !p.crit.waiting() && !p.windowFull(); n++ {
		m, ok := p.queue.take()
		if !ok {
			return
		}
		p.accept(m)
	}
}

// lane is a queue of encoded events from Publish to the publishing
// goroutine. Publish appends under a lock; the goroutine takes all that
// was appended at once, by swapping two slices, and then takes the events
// from its own: one lock per batch on its side, rather than a channel
// operation (a lock shared with Publish) per event on both sides.
type lane struct {
	limit  int
	queued atomic.Int64  // in, and out from next: what limit bounds
	note   chan struct{} // something was appended to an empty lane, or it closed

	mu     sync.Mutex
	in     []message
	closed atomic.Bool

	// owned by the publishing goroutine
	out        []message
	next, took int // took: taken since the last settle
}

func newLane(limit int) *lane { return &lane{limit: limit, note: make(chan struct{}, 1)} }

// put appends m, or returns false when the lane holds limit events or is
// closed (a Publish after Close: counted as dropped, not lost unseen).
func (l *lane) put(m message) bool {
	if l.queued.Add(1) > int64(l.limit) {
		l.queued.Add(-1)
		return false
	}
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		l.queued.Add(-1)
		return false
	}
	wake := len(l.in) == 0
	l.in = append(l.in, m)
	l.mu.Unlock()
	if wake {
		select {
		case l.note <- struct{}{}:
		default:
		}
	}
	return true
}

// close makes the lane end once emptied; put refuses what comes after.
func (l *lane) close() {
	l.mu.Lock()
	l.closed.Store(true)
	l.mu.Unlock()
	select {
	case l.note <- struct{}{}:
	default:
	}
}

// take is the oldest event waiting, false when none does.
func (l *lane) take() (message, bool) {
	if l.next == len(l.out) {
		if l.queued.Load() <= int64(l.took) {
			// nothing appended since the last swap (a put under way
			// notes it once it appended)
			return message{}, false
		}
		clear(l.out)
		l.mu.Lock()
		l.out, l.in, l.next = l.in, l.out[:0], 0
		l.mu.Unlock()
		if len(l.out) == 0 {
			return message{}, false
		}
	}
	m := l.out[l.next]
	l.next++
	l.took++
	return m, true
}

// settle counts the events taken out of queued, once per batch.
func (l *lane) settle() {
	if l.took > 0 {
		l.queued.Add(-int64(l.took))
		l.took = 0
	}
}

// waiting reports whether events wait in the lane (those taken since the
// last settle included: the publishing goroutine settles before it asks).
func (l *lane) waiting() bool { return l.next < len(l.out) || l.queued.Load() > int64(l.took) }

// ended reports whether the lane is closed and empty.
func (l *lane) ended() bool { return l.closed.Load() && !l.waiting() }

// len is the events waiting.
func (l *lane) len() int { return int(l.queued.Load()) }

// onAck runs on the acknowledgement subscription's goroutine: it reads
// which send the message answers and what it says, and leaves that for the
// publishing goroutine. An answer it cannot read is left out: its event
// is sent again when its time-out passes.
func (p *Publisher) onAck(msg *nats.Msg) {
	seq, err := strconv.ParseUint(msg.Subject[min(len(p.inbox), len(msg.Subject)):], 36, 64)
	if err != nil {
		return
	}
	r := ackResult{seq: seq, state: ackOK}
	if r.err = readAck(msg); r.err != nil {
		r.state = ackFailed
	}
	p.ackMu.Lock()
	p.acks = append(p.acks, r)
	p.ackMu.Unlock()
	select {
	case p.ackNote <- struct{}{}:
	default:
	}
}

// errMalformedAck is an answer to a publish that is no JetStream
// acknowledgement.
var errMalformedAck = errors.New("malformed JetStream acknowledgement")

// readAck reads a JetStream publish acknowledgement as nats.go's jetstream
// package reads one: nil when the stream stored the event (or had it
// already: a duplicate), the stream's *jetstream.APIError when it refused
// it, jetstream.ErrNoStreamResponse when nothing took the subject, and an
// error wrapping errMalformedAck (with the subject it came on and its
// first bytes) for anything else.
func readAck(msg *nats.Msg) error {
	data := msg.Data
	if len(data) == 0 {
		if msg.Header.Get("Status") == "503" {
			return jetstream.ErrNoStreamResponse
		}
		return malformedAck(msg, "an empty message")
	}
	// The common answer, in the server's own words, is told apart
	// without decoding it; anything else is decoded.
	if plainAck(data) {
		return nil
	}
	var resp struct {
		Error *jetstream.APIError `json:"error"`
		*jetstream.PubAck
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return malformedAck(msg, err.Error())
	}
	if resp.Error != nil {
		return resp.Error
	}
	if resp.PubAck == nil || resp.Stream == "" {
		return malformedAck(msg, "no stream named")
	}
	return nil
}

func malformedAck(msg *nats.Msg, why string) error {
	return fmt.Errorf("%w on %s: %s: %q", errMalformedAck, msg.Subject, why, msg.Data[:min(len(msg.Data), 96)])
}

// plainAck reports whether data is an acknowledgement as nats-server
// writes it for a message stored, or a duplicate (a stream named, a
// domain perhaps, a sequence; server/stream.go's pubAck):
//
//	{"stream":"EVENTS","seq":12}
//	{"stream":"EVENTS","domain":"hub","seq":12}
//	{"stream":"EVENTS","seq":12,"duplicate": true}
//
// It is false for anything else, also a valid acknowledgement written
// otherwise: readAck decodes those. What it accepts, encoding/json reads
// as a stored event too (TestReadAck).
func plainAck(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte(`{"stream":`))
	if !ok {
		return false
	}
	if rest, ok = jsonName(rest); !ok {
		return false
	}
	if r, found := bytes.CutPrefix(rest, []byte(`,"domain":`)); found {
		if rest, ok = jsonName(r); !ok {
			return false
		}
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`)); !ok {
		return false
	}
	// a sequence: digits without a leading zero, that fit a uint64
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n > 1 && rest[0] == '0' {
		return false
	}
	if _, err := strconv.ParseUint(unsafe.String(&rest[0], n), 10, 64); err != nil {
		return false
	}
	rest = rest[n:]
	if r, found := bytes.CutPrefix(rest, []byte(`,"duplicate": true`)); found {
		rest = r
	} else if r, found := bytes.CutPrefix(rest, []byte(`,"duplicate":true`)); found {
		rest = r
	}
	return len(rest) == 1 && rest[0] == '}'
}

// jsonName takes a JSON string of one or more plain characters (no escape,
// no control character) off the front of b.
func jsonName(b []byte) (rest []byte, ok bool) {
	if len(b) < 3 || b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[i+1:], i > 1
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// takeAcks applies the acknowledgements onAck left: each to its event in
// flight by its send number (an answer to an earlier send of an event sent
// again since, or to one given up, matches none and is ignored), then
// settles the events at the front that have their answer, in order.
func (p *Publisher) takeAcks() {
	p.ackMu.Lock()
	rs := p.acks
	p.acks = p.spareAcks[:0]
	p.ackMu.Unlock()
	for _, r := range rs {
		n := p.inflight.len()
		if n == 0 {
			break
		}
		base := p.inflight.front().sendSeq
		if r.seq < base || r.seq-base >= uint64(n) {
			continue
		}
		if m := p.inflight.at(int(r.seq - base)); m.state == ackPending {
			m.state, m.ackErr = r.state, r.err
		}
	}
	clear(rs)
	p.spareAcks = rs[:0]
	p.settle()
}

// settle takes the events at the front of those in flight that have their
// answer: delivered, or failed (the oldest failure decides, as if the
// answers came in order).
func (p *Publisher) settle() {
	for p.inflight.len() > 0 {
		switch h := p.inflight.front(); h.state {
		case ackOK:
			p.ackHead()
		case ackFailed:
			p.failHead(h.ackErr)
		default:
			return
		}
	}
}

// checkTimeout fails the oldest event in flight once its acknowledgement
// is later than AckTimeout.
func (p *Publisher) checkTimeout() {
	if p.inflight.len() > 0 && time.Since(p.inflight.front().sentAt) > p.opts.AckTimeout {
		p.failHead(jetstream.ErrAsyncPublishTimeout)
	}
}

// connChanged: when the connection drops, what is in flight may have died
// in the client's buffer or the server's socket; it is sent again (with
// the same ids) once the connection is back.
func (p *Publisher) connChanged(st nats.Status) {
	if st == nats.RECONNECTING && p.inflight.len() > 0 {
		p.failHead(nats.ErrDisconnected)
	}
}

func (p *Publisher) windowFull() bool { return p.inflight.len() >= p.opts.AckWindow }

func (p *Publisher) canSend() bool {
	if p.js != nil && !p.asked.Load() && time.Since(p.started) < firstAsk {
		return false
	}
	return !p.windowFull() && !p.now.Before(p.holdUntil) && p.nc.IsConnected()
}

// accept takes a new event: sent now when nothing older waits and NATS
// takes it, else kept in order.
func (p *Publisher) accept(m message) {
	p.seq++
	m.seq = p.seq
	waiting := p.mem.len() > 0 || p.spoolPending() > 0
	if m.critical {
		waiting = p.cmem.len() > 0
	}
	if !waiting && p.canSend() && p.send(m) {
		return
	}
	p.buffer(m)
}

// messageID is m's Nats-Msg-Id: made when it is sent with
// acknowledgements or spooled, not for every event.
func (p *Publisher) messageID(m *message) string {
	if m.id != "" {
		return m.id
	}
	var b [64]byte
	return string(strconv.AppendUint(append(b[:0], p.idPrefix...), m.seq, 36))
}

// buffer keeps m until it can be sent: in memory while it fits, else in the
// spool, else it is dropped and counted.
func (p *Publisher) buffer(m message) {
	sp := p.opts.Spool
	if p.memBytes.Load()+int64(len(m.data)) <= int64(p.opts.BufferBytes) && (m.critical || p.spoolPending() == 0) {
		p.hold(m)
		return
	}
	if sp != nil {
		p.toSpool(m)
		return
	}
	p.dropped.Add(1)
	p.lost(m.name)
	p.release(m)
	p.report("dropping events: NATS does not take them and the memory buffer is full (--buffer-bytes; a --spool-dir takes more)", nil, m.name)
}

// hold puts m at the back of its memory queue.
func (p *Publisher) hold(m message) {
	p.memBytes.Add(int64(len(m.data)))
	if m.critical {
		p.cmem.push(m)
	} else {
		p.mem.push(m)
	}
}

// requeue puts ms, in order, in front of what waits in memory (they are
// older than all of it).
func (p *Publisher) requeue(ms []message) {
	var routine, crit []message
	for _, m := range ms {
		p.memBytes.Add(int64(len(m.data)))
		if m.critical {
			crit = append(crit, m)
		} else {
			routine = append(routine, m)
		}
	}
	p.cmem.pushFront(crit)
	p.mem.pushFront(routine)
}

func (p *Publisher) spoolPending() int64 {
	if p.opts.Spool == nil {
		return 0
	}
	return p.opts.Spool.Pending()
}

// pump sends what waits, oldest first (critical events before routine
// ones), while NATS takes it.
func (p *Publisher) pump() {
	for p.canSend() {
		m, ok := p.next()
		if !ok || !p.send(m) {
			return
		}
	}
}

// next takes the oldest waiting event: the critical ones, then memory, then
// the spool.
func (p *Publisher) next() (message, bool) {
	for _, q := range []*fifo{&p.cmem, &p.mem} {
		if q.len() > 0 {
			m := q.pop()
			p.memBytes.Add(-int64(len(m.data)))
			return m, true
		}
	}
	sp := p.opts.Spool
	if sp == nil || sp.Pending() == 0 {
		return message{}, false
	}
	defer func() { p.spooled.Store(uint64(sp.Pending())) }()
	key, data, err := sp.Next()
	if err == nil {
		// The record leaves the spool now; until acknowledged it is in
		// memory (in flight, or back in front of the memory queue).
		m := message{data: append(eventBuffers.get(len(data)), data...), spooled: true}
		m.subject, m.id, _ = strings.Cut(key, " ")
		if m.id == "" {
			p.seq++
			m.seq = p.seq
		}
		m.name = eventOfSubject(m.subject)
		if err = sp.Done(); err == nil {
			return m, true
		}
	}
	p.report("replaying the spool", err, "")
	return message{}, false
}

// eventOfSubject is the event name in vigil.events.<event>.<host>.
func eventOfSubject(subject string) string {
	rest, ok := strings.CutPrefix(subject, "vigil.events.")
	if !ok {
		return subject
	}
	name, _, _ := strings.Cut(rest, ".")
	return name
}

// send publishes m; false when NATS did not take it now (m is back in front
// of the memory queue).
func (p *Publisher) send(m message) bool {
	var err error
	if now := p.now; p.sub != nil && p.stream.Load() && !now.Before(p.coreUntil) {
		p.sendSeq++
		m.sendSeq, m.sentAt, m.state, m.ackErr = p.sendSeq, now, ackPending, nil
		// The reply subject and the message id are written in a reused
		// buffer and handed over as strings that alias it: PublishMsg
		// copies them into the connection's buffer and keeps nothing (as
		// it keeps nothing of p.out), and they are reset before the
		// buffer is written again.
		b := append(p.sendBuf[:0], p.inbox...)
		b = strconv.AppendUint(b, p.sendSeq, 36)
		replyEnd := len(b)
		if m.id != "" {
			b = append(b, m.id...)
		} else {
			b = strconv.AppendUint(append(b, p.idPrefix...), m.seq, 36)
		}
		p.sendBuf = b
		p.out.Subject, p.out.Reply, p.out.Data = m.subject, unsafe.String(&b[0], replyEnd), m.data
		p.outID[0] = unsafe.String(&b[replyEnd], len(b)-replyEnd)
		err = p.nc.PublishMsg(&p.out)
		p.out.Reply, p.out.Data = "", nil
		p.outID[0] = ""
		if err == nil {
			p.inflight.push(m)
			p.inFlight.Store(int64(p.inflight.len()))
			return true
		}
	} else if err = p.nc.Publish(m.subject, m.data); err == nil {
		p.delivered(m, false)
		return true
	}
	if errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) {
		p.requeue([]message{m})
		p.holdUntil = time.Now().Add(retryHold)
		return false
	}
	p.publishErrs.Add(1)
	p.lost(m.name)
	p.release(m)
	p.report("publishing an event", err, m.subject)
	return true
}

// release gives m's bytes back to the pool: m was delivered (the NATS client
// copied them), spooled or counted lost, and nothing refers to them.
func (p *Publisher) release(m message) { eventBuffers.put(m.data) }

func (p *Publisher) delivered(m message, acked bool) {
	p.bytes.Add(uint64(len(m.data)))
	if m.lean {
		p.lean.Add(1)
	}
	p.release(m)
	p.published.Add(1)
	if acked {
		p.acked.Add(1)
	} else {
		p.unacked.Add(1)
	}
	if m.critical {
		p.critical.Add(1)
	}
	if m.spooled {
		p.replayed.Add(1)
	}
}

func (p *Publisher) popHead() message {
	m := p.inflight.pop()
	m.state, m.ackErr = ackPending, nil
	p.inFlight.Store(int64(p.inflight.len()))
	return m
}

func (p *Publisher) ackHead() {
	p.delivered(p.popHead(), true)
}

func (p *Publisher) failHead(err error) {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		// No stream takes the subject (or the server has no JetStream):
		// the server handed the event to its core subscribers only.
		if time.Now().After(p.coreUntil.Add(time.Minute)) {
			p.opts.Logger.Info().Str("subject", p.inflight.front().subject).
				Msg("no JetStream stream takes the events: publishing them as core NATS messages, without acknowledgements, and asking again every second")
		}
		p.delivered(p.popHead(), false)
		p.coreUntil = time.Now().Add(coreRecheck)
		return
	case errors.As(err, &apiErr) || errors.Is(err, errMalformedAck) ||
		errors.Is(err, jetstream.ErrAsyncPublishTimeout) && p.nc.IsConnected():
		// Refused, or no answer on a connection that works: sent again
		// a few times, then counted lost.
		if p.inflight.front().refusals++; p.inflight.front().refusals >= maxRefusals {
			m := p.popHead()
			p.publishErrs.Add(1)
			p.lost(m.name)
			p.release(m)
			p.report("the stream refused an event", err, m.subject)
			return
		}
	}
	// No acknowledgement (NATS went away, it timed out) or a refusal that
	// may pass: every event in flight goes back, in order, in front of
	// those waiting, and is sent again with the same message id. The
	// stream drops a copy of what it stored already; the late answers to
	// the first sends are ignored.
	ms := p.inflight.take()
	for i := range ms {
		ms[i].state, ms[i].ackErr = ackPending, nil
	}
	p.inFlight.Store(0)
	p.retried.Add(uint64(len(ms)))
	p.requeue(ms)
	p.holdUntil = time.Now().Add(retryHold)
}

func (p *Publisher) toSpool(m message) {
	sp := p.opts.Spool
	data := m.data
	if m.lean || (p.enc != nil && event.RefersAncestry(data)) {
		// The spool may be read after a restart, by a sensor that never
		// sent the context (or the one an ancestry refers to): it keeps
		// events whole.
		data = p.whole(data)
	}
	err := sp.Append(m.subject+" "+p.messageID(&m), data) // a copy
	p.release(m)
	if err != nil {
		p.spoolDropped.Add(1)
		p.lost(m.name)
		p.report("dropping events: the spool cannot take them", err, m.name)
		return
	}
	p.spooled.Store(uint64(sp.Pending()))
}

// drain runs after Close: it sends what waits and waits for the
// acknowledgements, until closeCtx ends, or NATS is unreachable and a spool
// takes the rest. What is left goes to the spool or is counted lost.
func (p *Publisher) drain(tick <-chan time.Time) {
	ctx := p.closeCtx
	for p.inflight.len()+p.cmem.len()+p.mem.len() > 0 || p.spoolPending() > 0 && p.nc.IsConnected() {
		p.now = time.Now()
		// While NATS is unreachable: to the spool at once; without one,
		// wait for it to come back until ctx ends rather than lose them.
		if ctx.Err() != nil || p.nc.IsClosed() ||
			!p.nc.IsConnected() && p.inflight.len() == 0 && (p.opts.Spool != nil || !p.nc.IsReconnecting()) {
			break
		}
		p.pump()
		select {
		case <-p.ackNote:
			p.takeAcks()
		case st := <-p.status:
			p.connChanged(st)
		case <-tick:
			p.checkTimeout()
		case <-ctx.Done():
		}
	}
	left := append(p.inflight.take(), p.cmem.take()...)
	left = append(left, p.mem.take()...)
	p.inFlight.Store(0)
	p.memBytes.Store(0)
	if len(left) == 0 {
		return
	}
	if p.opts.Spool != nil {
		// In flight ones may be stored already: sent again at the next
		// start with the same id, the stream drops them as copies.
		for _, m := range left {
			p.toSpool(m)
		}
		p.opts.Logger.Info().Int("events", len(left)).Msg("stopping before NATS took every event: the rest went to the spool")
		return
	}
	for _, m := range left {
		p.dropped.Add(1)
		p.lost(m.name)
		p.release(m)
	}
	p.opts.Logger.Warn().Int("events", len(left)).Msg("stopping before NATS took every event: the rest is lost (counted as dropped; --spool-dir keeps them)")
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

// Backlog returns the share of the routine queue that holds events not
// yet handed to the NATS client: at 1, Publish drops what comes.
func (p *Publisher) Backlog() float64 {
	if p.queue.limit <= 0 {
		return 0
	}
	return float64(p.queue.len()) / float64(p.queue.limit)
}

// Stats returns the counters so far.
func (p *Publisher) Stats() PublishStats {
	st := PublishStats{
		Published:       p.published.Load(),
		Acked:           p.acked.Load(),
		Unacked:         p.unacked.Load(),
		Retried:         p.retried.Load(),
		Dropped:         p.dropped.Load(),
		PublishErrors:   p.publishErrs.Load(),
		MarshalErrors:   p.marshalErrs.Load(),
		DroppedByEvent:  map[string]uint64{},
		Queued:          p.queue.len() + p.crit.len(),
		InFlight:        int(p.inFlight.Load()),
		Buffered:        int(p.memBytes.Load()),
		Spooled:         p.spooled.Load(),
		Replayed:        p.replayed.Load(),
		SpoolDropped:    p.spoolDropped.Load(),
		Critical:        p.critical.Load(),
		Bytes:           p.bytes.Load(),
		Lean:            p.lean.Load(),
		ContextRequests: p.ctxRequests.Load(),
		ContextAnswers:  p.ctxAnswers.Load(),
		ContextMisses:   p.ctxMisses.Load(),
	}
	st.ContextDropped = p.ctxDroppedAtClose.Load()
	if p.ctxSub != nil {
		if n, err := p.ctxSub.Dropped(); err == nil {
			st.ContextDropped = uint64(n)
		}
	}
	if p.nc != nil {
		if n, err := p.nc.Buffered(); err == nil {
			st.Buffered += n
		}
	}
	p.byEvent.Range(func(k, v any) bool {
		st.DroppedByEvent[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return st
}

// Close stops accepting events and sends what is queued or waiting, and
// waits for its acknowledgements, until ctx is done (10s when ctx has no
// deadline), or NATS is unreachable and there is a spool; what is left
// then goes to the spool, or is counted lost. Publish must not be called during or after Close.
func (p *Publisher) Close(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	closed := false
	p.once.Do(func() {
		close(p.stop)
		p.closeCtx = ctx
		p.queue.close()
		p.crit.close()
		closed = true
	})
	if !closed {
		return ErrPublisherClosed
	}
	// The goroutine stops draining when ctx ends; what it still does then
	// is bounded (writing the rest to the spool).
	<-p.done
	if sub := p.ctxSub; sub != nil {
		// The events are out: no consumer learns of a new context now.
		if n, err := sub.Dropped(); err == nil {
			p.ctxDroppedAtClose.Store(uint64(n))
		}
		sub.Unsubscribe()
	}
	if p.sub != nil {
		p.sub.Unsubscribe()
		p.nc.RemoveStatusListener(p.status)
	}
	var spoolErr error
	if sp := p.opts.Spool; sp != nil {
		if n := sp.Pending(); n > 0 {
			p.opts.Logger.Info().Int64("bytes", n).Str("spool", sp.f.Name()).Msg("events left in the spool: they go out at the next start")
		}
		spoolErr = sp.Close()
	}
	if p.nc.IsClosed() || !p.nc.IsConnected() {
		return spoolErr
	}
	if err := p.nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return errors.Join(err, spoolErr)
	}
	return spoolErr
}

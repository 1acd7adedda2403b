package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// Lean events (see event.ContextEncoder): a sensor sends a process context
// in full once and refers to it by key after. The server keeps the contexts
// it has seen in an event.ContextTable and rebuilds every lean event to its
// full form before it is evaluated, so signatures and findings see the
// whole process (exe, argv, credentials, ancestry) as if the sensor had
// sent it all. A context the table does not hold (the engine started after
// the sensor, another engine of the group took the full event, the table
// forgot it) is asked of the event's sensor on event.ContextSubject(host).
// An event that cannot be resolved is not evaluated: a signature reading
// input.process.exe would see nothing, a miss or a false finding. It is
// counted per event (ServeStats.Unresolved) and logged.

const (
	// DefaultContextTimeout bounds the wait for a sensor's answer to a
	// context request.
	DefaultContextTimeout = time.Second
	// DefaultContextRequests bounds the context requests in flight (the
	// routine lane's; the critical lane has a few of its own).
	DefaultContextRequests = 64
	// DefaultContexts is the context table's size (it holds about twice
	// this; contexts in use stay).
	DefaultContexts = 1 << 14
	// contextQuiet is how long requests to a host's sensor stop after one
	// timed out: a sensor that does not answer must not hold every lean
	// event back a second each.
	contextQuiet = 5 * time.Second
)

// ContextAsker asks sensors for process contexts on
// event.ContextSubject(host); after a time-out, that host is not asked
// again for a few seconds (a sensor that does not answer must not hold
// every lean event back a time-out each). Safe for concurrent use.
type ContextAsker struct {
	nc      *nats.Conn
	timeout time.Duration
	mu      sync.Mutex
	quiet   map[string]time.Time // host: no requests until
}

// NewContextAsker returns an asker whose requests wait timeout for an
// answer.
func NewContextAsker(nc *nats.Conn, timeout time.Duration) *ContextAsker {
	return &ContextAsker{nc: nc, timeout: timeout, quiet: map[string]time.Time{}}
}

// Quiet tells whether host's sensor is not asked for now.
func (a *ContextAsker) Quiet(host string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.quiet[host]
	if ok && !time.Now().Before(until) {
		delete(a.quiet, host)
		ok = false
	}
	return ok
}

// Ask returns host's sensor's answer for the context key: the full
// process object (not checked: event.ContextTable.Add does), or an error
// that says why there is none.
func (a *ContextAsker) Ask(host, key string) ([]byte, error) {
	if a.Quiet(host) {
		return nil, errQuiet(host)
	}
	return a.send(host, key)
}

// errQuiet says why host's sensor is not asked: it is Quiet.
func errQuiet(host string) error {
	return fmt.Errorf("the sensor of host %q did not answer a context request lately", host)
}

// send is Ask without the check that host is not quiet.
func (a *ContextAsker) send(host, key string) ([]byte, error) {
	subject := event.ContextSubject(host)
	m, err := a.nc.Request(subject, []byte(key), a.timeout)
	switch {
	case errors.Is(err, nats.ErrTimeout):
		a.mu.Lock()
		a.quiet[host] = time.Now().Add(contextQuiet)
		a.mu.Unlock()
		return nil, fmt.Errorf("no answer on %s within %s", subject, a.timeout)
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("no sensor answers on %s", subject)
	case err != nil:
		return nil, fmt.Errorf("asking %s: %w", subject, err)
	case m.Header.Get(event.ContextErrorHeader) != "":
		return nil, fmt.Errorf("the sensor (%s): %s", subject, m.Header.Get(event.ContextErrorHeader))
	}
	return m.Data, nil
}

// ctxResolver resolves lean events for a server. Events go through it in
// arrival order (each lane's NATS callback): a full event teaches the
// table before any later lean event of its context is resolved.
type ctxResolver struct {
	table   *event.ContextTable
	asker   *ContextAsker
	history *ctxHistory // nil: not read back
	log     zerolog.Logger

	mu         sync.Mutex
	inflight   map[string]*ctxRequest // host NUL key
	unresolved map[string]uint64      // per event name
	wg         sync.WaitGroup

	resolved, requests, answered, unresolvedN atomic.Uint64
	lastLog                                   atomic.Int64
}

// ctxLane is one lane's way into the resolver: its own bound on requests
// (so the critical lane never waits behind routine misses) and what to do
// with an event once resolved, or when it cannot be.
type ctxLane struct {
	r       *ctxResolver
	sem     chan struct{}
	deliver func(msg any, data []byte, buf *[]byte)
	reject  func(msg any)
}

// ctxBufs holds the buffers lean events are rebuilt in: a worker gives
// one back (putCtxBuf) once the event is evaluated. Evaluation keeps
// nothing of the bytes (a finding's event is decoded into strings of its
// own), and a buffer reused costs nothing while a new one per event costs
// the growing of it and the collection after (measured: BenchmarkReplay
// lean-cpu-ns/event 6.3 µs with a new buffer per event, 2.8 µs reused).
var ctxBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// putCtxBuf gives a buffer back (nil: none); a very large one is dropped.
func putCtxBuf(b *[]byte) {
	if b != nil && cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		ctxBufs.Put(b)
	}
}

// ctxMember is how a process object's ctx member starts.
var ctxMember = []byte(`"ctx"`)

// mayHaveContext is false for an event that cannot have a ctx member, so
// that it needs no resolving (an older sensor's, a capture's without): a
// key "ctx" is those bytes, and they occur nowhere else but in a string
// "ctx" (a quote inside a string is escaped). ContextTable.Resolve reads
// keys raw as well. The search costs a fraction of Resolve's reading of a
// full process object (measured on the corpus' full events: ~2 µs).
func mayHaveContext(data []byte) bool { return bytes.Contains(data, ctxMember) }

// resolveInto resolves data into a pooled buffer: the full form, and the
// buffer when it holds it (nil when data needed no rebuilding).
func (r *ctxResolver) resolveInto(data []byte) ([]byte, *[]byte, string, error) {
	if !mayHaveContext(data) {
		return data, nil, "", nil
	}
	bp := ctxBufs.Get().(*[]byte)
	out, key, err := r.table.Resolve((*bp)[:0], data)
	if err != nil || len(out) == 0 || len(data) == 0 || &out[0] == &data[0] {
		putCtxBuf(bp)
		return out, nil, key, err
	}
	*bp = out
	r.resolved.Add(1)
	return out, bp, key, err
}

type ctxRequest struct {
	waiters []ctxWaiter
}

type ctxWaiter struct {
	lane    *ctxLane
	subject string
	data    []byte
	msg     any
}

func newCtxResolver(nc *nats.Conn, opts *ServeOptions) *ctxResolver {
	return &ctxResolver{
		table:      event.NewContextTable(opts.Contexts),
		asker:      NewContextAsker(nc, opts.ContextTimeout),
		history:    newCtxHistory(nc, opts.ContextHistory),
		log:        opts.Logger,
		inflight:   map[string]*ctxRequest{},
		unresolved: map[string]uint64{},
	}
}

func (r *ctxResolver) lane(requests int, deliver func(msg any, data []byte, buf *[]byte), reject func(msg any)) *ctxLane {
	return &ctxLane{r: r, sem: make(chan struct{}, max(requests, 1)), deliver: deliver, reject: reject}
}

// resolve hands msg's event to the lane's deliver in its full form: at
// once when it needs no resolving (no ctx, a full process object) or the
// table holds its context; after the sensor answered when the context has
// to be asked for; to reject (counted, logged) when it cannot be resolved.
// Data that is not an event is delivered as it is, for evaluation to
// report. A rebuilt event lies in a pooled buffer, given to deliver, to
// be given back (putCtxBuf) after evaluation. Called in arrival order; it
// blocks only while the lane has its bound of requests in flight.
func (l *ctxLane) resolve(subject string, data []byte, msg any) {
	r := l.r
	out, buf, key, err := r.resolveInto(data)
	if err == nil {
		l.deliver(msg, out, buf)
		return
	}
	if !errors.Is(err, event.ErrUnknownContext) {
		l.deliver(msg, data, nil)
		return
	}
	w := ctxWaiter{lane: l, subject: subject, data: data, msg: msg}
	host := event.SubjectHost(subject, data)
	k := host + "\x00" + key
	r.mu.Lock()
	if req, ok := r.inflight[k]; ok {
		req.waiters = append(req.waiters, w)
		r.mu.Unlock()
		return
	}
	if _, js := msg.(jetstream.Msg); r.asker.Quiet(host) && (r.history == nil || !js) {
		r.mu.Unlock()
		r.fail(w, key, errQuiet(host))
		return
	}
	req := &ctxRequest{waiters: []ctxWaiter{w}}
	r.inflight[k] = req
	r.wg.Add(1)
	r.mu.Unlock()
	l.sem <- struct{}{}
	go func() {
		defer r.wg.Done()
		defer func() { <-l.sem }()
		r.request(host, key, k, req)
	}()
}

// request asks host's sensor for the context key and resolves the events
// waiting for it.
func (r *ctxResolver) request(host, key, k string, req *ctxRequest) {
	var obj []byte
	var why error
	if r.asker.Quiet(host) { // since this request began to wait its turn
		why = errQuiet(host)
	} else {
		r.requests.Add(1)
		obj, why = r.asker.send(host, key)
	}
	if why == nil {
		subject := event.ContextSubject(host)
		got, aerr := r.table.Add(obj)
		switch {
		case aerr != nil:
			why = fmt.Errorf("the answer on %s: %w", subject, aerr)
		case got != key:
			why = fmt.Errorf("the answer on %s is context %s", subject, got)
		default:
			r.answered.Add(1)
		}
	}
	if why != nil && r.history != nil {
		// the stream the events came from holds the full event before
		// them (one read per stretch of the host's events)
		r.mu.Lock()
		stream, top, ok := streamPosition(req.waiters)
		r.mu.Unlock()
		if ok {
			n, herr := r.history.learn(stream, host, top, r.table)
			if herr != nil {
				why = fmt.Errorf("%w; reading back the stream: %w", why, herr)
			} else if n > 0 {
				why = fmt.Errorf("%w; nor in the %d events of host %q read back from stream %s", why, n, host, stream)
			}
		}
	}
	r.mu.Lock()
	delete(r.inflight, k)
	waiters := req.waiters
	r.mu.Unlock()
	for _, w := range waiters {
		// A full event of the context may have come meanwhile.
		out, buf, _, err := r.resolveInto(w.data)
		if err != nil {
			if why == nil {
				why = err
			}
			r.fail(w, key, why)
			continue
		}
		w.lane.deliver(w.msg, out, buf)
	}
}

// fail counts and logs (at most ten a second) an event left unresolved,
// and rejects it.
func (r *ctxResolver) fail(w ctxWaiter, key string, why error) {
	name := subjectEvent(w.subject)
	if name == "" {
		name = bodyEventName(w.data)
	}
	r.mu.Lock()
	r.unresolved[name]++
	r.mu.Unlock()
	n := r.unresolvedN.Add(1)
	now := time.Now().UnixNano()
	if last := r.lastLog.Load(); n <= 10 || now-last >= int64(100*time.Millisecond) {
		r.lastLog.Store(now)
		r.log.Warn().Str("subject", w.subject).Str("ctx", key).Err(why).Uint64("count", n).
			Msg("not evaluating a lean event whose process context is unknown")
	}
	w.lane.reject(w.msg)
}

// wait waits for the requests in flight (each ends within the timeout).
func (r *ctxResolver) wait() { r.wg.Wait() }

// unresolvedByEvent copies the per-event counts.
func (r *ctxResolver) unresolvedByEvent() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]uint64, len(r.unresolved))
	for k, v := range r.unresolved {
		out[k] = v
	}
	return out
}

// bodyEventName is an event's "name" member ("_" when it has none).
func bodyEventName(data []byte) string {
	var h struct {
		Name string `json:"name"`
	}
	json.Unmarshal(data, &h)
	return event.Token(h.Name)
}

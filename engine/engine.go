package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// ErrNoRules is returned by New without a rule set.
var ErrNoRules = errors.New("engine needs a rule set")

// DefaultTimeout bounds one signature's evaluation of one event. Signatures
// take microseconds; the limit is there for the one that runs away. It is
// wall-clock time, so it is generous: a loaded host must not lose findings
// to time-outs of healthy signatures.
const DefaultTimeout = 500 * time.Millisecond

// errorLogInterval is how often one failing signature is logged; the
// failures in between are counted and reported with the next log line.
const errorLogInterval = 10 * time.Second

// Options configures an Engine.
type Options struct {
	// Timeout bounds each signature's evaluation of one event;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// Logger receives signature errors and time-outs (rate limited per
	// signature).
	Logger zerolog.Logger
	// Now stamps findings; time.Now when nil.
	Now func() time.Time
	// Dedupe, when positive, drops a finding identical to one let through
	// less than Dedupe ago: same signature, host, process (pids and
	// executable) and fields. Dropped findings are counted in
	// Stats.Suppressed. Zero keeps every finding.
	Dedupe time.Duration
}

// SignatureInfo is the part of a signature's metadata a finding carries.
type SignatureInfo struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Severity    string   `json:"severity"`
	Description string   `json:"description"`
	Tactics     []string `json:"tactics"`
	Techniques  []string `json:"techniques"`
	Tags        []string `json:"tags"`
}

func infoOf(s *rules.Signature) SignatureInfo {
	return SignatureInfo{
		ID:          s.ID,
		Name:        s.Name,
		Version:     s.Version,
		Severity:    s.Severity,
		Description: s.Description,
		Tactics:     nonNil(s.Tactics),
		Techniques:  nonNil(s.Techniques),
		Tags:        nonNil(s.Tags),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Finding is what a signature reports about one event: published as JSON on
// vigil.findings.<signature-id>.<host> and printed.
type Finding struct {
	// ID identifies the finding stably: the same signature, event and
	// fields give the same id, so a redelivered event does not make a second
	// finding (it is the JetStream de-duplication id). Set by Sink.
	ID string `json:"id,omitempty"`
	// Signature is the metadata of the signature that fired.
	Signature SignatureInfo `json:"signature"`
	// Event is the triggering event, whole: process context and ancestry
	// included.
	Event *event.Event `json:"event"`
	// Fields is the object the signature's finding rule yielded.
	Fields map[string]any `json:"fields"`
	// Time is when the engine made the finding (the event's own time is
	// Event.Time).
	Time time.Time `json:"time"`
	// Host is the host the event happened on.
	Host string `json:"host"`
}

// Subject is the NATS subject the finding is published on.
func (f *Finding) Subject() string {
	return event.FindingSubject(f.Signature.ID, f.Host)
}

// Marshal returns the finding's JSON form, one line.
func (f *Finding) Marshal() ([]byte, error) {
	return json.Marshal(f)
}

// SignatureStats counts one signature's work. Counts survive Swap for a
// signature that keeps its id.
type SignatureStats struct {
	Evaluations uint64        `json:"evaluations"`
	Skipped     uint64        `json:"skipped"` // events selected but turned away by the derived condition
	Findings    uint64        `json:"findings"`
	Suppressed  uint64        `json:"suppressed"`
	Errors      uint64        `json:"errors"`
	Timeouts    uint64        `json:"timeouts"`
	Time        time.Duration `json:"time_ns"` // total evaluation time
}

// Stats counts what an Engine did since New.
type Stats struct {
	Events     uint64 `json:"events"`     // events handed to Evaluate
	Unselected uint64 `json:"unselected"` // events no signature selects (not evaluated)
	// FastRejected counts events some signature selects that the derived
	// conditions (rules.Matcher) turned away before any Rego ran;
	// Admitted those that reached Rego.
	FastRejected uint64 `json:"fast_rejected"`
	Admitted     uint64 `json:"admitted"`
	// Skipped counts signature evaluations the fast path spared.
	Skipped     uint64 `json:"skipped"`
	Evaluations uint64 `json:"evaluations"` // signature evaluations
	Findings    uint64 `json:"findings"`    // findings returned
	Suppressed  uint64 `json:"suppressed"`  // findings dropped as duplicates (Options.Dedupe)
	Errors      uint64 `json:"errors"`      // evaluations that failed (logged)
	Timeouts    uint64 `json:"timeouts"`    // evaluations stopped by the time limit (logged)
	Canceled    uint64 `json:"canceled"`    // evaluations skipped or stopped because the caller's context ended
	Swaps       uint64 `json:"swaps"`
	Signatures  int    `json:"signatures"` // in the current set
	// PerSignature is keyed by signature id.
	PerSignature map[string]SignatureStats `json:"per_signature"`
}

// counters is one signature's running counts.
type counters struct {
	evaluations, findings, suppressed, errors, timeouts, skipped atomic.Uint64
	nanos                                                        atomic.Int64
	lastLog                                                      atomic.Int64 // unix ns of the last error log
	unlogged                                                     atomic.Uint64
}

// loaded is a set with the counters of its signatures, swapped as one.
type loaded struct {
	set      *rules.Set
	counters map[*rules.Signature]*counters
	// byName: per event name, the signatures selecting it (Set.ForEvent)
	// with their counters, in the same order, found with one lookup
	byName map[string]*selecting
}

type selecting struct {
	all      []*rules.Signature
	counters []*counters
}

// Engine evaluates signatures on events. Safe for concurrent use.
type Engine struct {
	// lastHost is the last event host copied (ownedHost).
	lastHost atomic.Pointer[string]

	timeout time.Duration
	log     zerolog.Logger
	now     func() time.Time
	dedupe  *deduper // nil when off

	cur atomic.Pointer[loaded]

	mu   sync.Mutex           // guards byID during Swap
	byID map[string]*counters // every signature id ever loaded

	events, unselected, evaluations, findings, suppressed, errs, timeouts, canceled, swaps atomic.Uint64
	fastRejected, admitted, skipped                                                        atomic.Uint64

	// FullEval turns the fast path off: every signature selecting an
	// event runs (the benchmarks' and tests' reference). Set before use.
	FullEval bool
}

// New returns an engine evaluating set.
func New(set *rules.Set, opts Options) (*Engine, error) {
	if set == nil {
		return nil, ErrNoRules
	}
	e := &Engine{
		timeout: opts.Timeout,
		log:     opts.Logger,
		now:     opts.Now,
		byID:    map[string]*counters{},
	}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if e.now == nil {
		e.now = time.Now
	}
	if opts.Dedupe > 0 {
		e.dedupe = newDeduper(opts.Dedupe)
	}
	e.cur.Store(e.prepare(set))
	return e, nil
}

func (e *Engine) prepare(set *rules.Set) *loaded {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := &loaded{set: set, counters: make(map[*rules.Signature]*counters, len(set.Signatures())), byName: map[string]*selecting{}}
	for _, sig := range set.Signatures() {
		c := e.byID[sig.ID]
		if c == nil {
			c = &counters{}
			e.byID[sig.ID] = c
		}
		l.counters[sig] = c
		for _, name := range sig.Events {
			if l.byName[name] == nil {
				l.byName[name] = &selecting{all: set.ForEvent(name)}
			}
		}
	}
	for _, sel := range l.byName {
		for _, sig := range sel.all {
			sel.counters = append(sel.counters, l.counters[sig])
		}
	}
	return l
}

// Swap makes set the engine's rule set. Evaluations already running finish
// on the set they started with; every later one uses set. A nil set is
// ignored (and logged): the engine keeps its current set.
func (e *Engine) Swap(set *rules.Set) {
	if set == nil {
		e.log.Error().Msg("ignoring a swap to no rule set; keeping the current one")
		return
	}
	e.cur.Store(e.prepare(set))
	e.swaps.Add(1)
}

// Set returns the rule set in use.
func (e *Engine) Set() *rules.Set {
	return e.cur.Load().set
}

// Evaluate evaluates the signatures that select ev's name and whose
// derived condition ev meets (rules.Matcher: the others cannot fire) and
// returns their findings (nil when none fired). Signature errors and
// time-outs are logged and counted (Stats), never returned; when ctx ends,
// the remaining signatures are skipped and counted as canceled. ev must not
// be modified while findings that point to it are in use.
func (e *Engine) Evaluate(ctx context.Context, ev *event.Event) []Finding {
	e.events.Add(1)
	l := e.cur.Load()
	sel := l.byName[ev.Name]
	if sel == nil {
		e.unselected.Add(1)
		return nil
	}
	input := rules.Input(ev)
	sigs := sel.all
	if !e.FullEval {
		bp := sigBufs.Get().(*[]*rules.Signature)
		defer sigBufs.Put(bp)
		sigs = l.set.Matcher().MatchInput(ev.Name, input, (*bp)[:0])
		*bp = sigs[:0]
		if !e.admit(sel, sigs) {
			return nil
		}
	}
	return e.run(ctx, l, sigs, ev, input)
}

var sigBufs = sync.Pool{New: func() any { s := make([]*rules.Signature, 0, 16); return &s }}

// admit counts what the fast path decided; false when no signature is left.
// sigs is what the matcher kept of sel.all, in its order.
func (e *Engine) admit(sel *selecting, sigs []*rules.Signature) bool {
	if n := len(sel.all) - len(sigs); n > 0 {
		e.skipped.Add(uint64(n))
		j := 0
		for i, s := range sel.all {
			if j < len(sigs) && sigs[j] == s {
				j++
				continue
			}
			sel.counters[i].skipped.Add(1)
		}
	}
	if len(sigs) == 0 {
		e.fastRejected.Add(1)
		return false
	}
	e.admitted.Add(1)
	return true
}

// EvaluateJSON is Evaluate for an event in its JSON form (a NATS payload, a
// capture line): the derived conditions read the fields they test straight
// from the bytes, so an event no signature can fire on costs a scan of its
// JSON and nothing else; only an admitted event is decoded, without
// reflection (rules.DecodeEvent), and only the signatures whose own
// condition admitted it run Rego. An error means data is not a valid event
// (the caller counts it): JSON that is not an object with a string name
// and host, or, for an admitted event, what decoding reports. A rejected
// event is checked for JSON structure only: one object whose strings end
// and whose brackets balance, the keys the conditions read well formed
// (EvaluateMessage with validate decodes it all the same).
func (e *Engine) EvaluateJSON(ctx context.Context, data []byte) ([]Finding, error) {
	_, fs, err := e.EvaluateMessage(ctx, data, false, nil)
	return fs, err
}

// ErrRefused wraps the error of EvaluateMessage's check.
var ErrRefused = errors.New("event refused")

// EvaluateMessage is EvaluateJSON for a message whose body must agree with
// where it came from: check (when not nil) gets the event's name and host,
// read from the bytes as decoding reads them, before anything is
// evaluated; when it returns an error, nothing is evaluated and the error
// is returned wrapped in ErrRefused. With validate, an event the derived
// conditions reject is checked all the same (rules.ValidateEvent: what
// rules.DecodeEvent reports, without building the event; no Rego), so that a malformed event is reported whatever the signatures want; the
// decoding error comes before the check's, as it would when decoding
// first. It returns the event's name ("" when data is not an event).
func (e *Engine) EvaluateMessage(ctx context.Context, data []byte, validate bool, check func(name, host string) error) (string, []Finding, error) {
	l := e.cur.Load()
	if e.FullEval {
		ev, err := event.Unmarshal(data)
		if err != nil {
			return "", nil, err
		}
		if check != nil {
			if err := check(ev.Name, ev.Host); err != nil {
				return ev.Name, nil, fmt.Errorf("%w: %w", ErrRefused, err)
			}
		}
		return ev.Name, e.Evaluate(ctx, ev), nil
	}
	bp := sigBufs.Get().(*[]*rules.Signature)
	defer sigBufs.Put(bp)
	name, host, sigs, ok := l.set.Matcher().MatchJSONHost(data, (*bp)[:0])
	*bp = sigs[:0]
	// The matcher's strings alias data, which the caller may reuse (a
	// pooled buffer): the name and host that outlive the call, as metric
	// labels and counter keys, are the table's or copies.
	name, host = ownedName(name), e.ownedHost(host)
	if !ok {
		_, err := event.Unmarshal(data)
		if err == nil {
			err = errNotEvent
		}
		return "", nil, err
	}
	var ev *event.Event
	if len(sigs) > 0 {
		var err error
		if ev, err = rules.DecodeEvent(data); err != nil {
			return name, nil, err
		}
	} else if validate {
		// checked as decoding checks it, without building it
		if err := rules.ValidateEvent(data); err != nil {
			return name, nil, err
		}
	}
	if check != nil {
		if err := check(name, host); err != nil {
			return name, nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	e.events.Add(1)
	sel := l.byName[name]
	if sel == nil {
		e.unselected.Add(1)
		return name, nil, nil
	}
	if !e.admit(sel, sigs) {
		return name, nil, nil
	}
	return name, e.run(ctx, l, sigs, ev, rules.Input(ev)), nil
}

var errNotEvent = errors.New("not a JSON event object with a string name and host")

// ownedName is the event table's copy of an event name, or a copy of one
// the table does not know.
func ownedName(name string) string {
	if sp, ok := event.Lookup(name); ok {
		return sp.Name
	}
	return strings.Clone(name)
}

// ownedHost is a copy of host, the one made for the last host seen when
// it is the same (events come from a few hosts).
func (e *Engine) ownedHost(host string) string {
	if p := e.lastHost.Load(); p != nil && *p == host {
		return *p
	}
	h := strings.Clone(host)
	e.lastHost.Store(&h)
	return h
}

// run evaluates sigs on one event's input.
func (e *Engine) run(ctx context.Context, l *loaded, sigs []*rules.Signature, ev *event.Event, input ast.Value) []Finding {
	var out []Finding
	for i, sig := range sigs {
		if ctx.Err() != nil {
			e.canceled.Add(uint64(len(sigs) - i))
			break
		}
		c := l.counters[sig]
		ectx, cancel := context.WithTimeout(ctx, e.timeout)
		start := time.Now()
		fields, err := sig.Eval(ectx, input)
		took := time.Since(start)
		cancel()
		e.evaluations.Add(1)
		c.evaluations.Add(1)
		c.nanos.Add(int64(took))
		if err != nil {
			e.failed(ctx, sig, c, ev, err, took)
			continue
		}
		if len(fields) == 0 {
			continue
		}
		now := e.now()
		info := infoOf(sig)
		for _, f := range fields {
			if e.dedupe != nil && !e.dedupe.admit(e.dedupe.key(sig.ID, ev, f), now) {
				e.suppressed.Add(1)
				c.suppressed.Add(1)
				continue
			}
			e.findings.Add(1)
			c.findings.Add(1)
			out = append(out, Finding{Signature: info, Event: ev, Fields: f, Time: now, Host: ev.Host})
		}
	}
	return out
}

// failed counts and logs one failed evaluation, at most one log line per
// signature every errorLogInterval.
func (e *Engine) failed(ctx context.Context, sig *rules.Signature, c *counters, ev *event.Event, err error, took time.Duration) {
	kind := "error"
	switch {
	case ctx.Err() != nil:
		// The caller gave up, not the signature's fault.
		e.canceled.Add(1)
		return
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
		e.timeouts.Add(1)
		c.timeouts.Add(1)
	default:
		e.errs.Add(1)
		c.errors.Add(1)
	}
	now := time.Now().UnixNano()
	last := c.lastLog.Load()
	if last != 0 && now-last < int64(errorLogInterval) {
		c.unlogged.Add(1)
		return
	}
	if !c.lastLog.CompareAndSwap(last, now) {
		c.unlogged.Add(1)
		return
	}
	l := e.log.Error()
	if kind == "timeout" {
		l = e.log.Warn().Dur("limit", e.timeout)
	}
	l.Err(err).
		Str("signature", sig.ID).
		Str("file", sig.File).
		Str("kind", kind).
		Str("event", ev.Name).
		Uint32("pid", ev.Process.Pid).
		Dur("took", took).
		Uint64("suppressed", c.unlogged.Swap(0)).
		Msg("signature evaluation failed; the other signatures keep running")
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	st := Stats{
		Events:       e.events.Load(),
		Unselected:   e.unselected.Load(),
		FastRejected: e.fastRejected.Load(),
		Admitted:     e.admitted.Load(),
		Skipped:      e.skipped.Load(),
		Evaluations:  e.evaluations.Load(),
		Findings:     e.findings.Load(),
		Suppressed:   e.suppressed.Load(),
		Errors:       e.errs.Load(),
		Timeouts:     e.timeouts.Load(),
		Canceled:     e.canceled.Load(),
		Swaps:        e.swaps.Load(),
		Signatures:   len(e.cur.Load().set.Signatures()),
		PerSignature: map[string]SignatureStats{},
	}
	e.mu.Lock()
	for id, c := range e.byID {
		st.PerSignature[id] = SignatureStats{
			Evaluations: c.evaluations.Load(),
			Skipped:     c.skipped.Load(),
			Findings:    c.findings.Load(),
			Suppressed:  c.suppressed.Load(),
			Errors:      c.errors.Load(),
			Timeouts:    c.timeouts.Load(),
			Time:        time.Duration(c.nanos.Load()),
		}
	}
	e.mu.Unlock()
	return st
}

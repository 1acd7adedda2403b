package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor"
)

type captureFlags struct {
	nats     natsFlags
	output   string
	events   []string
	pidFlags []uint
	comms    []string
	hosts    []string
	local    bool
	count    int
	duration time.Duration
}

func newCaptureCmd(g *globalFlags) *cobra.Command {
	f := &captureFlags{}
	cmd := &cobra.Command{
		Use:   "capture -o FILE",
		Short: "Record events to a file, one JSON event per line, for replay",
		Long: `capture records events as one JSON object per line, exactly as they travel
on NATS, so that "vigil replay" evaluates them later without a kernel. The file
is gzip-compressed when its name ends in .gz; "-" writes to standard output.

Sensors send a process's context in full once and refer to it by key after
("lean" events). A capture file stands on its own: the first event of each
process context in the file is written in full (a context capture has not
seen is asked of the sensor on vigil.context.<host>), later ones stay lean.
An event whose context cannot be found is not written (counted).
--local writes its own sensor's events the same way.

Events come from NATS (vigil.events.>) by default, or straight from a sensor
started in this process with --local (needs root). Filters combine: an event is
kept when it matches every kind of filter given (any of the names, any of the
pids, any of the comms).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			return runCapture(cmd.Context(), log, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.output, "output", "o", "", "file to write (.gz: gzip; -: standard output)")
	fs.StringSliceVar(&f.events, "event", nil, "keep only this event (repeatable, or comma-separated)")
	fs.UintSliceVar(&f.pidFlags, "pid", nil, "keep only events of this pid, in its namespace or on the host (repeatable)")
	fs.StringSliceVar(&f.comms, "comm", nil, "keep only events of processes with this comm (repeatable)")
	fs.StringSliceVar(&f.hosts, "host", nil, "keep only events from this host (repeatable)")
	fs.BoolVar(&f.local, "local", false, "read events from a sensor started in this process instead of NATS (needs root)")
	fs.IntVar(&f.count, "count", 0, "stop after writing this many events (0: no limit)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: until interrupted)")
	f.nats.register(fs, "nats", "NATS server to read events from", false)
	cmd.MarkFlagRequired("output")
	return cmd
}

// eventFilter keeps the events a capture asked for.
type eventFilter struct {
	names map[string]bool
	pids  []uint32
	comms []string
	hosts []string
}

func newEventFilter(f *captureFlags) (*eventFilter, error) {
	ef := &eventFilter{comms: f.comms, hosts: f.hosts}
	for _, p := range f.pidFlags {
		if p > 1<<32-1 {
			return nil, fmt.Errorf("--pid %d: out of range", p)
		}
		ef.pids = append(ef.pids, uint32(p))
	}
	for _, n := range f.events {
		if _, ok := event.Lookup(n); !ok {
			return nil, fmt.Errorf("--event %q: no such event (see vigil events)", n)
		}
		if ef.names == nil {
			ef.names = map[string]bool{}
		}
		ef.names[n] = true
	}
	return ef, nil
}

func (ef *eventFilter) keep(ev *event.Event) bool {
	if ef.names != nil && !ef.names[ev.Name] {
		return false
	}
	if len(ef.pids) > 0 && !slices.Contains(ef.pids, ev.Process.Pid) && !slices.Contains(ef.pids, ev.Process.HostPid) {
		return false
	}
	if len(ef.comms) > 0 && !slices.Contains(ef.comms, ev.Process.Comm) {
		return false
	}
	if len(ef.hosts) > 0 && !slices.Contains(ef.hosts, ev.Host) {
		return false
	}
	return true
}

// subjects narrows the NATS subscription to the selected events.
func (ef *eventFilter) subjects() []string {
	if ef.names == nil {
		return []string{event.AllEvents}
	}
	var out []string
	for n := range ef.names {
		out = append(out, event.EventsPrefix+"."+event.Token(n)+".*")
	}
	slices.Sort(out)
	return out
}

// captureContexts bounds the process contexts a capture remembers having
// written in full (about twice this; the ones in use stay): past it, a
// context is written in full again. Replay's table is larger
// (replayContexts), so a lean line always finds its context.
const captureContexts = 1 << 16

// captureSink writes kept events to the file and counts.
type captureSink struct {
	mu      sync.Mutex
	w       *captureWriter
	filter  *eventFilter
	limit   int
	written int
	bad     int
	full    chan struct{} // closed when limit is reached
	closed  bool
	log     zerolog.Logger
	err     error

	// Lean events. From NATS: table resolves them (ask fetches a context
	// it lacks from the sensor), inFile has the contexts written in full
	// to the file. From a local sensor: enc encodes them.
	table      *event.ContextTable
	ask        func(host, key string) ([]byte, error)
	inFile     genSet
	enc        *event.ContextEncoder
	unresolved int
	lastLog    time.Time
}

func newCaptureSink(w *captureWriter, filter *eventFilter, limit int, log zerolog.Logger) *captureSink {
	enc := event.NewContextEncoder(captureContexts)
	enc.WholeAncestry() // a line cut from a file takes only its own context with it
	return &captureSink{w: w, filter: filter, limit: limit, full: make(chan struct{}), log: log,
		table: event.NewContextTable(captureContexts), inFile: newGenSet(captureContexts),
		enc: enc}
}

// addRaw records one message from NATS: its bytes are written unchanged,
// but for the first event of a process context in the file, written in
// full.
func (s *captureSink) addRaw(subject string, data []byte) {
	if bytes.IndexByte(data, '\n') >= 0 {
		// JSON strings escape newlines, so raw ones are white space
		// between tokens: compact the message onto one line.
		var b bytes.Buffer
		if err := json.Compact(&b, data); err != nil {
			s.mu.Lock()
			s.bad++
			s.mu.Unlock()
			s.log.Warn().Str("subject", subject).Err(err).Msg("skipping a message that is not one JSON event")
			return
		}
		data = b.Bytes()
	}
	full, key, err := data, "", error(nil)
	if bytes.Contains(data, []byte(`"ctx"`)) { // else no ctx member: nothing to resolve
		full, key, err = s.table.Resolve(nil, data)
	}
	if errors.Is(err, event.ErrUnknownContext) {
		full, err = s.fetch(subject, data, key)
		if err != nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.unresolved++
			if now := time.Now(); s.unresolved <= 10 || now.Sub(s.lastLog) >= time.Second {
				s.lastLog = now
				s.log.Warn().Str("subject", subject).Str("ctx", key).Err(err).Int("count", s.unresolved).
					Msg("not writing a lean event whose process context is unknown")
			}
			return
		}
	} else if err != nil {
		full = data // for Unmarshal to say what is wrong
	}
	ev, err := event.Unmarshal(full)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.bad++
		s.log.Warn().Str("subject", subject).Err(err).Msg("skipping a message that is not an event")
		return
	}
	if !s.filter.keep(ev) {
		return
	}
	if k := ev.Process.Ctx; k != "" && !s.inFile.get(k) {
		s.inFile.put(k)
		data = full
	} else if event.RefersAncestry(data) {
		data = full // whole: the context its ancestry refers to may not be in the file
	}
	s.writeLocked(data)
}

// fetch asks the sensor of the event's host for the context key, and
// resolves the event with it.
func (s *captureSink) fetch(subject string, data []byte, key string) ([]byte, error) {
	if s.ask == nil {
		return nil, event.ErrUnknownContext
	}
	obj, err := s.ask(event.SubjectHost(subject, data), key)
	if err != nil {
		return nil, err
	}
	if _, err := s.table.Add(obj); err != nil {
		return nil, fmt.Errorf("the sensor's answer: %w", err)
	}
	full, _, err := s.table.Resolve(nil, data)
	return full, err
}

// genSet is a set bounded like event.ContextTable (two generations of
// limit keys; a key found moves to the current one; a full current
// generation pushes the old one out), so that it forgets no sooner than a
// replay's table, four times larger, fed the same lines.
type genSet struct {
	cur, old map[string]struct{}
	limit    int
}

func newGenSet(limit int) genSet {
	return genSet{cur: map[string]struct{}{}, limit: max(limit, 1)}
}

func (g *genSet) get(k string) bool {
	if _, ok := g.cur[k]; ok {
		return true
	}
	if _, ok := g.old[k]; ok {
		g.put(k)
		return true
	}
	return false
}

func (g *genSet) put(k string) {
	if len(g.cur) >= g.limit {
		g.old, g.cur = g.cur, make(map[string]struct{}, g.limit)
	}
	g.cur[k] = struct{}{}
}

// addEvent records one event from a local sensor, lean when its context
// is in the file already.
func (s *captureSink) addEvent(ev *event.Event) {
	if !s.filter.keep(ev) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.err != nil || (s.limit > 0 && s.written >= s.limit) {
		return
	}
	// encoded under the lock: the file's order is the encoder's
	data, err := s.enc.AppendEvent(nil, ev, false)
	if err != nil {
		s.bad++
		s.log.Warn().Str("event", ev.Name).Err(err).Msg("skipping an event without a JSON form")
		return
	}
	s.writeLocked(data)
}

func (s *captureSink) writeLocked(data []byte) {
	if s.closed || s.err != nil || (s.limit > 0 && s.written >= s.limit) {
		return
	}
	if err := s.w.WriteLine(data); err != nil {
		s.err = err
		close(s.full)
		return
	}
	s.written++
	if s.limit > 0 && s.written == s.limit {
		close(s.full)
	}
}

func (s *captureSink) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

func runCapture(ctx context.Context, log zerolog.Logger, f *captureFlags) error {
	filter, err := newEventFilter(f)
	if err != nil {
		return err
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	w, err := createCapture(f.output)
	if err != nil {
		return err
	}
	sink := newCaptureSink(w, filter, f.count, log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sink.full:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Flush once a second so a capture killed hard keeps what it saw.
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := sink.flush(); err != nil {
					log.Error().Err(err).Msg("flushing the capture file")
				}
			}
		}
	}()

	var runErr error
	var dropped int
	if f.local {
		runErr = captureLocal(ctx, log, sink)
	} else {
		dropped, runErr = captureNATS(ctx, log, f, filter, sink)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	sink.closed = true
	closeErr := w.Close()
	ev := log.Info()
	if dropped > 0 || sink.unresolved > 0 {
		ev = log.Warn()
	}
	ev = ev.Str("file", f.output).Int("events", sink.written).Int("bad_messages", sink.bad)
	if dropped > 0 {
		ev = ev.Int("dropped_slow_consumer", dropped)
	}
	if sink.unresolved > 0 {
		ev = ev.Int("unresolved_lean_events", sink.unresolved)
	}
	ev.Msg("capture finished")
	return errors.Join(runErr, sink.err, closeErr)
}

// captureNATS subscribes until ctx is done and returns how many messages the
// NATS client dropped because the writer could not keep up.
func captureNATS(ctx context.Context, log zerolog.Logger, f *captureFlags, filter *eventFilter, sink *captureSink) (int, error) {
	closed := make(chan struct{})
	nc, err := f.nats.connect(log, "vigil-capture", failFast, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	sink.ask = engine.NewContextAsker(nc, time.Second).Ask
	var subs []*nats.Subscription
	for _, subj := range filter.subjects() {
		sub, err := nc.Subscribe(subj, func(m *nats.Msg) { sink.addRaw(m.Subject, m.Data) })
		if err != nil {
			return 0, fmt.Errorf("subscribing to %s: %w", subj, err)
		}
		if err := sub.SetPendingLimits(1<<20, 1<<30); err != nil {
			return 0, err
		}
		subs = append(subs, sub)
	}
	if err := nc.Flush(); err != nil {
		return 0, fmt.Errorf("subscribing: %w", err)
	}
	log.Info().Strs("subjects", filter.subjects()).Str("file", f.output).Msg("capturing")
	<-ctx.Done()
	dropped := 0
	for _, sub := range subs {
		if n, err := sub.Dropped(); err == nil {
			dropped += n
		}
	}
	// Drain: stop the subscriptions, let the callbacks write what already
	// arrived, then close.
	if err := nc.Drain(); err == nil {
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			log.Warn().Msg("NATS drain did not finish within 10s")
		}
	}
	return dropped, nil
}

// captureLocal runs a sensor in this process until ctx is done.
func captureLocal(ctx context.Context, log zerolog.Logger, sink *captureSink) error {
	s, err := sensor.New(sensor.Config{Host: hostname(), Logger: log.With().Str("component", "sensor").Logger()})
	if err != nil {
		return fmt.Errorf("starting the sensor: %w", err)
	}
	defer s.Close()
	log.Info().Str("file", sink.w.path).Msg("capturing from the local sensor")
	err = s.Run(ctx, sink.addEvent)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

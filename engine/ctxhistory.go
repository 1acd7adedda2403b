package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-sec/vigil/event"
)

// A lean event whose context neither the table nor the sensor knows can
// still be resolved when it came from a JetStream stream: the event that
// carried the context in full was stored there before it. That is the
// case after a restart of both ends (`vigil run` killed during a burst,
// an engine and a sensor restarted together): the engine's durable
// consumer resumes behind events it had acknowledged, among them the
// full events of the contexts its backlog refers to, and the new sensor
// never sent those contexts. ctxHistory reads the host's events stored
// before the lean one once, learning every full context in them.

const (
	// DefaultContextHistory is how many of a host's events before a lean
	// one are read back for its context, at most.
	DefaultContextHistory = 100_000
	// historyTimeout bounds one read of the stream.
	historyTimeout = 20 * time.Second
)

// ctxHistory reads back a stream's events for contexts. Each stretch of
// a host's events is read at most once: a later miss reads only what was
// stored since.
type ctxHistory struct {
	nc     *nats.Conn
	window uint64

	mu      sync.Mutex
	js      jetstream.JetStream
	scanned map[string]uint64 // stream NUL host: read up to this sequence

	scans, read atomic.Uint64
}

func newCtxHistory(nc *nats.Conn, window int) *ctxHistory {
	if window < 0 {
		return nil
	}
	if window == 0 {
		window = DefaultContextHistory
	}
	return &ctxHistory{nc: nc, window: uint64(window), scanned: map[string]uint64{}}
}

// streamPosition is the stream and the highest stream sequence of the
// waiters' messages (false when none came from JetStream).
func streamPosition(ws []ctxWaiter) (string, uint64, bool) {
	var stream string
	var top uint64
	for _, w := range ws {
		m, ok := w.msg.(jetstream.Msg)
		if !ok {
			continue
		}
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		if md.Sequence.Stream > top {
			stream, top = md.Stream, md.Sequence.Stream
		}
	}
	return stream, top, top > 0
}

// learn reads host's events in stream up to sequence upTo (from after the
// last read, at most window of them) and teaches the table every full
// process context among them. It says how many it read.
func (h *ctxHistory) learn(stream, host string, upTo uint64, table *event.ContextTable) (uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := stream + "\x00" + host
	from := h.scanned[k] + 1
	if upTo > h.window && upTo-h.window+1 > from {
		from = upTo - h.window + 1
	}
	if from > upTo {
		return 0, nil
	}
	if h.js == nil {
		js, err := jetstream.New(h.nc)
		if err != nil {
			return 0, err
		}
		h.js = js
	}
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	h.scans.Add(1)
	cons, err := h.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{event.EventsPrefix + ".*." + event.Token(host)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return 0, fmt.Errorf("reading back %s from sequence %d: %w", stream, from, err)
	}
	var n uint64
	last := from - 1
	defer func() {
		if last > h.scanned[k] {
			h.scanned[k] = last
		}
	}()
	for last < upTo {
		fctx, fcancel := context.WithTimeout(ctx, time.Second)
		batch, err := cons.Fetch(512, jetstream.FetchContext(fctx))
		if err != nil {
			fcancel()
			return n, fmt.Errorf("reading back %s at sequence %d: %w", stream, last+1, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			seq := md.Sequence.Stream
			if seq > upTo {
				last = upTo
				break
			}
			last = seq
			n++
			h.read.Add(1)
			// a full event teaches the table its context (a lean one
			// is rebuilt or missed, and forgotten)
			if data := m.Data(); mayHaveContext(data) {
				table.Resolve(nil, data)
			}
		}
		fcancel()
		if err := batch.Error(); err != nil && ctx.Err() != nil {
			return n, fmt.Errorf("reading back %s at sequence %d: %w", stream, last+1, err)
		}
		if got == 0 {
			// nothing more of this host's up to upTo
			last = upTo
		}
	}
	return n, nil
}

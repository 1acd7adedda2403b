package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// FindingPublisher puts one encoded finding on the bus.
type FindingPublisher interface {
	PublishFinding(ctx context.Context, f *Finding, data []byte) error
}

// CorePublisher publishes findings with core NATS: fire and forget.
type CorePublisher struct{ NC *nats.Conn }

// PublishFinding implements FindingPublisher.
func (p CorePublisher) PublishFinding(_ context.Context, f *Finding, data []byte) error {
	return p.NC.Publish(f.Subject(), data)
}

// JetStreamPublisher publishes findings to JetStream and waits for the
// stream's acknowledgement; the finding id is the message id, so the stream
// drops a second copy of a finding within its duplicate window.
type JetStreamPublisher struct {
	JS jetstream.JetStream
	// Timeout bounds one publication (default 5s).
	Timeout time.Duration
}

// PublishFinding implements FindingPublisher.
func (p JetStreamPublisher) PublishFinding(ctx context.Context, f *Finding, data []byte) error {
	d := p.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	msg := &nats.Msg{Subject: f.Subject(), Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, f.ID)
	ack, err := p.JS.PublishMsg(ctx, msg)
	if err == nil && ack.Duplicate {
		return ErrDuplicate
	}
	return err
}

// ErrDuplicate is returned by a FindingPublisher when the finding is stored
// already (an event evaluated again: redelivered, or taken by the critical
// lane and again by the routine one). The sink neither counts nor writes it
// a second time.
var ErrDuplicate = errors.New("finding stored already")

// ErrNotDelivered is returned by Sink.Emit when a finding could not be
// published: the event must be evaluated again (not acknowledged).
var ErrNotDelivered = errors.New("finding not delivered")

// Sink takes the findings of one event to their destinations: it completes
// them (host, id), publishes them, writes them to the output and counts
// them. The engine server and replay both use it, so a finding looks and is
// counted the same whichever path made it.
type Sink struct {
	// Publisher puts findings on NATS; nil keeps them off the bus.
	Publisher FindingPublisher
	// Output receives every finding after it is published (may be nil).
	Output Output
	Logger zerolog.Logger

	findings, publishErrs, outputErrs, duplicates atomic.Uint64
	mu                                            sync.Mutex
	perSig                                        map[string]uint64
}

// SinkStats counts what a Sink did.
type SinkStats struct {
	Findings      uint64            // findings emitted (published or not)
	PublishErrors uint64            // findings NATS refused or did not acknowledge
	OutputErrors  uint64            // findings an output could not write
	PerSignature  map[string]uint64 // findings per signature id
	// Duplicates counts findings the stream had stored already (not
	// counted in Findings, not written to the output again).
	Duplicates uint64
}

// Emit completes, publishes and writes the findings of ev. It returns
// ErrNotDelivered (wrapped) when one could not be published; the output error,
// when the output failed, is returned too (a pipe closed: the caller stops).
func (s *Sink) Emit(ctx context.Context, ev *event.Event, fs []Finding) error {
	var errs []error
	for i := range fs {
		f := &fs[i]
		Complete(f, ev)
		if s.Publisher != nil {
			data, err := f.Marshal()
			if err == nil {
				err = s.Publisher.PublishFinding(ctx, f, data)
			}
			if errors.Is(err, ErrDuplicate) {
				s.duplicates.Add(1)
				continue
			}
			if err != nil {
				s.publishErrs.Add(1)
				s.Logger.Error().Err(err).Str("signature", f.Signature.ID).Str("id", f.ID).Msg("publishing a finding")
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrNotDelivered, f.Signature.ID, err))
			}
		}
		s.findings.Add(1)
		s.mu.Lock()
		if s.perSig == nil {
			s.perSig = map[string]uint64{}
		}
		s.perSig[f.Signature.ID]++
		s.mu.Unlock()
		if s.Output != nil {
			if err := s.Output.Write(f); err != nil {
				s.outputErrs.Add(1)
				s.Logger.Error().Err(err).Str("signature", f.Signature.ID).Msg("writing a finding")
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Stats returns the counters so far.
func (s *Sink) Stats() SinkStats {
	st := SinkStats{Findings: s.findings.Load(), PublishErrors: s.publishErrs.Load(), OutputErrors: s.outputErrs.Load(), Duplicates: s.duplicates.Load(), PerSignature: map[string]uint64{}}
	s.mu.Lock()
	for k, v := range s.perSig {
		st.PerSignature[k] = v
	}
	s.mu.Unlock()
	return st
}

// Complete fills in the stable id of a finding (and its event when it has
// none). The host is not filled here: Engine.Evaluate, where findings are
// made, is the one place that sets it, from the event.
func Complete(f *Finding, ev *event.Event) {
	if f.Event == nil {
		f.Event = ev
	}
	if f.ID == "" {
		f.ID = FindingID(f)
	}
}

// FindingID is a stable id for a finding: a hash of the signature id, the
// event (its JSON form: name, time, host, process, arguments) and the
// signature's fields. Evaluating the same event again gives the same id;
// the finding's own time is left out for that reason.
func FindingID(f *Finding) string {
	h := sha256.New()
	h.Write([]byte(f.Signature.ID))
	h.Write([]byte{0})
	if f.Event != nil {
		if data, err := f.Event.Marshal(); err == nil {
			h.Write(data)
		}
	}
	h.Write([]byte{0})
	h.Write([]byte(f.Host))
	h.Write([]byte{0})
	// encoding/json sorts map keys: equal fields give equal bytes.
	if data, err := json.Marshal(f.Fields); err == nil {
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// Stream names vigil declares when the server has JetStream.
const (
	EventsStream   = "VIGIL_EVENTS"
	FindingsStream = "VIGIL_FINDINGS"
)

// StreamOptions are the limits of vigil's streams. Zero values take the
// defaults noted.
type StreamOptions struct {
	EventsMaxAge     time.Duration // default 24h
	EventsMaxBytes   int64         // default 1 GiB
	FindingsMaxAge   time.Duration // default 30 days
	FindingsMaxBytes int64         // default 1 GiB
	// EventsRetention: "limits" (default; events stay until their age or
	// size limit, other consumers may read them too) or "workqueue" (an
	// event is removed once an engine acknowledged it).
	EventsRetention string
	// Duplicates is the window in which the findings stream drops a second
	// finding with the same id (default 10 minutes; longer than any
	// redelivery delay).
	Duplicates time.Duration
	// Replicas of each stream in a JetStream cluster (default 1).
	Replicas int
	// Memory keeps the streams in memory rather than in files (tests).
	Memory bool
	// EventsPersist is how VIGIL_EVENTS writes what it stores: "sync"
	// (default: written to the file before the publish is acknowledged)
	// or "async" (acknowledged at once, written a few milliseconds later
	// in batches). It applies when the stream is created; the server does
	// not change it on an existing stream.
	EventsPersist string
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.EventsMaxAge == 0 {
		o.EventsMaxAge = 24 * time.Hour
	}
	if o.EventsMaxBytes == 0 {
		o.EventsMaxBytes = 1 << 30
	}
	if o.FindingsMaxAge == 0 {
		o.FindingsMaxAge = 30 * 24 * time.Hour
	}
	if o.FindingsMaxBytes == 0 {
		o.FindingsMaxBytes = 1 << 30
	}
	if o.Duplicates == 0 {
		o.Duplicates = 10 * time.Minute
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	return o
}

// StreamConfigs returns the configurations of VIGIL_EVENTS and VIGIL_FINDINGS.
func (o StreamOptions) StreamConfigs() ([]jetstream.StreamConfig, error) {
	o = o.withDefaults()
	retention := jetstream.LimitsPolicy
	switch o.EventsRetention {
	case "", "limits":
	case "workqueue":
		retention = jetstream.WorkQueuePolicy
	default:
		return nil, fmt.Errorf("events stream retention %q: want limits or workqueue", o.EventsRetention)
	}
	storage := jetstream.FileStorage
	if o.Memory {
		storage = jetstream.MemoryStorage
	}
	persist := jetstream.DefaultPersistMode
	switch o.EventsPersist {
	case "", "sync":
	case "async":
		if storage == jetstream.FileStorage && o.Replicas == 1 {
			persist = jetstream.AsyncPersistMode
		}
	default:
		return nil, fmt.Errorf("events stream persistence %q: want sync or async", o.EventsPersist)
	}
	return []jetstream.StreamConfig{
		{
			Name: EventsStream, Description: "vigil events from the sensors",
			Subjects: []string{event.AllEvents}, Retention: retention,
			MaxAge: o.EventsMaxAge, MaxBytes: o.EventsMaxBytes, Discard: jetstream.DiscardOld,
			Storage: storage, Replicas: o.Replicas, PersistMode: persist,
		},
		{
			Name: FindingsStream, Description: "vigil findings from the engines",
			Subjects: []string{event.AllFindings}, Retention: jetstream.LimitsPolicy,
			MaxAge: o.FindingsMaxAge, MaxBytes: o.FindingsMaxBytes, Discard: jetstream.DiscardOld,
			Duplicates: o.Duplicates, Storage: storage, Replicas: o.Replicas,
		},
	}, nil
}

// EnsureStreams creates vigil's streams or brings them to the configuration;
// every start may call it. A stream that exists but cannot be updated (the
// client may not, or the change is not allowed, e.g. its retention) is used
// as it is, with a warning.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions, log zerolog.Logger) error {
	cfgs, err := o.StreamConfigs()
	if err != nil {
		return err
	}
	for _, sc := range cfgs {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := js.CreateOrUpdateStream(cctx, sc)
		cancel()
		if err == nil {
			continue
		}
		cctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		_, ierr := js.Stream(cctx, sc.Name)
		cancel()
		if ierr != nil {
			return fmt.Errorf("declaring JetStream stream %s: %w", sc.Name, errors.Join(err, ierr))
		}
		log.Warn().Err(err).Str("stream", sc.Name).Msg("using the existing stream as it is: it could not be updated")
	}
	return nil
}

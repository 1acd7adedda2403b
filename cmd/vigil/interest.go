package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// How the engines' interest (which events, and which of their field values,
// the loaded signatures can fire on) reaches the sensors, so that they leave
// the rest in the kernel:
//
//   - in one process (vigil run), through an interestFeed;
//   - between processes, through the JetStream key-value bucket
//     vigil_interest: every engine queue group keeps its interest under its
//     name, sensors watch the bucket and follow the union of its keys,
//     also after an engine reloads its signatures.
//
// A sensor with --events all ignores both and emits every default event.

// InterestBucket is the key-value bucket engines publish their interest in.
const InterestBucket = "vigil_interest"

// interestOf is what a signature set wants. A set that derives its
// interest itself (field conditions included) is asked; otherwise every
// selected event is wanted whole (Always), critical when a signature of
// high severity or above selects it.
func interestOf(set *rules.Set) event.Interest {
	if d, ok := any(set).(interface{ Interest() event.Interest }); ok {
		return d.Interest()
	}
	in := event.Interest{Events: map[string]event.Condition{}}
	for _, sig := range set.Signatures() {
		crit := rules.SeverityLevel(sig.Severity) >= rules.SeverityLevel(rules.SeverityHigh)
		for _, name := range sig.Events {
			c := event.Condition{Always: true, Critical: crit}
			if cur, ok := in.Events[name]; ok {
				c = cur.Or(c)
			}
			in.Events[name] = c
		}
	}
	return in
}

// interestFeed hands the engine's interest to a sensor in the same process.
type interestFeed struct {
	mu      sync.Mutex
	cur     *event.Interest
	changed chan struct{} // closed at the next put
}

func newInterestFeed() *interestFeed { return &interestFeed{changed: make(chan struct{})} }

func (f *interestFeed) put(in event.Interest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = &in
	close(f.changed)
	f.changed = make(chan struct{})
}

// get returns the current interest (nil before the first put) and a channel
// closed when it changes.
func (f *interestFeed) get() (*event.Interest, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur, f.changed
}

// interestFlags configure how a sensor chooses its events.
type interestFlags struct {
	events string
	local  *interestFeed // vigil run: the engine in this process
}

func (f *interestFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.events, "events", "rules", "which events the sensor emits: rules (those the engines' signatures select, filtered in the kernel by the values they test; followed live through the "+InterestBucket+" bucket or, in vigil run, the engine in the process) or all (every event not off by default)")
}

func (f *interestFlags) check() error {
	if f.events != "rules" && f.events != "all" {
		return fmt.Errorf("--events %q: want rules or all", f.events)
	}
	return nil
}

// initial returns the interest the sensor starts with: nil for --events all,
// the local engine's once it has loaded its signatures, else what the
// bucket holds (nil when there is none yet).
func (f *interestFlags) initial(ctx context.Context, log zerolog.Logger, nc *nats.Conn) (*event.Interest, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if f.events == "all" {
		return nil, nil
	}
	if f.local != nil {
		for {
			in, changed := f.local.get()
			if in != nil {
				return in, nil
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	kv, err := interestKV(ctx, nc, false)
	if err != nil {
		log.Info().Err(err).Msg("no engine interest to follow yet: emitting every default event until one is published")
		return nil, nil
	}
	in, err := mergedInterest(ctx, kv)
	if err != nil {
		log.Warn().Err(err).Msg("reading the engines' interest: emitting every default event")
		return nil, nil
	}
	return in, nil
}

// interestSetter is what follow drives: *sensor.Sensor.
type interestSetter interface {
	SetInterest(*event.Interest) error
}

// follow keeps the sensor on the engines' interest until ctx is done.
func (f *interestFlags) follow(ctx context.Context, log zerolog.Logger, nc *nats.Conn, s interestSetter, cur *event.Interest) {
	if f.events == "all" {
		return
	}
	set := func(in *event.Interest) {
		if err := s.SetInterest(in); err != nil {
			log.Error().Err(err).Msg("applying the engines' interest; keeping the previous one")
			return
		}
		cur = in
		log.Info().Strs("events", in.Names()).Msg("following the engines' interest")
	}
	if f.local != nil {
		for {
			in, changed := f.local.get()
			if in != cur && in != nil {
				set(in)
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}
	for ctx.Err() == nil {
		kv, err := interestKV(ctx, nc, false)
		if err == nil {
			// The watch below reports changes only: take what the bucket
			// holds now first. A sensor that started before any engine
			// (or lost the bucket with the server) would otherwise keep
			// emitting every default event until an engine reloads.
			var in *event.Interest
			if in, err = mergedInterest(ctx, kv); err == nil && in != nil && !sameInterest(in, cur) {
				set(in)
			}
		}
		if err == nil {
			err = watchInterest(ctx, kv, set)
		}
		if ctx.Err() != nil {
			return
		}
		log.Debug().Err(err).Msg("watching the engines' interest; retrying in 10s")
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	}
}

// sameInterest says whether a and b want the same events the same way.
func sameInterest(a, b *event.Interest) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func watchInterest(ctx context.Context, kv jetstream.KeyValue, set func(*event.Interest)) error {
	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("interest watch closed")
			}
			if e == nil {
				continue
			}
			in, err := mergedInterest(ctx, kv)
			if err != nil {
				return err
			}
			if in != nil {
				set(in)
			}
		}
	}
}

// mergedInterest is the union of every engine group's interest in the
// bucket; nil when the bucket is empty.
func mergedInterest(ctx context.Context, kv jetstream.KeyValue) (*event.Interest, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out *event.Interest
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			return nil, err
		}
		var in event.Interest
		if err := json.Unmarshal(e.Value(), &in); err != nil {
			return nil, fmt.Errorf("%s key %s: %w", InterestBucket, k, err)
		}
		if err := in.Validate(); err != nil {
			return nil, fmt.Errorf("%s key %s: %w", InterestBucket, k, err)
		}
		if out == nil {
			out = &in
		} else {
			m := out.Merge(in)
			out = &m
		}
	}
	return out, nil
}

func interestKV(ctx context.Context, nc *nats.Conn, create bool) (jetstream.KeyValue, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if create {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      InterestBucket,
			Description: "what each vigil engine group's signatures want from the sensors",
			History:     1,
		})
	}
	return js.KeyValue(ctx, InterestBucket)
}

// publishInterest publishes the engine's interest, to the feed of a sensor
// in this process and to the bucket when the server has JetStream, now and
// after every reload, until ctx is done.
func publishInterest(ctx context.Context, log zerolog.Logger, nc *nats.Conn, eng *engine.Engine, queue string, feed *interestFeed) {
	kv, err := interestKV(ctx, nc, true)
	if err != nil {
		kv = nil
		log.Debug().Err(err).Msg("no JetStream: the engine's interest is not published for sensors in other processes")
	}
	key := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, queue)
	var last *rules.Set
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if set := eng.Set(); set != last {
			last = set
			in := interestOf(set)
			if feed != nil {
				feed.put(in)
			}
			if kv != nil {
				data, err := json.Marshal(in)
				if err == nil {
					pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					_, err = kv.Put(pctx, key, data)
					cancel()
				}
				if err != nil {
					log.Warn().Err(err).Msg("publishing the engine's interest")
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

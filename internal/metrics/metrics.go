// Package metrics exposes vigil's counters to Prometheus: collectors that
// read the sensor's, the publisher's and the engine's counters when scraped,
// an evaluation latency histogram, and the HTTP endpoint serving them.
// The caller owns the registry and stops the endpoint by ending its context.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/cilium/ebpf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor"
)

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Serve listens on addr and serves reg on /metrics until ctx ends. It
// returns once listening (the error when it cannot listen) and the address
// it listens on.
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, log zerolog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("metrics endpoint stopped")
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info().Str("url", "http://"+ln.Addr().String()+"/metrics").Msg("serving metrics")
	return ln.Addr().String(), nil
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("vigil_"+name, help, labels, nil)
}

// Engine collects an engine server's counters.
type Engine struct {
	srv     *engine.Server
	eng     *engine.Engine
	latency *prometheus.HistogramVec
}

var (
	engReceived    = desc("engine_received_total", "Messages the engine took from NATS.")
	engBad         = desc("engine_bad_messages_total", "Messages that were not an event (skipped).")
	engRefused     = desc("engine_refused_total", "Events refused because their subject and body disagree (event name or host).")
	engEvaluated   = desc("engine_evaluated_total", "Events evaluated.")
	engFindings    = desc("engine_findings_total", "Findings emitted.")
	engPubErrs     = desc("engine_publish_errors_total", "Findings NATS refused or did not acknowledge.")
	engOutErrs     = desc("engine_output_errors_total", "Findings an output could not write.")
	engDropped     = desc("engine_dropped_total", "Events lost by the engine (core NATS: slow consumer, or not evaluated at stop).")
	engRedelivered = desc("engine_redeliveries_total", "Events JetStream delivered more than once.")
	engRetried     = desc("engine_retried_total", "Events handed back because a finding could not be stored.")
	engHandedBack  = desc("engine_handed_back_total", "Events left unacknowledged at stop (JetStream delivers them again).")
	engLag         = desc("engine_consumer_pending", "Events in the stream not yet delivered to an engine (consumer lag).")
	engAckPending  = desc("engine_consumer_ack_pending", "Events delivered to engines and not yet acknowledged.")
	engCritical    = desc("engine_critical_total", "Events taken through the critical lane (rare events that signatures of high severity select), evaluated ahead of the rest.")
	engDuplicates  = desc("engine_duplicate_findings_total", "Findings the findings stream had stored already (an event evaluated again), not counted or written again.")
	engResolved    = desc("engine_resolved_total", "Lean events (process context by reference) rebuilt to their full form.")
	engUnresolved  = desc("engine_unresolved_total", "Lean events whose process context could not be found (not evaluated), per event.", "event")
	engCtxRequests = desc("engine_context_requests_total", "Process contexts asked of sensors (on vigil.context.<host>).")
	engCtxAnswers  = desc("engine_context_answers_total", "Process contexts sensors answered.")
	engCtxReadBack = desc("engine_context_events_read_back_total", "Events read back from a JetStream stream for process contexts neither the engine nor the sensor had (after both restarted).")
	engContexts    = desc("engine_contexts", "Process contexts the engine holds.")
	engJetStream   = desc("engine_jetstream", "1 when the engine consumes from JetStream, 0 with core NATS.")
	engUnselected  = desc("engine_unselected_total", "Events no signature selects.")
	engSuppressed  = desc("engine_suppressed_total", "Findings suppressed as duplicates.")
	engSignatures  = desc("engine_signatures", "Signatures loaded.")
	engSwaps       = desc("engine_reloads_total", "Signature sets swapped in.")
	sigEvals       = desc("signature_evaluations_total", "Evaluations per signature.", "signature")
	sigFindings    = desc("signature_findings_total", "Findings per signature.", "signature")
	sigSuppressed  = desc("signature_suppressed_total", "Findings suppressed as duplicates per signature.", "signature")
	sigErrors      = desc("signature_errors_total", "Failed evaluations per signature.", "signature")
	sigTimeouts    = desc("signature_timeouts_total", "Evaluations stopped by the time limit per signature.", "signature")
	sigSeconds     = desc("signature_evaluation_seconds_total", "Time spent evaluating, per signature.", "signature")
)

// NewEngine registers the engine's counters on reg. Observe, given to
// engine.ServeOptions.Observe, feeds the evaluation latency histogram; call
// SetServer once the server exists.
func NewEngine(reg prometheus.Registerer, eng *engine.Engine) *Engine {
	e := &Engine{eng: eng, latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vigil_engine_evaluation_seconds",
		Help:    "Time to evaluate one event with every signature that selects it, per event name.",
		Buckets: prometheus.ExponentialBuckets(20e-6, 4, 10), // 20µs .. 5s
	}, []string{"event"})}
	reg.MustRegister(e, e.latency)
	return e
}

// SetServer names the server whose counters are reported.
func (e *Engine) SetServer(srv *engine.Server) { e.srv = srv }

// Observe records one evaluation's latency.
func (e *Engine) Observe(eventName string, took time.Duration) {
	e.latency.WithLabelValues(eventName).Observe(took.Seconds())
}

// Describe implements prometheus.Collector.
func (e *Engine) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{engReceived, engBad, engRefused, engEvaluated, engFindings, engPubErrs, engOutErrs, engDropped,
		engRedelivered, engRetried, engHandedBack, engCritical, engDuplicates, engResolved, engUnresolved, engCtxRequests, engCtxAnswers, engCtxReadBack, engContexts, engLag, engAckPending, engJetStream, engUnselected, engSuppressed, engSignatures, engSwaps,
		sigEvals, sigFindings, sigSuppressed, sigErrors, sigTimeouts, sigSeconds} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Engine) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	if e.srv != nil {
		s := e.srv.Stats()
		counter(engReceived, s.Received)
		counter(engBad, s.BadMessages)
		counter(engRefused, s.Refused)
		counter(engEvaluated, s.Evaluated)
		counter(engFindings, s.Findings)
		counter(engPubErrs, s.PublishErrors)
		counter(engOutErrs, s.OutputErrors)
		counter(engDropped, s.Dropped)
		counter(engRedelivered, s.Redelivered)
		counter(engRetried, s.Retried)
		counter(engHandedBack, s.HandedBack)
		counter(engCritical, s.Critical)
		counter(engDuplicates, s.Duplicates)
		counter(engResolved, s.Resolved)
		counter(engCtxRequests, s.ContextRequests)
		counter(engCtxAnswers, s.ContextAnswers)
		counter(engCtxReadBack, s.ContextEventsReadBack)
		gauge(engContexts, float64(s.Contexts))
		for name, n := range s.UnresolvedByEvent {
			counter(engUnresolved, n, name)
		}
		gauge(engLag, float64(s.Pending))
		gauge(engAckPending, float64(s.AckPending))
		js := 0.0
		if s.JetStream {
			js = 1
		}
		gauge(engJetStream, js)
	}
	st := e.eng.Stats()
	counter(engUnselected, st.Unselected)
	counter(engSuppressed, st.Suppressed)
	counter(engSwaps, st.Swaps)
	gauge(engSignatures, float64(st.Signatures))
	for id, ss := range st.PerSignature {
		counter(sigEvals, ss.Evaluations, id)
		counter(sigFindings, ss.Findings, id)
		counter(sigSuppressed, ss.Suppressed, id)
		counter(sigErrors, ss.Errors, id)
		counter(sigTimeouts, ss.Timeouts, id)
		ch <- prometheus.MustNewConstMetric(sigSeconds, prometheus.CounterValue, ss.Time.Seconds(), id)
	}
}

// Sensor collects a sensor's and its publisher's counters.
type Sensor struct {
	s    *sensor.Sensor
	pub  *sensor.Publisher
	ncpu int // possible CPUs: the kernel drop series shown per CPU
}

var (
	senRecords     = desc("sensor_records_total", "Records read from the BPF ring buffer.")
	senDecodeErrs  = desc("sensor_decode_errors_total", "Records that failed to decode.")
	senDecodeKinds = desc("sensor_decode_errors_by_kind_total", "Records that failed to decode, by kind.", "kind")
	senKernelDrops = desc("sensor_kernel_drops_total", "Records the ring buffer refused (it was full).")
	senKernelPer   = desc("sensor_kernel_drops_by_event_total", "Records the ring buffer refused, per event and CPU.", "event", "cpu")
	pubPublished   = desc("sensor_published_total", "Events delivered: acknowledged by a JetStream stream, or handed to NATS as core messages.")
	pubDropped     = desc("sensor_dropped_total", "Events the sensor lost (publish queue, memory buffer or spool full; refused by NATS).")
	pubDroppedPer  = desc("sensor_dropped_by_event_total", "Events dropped by the sensor, per event.", "event")
	pubErrs        = desc("sensor_publish_errors_total", "Events the NATS client or the stream refused for good (e.g. too large).")
	pubMarshal     = desc("sensor_marshal_errors_total", "Events without a JSON form.")
	pubQueued      = desc("sensor_queued_events", "Events waiting in the publisher's queue.")
	pubCritical    = desc("sensor_critical_published_total", "Events sent through the critical lane, ahead of routine ones (also in sensor_published_total).")
	pubSpooled     = desc("sensor_spooled_bytes", "Bytes of events waiting in the disk spool (--spool-dir).")
	pubReplayed    = desc("sensor_spool_replayed_total", "Events sent from the disk spool (also in sensor_published_total).")
	pubSpoolDrop   = desc("sensor_spool_dropped_total", "Events the full disk spool could not take (also in sensor_dropped_by_event_total).")
	pubBuffered    = desc("sensor_buffered_bytes", "Bytes of events held in memory until NATS takes them (while it is unreachable, or to be sent again).")
	pubAcked       = desc("sensor_acked_total", "Events a JetStream stream acknowledged (also in sensor_published_total).")
	pubUnacked     = desc("sensor_unacked_total", "Events published as core NATS messages, without acknowledgement (no stream takes them, or --no-publish-acks; also in sensor_published_total).")
	pubRetried     = desc("sensor_retried_total", "Events sent again after their JetStream acknowledgement did not come.")
	pubInFlight    = desc("sensor_in_flight_events", "Events published and waiting for their JetStream acknowledgement.")
	pubBytes       = desc("sensor_published_bytes_total", "Bytes of the events delivered (their JSON).")
	pubLean        = desc("sensor_lean_published_total", "Events delivered with their process context by reference (also in sensor_published_total).")
	pubCtxReq      = desc("sensor_context_requests_total", "Requests for a process context on vigil.context.<host>.")
	pubCtxAns      = desc("sensor_context_answers_total", "Requests for a process context answered with the context.")
	pubCtxMiss     = desc("sensor_context_misses_total", "Requests for a process context the sensor did not have (never sent, or forgotten), answered with an error.")
	pubCtxDrop     = desc("sensor_context_dropped_total", "Requests for a process context dropped unanswered (the responder was too far behind).")
)

// NewSensor registers the sensor's and the publisher's counters on reg.
func NewSensor(reg prometheus.Registerer, s *sensor.Sensor, pub *sensor.Publisher) {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		ncpu = runtime.NumCPU()
	}
	reg.MustRegister(&Sensor{s: s, pub: pub, ncpu: ncpu})
}

// Describe implements prometheus.Collector.
func (c *Sensor) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{senRecords, senDecodeErrs, senDecodeKinds, senKernelDrops, senKernelPer, pubPublished, pubDropped, pubDroppedPer, pubErrs, pubMarshal, pubQueued, pubBuffered, pubCritical, pubSpooled, pubReplayed, pubSpoolDrop, pubAcked, pubUnacked, pubRetried, pubInFlight, pubBytes, pubLean, pubCtxReq, pubCtxAns, pubCtxMiss, pubCtxDrop} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Sensor) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if c.s != nil {
		st := c.s.Stats()
		counter(senRecords, st.Records)
		counter(senDecodeErrs, st.DecodeErrors)
		// Every kind, event and CPU from the start, at zero until it
		// happens: a scrape (and an alert on rate()) sees the series
		// before the first drop, not only after.
		for _, kind := range sensor.DecodeErrorKinds() {
			counter(senDecodeKinds, st.ErrorKinds[kind], kind)
		}
		var drops uint64
		for _, spec := range event.All() {
			perCPU := st.KernelDrops[spec.Name]
			for cpu := range max(len(perCPU), c.ncpu) {
				var n uint64
				if cpu < len(perCPU) {
					n = perCPU[cpu]
				}
				drops += n
				counter(senKernelPer, n, spec.Name, strconv.Itoa(cpu))
			}
		}
		counter(senKernelDrops, drops)
	}
	if c.pub != nil {
		ps := c.pub.Stats()
		counter(pubPublished, ps.Published)
		counter(pubErrs, ps.PublishErrors)
		counter(pubMarshal, ps.MarshalErrors)
		var dropped uint64
		for _, spec := range event.All() {
			n := ps.DroppedByEvent[spec.Name]
			dropped += n
			counter(pubDroppedPer, n, spec.Name)
		}
		for name, n := range ps.DroppedByEvent {
			if _, known := event.Lookup(name); !known {
				dropped += n
				counter(pubDroppedPer, n, name)
			}
		}
		counter(pubDropped, dropped)
		ch <- prometheus.MustNewConstMetric(pubQueued, prometheus.GaugeValue, float64(ps.Queued))
		ch <- prometheus.MustNewConstMetric(pubBuffered, prometheus.GaugeValue, float64(ps.Buffered))
		counter(pubCritical, ps.Critical)
		ch <- prometheus.MustNewConstMetric(pubSpooled, prometheus.GaugeValue, float64(ps.Spooled))
		counter(pubReplayed, ps.Replayed)
		counter(pubAcked, ps.Acked)
		counter(pubUnacked, ps.Unacked)
		counter(pubRetried, ps.Retried)
		ch <- prometheus.MustNewConstMetric(pubInFlight, prometheus.GaugeValue, float64(ps.InFlight))
		counter(pubSpoolDrop, ps.SpoolDropped)
		counter(pubBytes, ps.Bytes)
		counter(pubLean, ps.Lean)
		counter(pubCtxReq, ps.ContextRequests)
		counter(pubCtxAns, ps.ContextAnswers)
		counter(pubCtxMiss, ps.ContextMisses)
		counter(pubCtxDrop, ps.ContextDropped)
	}
}

package sensor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load"
	"github.com/vigil-sec/vigil/sensor/proc"
)

// Config configures a Sensor.
type Config struct {
	// Host names this host in events and subjects; os.Hostname() when empty.
	Host   string
	Logger zerolog.Logger
	// RingBufferBytes sizes the ring buffer (a power of two, multiple of the
	// page size); 0 keeps the default of 8 MiB.
	RingBufferBytes int
	// StatsInterval is how often kernel drops and decode errors are logged
	// when they changed; 0 means 30 s.
	StatsInterval time.Duration
	// Enable turns on events that are off by default (hot paths such as
	// sched_switch); Disable turns off events that are on. Both take event
	// names; an unknown name is an error.
	Enable, Disable []string
	// ExecEnv is how much of a program's environment sched_process_exec
	// keeps: ExecEnvSecurity (the default when empty), ExecEnvAll or
	// ExecEnvNone.
	ExecEnv string
	// CaptureDir, when set, keeps the bytes of every kernel module being
	// loaded as a file named by their sha256 in this directory, reported
	// as a module_image_captured event (see kernel_capture.go).
	CaptureDir string
	// ProbeTier limits which kinds of probe may feed an event: "" (or
	// "any") tries every probe in order of preference; "kprobe" skips the
	// BPF trampoline probes (fentry, fexit, LSM), so that every event with
	// a kprobe variant runs on it, as on a kernel without trampolines.
	// Tests use it (make vmtest runs the kprobe tier on a Debian kernel);
	// an unknown tier is an error.
	ProbeTier string
	// Interest, when set, is what the loaded signatures want (the engine's
	// rules.Set interest): only those events, and the ones the process
	// table needs, are emitted, and conditions the kernel can test (paths
	// and flags of opens) are tested there. Nil keeps every event that is
	// not off by default. SetInterest changes it while the sensor runs.
	Interest *event.Interest
	// LazyArgs hands out events whose arguments are listed as decoded
	// (event.Event.ListArgs) instead of put in Args: Args is nil until
	// ArgsMap builds it, and AppendJSON (the Publisher) writes the list
	// without a map. For a consumer that only publishes the events, as
	// `vigil sensor` does; one that reads Args calls ArgsMap first
	// (encoding/json, which knows nothing of the list, would write
	// "args":null: use Event.AppendJSON or Marshal).
	LazyArgs bool
}

// wanted returns which events the configuration asks for.
func (c Config) wanted() (func(event.Spec) bool, error) {
	set := map[string]bool{}
	for _, list := range []struct {
		names []string
		on    bool
	}{{c.Enable, true}, {c.Disable, false}} {
		for _, n := range list.names {
			if _, ok := event.Lookup(n); !ok {
				return nil, fmt.Errorf("%w %q (vigil events lists them)", ErrUnknownEventName, n)
			}
			set[n] = list.on
		}
	}
	return func(s event.Spec) bool {
		// a capture directory needs them; without one the chunks are
		// dropped (see handle)
		if captureEvents[s.Name] && c.CaptureDir != "" {
			return true
		}
		if on, ok := set[s.Name]; ok {
			return on
		}
		return !s.Off
	}, nil
}

// ErrUnknownEventName is returned for a name in Config.Enable or Disable that
// is no event.
var ErrUnknownEventName = errors.New("no such event")

// Sensor is a loaded, attached set of BPF programs and the process table.
type Sensor struct {
	cfg     Config
	log     zerolog.Logger
	ld      *load.Loader
	procs   *proc.Table
	pipes   pipeTable                           // the two ends of shell pipelines (pipes.go), under mu
	probes  atomic.Pointer[map[event.ID]string] // the attached probe of each event
	publish atomic.Pointer[map[event.ID]bool]   // events that go out; nil: all
	ring    atomic.Pointer[ringbuf.Reader]      // the main ring's reader while RunLanes runs
	// mu serialises record handling (the process table) between the
	// critical and the main ring buffer readers, and interest changes.
	mu      sync.Mutex
	dec     decoder        // under mu
	capture *moduleCapture // nil without Config.CaptureDir
	bootOff int64          // wall ns minus boot ns

	records    atomic.Uint64
	decodeErrs atomic.Uint64
	errMu      sync.Mutex
	errKinds   map[string]uint64
	lastErr    error

	closeOnce sync.Once
}

// Stats counts what the sensor read and lost.
type Stats struct {
	Records      uint64            // records read from the ring buffer
	DecodeErrors uint64            // records that failed to decode (counted, skipped)
	ErrorKinds   map[string]uint64 // decode errors by kind
	LastError    string            // the latest decode error, with its offset
	// KernelDrops counts records the ring buffer refused (it was full), per
	// event name and per CPU.
	KernelDrops map[string][]uint64
	// Procs counts the process table's entries and evictions.
	Procs proc.Stats
}

// New loads and attaches the BPF programs and seeds the process table.
func New(cfg Config) (*Sensor, error) {
	if cfg.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("host name: %w", err)
		}
		cfg.Host = h
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = 30 * time.Second
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("lifting the memlock limit: %w", err)
	}
	sel, err := cfg.selectFor(cfg.Interest)
	if err != nil {
		return nil, err
	}
	if err := checkExecEnv(cfg.ExecEnv); err != nil {
		return nil, err
	}
	if err := load.CheckProbeTier(cfg.ProbeTier); err != nil {
		return nil, err
	}
	var capture *moduleCapture
	if cfg.CaptureDir != "" {
		if capture, err = newModuleCapture(cfg.CaptureDir, cfg.Logger); err != nil {
			return nil, err
		}
	}
	ensureMounts(cfg.Logger)
	ld, err := load.New(cfg.Logger, cfg.RingBufferBytes)
	if err != nil {
		return nil, fmt.Errorf("loading BPF objects: %w", err)
	}
	ld.SetTier(cfg.ProbeTier)
	s := &Sensor{cfg: cfg, log: cfg.Logger, ld: ld, procs: proc.New(proc.Config{Root: "/proc"}), errKinds: map[string]uint64{}, capture: capture}
	if err := s.apply(sel); err != nil {
		ld.Close()
		return nil, err
	}
	attached := 0
	for _, st := range ld.Status() {
		ev := s.log.Debug()
		switch {
		case st.Disabled:
		case st.Probe == "":
			ev = s.log.Warn()
		default:
			attached++
		}
		ev.Str("event", st.Event).Str("probe", st.Probe).Bool("fallback", st.Fallback).Bool("disabled", st.Disabled).AnErr("skipped", st.Err).Msg("probe")
	}
	if attached == 0 {
		ld.Close()
		return nil, errors.New("no event could be attached on this kernel")
	}
	s.bootOff = bootOffset()
	s.procs.Seed()
	s.log.Info().Int("events", attached).Int("of", len(ld.Status())).Msg("sensor attached")
	return s, nil
}

// apply makes a selection the sensor's: probes, syscall handlers, event
// modes, the critical ring's events, the open filter, what is published.
func (s *Sensor) apply(sel selection) error {
	s.ld.Choose(sel.kernel)
	probes := map[event.ID]string{}
	for _, st := range s.ld.Status() {
		if spec, ok := event.Lookup(st.Event); ok {
			probes[spec.ID] = st.Probe
		}
	}
	s.probes.Store(&probes)
	if err := s.ld.SetCritical(sel.critical); err != nil {
		return err
	}
	if err := sel.open.apply(s.ld.Maps()); err != nil {
		return err
	}
	if err := applyDupFilter(s.ld.Maps(), sel.dupSocketOnly); err != nil {
		return err
	}
	if err := applySocketFilters(s.ld.Maps(), sel.socketFilters); err != nil {
		return err
	}
	if sel.publish == nil {
		s.publish.Store(nil)
	} else {
		s.publish.Store(&sel.publish)
	}
	crit := make([]string, 0, len(sel.critical))
	for id := range sel.critical {
		if sp, ok := event.ByID(id); ok {
			crit = append(crit, sp.Name)
		}
	}
	s.log.Info().Int("published_events", len(sel.publish)).Strs("critical", crit).Str("open_filter", sel.open.String()).Int("socket_filters", len(sel.socketFilters)).Msg("event selection")
	return nil
}

// SetInterest switches the sensor to what a new set of signatures wants
// (nil: every default event), while it runs.
func (s *Sensor) SetInterest(in *event.Interest) error {
	sel, err := s.cfg.selectFor(in)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(sel)
}

// Probes reports, per event, the probe attached on this kernel.
func (s *Sensor) Probes() []ProbeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ld.Status()
}

// ProbeStatus says how one event is fed on this kernel (package load).
type ProbeStatus = load.ProbeStatus

// Host is the host name events carry.
func (s *Sensor) Host() string { return s.cfg.Host }

// Run reads records until ctx is done, handing each decoded, enriched event
// to out (in ring-buffer order within each ring buffer).
func (s *Sensor) Run(ctx context.Context, out func(*event.Event)) error {
	return s.RunLanes(ctx, out, out)
}

// RunLanes is Run with the events of the critical ring buffer (rare events
// that signatures of high severity select) handed to critical rather than
// out, from a goroutine of their own, so that the caller can send them
// ahead of the routine ones.
func (s *Sensor) RunLanes(ctx context.Context, out, critical func(*event.Event)) error {
	rd, err := ringbuf.NewReader(s.ld.Map("events"))
	if err != nil {
		return fmt.Errorf("opening ring buffer: %w", err)
	}
	crd, err := ringbuf.NewReader(s.ld.Map("events_critical"))
	if err != nil {
		rd.Close()
		return fmt.Errorf("opening the critical ring buffer: %w", err)
	}
	s.ring.Store(rd)
	defer s.ring.Store(nil)
	go func() {
		<-ctx.Done()
		rd.Close()
		crd.Close()
	}()
	go s.housekeeping(ctx)

	// The critical ring has a reader of its own: its records are handled
	// between two of the main ring's, not after its backlog.
	critDone := make(chan error, 1)
	go func() { critDone <- s.read(ctx, crd, critical, 0) }()
	err = s.read(ctx, rd, out, ringPoll)
	if cerr := <-critDone; err == nil {
		err = cerr
	}
	s.logStats()
	s.capture.close()
	return err
}

// ringPoll is how long the main ring's reader naps when it found the ring
// empty. Routine records do not wake it (ring_wakeup in bpf/lib/event.h),
// and it does not wait in the kernel either: a goroutine blocked in a
// system call (epoll_wait) for milliseconds at a time keeps the Go
// runtime's monitor thread waking every 20 µs to take its processor back,
// and in a VM each of those wakeups is a costly context switch (a quarter
// of vigil run's CPU during an exec loop went there). A nap is a Go timer:
// nothing waits in a system call. The critical ring's reader still waits in
// epoll for each record's wakeup.
const ringPoll = 5 * time.Millisecond

// busyDrain is how much a read of the main ring must have taken for the
// reader to read again without a nap (a sixteenth of the 8 MiB ring: a
// flood keeps it reading).
const busyDrain = 512 << 10

func (s *Sensor) read(ctx context.Context, rd *ringbuf.Reader, out func(*event.Event), poll time.Duration) error {
	var rec ringbuf.Record
	var nap *time.Timer
	if poll > 0 {
		// A deadline in the past: ReadInto takes what the ring holds and
		// never waits in the kernel (see ringPoll).
		rd.SetDeadline(time.Unix(0, 1))
		nap = time.NewTimer(poll)
		defer nap.Stop()
	}
	drained := 0
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if poll > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				// Empty for now. A ring that gave a lot this time is read
				// again at once; a quiet one after a nap.
				if drained < busyDrain {
					nap.Reset(poll)
					select {
					case <-ctx.Done():
						return nil
					case <-nap.C:
					}
				}
				drained = 0
				continue
			}
			if errors.Is(err, ringbuf.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading ring buffer: %w", err)
		}
		drained += len(rec.RawSample)
		s.mu.Lock()
		if ev := s.handle(rec.RawSample); ev != nil && s.published(ev.ID) {
			out(ev)
		}
		for _, ev := range s.capture.drain() {
			out(ev)
		}
		s.mu.Unlock()
	}
}

func (s *Sensor) published(id event.ID) bool {
	p := s.publish.Load()
	return p == nil || (*p)[id]
}

// handle decodes and enriches one record; nil when it is malformed (counted
// and logged).
func (s *Sensor) handle(raw []byte) *event.Event {
	s.records.Add(1)
	r, err := s.dec.decode(raw, s.cfg.LazyArgs)
	if err != nil {
		s.countDecodeError(err)
		return nil
	}
	ev := r.ev
	ev.Host = s.cfg.Host
	ev.Time = time.Unix(0, s.bootOff+int64(r.bootNs))
	if r.startTime != 0 {
		st := time.Unix(0, s.bootOff+int64(r.startTime))
		ev.Process.StartTime = &st
	}
	if probes := s.probes.Load(); probes != nil {
		ev.Probe = (*probes)[ev.ID]
	}
	filterExecEnv(ev, s.cfg.ExecEnv)
	s.procs.Update(ev)
	s.procs.Enrich(ev)
	s.pipes.join(ev)
	if ev.ID == event.IDModuleImageChunk {
		s.capture.take(ev) // never published
		return nil
	}
	return ev
}

// decodeErrors are the kinds Stats.ErrorKinds counts decode errors by;
// anything else is "other".
var decodeErrors = []error{ErrShortRecord, ErrOversized, ErrUnknownEvent, ErrBadArgument}

// DecodeErrorKinds lists every kind Stats.ErrorKinds can hold, so that a
// metrics endpoint shows each from the start (at zero), not only once it
// happened.
func DecodeErrorKinds() []string {
	kinds := make([]string, 0, len(decodeErrors)+1)
	for _, k := range decodeErrors {
		kinds = append(kinds, k.Error())
	}
	return append(kinds, "other")
}

func (s *Sensor) countDecodeError(err error) {
	n := s.decodeErrs.Add(1)
	kind := "other"
	for _, k := range decodeErrors {
		if errors.Is(err, k) {
			kind = k.Error()
		}
	}
	s.errMu.Lock()
	s.errKinds[kind]++
	s.lastErr = err
	s.errMu.Unlock()
	// every error while they are rare, then one in a thousand
	if n <= 100 || n%1000 == 0 {
		s.log.Warn().Err(err).Uint64("decode_errors", n).Msg("malformed record skipped")
	}
}

// RingBacklog returns the share of the main ring buffer that holds records
// not read yet (0 when RunLanes is not running): how far the reader is
// behind the kernel. Near 1, the kernel drops what does not fit.
func (s *Sensor) RingBacklog() float64 {
	rd := s.ring.Load()
	if rd == nil || rd.BufferSize() == 0 {
		return 0
	}
	return float64(rd.AvailableBytes()) / float64(rd.BufferSize())
}

// Stats reports counters, reading the kernel's drop counters.
func (s *Sensor) Stats() Stats {
	st := Stats{Records: s.records.Load(), DecodeErrors: s.decodeErrs.Load(), ErrorKinds: map[string]uint64{}, KernelDrops: map[string][]uint64{}, Procs: s.procs.Stats()}
	s.errMu.Lock()
	for k, v := range s.errKinds {
		st.ErrorKinds[k] = v
	}
	if s.lastErr != nil {
		st.LastError = s.lastErr.Error()
	}
	s.errMu.Unlock()
	drops := s.ld.Map("drops")
	for _, spec := range event.All() {
		var perCPU []uint64
		if err := drops.Lookup(uint32(spec.ID), &perCPU); err != nil {
			continue
		}
		for _, n := range perCPU {
			if n != 0 {
				st.KernelDrops[spec.Name] = perCPU
				break
			}
		}
	}
	return st
}

func (s *Sensor) housekeeping(ctx context.Context) {
	sweep := time.NewTicker(10 * time.Second)
	report := time.NewTicker(s.cfg.StatsInterval)
	defer sweep.Stop()
	defer report.Stop()
	var lastDrops, lastErrs, lastEvictions uint64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-sweep.C:
			s.procs.Sweep(now)
		case <-report.C:
			st := s.Stats()
			var drops uint64
			for _, per := range st.KernelDrops {
				for _, n := range per {
					drops += n
				}
			}
			if drops != lastDrops || st.DecodeErrors != lastErrs || st.Procs.Evictions != lastEvictions {
				s.logStatsOf(st)
				lastDrops, lastErrs, lastEvictions = drops, st.DecodeErrors, st.Procs.Evictions
			}
		}
	}
}

func (s *Sensor) logStats() { s.logStatsOf(s.Stats()) }

func (s *Sensor) logStatsOf(st Stats) {
	ev := s.log.Info()
	if len(st.KernelDrops) > 0 || st.DecodeErrors > 0 || st.Procs.Evictions > 0 {
		ev = s.log.Warn()
	}
	d := zerolog.Dict()
	for name, per := range st.KernelDrops {
		d.Interface(name, per)
	}
	ev.Uint64("records", st.Records).Uint64("decode_errors", st.DecodeErrors).Dict("kernel_drops_per_cpu", d).
		Int("processes", st.Procs.Entries).Uint64("process_evictions", st.Procs.Evictions).Msg("sensor stats")
}

// Close detaches every program and frees the maps.
func (s *Sensor) Close() error {
	s.closeOnce.Do(s.ld.Close)
	return nil
}

// bootOffset is wall-clock ns minus CLOCK_BOOTTIME ns, to turn kernel
// timestamps into wall time.
func bootOffset() int64 {
	var ts unix.Timespec
	before := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return before.UnixNano() - ts.Nano()
}

// ensureMounts mounts tracefs and bpffs when they are missing: tracepoint
// attachment reads event ids from tracefs.
func ensureMounts(log zerolog.Logger) {
	for _, m := range []struct{ dir, fs string }{{"/sys/kernel/tracing", "tracefs"}, {"/sys/fs/bpf", "bpf"}} {
		var st unix.Statfs_t
		if err := unix.Statfs(m.dir, &st); err != nil {
			continue
		}
		magic := map[string]int64{"tracefs": unix.TRACEFS_MAGIC, "bpf": unix.BPF_FS_MAGIC}[m.fs]
		if int64(st.Type) == magic {
			continue
		}
		if err := unix.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			log.Debug().Err(err).Str("dir", m.dir).Msg("could not mount " + m.fs)
		}
	}
}

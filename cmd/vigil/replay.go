package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
)

// progressThreshold is the input size from which replay shows a progress bar
// on a terminal.
const progressThreshold = 4 << 20

type replayFlags struct {
	rules         ruleFlags
	out           outputFlags
	publish       natsFlags
	publishEvents bool
	strict        bool
	quiet         bool
	workers       int
	progress      string
}

func newReplayCmd(g *globalFlags) *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay FILE...",
		Short: "Evaluate captured events offline and print the findings",
		Long: `replay reads capture files (one JSON event per line, gzip when compressed; "-"
is standard input), evaluates every event with the signatures, prints the
findings in file order and a summary on standard error: events read, findings
per signature, bad lines. A malformed line is reported as FILE:LINE: reason
and skipped. No kernel and no root are needed.

Lean events (a process context sent by reference, as sensors publish them)
are rebuilt in full from the event of their context earlier in the input, as
"vigil capture" writes it; a lean line whose context is not earlier in the
input is reported as FILE:LINE and not evaluated. Files without lean events
(older captures) replay as they are.

With --publish the findings also go to NATS on vigil.findings.<id>.<host>;
with --publish-events the events themselves go to vigil.events.<event>.<host>,
byte for byte as they are in the file, lean ones in full (to feed a running
engine).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			return runReplay(cmd.Context(), log, f, files, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	f.rules.register(cmd)
	f.out.register(cmd)
	f.publish.register(fs, "publish", "NATS server to publish findings to", true)
	fs.BoolVar(&f.publishEvents, "publish-events", false, "with --publish, also publish each event as read from the file")
	fs.BoolVar(&f.strict, "strict", false, "exit with status 1 when any line was malformed or any evaluation failed or timed out")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary, not the findings")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "events evaluated in parallel")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar: auto (on a terminal, for large input), always, never")
	return cmd
}

// replayContexts is the size of the process context table that resolves a
// replay's lean events (it holds about twice this; the contexts in use
// stay). It is four times capture's bound (captureContexts): whatever a
// capture file refers to lean, the table still holds.
const replayContexts = 4 * captureContexts

// replayBatchLines is how many lines go to a worker at once.
const replayBatchLines = 256

// replayBatch is lines on their way through the pipeline, in file order.
type replayBatch struct {
	seq   int
	items []replayItem
}

// replayItem is one line on its way through the pipeline.
type replayItem struct {
	file     string
	line     int
	data     []byte
	err      error // the line is bad: reason
	unknown  bool  // a lean event whose context is not earlier in the input
	name     string
	host     string
	ev       *event.Event // the decoded event when there are findings
	findings []engine.Finding
}

// replaySummary is what replay prints at the end.
type replaySummary struct {
	files      int
	events     int
	badLines   int
	unresolved int // lean lines whose context was not earlier (in badLines too)
	findings   map[string]int
	publishErr int
	ruleErrors int // evaluations that failed
	timeouts   int // evaluations stopped by the time limit
	elapsed    time.Duration
}

func runReplay(ctx context.Context, log zerolog.Logger, f *replayFlags, files []string, stdout, stderr io.Writer) error {
	if f.publishEvents && f.publish.url == "" {
		return errors.New("--publish-events needs --publish URL")
	}
	if f.workers < 1 {
		f.workers = 1
	}
	// Open every file first: a missing file is an error before any work.
	var total int64
	readers := make([]*captureReader, 0, len(files))
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	for _, name := range files {
		r, err := openCapture(name)
		if err != nil {
			return fmt.Errorf("opening capture file: %w", err)
		}
		readers = append(readers, r)
		if r.size < 0 || total < 0 {
			total = -1
		} else {
			total += r.size
		}
	}

	set, err := f.rules.load()
	if err != nil {
		return err
	}
	eng, err := engine.New(set, engine.Options{Logger: log.With().Str("component", "engine").Logger()})
	if err != nil {
		return fmt.Errorf("starting the engine: %w", err)
	}
	out, err := f.out.open(stdout)
	if err != nil {
		return err
	}
	defer out.Close()

	var nc *nats.Conn
	if f.publish.url != "" {
		nc, err = f.publish.connect(log, "vigil-replay", failFast)
		if err != nil {
			return err
		}
		defer nc.Close()
	}

	bar := newReplayBar(f.progress, total, stderr)
	var done atomic.Int64 // bytes of the files already finished
	stopBar := make(chan struct{})
	var barWG sync.WaitGroup
	if bar != nil {
		barWG.Add(1)
		go func() {
			defer barWG.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stopBar:
					return
				case <-t.C:
					bar.Set64(done.Load())
				}
			}
		}()
	}

	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The engine server's finding sink: findings are completed (host, id),
	// published, printed and counted the same way as by a running engine.
	sink := &engine.Sink{Logger: log}
	if !f.quiet {
		sink.Output = out
	}
	if nc != nil {
		sink.Publisher = engine.CorePublisher{NC: nc}
	}
	sum := replaySummary{files: len(files), findings: map[string]int{}}
	var writeErr error
	// handle takes the lines in file order, evaluated.
	handle := func(it *replayItem) {
		if it.err != nil {
			sum.badLines++
			if it.unknown {
				sum.unresolved++
			}
			if bar != nil {
				bar.Clear()
			}
			fmt.Fprintf(stderr, "%s:%d: %v\n", it.file, it.line, it.err)
			return
		}
		sum.events++
		if nc != nil && f.publishEvents {
			if err := nc.Publish(event.EventSubject(it.name, it.host), it.data); err != nil {
				sum.publishErr++
			}
		}
		if len(it.findings) == 0 {
			return
		}
		if bar != nil {
			bar.Clear()
		}
		before := sink.Stats().OutputErrors
		err := sink.Emit(ctx, it.ev, it.findings)
		if sink.Stats().OutputErrors > before && writeErr == nil {
			// The output is gone (a closed pipe): stop writing to it.
			writeErr = err
			sink.Output = nil
			cancel()
		}
	}

	// readAll calls each with every line of every file in order (the item
	// is reused: each copies what it keeps), with whether more input is
	// buffered, until each returns false or reading fails (readErr). Lean
	// events are resolved here, in input order, before any worker sees
	// them: the table learns every context from its full event first.
	table := event.NewContextTable(replayContexts)
	var arena []byte
	var readErr error
	readAll := func(each func(it *replayItem, buffered bool) bool) {
		var it replayItem
		for _, r := range readers {
			base := done.Load()
			for {
				data, line, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				it = replayItem{file: r.path, line: line, data: data}
				if err != nil {
					if !errors.Is(err, errLineTooLong) {
						readErr = err
						return
					}
					it.err = err
				} else {
					resolveLine(table, &arena, &it)
				}
				if bar != nil {
					done.Store(base + r.BytesRead())
				}
				if !each(&it, r.r.Buffered() > 0) {
					return
				}
			}
			done.Store(base + r.BytesRead())
		}
	}

	if f.workers == 1 {
		// One worker: each line is evaluated and handled as it is read.
		readAll(func(it *replayItem, _ bool) bool {
			if it.err == nil {
				it.err = evaluateLine(ctx, eng, it)
			}
			handle(it)
			return ctx.Err() == nil
		})
	} else {
		// Reader -> workers -> in-order collector, lines in batches (a
		// batch goes as soon as the input has no more lines buffered, so
		// that a slow stream is not held back).
		batches := make(chan *replayBatch, 2*f.workers)
		results := make(chan *replayBatch, 2*f.workers)
		go func() {
			defer close(batches)
			seq := 0
			b := &replayBatch{items: make([]replayItem, 0, replayBatchLines)}
			send := func() bool {
				if len(b.items) == 0 {
					return true
				}
				b.seq = seq
				seq++
				select {
				case batches <- b:
				case <-ctx.Done():
					return false
				}
				b = &replayBatch{items: make([]replayItem, 0, replayBatchLines)}
				return true
			}
			readAll(func(it *replayItem, buffered bool) bool {
				b.items = append(b.items, *it)
				if len(b.items) >= replayBatchLines || !buffered {
					return send()
				}
				return true
			})
			send()
		}()
		var wg sync.WaitGroup
		for range f.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range batches {
					for i := range b.items {
						if it := &b.items[i]; it.err == nil {
							it.err = evaluateLine(ctx, eng, it)
						}
					}
					results <- b
				}
			}()
		}
		go func() { wg.Wait(); close(results) }()
		pending := map[int]*replayBatch{}
		next := 0
		for b := range results {
			pending[b.seq] = b
			for {
				b, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				for i := range b.items {
					handle(&b.items[i])
				}
			}
		}
	}
	st := sink.Stats()
	for id, n := range st.PerSignature {
		sum.findings[id] = int(n)
	}
	sum.publishErr += int(st.PublishErrors)
	es := eng.Stats()
	sum.ruleErrors, sum.timeouts = int(es.Errors), int(es.Timeouts)
	sum.elapsed = time.Since(start)
	if bar != nil {
		close(stopBar)
		barWG.Wait()
		bar.Finish()
		bar.Clear()
	}
	if nc != nil {
		if err := nc.FlushTimeout(10 * time.Second); err != nil {
			sum.publishErr++
			log.Error().Err(err).Msg("flushing NATS")
		}
	}
	printReplaySummary(stderr, sum)
	switch {
	case writeErr != nil:
		return fmt.Errorf("writing findings: %w", writeErr)
	case readErr != nil:
		return readErr
	case parent.Err() != nil:
		return fmt.Errorf("replay interrupted: %w", parent.Err())
	case sum.publishErr > 0:
		return fmt.Errorf("%d message(s) could not be published to NATS", sum.publishErr)
	case f.strict && sum.badLines+sum.ruleErrors+sum.timeouts > 0:
		return errSilent
	}
	return nil
}

// replayArena is the size of the chunks lean lines are rebuilt in: one
// allocation for many lines rather than a growing buffer each (which cost
// more than the rest of the resolving; see engine's BenchmarkReplay).
const replayArena = 1 << 20

// resolveLine rebuilds a lean event line in full from the table (which
// learns the contexts of full lines), in the arena: appended after the
// lines already there, which stay as they are (a chunk that fills up is
// left to them and a new one taken). A line whose context the table does
// not hold gets an error; a line that is not an event is left for
// evaluation to report.
func resolveLine(table *event.ContextTable, arena *[]byte, it *replayItem) {
	if !bytes.Contains(it.data, []byte(`"ctx"`)) {
		return // no ctx member: nothing to resolve (an older capture's line)
	}
	if cap(*arena)-len(*arena) < 64<<10 {
		*arena = make([]byte, 0, replayArena)
	}
	n := len(*arena)
	out, key, err := table.Resolve(*arena, it.data)
	switch {
	case err == nil && len(out) > n && len(it.data) > 0 && &out[0] != &it.data[0]:
		*arena = out
		it.data = out[n:len(out):len(out)]
	case errors.Is(err, event.ErrUnknownContext):
		it.unknown = true
		it.err = fmt.Errorf("lean event: its process context %s is not in an earlier line (not evaluated; was the file cut, or not written by vigil capture?)", key)
		if !bytes.Contains(it.data, []byte(`"ctx":"`+key+`"`)) {
			// a whole context whose ancestry refers to another (ancestors_ctx)
			it.err = fmt.Errorf("lean event: its process ancestry refers to context %s, which is not in an earlier line (not evaluated; was the file cut, or not written by vigil capture?)", key)
		}
	}
}

// evaluateLine evaluates one capture line on the engine's fast path, as a
// running engine evaluates a NATS message: the conditions derived from the
// signatures read the line's bytes and only the signatures they admit run
// Rego. Every line is decoded all the same (without reflection), so that a
// malformed line is reported whatever the signatures want; the error says
// why the line is not an event.
func evaluateLine(ctx context.Context, eng *engine.Engine, it *replayItem) error {
	if len(it.data) == 0 {
		return errors.New("empty line")
	}
	var unknown error
	name, fs, err := eng.EvaluateMessage(ctx, it.data, true, func(name, host string) error {
		if _, ok := event.Lookup(name); !ok {
			unknown = fmt.Errorf("unknown event %q", name)
			return unknown
		}
		it.host = host
		return nil
	})
	switch {
	case unknown != nil:
		return unknown
	case err != nil:
		return err
	}
	it.name, it.findings = name, fs
	if len(fs) > 0 {
		it.ev = fs[0].Event
	}
	return nil
}

func newReplayBar(mode string, total int64, stderr io.Writer) *progressbar.ProgressBar {
	f, isFile := stderr.(*os.File)
	show := false
	switch mode {
	case "always":
		show = total > 0
	case "auto":
		show = total >= progressThreshold && isFile && isTerminal(f)
	}
	if !show {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
}

func printReplaySummary(w io.Writer, s replaySummary) {
	total := 0
	ids := make([]string, 0, len(s.findings))
	for id, n := range s.findings {
		ids = append(ids, id)
		total += n
	}
	sort.Strings(ids)
	rate := 0.0
	if s.elapsed > 0 {
		rate = float64(s.events) / s.elapsed.Seconds()
	}
	fmt.Fprintf(w, "replay: %d file(s), %d events, %d bad line(s), %d finding(s) in %s (%.0f events/s)\n",
		s.files, s.events, s.badLines, total, s.elapsed.Round(time.Millisecond), rate)
	if len(ids) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, id := range ids {
			fmt.Fprintf(tw, "  %s\t%d\n", id, s.findings[id])
		}
		tw.Flush()
	}
	if s.unresolved > 0 {
		fmt.Fprintf(w, "replay: %d lean event(s) whose process context is not in an earlier line (among the bad lines, not evaluated)\n", s.unresolved)
	}
	if s.ruleErrors+s.timeouts > 0 {
		fmt.Fprintf(w, "replay: %d evaluation error(s), %d time-out(s) (logged)\n", s.ruleErrors, s.timeouts)
	}
	if s.publishErr > 0 {
		fmt.Fprintf(w, "replay: %d message(s) could not be published to NATS\n", s.publishErr)
	}
}

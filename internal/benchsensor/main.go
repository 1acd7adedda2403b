// Command benchsensor measures what vigil costs the host it watches (make
// bench-sensor, needs root).
//
// It runs three workloads in this process, bare and under a real `vigil run`
// (default rules unless -vigil-args says otherwise), alternating in one run:
//
//   - an unselected syscall (getppid) in a tight loop: ns added per call;
//   - open+close of one file, -opens times: % slowdown (wall clock, and the
//     loop thread's own CPU time, which other tenants of the machine do not
//     inflate);
//   - fork+exec of /bin/true, -execs times: % slowdown;
//
// and, under vigil, the kernel drops and decode counts of the sensor, vigil's
// CPU per event read from the ring buffer, its idle and peak RSS, and how long
// a kernel module load (testdata/triggers/kmod) fired during the open burst
// and during the exec loop takes to come back as a finding on NATS.
//
// With -bpf-stats it also runs one more open burst and exec loop under vigil
// with the kernel's BPF run-time statistics on and prints what each of
// vigil's programs cost per operation.
//
// Numbers are ratios against the bare runs of the same invocation: the
// machine is shared, absolute times drift.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sys/unix"
)

type config struct {
	vigil     string
	kmod      string
	vigilArgs string
	rounds    int
	syscalls  int
	opens     int
	execs     int
	file      string
	port      int
	settle    time.Duration
	bpfStats  bool
}

func main() {
	var c config
	flag.StringVar(&c.vigil, "vigil", "bin/vigil", "the vigil binary")
	flag.StringVar(&c.kmod, "kmod", "bin/triggers/kmod", "the kmod trigger (testdata/triggers/kmod)")
	flag.StringVar(&c.vigilArgs, "vigil-args", "", "extra arguments for vigil run (space separated), e.g. \"--events all\"")
	flag.IntVar(&c.rounds, "rounds", 2, "bare/vigil pairs")
	flag.IntVar(&c.syscalls, "syscalls", 2_000_000, "getppid calls per measurement")
	flag.IntVar(&c.opens, "opens", 200_000, "open+close pairs")
	flag.IntVar(&c.execs, "execs", 1000, "fork+exec of /bin/true")
	flag.StringVar(&c.file, "file", "/etc/hostname", "the file opened")
	flag.IntVar(&c.port, "port", 14222, "port of vigil run's embedded NATS server")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "idle time after vigil is ready before measuring")
	flag.BoolVar(&c.bpfStats, "bpf-stats", false, "under vigil, after the timed runs, one more open burst and exec loop with BPF run-time statistics on: ns per operation of each of vigil's BPF programs")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchsensor: needs root (it runs vigil run)")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchsensor:", err)
		os.Exit(1)
	}
}

// times of one run of the workloads, ns per operation
type times struct {
	syscall, open, exec float64
	// openCPU is the open loop's own CPU time per open+close: what the
	// probes add to each call, without the time other tenants of the
	// machine held the CPU (the wall clock's open figure counts that)
	openCPU float64
}

type vigilRun struct {
	times
	idleRSS, peakRSS  int64 // KiB
	cpu               time.Duration
	records           uint64
	published         uint64
	kernelDrops       map[string]uint64
	decodeErrors      uint64
	pubDropped        uint64
	latOpen, latExec  time.Duration // finding latency, -1 when no finding came
	findingsDuringRun int
	eventsSeen        int              // events on NATS, up to maxSizes
	sizesByEvent      map[string][]int // bytes of each of them, by event name (the subject's third token)
	openProgs         []progCost
	execProgs         []progCost
	statsErr          error
}

const maxSizes = 1 << 20

func run(c config) error {
	for _, p := range []string{c.vigil, c.kmod} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (make build triggers)", err)
		}
	}
	var bare []times
	var under []vigilRun
	for r := 0; r < c.rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d: bare\n", r+1)
		bare = append(bare, workloads(c))
		fmt.Fprintf(os.Stderr, "round %d: under vigil run %s\n", r+1, c.vigilArgs)
		v, err := underVigil(c)
		if err != nil {
			return err
		}
		under = append(under, v)
	}
	report(c, bare, under)
	return nil
}

// workloads runs the three workloads, each on a locked OS thread.
func workloads(c config) times {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t times
	// the syscall loop is short: the thread's own CPU time (not the wall
	// clock, which counts the time other tenants of the machine hold the
	// CPU), best of twenty slices
	best := 0.0
	slice := max(c.syscalls/20, 1)
	for i := 0; i < 20; i++ {
		start := threadCPU()
		for j := 0; j < slice; j++ {
			unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		}
		ns := float64(threadCPU()-start) / float64(slice)
		if i == 0 || ns < best {
			best = ns
		}
	}
	t.syscall = best
	cpu0 := threadCPU()
	t.open = openBurst(c.file, c.opens)
	t.openCPU = float64(threadCPU()-cpu0) / float64(c.opens)
	t.exec = execLoop(c.execs, nil)
	return t
}

func openBurst(file string, n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		fd, err := unix.Openat(unix.AT_FDCWD, file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			panic(fmt.Sprintf("opening %s: %v", file, err))
		}
		unix.Close(fd)
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// execLoop forks and execs /bin/true n times; tick, when set, is called
// after each one (with the index).
func execLoop(n int, tick func(int)) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			panic(fmt.Sprintf("running /bin/true: %v", err))
		}
		if tick != nil {
			tick(i)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

func underVigil(c config) (vigilRun, error) {
	var v vigilRun
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// A state folder of its own per run: a fresh JetStream store, and the
	// credentials vigil run creates there for its authenticated server.
	state, err := os.MkdirTemp("", "vigil-bench-state-")
	if err != nil {
		return v, err
	}
	defer os.RemoveAll(state)
	args := []string{"--log-format", "json", "run", "--nats-listen", fmt.Sprintf("127.0.0.1:%d", c.port), "--no-watch", "--state-dir", state}
	if c.vigilArgs != "" {
		args = append(args, strings.Fields(c.vigilArgs)...)
	}
	cmd := exec.CommandContext(ctx, c.vigil, args...)
	cmd.Stdout = io.Discard // findings are read from NATS
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return v, err
	}
	logs := newLogWatch()
	if err := cmd.Start(); err != nil {
		return v, fmt.Errorf("starting vigil: %w", err)
	}
	pid := cmd.Process.Pid
	go logs.read(stderr)
	defer cmd.Process.Kill()
	if err := logs.wait("sensor ready", 3*time.Minute); err != nil {
		return v, err
	}
	if err := logs.wait("engine ready", time.Minute); err != nil {
		return v, err
	}
	reader, err := nats.NkeyOptionFromSeed(filepath.Join(state, "nats", "reader.nk"))
	if err != nil {
		return v, fmt.Errorf("vigil run's reader credentials: %w", err)
	}
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", c.port), reader)
	if err != nil {
		return v, fmt.Errorf("connecting to vigil's NATS server: %w", err)
	}
	defer nc.Close()
	findings := make(chan finding, 1024)
	sub, err := nc.Subscribe("vigil.findings.>", func(m *nats.Msg) {
		var f finding
		if json.Unmarshal(m.Data, &f) == nil {
			f.received = time.Now()
			select {
			case findings <- f:
			default:
			}
		}
	})
	if err != nil {
		return v, err
	}
	defer sub.Unsubscribe()
	nc.Flush()
	// the events on the wire, for their sizes: read with vigil's own
	// credentials (the reader's may read findings only)
	full, err := nats.NkeyOptionFromSeed(filepath.Join(state, "nats", "vigil.nk"))
	if err != nil {
		return v, fmt.Errorf("vigil run's credentials: %w", err)
	}
	enc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", c.port), full)
	if err != nil {
		return v, fmt.Errorf("connecting to vigil's NATS server: %w", err)
	}
	defer enc.Close()
	var sizeMu sync.Mutex
	esub, err := enc.Subscribe("vigil.events.>", func(m *nats.Msg) {
		sizeMu.Lock()
		if v.eventsSeen < maxSizes {
			v.eventsSeen++
			name := m.Subject
			if parts := strings.Split(m.Subject, "."); len(parts) >= 3 {
				name = parts[2]
			}
			if v.sizesByEvent == nil {
				v.sizesByEvent = map[string][]int{}
			}
			v.sizesByEvent[name] = append(v.sizesByEvent[name], len(m.Data))
		}
		sizeMu.Unlock()
	})
	if err != nil {
		return v, err
	}
	defer esub.Unsubscribe()
	enc.Flush()

	time.Sleep(c.settle)
	v.idleRSS = procStatusKiB(pid, "VmRSS")
	cpu0 := procCPU(pid)
	v.times = workloads(c)
	waitIdle(pid)
	for len(findings) > 0 {
		<-findings
		v.findingsDuringRun++
	}

	// A module load in the middle of each burst.
	v.latOpen = latency(c, findings, func(fire func()) {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			openBurst(c.file, c.opens)
		}()
		time.Sleep(300 * time.Millisecond)
		fire()
		wg.Wait()
	})
	waitIdle(pid)
	v.latExec = latency(c, findings, func(fire func()) {
		// a tenth of the way in (the 100th of the default 1,000): a
		// smaller -execs still fires it
		at := min(100, c.execs/10)
		execLoop(c.execs, func(i int) {
			if i == at {
				fire()
			}
		})
	})
	waitIdle(pid)
	v.cpu = procCPU(pid) - cpu0
	v.peakRSS = procStatusKiB(pid, "VmHWM")
	if c.bpfStats {
		// untimed: the statistics cost every program run two clock reads
		v.openProgs, v.statsErr = bpfCosts(pid, c.opens, func() { openBurst(c.file, c.opens) })
		waitIdle(pid)
		if v.statsErr == nil {
			v.execProgs, v.statsErr = bpfCosts(pid, c.execs, func() { execLoop(c.execs, nil) })
			waitIdle(pid)
		}
	}
	esub.Unsubscribe()
	sizeMu.Lock()
	defer sizeMu.Unlock()

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		return v, errors.New("vigil did not stop within 60s of SIGTERM")
	}
	<-logs.eof
	line, ok := logs.find("sensor stopped")
	if !ok {
		return v, errors.New("vigil's log has no \"sensor stopped\" line")
	}
	var st struct {
		Sensor struct {
			Records      uint64
			DecodeErrors uint64
			KernelDrops  map[string][]uint64
		} `json:"sensor"`
		Publisher struct {
			Published uint64
			Dropped   uint64
		} `json:"publisher"`
	}
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		return v, fmt.Errorf("reading the sensor's final stats: %w", err)
	}
	v.records, v.decodeErrors = st.Sensor.Records, st.Sensor.DecodeErrors
	v.published, v.pubDropped = st.Publisher.Published, st.Publisher.Dropped
	v.kernelDrops = map[string]uint64{}
	for name, per := range st.Sensor.KernelDrops {
		for _, n := range per {
			v.kernelDrops[name] += n
		}
	}
	return v, nil
}

type finding struct {
	Signature struct {
		ID string `json:"id"`
	} `json:"signature"`
	Event struct {
		Time    time.Time `json:"time"`
		Process struct {
			HostPid int `json:"host_pid"`
		} `json:"process"`
	} `json:"event"`
	received time.Time
}

// latency runs work, which calls fire once to start the kmod trigger, and
// returns how long after the trigger's module load (its event's kernel
// time) the kernel-module-load finding for it arrived; -1 if none came
// within 20 s of the work ending.
func latency(c config, findings <-chan finding, work func(fire func())) time.Duration {
	pidc := make(chan int, 1)
	work(func() {
		out, err := exec.Command(c.kmod).Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "kmod trigger: %v\n", err)
			pidc <- -1
			return
		}
		var r struct {
			Pid int `json:"pid"`
		}
		json.Unmarshal(out, &r)
		pidc <- r.Pid
	})
	pid := <-pidc
	deadline := time.After(20 * time.Second)
	for {
		select {
		case f := <-findings:
			if f.Signature.ID == "kernel-module-load" && f.Event.Process.HostPid == pid {
				return f.received.Sub(f.Event.Time)
			}
		case <-deadline:
			return -1
		}
	}
}

// waitIdle waits until vigil has used less than 2% of a CPU for a second
// (it drained what the workload produced), at most 60 s.
func waitIdle(pid int) {
	end := time.Now().Add(60 * time.Second)
	last := procCPU(pid)
	for time.Now().Before(end) {
		time.Sleep(time.Second)
		now := procCPU(pid)
		if now-last < 20*time.Millisecond {
			return
		}
		last = now
	}
}

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	// fields after the comm: state is [0], utime [11], stime [12]
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

func procStatusKiB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// logWatch keeps vigil's JSON log lines and wakes waiters on messages.
type logWatch struct {
	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	eof   chan struct{}
}

func newLogWatch() *logWatch {
	w := &logWatch{eof: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *logWatch) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		l := sc.Text()
		if os.Getenv("BENCH_VERBOSE") != "" {
			fmt.Fprintln(os.Stderr, "vigil:", l)
		}
		w.mu.Lock()
		w.lines = append(w.lines, l)
		w.cond.Broadcast()
		w.mu.Unlock()
	}
	close(w.eof)
	w.mu.Lock()
	w.cond.Broadcast()
	w.mu.Unlock()
}

func (w *logWatch) find(msg string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal([]byte(l), &m) == nil && m.Message == msg {
			return l, true
		}
	}
	return "", false
}

func (w *logWatch) wait(msg string, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		if _, ok := w.find(msg); ok {
			return nil
		}
		select {
		case <-w.eof:
			w.mu.Lock()
			tail := w.lines[max(0, len(w.lines)-10):]
			w.mu.Unlock()
			return fmt.Errorf("vigil exited before %q:\n%s", msg, strings.Join(tail, "\n"))
		default:
		}
		if time.Now().After(end) {
			return fmt.Errorf("no %q from vigil within %s", msg, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(c config, bare []times, under []vigilRun) {
	w := os.Stdout
	fmt.Fprintf(w, "\nvigil bench-sensor: %d rounds, vigil run %s, %d CPUs, kernel %s\n", len(bare), c.vigilArgs, runtime.NumCPU(), kernel())
	fmt.Fprintf(w, "%-32s %12s %12s %14s\n", "workload", "bare", "under vigil", "added")
	pick := func(f func(times) float64) (b, u []float64) {
		for _, t := range bare {
			b = append(b, f(t))
		}
		for _, v := range under {
			u = append(u, f(v.times))
		}
		return
	}
	b, u := pick(func(t times) float64 { return t.syscall })
	fmt.Fprintf(w, "%-32s %10.1fns %10.1fns %+11.1f ns\n", "getppid (unselected syscall)", median(b), median(u), median(u)-median(b))
	b, u = pick(func(t times) float64 { return t.open })
	fmt.Fprintf(w, "%-32s %10.2fµs %10.2fµs %+12.1f%%\n", fmt.Sprintf("open+close x%d", c.opens), median(b)/1e3, median(u)/1e3, 100*(median(u)/median(b)-1))
	b, u = pick(func(t times) float64 { return t.openCPU })
	fmt.Fprintf(w, "%-32s %10.2fµs %10.2fµs %+12.1f%%\n", "  the same, its thread's CPU", median(b)/1e3, median(u)/1e3, 100*(median(u)/median(b)-1))
	b, u = pick(func(t times) float64 { return t.exec })
	fmt.Fprintf(w, "%-32s %10.2fms %10.2fms %+12.1f%%\n", fmt.Sprintf("fork+exec /bin/true x%d", c.execs), median(b)/1e6, median(u)/1e6, 100*(median(u)/median(b)-1))
	for i, v := range under {
		fmt.Fprintf(w, "\nvigil round %d:\n", i+1)
		fmt.Fprintf(w, "  per round: getppid %+.1f ns, open+close %+.1f%% (thread CPU %+.1f%%), fork+exec %+.1f%%\n",
			v.syscall-bare[i].syscall, 100*(v.open/bare[i].open-1), 100*(v.openCPU/bare[i].openCPU-1), 100*(v.exec/bare[i].exec-1))
		var total uint64
		names := make([]string, 0, len(v.kernelDrops))
		for n, d := range v.kernelDrops {
			total += d
			names = append(names, fmt.Sprintf("%s=%d", n, d))
		}
		slices.Sort(names)
		fmt.Fprintf(w, "  ring buffer records %d, published %d, kernel drops %d %v, decode errors %d, publisher drops %d\n",
			v.records, v.published, total, names, v.decodeErrors, v.pubDropped)
		perEvent := "n/a"
		if v.records > 0 {
			perEvent = fmt.Sprintf("%.1f µs", float64(v.cpu.Microseconds())/float64(v.records))
		}
		perPub := "n/a"
		if v.published > 0 {
			perPub = fmt.Sprintf("%.1f µs", float64(v.cpu.Microseconds())/float64(v.published))
		}
		fmt.Fprintf(w, "  vigil CPU %s during the workloads: %s per record read, %s per event published\n", v.cpu, perEvent, perPub)
		if v.eventsSeen > 0 {
			type kind struct {
				name  string
				sizes []float64
			}
			var kinds []kind
			var all []float64
			total := 0
			for name, ns := range v.sizesByEvent {
				k := kind{name: name}
				for _, n := range ns {
					k.sizes = append(k.sizes, float64(n))
					total += n
				}
				all = append(all, k.sizes...)
				kinds = append(kinds, k)
			}
			fmt.Fprintf(w, "  events on NATS: %d, median %.0f bytes, %d bytes in all\n", len(all), median(all), total)
			slices.SortFunc(kinds, func(a, b kind) int { return len(b.sizes) - len(a.sizes) })
			var parts []string
			for i, k := range kinds {
				if i == 6 {
					parts = append(parts, "...")
					break
				}
				parts = append(parts, fmt.Sprintf("%s %d (median %.0f B)", k.name, len(k.sizes), median(k.sizes)))
			}
			fmt.Fprintf(w, "    by event: %s\n", strings.Join(parts, ", "))
		}
		fmt.Fprintf(w, "  RSS idle %d MiB, peak %d MiB\n", v.idleRSS/1024, v.peakRSS/1024)
		fmt.Fprintf(w, "  module-load finding latency: during open burst %s, during exec loop %s\n", lat(v.latOpen), lat(v.latExec))
		if v.statsErr != nil {
			fmt.Fprintf(w, "  BPF program statistics: %v\n", v.statsErr)
		} else if c.bpfStats {
			printCosts(w, "open+close", v.openProgs)
			printCosts(w, "fork+exec", v.execProgs)
		}
	}
}

func lat(d time.Duration) string {
	if d < 0 {
		return "NO FINDING"
	}
	return d.Round(100 * time.Microsecond).String()
}

func kernel() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// threadCPU returns the CPU time the calling OS thread has used, in ns.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

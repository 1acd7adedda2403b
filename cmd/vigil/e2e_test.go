package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// finding is the part of a finding's JSON form the end-to-end test checks.
type finding struct {
	Signature struct {
		ID       string `json:"id"`
		Severity string `json:"severity"`
	} `json:"signature"`
	Event  *event.Event   `json:"event"`
	Fields map[string]any `json:"fields"`
	Host   string         `json:"host"`
	raw    []byte
}

// inbox collects messages from a subscription and lets the test wait for a
// matching one.
type inbox[T any] struct {
	mu    sync.Mutex
	items []T
	bad   []string
	more  chan struct{}
}

func newInbox[T any]() *inbox[T] { return &inbox[T]{more: make(chan struct{})} }

func (b *inbox[T]) add(v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items = append(b.items, v)
	close(b.more)
	b.more = make(chan struct{})
}

func (b *inbox[T]) addBad(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bad = append(b.bad, s)
}

func (b *inbox[T]) snapshot() []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]T(nil), b.items...)
}

// waitMatch waits until an item matches and returns it.
func (b *inbox[T]) waitMatch(timeout time.Duration, match func(T) bool) (T, bool) {
	deadline := time.After(timeout)
	seen := 0
	for {
		b.mu.Lock()
		for ; seen < len(b.items); seen++ {
			if match(b.items[seen]) {
				v := b.items[seen]
				b.mu.Unlock()
				return v, true
			}
		}
		more := b.more
		b.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			var zero T
			return zero, false
		}
	}
}

// expectation is one finding a scenario must cause.
type expectation struct {
	what  string
	sigID string
	// pid is the host pid of the finding's process; when it is 0, ppid is
	// that of its parent (a child the test cannot know beforehand).
	pid, ppid uint32
	exe       func(string) bool
	exeDoc    string
	comm      string
	event     string
	// also narrows down the event when a process causes several findings
	// of one signature (nil: any).
	also func(*event.Event) bool
}

func (e expectation) matchesProcess(p event.Process) bool {
	if e.pid == 0 {
		return p.HostPpid == e.ppid
	}
	return p.HostPid == e.pid
}

// e2eEnv is what a scenario works with.
type e2eEnv struct {
	triggers string // every testdata/triggers program, built
	// benign collects the pids of benign workloads a scenario runs itself
	// (with the triggers): like benignWorkloads, they must cause no finding.
	benign []uint32
	// events holds every event seen on NATS, for scenarios that check what
	// the sensor reported as well as what was found.
	events *inbox[*event.Event]
}

// scenario is one behaviour the end-to-end test performs for real, with the
// findings it must cause. Each family registers its own (e2e_<family>_test.go).
type scenario struct {
	name string
	run  func(t *testing.T, env *e2eEnv) []expectation
}

var (
	scenarios []scenario
	// benignWorkloads must cause no finding at all, not even through their
	// children.
	benignWorkloads = [][]string{{"/bin/true"}, {"ls", "/"}, {"sh", "-c", "ls / | wc -l"}}
)

// TestEndToEnd runs the whole path on this kernel: a nats-server process,
// vigil sensor and vigil engine as separate processes, every scenario doing
// for real what a shipped signature detects, and benign workloads that must
// not produce findings.
func TestEndToEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the end-to-end test loads BPF programs and needs root: run it as root (CI does)")
	}
	bin := mustVigil(t)
	trig, err := goBuild("triggers", "./testdata/triggers/...")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(trig) })

	srv := natstest.Start(t, 0)
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	findings := newInbox[finding]()
	if _, err := nc.Subscribe(event.AllFindings, func(m *nats.Msg) {
		var f finding
		if err := json.Unmarshal(m.Data, &f); err != nil || f.Event == nil {
			findings.addBad(fmt.Sprintf("%s: %v: %s", m.Subject, err, m.Data))
			return
		}
		// Typed arguments, as event.Unmarshal gives them.
		if err := f.Event.Normalize(); err != nil {
			findings.addBad(fmt.Sprintf("%s: event: %v", m.Subject, err))
			return
		}
		if want := event.FindingSubject(f.Signature.ID, f.Host); m.Subject != want {
			findings.addBad(fmt.Sprintf("finding on %s, want subject %s", m.Subject, want))
		}
		f.raw = m.Data
		findings.add(f)
	}); err != nil {
		t.Fatal(err)
	}
	events := newInbox[*event.Event]()
	rawEvents := map[string]bool{}
	var rawMu sync.Mutex
	// Lean events (the process context by reference) are resolved as a
	// consumer does: from the whole events seen, else by asking the sensor.
	contexts := event.NewContextTable(1 << 16)
	evSub, err := nc.Subscribe(event.AllEvents, func(m *nats.Msg) {
		data, err := resolveLean(nc, contexts, m.Subject, m.Data)
		if err != nil {
			events.addBad(fmt.Sprintf("%s: %v", m.Subject, err))
			return
		}
		ev, err := event.Unmarshal(data)
		if err != nil {
			events.addBad(fmt.Sprintf("%s: %v", m.Subject, err))
			return
		}
		rawMu.Lock()
		rawEvents[string(m.Data)] = true
		rawEvents[string(data)] = true // a capture may keep events resolved
		if len(data) != len(m.Data) {
			// resolved by the capture's own table, which may not know the
			// probe of a lean event's kind yet when this one does
			rawEvents[withoutProbe(t, data)] = true
		}
		rawMu.Unlock()
		events.add(ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	// every event the sensor sends on a busy machine, however far this
	// reader falls behind: the scenarios look for particular ones
	if err := evSub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	engine := startChild(t, "vigil engine", bin, "engine", "--nats", srv.URL, "--output", "json", "--log-format", "json", "--log-level", "debug")
	sensor := startChild(t, "vigil sensor", bin, "sensor", "--nats", srv.URL, "--log-format", "json")
	engine.waitLog(t, "engine ready", 60*time.Second)
	sensor.waitLog(t, "sensor ready", 60*time.Second)

	// The sensor is ready when it has published the exec of a program we ran.
	deadline := time.Now().Add(30 * time.Second)
	for {
		cmd := exec.Command("/bin/true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		pid := uint32(cmd.Process.Pid)
		if _, ok := events.waitMatch(time.Second, func(ev *event.Event) bool {
			return ev.Name == "sched_process_exec" && ev.Process.HostPid == pid
		}); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sched_process_exec event from the sensor within 30s")
		}
	}

	// A capture runs alongside, to replay what it saw afterwards.
	capFile := filepath.Join(t.TempDir(), "e2e.jsonl.gz")
	capture := startChild(t, "vigil capture", bin, "capture", "-o", capFile, "--nats", srv.URL, "--log-format", "json")
	capture.waitLog(t, "capturing", 30*time.Second)

	// Benign workloads first: none of these may cause a finding.
	var benign []uint32
	for _, argv := range benignWorkloads {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Run(); err != nil {
			t.Fatalf("benign workload %v: %v", argv, err)
		}
		benign = append(benign, uint32(cmd.Process.Pid))
	}

	env := &e2eEnv{triggers: trig, events: events}
	var expect []expectation
	// VIGIL_E2E_ONLY (a regular expression on scenario names) runs some
	// of them, while working on one
	only := regexp.MustCompile(os.Getenv("VIGIL_E2E_ONLY"))
	for _, sc := range scenarios {
		if !only.MatchString(sc.name) {
			continue
		}
		nbenign := len(env.benign)
		got := sc.run(t, env)
		if len(got) == 0 && len(env.benign) == nbenign {
			t.Fatalf("scenario %s expects no finding and runs no benign workload", sc.name)
		}
		expect = append(expect, got...)
	}

	const wait = 30 * time.Second
	for i, e := range expect {
		f, ok := findings.waitMatch(wait, func(f finding) bool {
			return f.Signature.ID == e.sigID && e.matchesProcess(f.Event.Process) && f.Event.Name == e.event &&
				(e.also == nil || e.also(f.Event))
		})
		if !ok {
			t.Errorf("%s: no %s finding for pid %d (parent %d) (event %s) within %s", e.what, e.sigID, e.pid, e.ppid, e.event, wait)
			logEventsOf(t, events, e.pid, e.ppid)
			continue
		}
		// the replay below must find the same process
		expect[i].pid = f.Event.Process.HostPid
		if !e.exe(f.Event.Process.Exe) || f.Event.Process.Comm != e.comm {
			t.Errorf("%s: finding names exe %q comm %q, want exe %s comm %s", e.what, f.Event.Process.Exe, f.Event.Process.Comm, e.exeDoc, e.comm)
		}
		t.Logf("%s: %s pid=%d comm=%s exe=%s fields=%v", e.what, f.Signature.ID, f.Event.Process.Pid, f.Event.Process.Comm, f.Event.Process.Exe, f.Fields)
	}

	// Findings still in flight for the benign workload would have arrived
	// by now, since the triggers ran after it; give the engine a moment more.
	time.Sleep(time.Second)
	benign = append(benign, env.benign...)
	for _, f := range findings.snapshot() {
		if involves(f.Event, benign) {
			t.Errorf("benign workload produced a finding: %s", f.raw)
		}
	}
	if bad := findings.bad; len(bad) > 0 {
		t.Errorf("malformed findings on NATS: %q", bad)
	}
	if bad := events.bad; len(bad) > 0 {
		t.Errorf("malformed events on NATS: %q", bad)
	}

	// The capture holds the exact bytes seen on NATS, and replaying it
	// offline finds the same things.
	if err := capture.stop(10 * time.Second); err != nil {
		t.Fatalf("capture: %v", err)
	}
	lines := readCapture(t, capFile)
	if len(lines) == 0 {
		t.Fatal("the capture is empty")
	}
	rawMu.Lock()
	for i, l := range lines {
		if !rawEvents[l] && !rawEvents[withoutProbe(t, []byte(l))] {
			t.Errorf("%s:%d is not byte for byte an event seen on NATS: %s", capFile, i+1, l)
			break
		}
	}
	rawMu.Unlock()
	replay := exec.Command(bin, "replay", capFile, "--output", "json", "--log-format", "json")
	var rout, rerr bytes.Buffer
	replay.Stdout, replay.Stderr = &rout, &rerr
	if err := replay.Run(); err != nil {
		t.Fatalf("replay of the capture: %v\n%s", err, rerr.String())
	}
	replayed := map[string]bool{}
	sc := bufio.NewScanner(&rout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var f finding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("replay output line %q: %v", sc.Text(), err)
		}
		replayed[fmt.Sprintf("%s/%d/%s", f.Signature.ID, f.Event.Process.HostPid, f.Event.Name)] = true
	}
	for _, e := range expect {
		if key := fmt.Sprintf("%s/%d/%s", e.sigID, e.pid, e.event); !replayed[key] {
			t.Errorf("replay of the capture did not find %s (%s)", e.what, key)
		}
	}
	t.Logf("replay summary: %s", strings.TrimSpace(rerr.String()))

	// Both daemons stop cleanly on SIGINT.
	for _, c := range []*child{sensor, engine} {
		if err := c.stop(20 * time.Second); err != nil {
			t.Errorf("%s exited with %v after SIGINT", c.name, err)
		}
	}
	if !strings.Contains(sensor.stderr.String(), "sensor stopped") {
		t.Errorf("the sensor did not log its stop")
	}
}

// runTrigger runs a trigger program and decodes the JSON line it prints.
func runTrigger(t *testing.T, cmd *exec.Cmd, report any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	line, _, _ := bytes.Cut(stdout.Bytes(), []byte("\n"))
	if jerr := json.Unmarshal(line, report); jerr != nil {
		t.Fatalf("%s: %v (exit: %v)\nstdout: %s\nstderr: %s", cmd.Path, jerr, err, stdout.String(), stderr.String())
	}
	if err != nil {
		t.Logf("%s exited with %v: %s", cmd.Path, err, strings.TrimSpace(stderr.String()))
	}
}

// installSetuidRoot copies the helper to a folder on a file system that
// honours set-user-id bits, owned by root with mode 04755, reachable by
// uid 65534.
func installSetuidRoot(t *testing.T, src string) string {
	t.Helper()
	dst := installForOthers(t, src, "setuidroot")
	if err := os.Chmod(dst, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// installForOthers copies a program, as name, to a fresh folder on a file
// system that honours set-user-id bits and file capabilities (no nosuid),
// owned by root with mode 0755, where uid 65534 can run it.
func installForOthers(t *testing.T, src, name string) string {
	t.Helper()
	var dir string
	for _, base := range []string{os.TempDir(), "/var/tmp", "/root", "/"} {
		var st unix.Statfs_t
		if err := unix.Statfs(base, &st); err != nil || st.Flags&unix.ST_NOSUID != 0 {
			continue
		}
		d, err := os.MkdirTemp(base, "vigil-e2e-suid-")
		if err != nil {
			continue
		}
		dir = d
		break
	}
	if dir == "" {
		t.Fatal("no file system without nosuid to install the program on")
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dst, 0, 0); err != nil {
		t.Fatal(err)
	}
	// uid 65534 must be able to reach it: every parent must be searchable.
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			t.Fatalf("%s is not searchable by other users; cannot run %s from %s", d, name, dir)
		}
		if d == "/" {
			break
		}
	}
	return dst
}

// involves tells whether ev's process, or one of its ancestors, has one of pids.
func involves(ev *event.Event, pids []uint32) bool {
	for _, p := range pids {
		if ev.Process.HostPid == p {
			return true
		}
		for _, a := range ev.Process.Ancestors {
			if a.HostPid == p {
				return true
			}
		}
	}
	return false
}

// logEventsOf logs the events of process pid, or, when pid is 0, of the
// children of ppid.
func logEventsOf(t *testing.T, events *inbox[*event.Event], pid, ppid uint32) {
	t.Helper()
	n := 0
	for _, ev := range events.snapshot() {
		if (pid != 0 && ev.Process.HostPid == pid) || (pid == 0 && ev.Process.HostPpid == ppid) {
			args, _ := json.Marshal(ev.Args)
			t.Logf("event of pid %d: %s comm=%s exe=%s uid=%d euid=%d return=%d args=%s",
				ev.Process.HostPid, ev.Name, ev.Process.Comm, ev.Process.Exe, ev.Process.UID, ev.Process.EUID, ev.ReturnValue, args)
			n++
		}
	}
	if n == 0 {
		t.Logf("no event at all was seen for pid %d (parent %d)", pid, ppid)
	}
}

// readCapture returns the lines of a capture file.
func readCapture(t *testing.T, path string) []string {
	t.Helper()
	r, err := openCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines []string
	for {
		l, _, err := r.Next()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(l))
	}
}

// resolveLean gives an event from NATS in its whole form: a lean one's
// process context comes from table, else from the sensor that sent it
// (event.ContextSubject of the host token ending subject).
func resolveLean(nc *nats.Conn, table *event.ContextTable, subject string, data []byte) ([]byte, error) {
	out, missing, err := table.Resolve(nil, data)
	if !errors.Is(err, event.ErrUnknownContext) {
		return out, err
	}
	host := subject[strings.LastIndexByte(subject, '.')+1:]
	msg, err := nc.Request(event.SubjectRoot+".context."+host, []byte(missing), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("asking %s's sensor for process context %s: %w", host, missing, err)
	}
	if why := msg.Header.Get("Vigil-Error"); why != "" {
		return nil, fmt.Errorf("process context %s: %s", missing, why)
	}
	if _, err := table.Add(msg.Data); err != nil {
		return nil, fmt.Errorf("process context %s from the sensor: %w", missing, err)
	}
	out, _, err = table.Resolve(nil, data)
	return out, err
}

// withoutProbe is an event's JSON form without its probe.
func withoutProbe(t *testing.T, data []byte) string {
	ev, err := event.Unmarshal(data)
	if err != nil {
		return ""
	}
	ev.Probe = ""
	out, err := ev.Marshal()
	if err != nil {
		t.Errorf("re-encoding %s: %v", data, err)
	}
	return string(out)
}

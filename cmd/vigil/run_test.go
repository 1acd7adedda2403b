package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
)

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRun starts vigil run on a free port with its state in state (a new
// temporary folder when empty) and returns it with its URL once the engine
// is ready.
func startRun(t *testing.T, state string, args ...string) (*child, string) {
	t.Helper()
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	if state == "" {
		state = t.TempDir()
	}
	args = append([]string{"run", "--nats-listen", fmt.Sprintf("127.0.0.1:%d", port), "--state-dir", state, "--output", "json", "--log-format", "json"}, args...)
	run := startChild(t, "vigil run", mustVigil(t), args...)
	run.waitLog(t, "engine ready", 60*time.Second)
	return run, url
}

// connectRun connects to vigil run's server as vigil itself (vigil.nk in
// its state folder).
func connectRun(t *testing.T, url, state string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	o, err := nats.NkeyOptionFromSeed(filepath.Join(state, "nats", "vigil.nk"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(opts, o)...)
	if err != nil {
		t.Fatalf("connecting to vigil run's server: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func stopRun(t *testing.T, run *child) {
	t.Helper()
	if err := run.stop(20 * time.Second); err != nil {
		t.Errorf("vigil run exited with %v after SIGINT", err)
	}
	if !strings.Contains(run.stderr.String(), "embedded NATS server stopped") {
		t.Error("vigil run did not stop its NATS server")
	}
}

// vigil run without the sensor: the embedded NATS server takes client
// connections, the engine evaluates events published to it, findings come
// out on NATS and on stdout, and SIGINT stops it cleanly. JetStream keeps
// the findings in their stream.
func TestRunEmbeddedNATSAndJetStream(t *testing.T) {
	store, state := t.TempDir(), t.TempDir()
	run, url := startRun(t, state, "--no-sensor", "--jetstream", store)
	nc := connectRun(t, url, state)
	sub, err := nc.SubscribeSync(event.AllFindings)
	if err != nil {
		t.Fatal(err)
	}
	ev := sampleEvents()[1] // finit_module
	data, _ := ev.Marshal()
	if err := nc.Publish(event.EventSubject(ev.Name, ev.Host), data); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(15 * time.Second)
	if err != nil {
		t.Fatalf("no finding from vigil run: %v", err)
	}
	if msg.Subject != "vigil.findings.kernel-module-load.host-a" {
		t.Errorf("finding on %s", msg.Subject)
	}
	if !run.stdout.waitFor(`"id":"kernel-module-load"`, 10*time.Second, run.done) {
		t.Errorf("vigil run did not print the finding; stdout:\n%s", run.stdout)
	}

	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, min := range map[string]uint64{engine.EventsStream: 1, engine.FindingsStream: 1} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs < min {
			t.Errorf("stream %s holds %d messages, want at least %d", name, info.State.Msgs, min)
		}
	}
	nc.Close()
	stopRun(t, run)
	// Every CPU unless told otherwise ($GOMAXPROCS, --max-procs).
	if want := fmt.Sprintf(`"max_procs":%d`, runtime.NumCPU()); os.Getenv("GOMAXPROCS") == "" && !strings.Contains(run.stderr.String(), want) {
		t.Errorf("vigil run did not log %s:\n%s", want, run.stderr)
	}

	// Declaring the streams again over the same store is fine.
	run2, _ := startRun(t, state, "--no-sensor", "--jetstream", store, "--max-procs", "2")
	stopRun(t, run2)
	if !strings.Contains(run2.stderr.String(), `"max_procs":2`) {
		t.Errorf("vigil run --max-procs 2 did not log max_procs 2:\n%s", run2.stderr)
	}
}

func TestRunRefusesBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(mustVigil(t), "run", "--no-sensor", "--nats-listen", l.Addr().String(), "--state-dir", t.TempDir(), "--log-format", "json")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("vigil run started on a busy port:\n%s", out)
	}
	if !strings.Contains(string(out), "address already in use") {
		t.Errorf("the error does not say the address is in use:\n%s", out)
	}
}

// vigil run with the sensor (root): a module load attempt on this host
// becomes a finding a NATS client sees.
func TestRunWithSensor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run with the sensor loads BPF programs and needs root: run as root (CI does)")
	}
	trig, err := goBuild("kmod", "./testdata/triggers/kmod")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(trig)) })
	state := t.TempDir()
	run, url := startRun(t, state)
	run.waitLog(t, "sensor ready", 60*time.Second)
	nc := connectRun(t, url, state)
	sub, err := nc.SubscribeSync("vigil.findings.kernel-module-load.>")
	if err != nil {
		t.Fatal(err)
	}
	events, err := nc.SubscribeSync(event.AllEvents)
	if err != nil {
		t.Fatal(err)
	}
	events.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var report struct{ Pid uint32 }
	runTrigger(t, exec.Command(trig), &report)
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			t.Fatalf("no kernel-module-load finding for pid %d: %v", report.Pid, err)
		}
		var f finding
		if err := json.Unmarshal(msg.Data, &f); err != nil {
			t.Fatal(err)
		}
		if f.Event.Process.HostPid == report.Pid {
			break
		}
	}
	// Routine events come lean, and the sensor answers for their contexts.
	for i := range 20 {
		cmd := exec.Command("/bin/sh", "-c", `i=0; while [ $i -lt 10 ]; do : > /dev/null; i=$((i+1)); done`)
		cmd.Run()
		if i == 19 {
			t.Fatal("no lean event from vigil run's sensor")
		}
		msg, err := events.NextMsg(time.Second)
		for ; err == nil && !bytes.Contains(msg.Data, []byte(`"process":{"tid":`)); msg, err = events.NextMsg(time.Second) {
		}
		if err != nil {
			continue
		}
		table := event.NewContextTable(4)
		_, key, err := table.Resolve(nil, msg.Data)
		if !errors.Is(err, event.ErrUnknownContext) {
			t.Fatalf("a lean event without a context key: %v:\n%s", err, msg.Data)
		}
		host := msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:]
		answer, err := nc.Request(event.SubjectRoot+".context."+host, []byte(key), 5*time.Second)
		if err != nil {
			t.Fatalf("asking vigil run's sensor for context %s: %v", key, err)
		}
		if _, err := table.Add(answer.Data); err != nil {
			t.Fatalf("the sensor's answer for %s (%s): %v", key, answer.Header.Get("Vigil-Error"), err)
		}
		whole, _, err := table.Resolve(nil, msg.Data)
		ev, uerr := event.Unmarshal(whole)
		if err != nil || uerr != nil || ev.Process.HostPid == 0 || ev.Process.Comm == "" {
			t.Fatalf("resolved lean event: %v %v:\n%s", err, uerr, whole)
		}
		break
	}
	stopRun(t, run)
	if !strings.Contains(run.stderr.String(), "sensor stopped") {
		t.Error("the sensor did not log its stop")
	}
}

// vigil run's server requires credentials: it creates them on first start
// (0600), refuses anonymous clients, and the reader key reads findings but
// may neither publish events nor join the engines' consumer.
func TestRunRequiresCredentials(t *testing.T) {
	state := t.TempDir()
	run, url := startRun(t, state, "--no-sensor")
	defer stopRun(t, run)
	for _, name := range []string{"vigil.nk", "reader.nk"} {
		fi, err := os.Stat(filepath.Join(state, "nats", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if !strings.Contains(run.stderr.String(), "--nkey "+filepath.Join(state, "nats", "reader.nk")) {
		t.Errorf("vigil run did not tell how to read findings; logs:\n%s", run.stderr)
	}
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to vigil run's server")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Errorf("anonymous client: %v, want an authorization error", err)
	}

	o, err := nats.NkeyOptionFromSeed(filepath.Join(state, "nats", "reader.nk"))
	if err != nil {
		t.Fatal(err)
	}
	perms := make(chan error, 4)
	reader, err := nats.Connect(url, o, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { perms <- err }))
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer reader.Close()
	findings, err := reader.SubscribeSync(event.AllFindings)
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Flush(); err != nil {
		t.Fatal(err)
	}
	ev := sampleEvents()[1] // finit_module
	data, _ := ev.Marshal()
	reader.Publish(event.EventSubject(ev.Name, ev.Host), data)
	reader.Flush()
	select {
	case err := <-perms:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("reader publishing an event: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the reader published an event without a permissions violation")
	}
	if _, err := reader.QueueSubscribe(event.AllEvents, engine.DefaultQueue, func(*nats.Msg) {}); err == nil {
		reader.Flush()
		select {
		case err := <-perms:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Errorf("reader joining the engine group: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("the reader joined the engine group without a permissions violation")
		}
	}

	// vigil's own key publishes; the finding reaches the reader.
	nc := connectRun(t, url, state)
	if err := nc.Publish(event.EventSubject(ev.Name, ev.Host), data); err != nil {
		t.Fatal(err)
	}
	if _, err := findings.NextMsg(15 * time.Second); err != nil {
		t.Errorf("the reader got no finding: %v", err)
	}
}

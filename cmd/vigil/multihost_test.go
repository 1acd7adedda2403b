package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-sec/vigil/engine"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// The example multi-host layout (docs/multi-host/nats-server.conf) holds end
// to end: a sensor publishes only its own host's events, only the engine
// joins the engine group, the reader only reads findings, anonymous clients
// are refused, and events flow from sensor to finding.
func TestMultiHostLayout(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{"sensor-web1": "pw-s1", "sensor-db1": "pw-s2", "engine": "pw-eng", "reader": "pw-rd"}
	t.Setenv("VIGIL_SENSOR_WEB1_PASSWORD", pw["sensor-web1"])
	t.Setenv("VIGIL_SENSOR_DB1_PASSWORD", pw["sensor-db1"])
	t.Setenv("VIGIL_ENGINE_PASSWORD", pw["engine"])
	t.Setenv("VIGIL_READER_PASSWORD", pw["reader"])
	// The shipped file, with the store in a temporary folder.
	conf, err := os.ReadFile(filepath.Join(root, "docs/multi-host/nats-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(t.TempDir(), "nats-server.conf")
	os.WriteFile(confPath, []byte(strings.Replace(string(conf), "/var/lib/nats/jetstream", t.TempDir(), 1)), 0o600)
	ns := natstest.Start(t, 0, "-c", confPath)

	violations := make(chan string, 16)
	as := func(user string) *nats.Conn {
		t.Helper()
		nc, err := nats.Connect(ns.URL, nats.UserInfo(user, pw[user]), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			violations <- user + ": " + err.Error()
		}))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	expectViolation := func(what string) {
		t.Helper()
		select {
		case v := <-violations:
			if !strings.Contains(v, "Permissions Violation") {
				t.Errorf("%s: %s", what, v)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: allowed", what)
		}
	}

	if nc, err := nats.Connect(ns.URL); err == nil {
		nc.Close()
		t.Error("an anonymous client connected")
	}

	engArgs := []string{"engine", "--nats", ns.URL, "--nats-user", "engine", "--nats-password", pw["engine"], "--durable", "on", "--output", "json", "--log-format", "json"}
	eng := startChild(t, "vigil engine", mustVigil(t), engArgs...)
	eng.waitLog(t, "engine ready", 60*time.Second)

	reader := as("reader")
	findings, err := reader.SubscribeSync(event.AllFindings)
	if err != nil {
		t.Fatal(err)
	}
	reader.Flush()

	// A sensor publishes its own host's events; not another host's.
	web1 := as("sensor-web1")
	ev := sampleEvents()[1] // finit_module
	ev.Host = "web1"
	data, _ := ev.Marshal()
	web1.Publish(event.EventSubject(ev.Name, "web1"), data)
	web1.Flush()
	msg, err := findings.NextMsg(20 * time.Second)
	if err != nil {
		t.Fatalf("no finding for web1's event: %v", err)
	}
	if msg.Subject != "vigil.findings.kernel-module-load.web1" {
		t.Errorf("finding on %s", msg.Subject)
	}
	forged := *ev
	forged.Host = "db1"
	fdata, _ := forged.Marshal()
	web1.Publish(event.EventSubject(ev.Name, "db1"), fdata)
	web1.Flush()
	expectViolation("sensor-web1 publishing db1's events")
	web1.Subscribe(event.AllFindings, func(*nats.Msg) {})
	web1.Flush()
	expectViolation("sensor-web1 reading findings")
	web1.Subscribe("_INBOX.db1.>", func(*nats.Msg) {})
	web1.Flush()
	expectViolation("sensor-web1 reading db1's acknowledgements")
	web1.Subscribe(event.ContextSubject("db1"), func(*nats.Msg) {})
	web1.Flush()
	expectViolation("sensor-web1 answering for db1's process contexts")
	drainViolations(violations)
	// A sensor answers requests for its process contexts (lean events),
	// which the engine may ask and the reader may not.
	{
		ctxSub, err := web1.Subscribe(event.ContextSubject("web1"), func(m *nats.Msg) {
			m.Respond(append([]byte(`{"pid":1,"ctx":"`), append(m.Data, `"}`...)...))
		})
		if err != nil {
			t.Fatal(err)
		}
		web1.Flush()
		eng := as("engine")
		if msg, err := eng.Request(event.ContextSubject("web1"), []byte("0123456789abcdef"), 5*time.Second); err != nil || string(msg.Data) != `{"pid":1,"ctx":"0123456789abcdef"}` {
			t.Errorf("the engine asking web1 for a process context: %v", err)
		}
		reader := as("reader")
		if _, err := reader.Request(event.ContextSubject("web1"), []byte("0123456789abcdef"), time.Second); err == nil {
			t.Error("the reader asked a sensor for a process context")
		}
		expectViolation("the reader asking for a process context")
		ctxSub.Unsubscribe()
		drainViolations(violations)
	}
	// A sensor's acknowledged publishing: it finds the stream and reads the
	// stream's acknowledgement in its own inbox.
	{
		nc, err := nats.Connect(ns.URL, nats.UserInfo("sensor-web1", pw["sensor-web1"]), nats.CustomInboxPrefix("_INBOX.web1"),
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				violations <- "sensor-web1 (acks): " + err.Error()
			}))
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if name, err := js.StreamNameBySubject(ctx, "vigil.events.*.web1"); err != nil || name != engine.EventsStream {
			t.Errorf("sensor-web1 asking which stream takes its events: %q, %v", name, err)
		}
		acked := *ev
		acked.Process.Pid++ // another event: its finding is not the first one's
		adata, _ := acked.Marshal()
		if ack, err := js.Publish(ctx, event.EventSubject(ev.Name, "web1"), adata, jetstream.WithMsgID("layout-test-1")); err != nil || ack.Stream != engine.EventsStream {
			t.Errorf("sensor-web1 publishing with an acknowledgement: %+v, %v", ack, err)
		}
		cancel()
		nc.Close()
		if _, err := findings.NextMsg(20 * time.Second); err != nil {
			t.Errorf("no finding for the acknowledged event: %v", err)
		}
		select {
		case v := <-violations:
			t.Errorf("acknowledged publishing: %s", v)
		default:
		}
	}

	// Lean events: the engine asks web1's sensor for a process context it
	// never saw, and the sensor answers; it may not take db1's requests.
	{
		enc := event.NewContextEncoder(16)
		ctxEv := *ev
		ctxEv.Process.Pid += 2              // another process: not a duplicate finding
		enc.AppendEvent(nil, &ctxEv, false) // sent in full, lost
		lean, _ := enc.AppendEvent(nil, &ctxEv, false)
		if !strings.Contains(string(lean), `"process":{"tid"`) {
			t.Fatalf("not a lean event: %s", lean)
		}
		asked := make(chan struct{}, 1)
		if _, err := web1.Subscribe(event.ContextSubject("web1"), func(m *nats.Msg) {
			obj, _ := enc.Context(string(m.Data))
			m.Respond(obj)
			asked <- struct{}{}
		}); err != nil {
			t.Fatal(err)
		}
		web1.Flush()
		web1.Publish(event.EventSubject(ev.Name, "web1"), lean)
		web1.Flush()
		msg, err := findings.NextMsg(20 * time.Second)
		if err != nil {
			t.Fatalf("no finding for web1's lean event: %v\n%s", err, eng.stderr)
		}
		var f jsonFinding
		if err := json.Unmarshal(msg.Data, &f); err != nil || f.Event.Process.Pid != ctxEv.Process.Pid || f.Event.Process.Exe != "/usr/sbin/insmod" {
			t.Errorf("the lean event's finding lacks its process (%v): %s", err, msg.Data)
		}
		select {
		case <-asked:
		default:
			t.Error("the engine did not ask web1's sensor")
		}
		web1.Subscribe(event.ContextSubject("db1"), func(*nats.Msg) {})
		web1.Flush()
		expectViolation("sensor-web1 taking db1's context requests")
		drainViolations(violations)
	}

	// The reader reads findings from the stream too, and nothing else.
	js, _ := jetstream.New(reader)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.OrderedConsumer(ctx, engine.FindingsStream, jetstream.OrderedConsumerConfig{}); err != nil {
		t.Errorf("the reader cannot consume VIGIL_FINDINGS: %v", err)
	}
	reader.Publish(event.EventSubject(ev.Name, "web1"), data)
	reader.Flush()
	expectViolation("the reader publishing an event")
	reader.QueueSubscribe(event.AllEvents, engine.DefaultQueue, func(*nats.Msg) {})
	reader.Flush()
	expectViolation("the reader joining the engine group")
	if _, err := reader.Request("$JS.API.CONSUMER.MSG.NEXT."+engine.EventsStream+"."+engine.DefaultQueue, []byte(`{"batch":1}`), 2*time.Second); err == nil {
		t.Error("the reader pulled from the engines' consumer")
	}
	drainViolations(violations)

	// A real sensor on this host, as web1 (root only: it loads BPF).
	if os.Geteuid() != 0 {
		t.Log("not root: the real sensor part is not run")
		return
	}
	trig, err := goBuild("kmod", "./testdata/triggers/kmod")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(trig)) })
	sensor := startChild(t, "vigil sensor", mustVigil(t), "sensor", "--host", "web1", "--nats", ns.URL,
		"--nats-user", "sensor-web1", "--nats-password", pw["sensor-web1"], "--log-format", "json")
	sensor.waitLog(t, "sensor ready", 60*time.Second)
	sensor.waitLog(t, "publishing events with JetStream acknowledgements", 30*time.Second)
	if strings.Contains(sensor.stderr.String(), "no engine interest to follow") {
		t.Errorf("the sensor could not read the engines' interest:\n%s", sensor.stderr)
	}
	var report struct{ Pid uint32 }
	runTrigger(t, exec.Command(trig), &report)
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg, err := findings.NextMsg(time.Until(deadline))
		if err != nil {
			t.Fatalf("no finding from the real sensor (pid %d): %v", report.Pid, err)
		}
		if strings.Contains(string(msg.Data), fmt.Sprintf(`"host_pid":%d`, report.Pid)) {
			break
		}
	}
	for _, c := range []*child{sensor, eng} {
		if logs := c.stderr.String(); strings.Contains(logs, "Permissions Violation") || strings.Contains(logs, "cannot ask JetStream") {
			t.Errorf("%s was refused something the layout should allow:\n%s", c.name, logs)
		}
	}
}

func drainViolations(ch chan string) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// vigil run with --nats-config requiring authentication: its own
// connections use --nats-user/--nats-password.
func TestRunWithAuthorizationConfig(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "nats.conf")
	os.WriteFile(conf, fmt.Appendf(nil, "listen: 127.0.0.1:%d\nauthorization { users: [ {user: vigil, password: s3cret} ] }\n", port), 0o600)
	run := startChild(t, "vigil run", mustVigil(t), "run", "--no-sensor", "--nats-config", conf, "--state-dir", dir,
		"--nats-user", "vigil", "--nats-password", "s3cret", "--output", "json", "--log-format", "json")
	run.waitLog(t, "engine ready", 60*time.Second)
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port), nats.UserInfo("vigil", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync(event.AllFindings)
	nc.Flush()
	ev := sampleEvents()[1]
	data, _ := ev.Marshal()
	nc.Publish(event.EventSubject(ev.Name, ev.Host), data)
	if _, err := sub.NextMsg(15 * time.Second); err != nil {
		t.Errorf("no finding: %v", err)
	}
	stopRun(t, run)
}

// A client with wrong credentials says so at the default log level and gives
// up with an error after --nats-connect-timeout.
func TestWrongCredentialsGiveUp(t *testing.T) {
	ns := natstest.Start(t, 0, "--auth", "right-token")
	start := time.Now()
	eng := startChild(t, "vigil engine", mustVigil(t), "engine", "--nats", ns.URL, "--nats-token", "wrong-token",
		"--nats-connect-timeout", "5s", "--log-format", "json")
	err := eng.wait(t, 30*time.Second)
	if err == nil {
		t.Fatal("vigil engine with a wrong token exited 0")
	}
	if took := time.Since(start); took > 25*time.Second {
		t.Errorf("it took %s to give up", took)
	}
	logs := eng.stderr.String()
	if !strings.Contains(logs, `"level":"error"`) || !strings.Contains(strings.ToLower(logs), "authorization") {
		t.Errorf("no authorization error at error level:\n%s", logs)
	}
	if strings.Contains(logs, "engine ready") {
		t.Errorf("the engine said it was ready:\n%s", logs)
	}
}

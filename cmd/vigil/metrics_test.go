package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor"
)

// vigil run serves every counter on --metrics-listen; a forged event is
// refused and counted there; vigil status prints them for a person.
func TestMetricsEndpoint(t *testing.T) {
	state := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := []string{"--metrics-listen", addr}
	root := os.Geteuid() == 0
	if !root {
		args = append(args, "--no-sensor")
		t.Log("not root: vigil run without the sensor, the sensor's counters are not checked")
	}
	run, url := startRun(t, state, args...)
	defer stopRun(t, run)
	if root {
		run.waitLog(t, "sensor ready", 60*time.Second)
	}
	nc := connectRun(t, url, state)
	ev := sampleEvents()[1] // finit_module of host-a
	data, _ := ev.Marshal()
	nc.Publish(event.EventSubject(ev.Name, ev.Host), data)
	nc.Publish(event.EventSubject(ev.Name, "db-prod"), data) // forged: the body says host-a
	nc.Flush()

	want := []string{
		"vigil_engine_received_total", "vigil_engine_bad_messages_total", "vigil_engine_refused_total 1",
		"vigil_engine_evaluated_total", "vigil_engine_findings_total", "vigil_engine_publish_errors_total",
		"vigil_engine_dropped_total", "vigil_engine_redeliveries_total", "vigil_engine_consumer_pending",
		"vigil_engine_consumer_ack_pending", "vigil_engine_jetstream 1", "vigil_engine_handed_back_total",
		"vigil_engine_output_errors_total", "vigil_engine_retried_total", "vigil_engine_duplicate_findings_total",
		"vigil_engine_critical_total",
		`vigil_signature_findings_total{signature="kernel-module-load"} 1`,
		`vigil_signature_errors_total{signature="kernel-module-load"}`,
		`vigil_signature_timeouts_total{signature="kernel-module-load"}`,
		`vigil_engine_evaluation_seconds_bucket{event="finit_module"`,
	}
	if root {
		want = append(want, "vigil_sensor_records_total", "vigil_sensor_kernel_drops_total", "vigil_sensor_decode_errors_total",
			"vigil_sensor_published_total", "vigil_sensor_dropped_total", "vigil_sensor_buffered_bytes", "vigil_sensor_publish_errors_total",
			"vigil_sensor_marshal_errors_total", "vigil_sensor_queued_events", "vigil_sensor_critical_published_total",
			"vigil_sensor_spooled_bytes", "vigil_sensor_spool_replayed_total", "vigil_sensor_spool_dropped_total",
			"vigil_sensor_acked_total", "vigil_sensor_unacked_total", "vigil_sensor_retried_total", "vigil_sensor_in_flight_events",
			"vigil_sensor_published_bytes_total", "vigil_sensor_lean_published_total", "vigil_sensor_context_requests_total",
			"vigil_sensor_context_answers_total", "vigil_sensor_context_misses_total", "vigil_sensor_context_dropped_total")
		// The series per kind, event and CPU are there from the start, not
		// only once something was lost. (The drops are not asserted to be
		// zero: this vigil run's sensor sees the whole host, and other
		// tests' floods on a busy machine are its to count.)
		for _, kind := range sensor.DecodeErrorKinds() {
			want = append(want, fmt.Sprintf("vigil_sensor_decode_errors_by_kind_total{kind=%q} 0\n", kind))
		}
		for _, spec := range event.All() {
			want = append(want, fmt.Sprintf("vigil_sensor_dropped_by_event_total{event=%q} ", spec.Name))
			for cpu := range runtime.NumCPU() {
				want = append(want, fmt.Sprintf("vigil_sensor_kernel_drops_by_event_total{cpu=\"%d\",event=%q} ", cpu, spec.Name))
			}
		}
	}
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the metrics lack %q:\n%s", missing, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	out, stderr, err := runVigil(t, "status", "--metrics", addr)
	if err != nil {
		t.Fatalf("vigil status: %v\n%s", err, stderr)
	}
	for _, w := range []string{"engine_refused", "engine_findings", "kernel-module-load", "engine_evaluation_seconds{event=finit_module}"} {
		if !strings.Contains(out, w) {
			t.Errorf("vigil status does not show %q:\n%s", w, out)
		}
	}
}

package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/leantest"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// Both ends restarted (`vigil run` killed during a burst): the engine's
// durable consumer resumes on lean events whose contexts went by in full
// before the restart, and no sensor has them. The engine reads them back
// from the host's earlier events in the stream and evaluates the events;
// told to read nothing back, it counts them unresolved.
func TestServeReadsBackContextsFromStream(t *testing.T) {
	for _, history := range []int{0, -1} {
		t.Run(fmt.Sprintf("history=%d", history), func(t *testing.T) {
			ns := natstest.Start(t, 0, "-js", "-sd", t.TempDir())
			client := connect(t, ns.URL)
			evs := leanScenario()
			lean := leantest.Encode(t, event.NewContextEncoder(64), evs)
			publish := func(msgs ...[]byte) { publishEvents(t, client, msgs...) }
			if isLean(lean[0]) || !isLean(lean[1]) || !isLean(lean[4]) || !isLean(lean[7]) {
				t.Fatal("want each process's first event full, the others lean")
			}
			dir := writeTempRules(t)
			opts := ServeOptions{Workers: 2, JetStream: JetStreamOn, Streams: StreamOptions{Memory: true},
				ContextTimeout: 300 * time.Millisecond, ContextHistory: history,
				Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)}

			// the first engine takes the full events (and other hosts' noise)
			a, stopA := startServerWith(t, ns.URL, testEngine(t, dir), opts)
			noise := execEvent(77, "/usr/bin/true")
			noise.Host = "db-1"
			noiseData, _ := noise.Marshal()
			publish(lean[0], noiseData, lean[3], lean[6])
			waitFor(t, "the first engine to take the full events", func() bool { return a.Stats().Evaluated == 4 })
			stopA()

			// the lean ones arrive while no engine runs; the second engine
			// starts with an empty table and no sensor to ask
			publish(lean[1], lean[4], lean[7])
			out := &collectOutput{}
			opts.Output = out
			b, stopB := startServerWith(t, ns.URL, testEngine(t, dir), opts)
			waitFor(t, "the lean events handled", func() bool { s := b.Stats(); return s.Evaluated+s.Unresolved == 3 })
			stopB()
			st, fs := b.Stats(), out.all()
			if history < 0 {
				if st.Unresolved != 3 || len(fs) != 0 || st.ContextReadBacks != 0 {
					t.Errorf("nothing read back: unresolved %d, findings %d, read-backs %d; want 3, 0, 0", st.Unresolved, len(fs), st.ContextReadBacks)
				}
				return
			}
			if st.Unresolved != 0 || st.Evaluated != 3 || len(fs) != 3 {
				t.Fatalf("unresolved %d, evaluated %d, findings %d; want 0, 3, 3 (stats %+v)", st.Unresolved, st.Evaluated, len(fs), st)
			}
			for _, f := range fs {
				if f.Event.Process.Exe != "/usr/bin/bash" || len(f.Event.Process.Ancestors) != 2 || f.Event.Process.Ancestors[1].Comm != "sshd" {
					t.Errorf("finding's process %+v: want the whole context read back", f.Event.Process)
				}
			}
			// one read for the first miss; the others read only what
			// came after it, the other host's events not at all
			if st.ContextReadBacks == 0 || st.ContextEventsReadBack > 6 {
				t.Errorf("%d reads of %d events; want at least one, of web-1's 6 events at most", st.ContextReadBacks, st.ContextEventsReadBack)
			}
		})
	}
}

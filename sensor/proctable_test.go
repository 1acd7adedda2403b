package sensor

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// A full process table makes room by forgetting exited processes first and
// counts the processes it could not record; it never grows past its bound.
func TestProcTableBounded(t *testing.T) {
	tab := newProcTable(t.TempDir())
	tab.max = 4
	fork := func(child uint32) {
		tab.update(&event.Event{ID: event.IDSchedProcessFork, Process: event.Process{HostPid: 1, Comm: "init"},
			Args: map[string]any{"parent_pid": uint64(1), "child_pid": uint64(child), "child_ns_pid": uint64(child)}})
	}
	for pid := uint32(10); pid < 14; pid++ {
		fork(pid)
	}
	tab.procs[10].exitedAt = time.Now()
	fork(20) // room made by forgetting 10, which exited a moment ago
	if tab.procs[20] == nil || tab.procs[10] != nil || tab.refused != 0 {
		t.Fatalf("after an exit: 20 recorded %v, 10 forgotten %v, refused %d", tab.procs[20] != nil, tab.procs[10] == nil, tab.refused)
	}
	fork(21)
	tab.update(&event.Event{ID: event.IDSchedProcessExec, Process: event.Process{HostPid: 22, Comm: "x"}, Args: map[string]any{}})
	if len(tab.procs) != 4 || tab.refused != 2 || tab.procs[21] != nil || tab.procs[22] != nil {
		t.Fatalf("full table: %d entries, %d refused; want 4 and 2", len(tab.procs), tab.refused)
	}
}

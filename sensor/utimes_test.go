package sensor

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestSensorSeesFileTimesSet runs the stomp trigger: utimensat on a path
// sets both times, then futimens (utimensat with a NULL path) on a
// descriptor sets the modification time and leaves the access time alone.
func TestSensorSeesFileTimesSet(t *testing.T) {
	ls := startSensor(t, "utimensat")
	file := filepath.Join(fileTestDir(t), "stomped")
	if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Pid   uint32 `json:"pid"`
		Mtime int64  `json:"mtime"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "stomp"), file), &r)
	if r.Mtime == 0 {
		t.Fatalf("stomp set no time: %+v", r)
	}
	// the event comes from the syscall layer, which names the call
	ls.waitArgs(t, "utimensat", r.Pid, map[string]any{"pathname": file, "atime": r.Mtime, "mtime": r.Mtime, "flags": 0, "syscall": "utimensat"})
	byFd := ls.waitFor(t, "futimens of the descriptor", func(ev *event.Event) bool {
		_, hasAtime := ev.Args["atime"]
		return ev.Name == "utimensat" && ev.Process.HostPid == r.Pid && !hasAtime
	})
	if !argsMatch(byFd, map[string]any{"pathname": file, "mtime": r.Mtime, "flags": 0, "syscall": "utimensat"}) {
		t.Errorf("futimens: %v, want pathname %s mtime %d flags 0 and no atime", byFd.Args, file, r.Mtime)
	}
}

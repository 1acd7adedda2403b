package sensor

import (
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

func pipeExec(pid uint32, comm string, in, out uint64, argv ...string) *event.Event {
	args := map[string]any{"argv": argv}
	if in != 0 {
		args["stdin_pipe"] = in
	}
	if out != 0 {
		args["stdout_pipe"] = out
	}
	return &event.Event{ID: event.IDSchedProcessExec, Name: "sched_process_exec",
		Process: event.Process{HostPid: pid, Comm: comm}, Args: args}
}

func TestPipeTableJoinsBothOrders(t *testing.T) {
	var tab pipeTable
	// curl first, then sh: sh's exec names curl
	curl := pipeExec(10, "curl", 0, 7, "curl", "-s", "http://x")
	tab.join(curl)
	if _, ok := curl.Args["stdout_reader_comm"]; ok {
		t.Errorf("the first exec of a pipe names a reader: %v", curl.Args)
	}
	sh := pipeExec(11, "sh", 7, 0, "sh")
	tab.join(sh)
	if sh.Args["stdin_writer_comm"] != "curl" || sh.Args["stdin_writer_pid"] != uint64(10) ||
		!slices.Equal(sh.Args["stdin_writer_argv"].([]string), []string{"curl", "-s", "http://x"}) {
		t.Errorf("sh after curl: %v", sh.Args)
	}

	// bash first, then wget: wget's exec names bash
	tab.join(pipeExec(20, "bash", 8, 0, "bash", "-s"))
	wget := pipeExec(21, "wget", 0, 8, "wget", "-qO-", "http://y")
	tab.join(wget)
	if wget.Args["stdout_reader_comm"] != "bash" || wget.Args["stdout_reader_pid"] != uint64(20) {
		t.Errorf("wget after bash: %v", wget.Args)
	}

	// the middle of a pipeline has both ends: base64 -d between echo's
	// subshell (no exec) and sh
	tab.join(pipeExec(30, "sh", 9, 0, "sh"))
	b64 := pipeExec(31, "base64", 5, 9, "base64", "-d")
	tab.join(b64)
	if b64.Args["stdout_reader_comm"] != "sh" {
		t.Errorf("base64 -d before sh: %v", b64.Args)
	}
	if _, ok := b64.Args["stdin_writer_comm"]; ok {
		t.Errorf("nothing was executed on base64's stdin: %v", b64.Args)
	}

	// the last program executed on an end is the one named: sudo, then
	// the bash it runs on the same stdin
	tab.join(pipeExec(40, "sudo", 12, 0, "sudo", "bash"))
	tab.join(pipeExec(41, "bash", 12, 0, "bash"))
	curl2 := pipeExec(42, "curl", 0, 12, "curl", "http://z")
	tab.join(curl2)
	if curl2.Args["stdout_reader_comm"] != "bash" {
		t.Errorf("the newest reader: %v", curl2.Args)
	}

	// a process is not its own other end; events without pipes pass
	self := pipeExec(50, "sh", 13, 13, "sh")
	tab.join(self)
	if _, ok := self.Args["stdin_writer_comm"]; ok {
		t.Errorf("a process named as its own writer: %v", self.Args)
	}
	plain := pipeExec(51, "true", 0, 0, "true")
	tab.join(plain)
	if len(plain.Args) != 1 {
		t.Errorf("an exec without pipes changed: %v", plain.Args)
	}
}

func TestPipeTableBounded(t *testing.T) {
	var tab pipeTable
	long := make([]string, 40)
	for i := range long {
		long[i] = "a"
	}
	for i := range uint64(3 * maxPipes) {
		tab.join(pipeExec(uint32(i+1), "curl", 0, i+1, long...))
	}
	if tab.len() != maxPipes || len(tab.writers) != maxPipes {
		t.Fatalf("%d pipes (%d writers) remembered, want %d", tab.len(), len(tab.writers), maxPipes)
	}
	// the newest are kept, the oldest forgotten
	sh := pipeExec(1<<20, "sh", 3*maxPipes, 0, "sh")
	tab.join(sh)
	if got := sh.Args["stdin_writer_argv"].([]string); len(got) != maxPipeArgv {
		t.Errorf("writer argv of %d arguments, want the first %d", len(got), maxPipeArgv)
	}
	old := pipeExec(1<<20+1, "sh", 1, 0, "sh")
	tab.join(old)
	if _, ok := old.Args["stdin_writer_comm"]; ok {
		t.Errorf("the oldest pipe is still remembered: %v", old.Args)
	}
}

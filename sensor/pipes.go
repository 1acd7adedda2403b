package sensor

import "github.com/vigil-sec/vigil/event"

// Shell pipelines, joined across execs.
//
// A shell runs `curl -s URL | sh` as two children joined by a pipe: neither
// command line holds the pipeline, and each exec alone says only that its
// stdout (or stdin) is a pipe. The kernel side gives the pipe's inode
// number with each end (stdin_pipe, stdout_pipe); the sensor remembers the
// last program executed on each end of each pipe and tells the exec that
// comes second who is on the other end: stdin_writer_* on the reader's
// exec, stdout_reader_* on the writer's. Which one comes second is up to
// the scheduler, so a signature looks at both.

// maxPipes bounds the pipe ends remembered; the oldest are forgotten first
// (a pipeline's two execs come within moments of each other).
const maxPipes = 4096

// maxPipeArgv bounds the argv copied into the other end's event.
const maxPipeArgv = 16

type pipeEnd struct {
	pid  uint32
	comm string
	argv []string
}

// pipeTable remembers, per pipe inode, the last program executed with its
// stdout (writers) and with its stdin (readers) on it. Not safe for
// concurrent use: the sensor calls it under its lock. The zero value is
// ready.
type pipeTable struct {
	writers, readers map[uint64]pipeEnd
	order            []uint64 // inodes in the order first seen, a ring of maxPipes
	next             int
}

var (
	execStdinPipe   = event.MustArgIndex(event.IDSchedProcessExec, "stdin_pipe", event.TypeUint64)
	execStdoutPipe  = event.MustArgIndex(event.IDSchedProcessExec, "stdout_pipe", event.TypeUint64)
	execWriterPid   = event.MustArgIndex(event.IDSchedProcessExec, "stdin_writer_pid", event.TypeUint32)
	execWriterComm  = event.MustArgIndex(event.IDSchedProcessExec, "stdin_writer_comm", event.TypeString)
	execWriterArgv  = event.MustArgIndex(event.IDSchedProcessExec, "stdin_writer_argv", event.TypeStrArray)
	execReaderPid   = event.MustArgIndex(event.IDSchedProcessExec, "stdout_reader_pid", event.TypeUint32)
	execReaderComm  = event.MustArgIndex(event.IDSchedProcessExec, "stdout_reader_comm", event.TypeString)
	execReaderArgv  = event.MustArgIndex(event.IDSchedProcessExec, "stdout_reader_argv", event.TypeStrArray)
	execArgvForPipe = event.MustArgIndex(event.IDSchedProcessExec, "argv", event.TypeStrArray)
)

// join records ev's ends (an exec event; others pass) and names on ev the
// program already executed on the other end of its pipes.
func (t *pipeTable) join(ev *event.Event) {
	if ev.ID != event.IDSchedProcessExec {
		return
	}
	in, _ := ev.UintArg(execStdinPipe)
	out, _ := ev.UintArg(execStdoutPipe)
	if in == 0 && out == 0 {
		return
	}
	if t.writers == nil {
		t.writers, t.readers = map[uint64]pipeEnd{}, map[uint64]pipeEnd{}
	}
	me := pipeEnd{pid: ev.Process.HostPid, comm: ev.Process.Comm}
	if argv, ok := ev.StringsArg(execArgvForPipe); ok {
		me.argv = append([]string(nil), argv[:min(len(argv), maxPipeArgv)]...)
	}
	if in != 0 {
		if w, ok := t.writers[in]; ok && w.pid != me.pid {
			w.nameOn(ev, execWriterPid, execWriterComm, execWriterArgv)
		}
		t.remember(in)
		t.readers[in] = me
	}
	if out != 0 && out != in {
		if r, ok := t.readers[out]; ok && r.pid != me.pid {
			r.nameOn(ev, execReaderPid, execReaderComm, execReaderArgv)
		}
		t.remember(out)
		t.writers[out] = me
	}
}

// nameOn sets e's pid, comm and argv as ev's arguments of those indexes.
func (e pipeEnd) nameOn(ev *event.Event, pid, comm, argv int) {
	ev.SetUintArg(pid, uint64(e.pid))
	ev.SetStringArg(comm, e.comm)
	if e.argv != nil {
		ev.SetStringsArg(argv, e.argv)
	}
}

// remember notes ino, forgetting the pipe seen maxPipes pipes ago.
func (t *pipeTable) remember(ino uint64) {
	if _, w := t.writers[ino]; w {
		return
	}
	if _, r := t.readers[ino]; r {
		return
	}
	if len(t.order) < maxPipes {
		t.order = append(t.order, ino)
		return
	}
	old := t.order[t.next]
	delete(t.writers, old)
	delete(t.readers, old)
	t.order[t.next] = ino
	t.next = (t.next + 1) % maxPipes
}

// len is the number of pipes remembered.
func (t *pipeTable) len() int { return len(t.order) }

// Package proc is the sensor's process table: what it knows of every process
// (thread group) on the host, by host pid, to fill the process context the
// kernel record does not carry (exe, argv, ancestry, container id).
//
// A Table is seeded from /proc and kept current by the lifecycle events
// (sched_process_fork, sched_process_exec, commit_creds of an exec,
// sched_process_exit), read through the typed argument views of package event.
// It is bounded: at MaxEntries it evicts, exited processes first, then those
// seen least recently, and counts what it evicted (Stats). Exited processes
// stay for Linger so that events still in flight find their context; Sweep
// forgets them after that.
//
// A Table is safe for concurrent use. It holds no resources: there is nothing
// to close.
package proc

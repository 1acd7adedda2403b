package sensor

// Probes of the copies, the new mount API and io_uring (bpf/copy.bpf.c,
// mountapi.bpf.c, iouring.bpf.c), keyed by event id (see probes.go).

import "github.com/vigil-sec/vigil/event"

var (
	copySyscalls     = []string{"copy_file_range", "sendfile", "splice", "ioctl"}
	mountAPISyscalls = []string{"fsopen", "fsconfig", "fsmount", "move_mount", "open_tree"}
	mountAPIExit     = sysExit("sys_exit_mount_api", mountAPISyscalls)
)

func mountAPIProbe(sc string) []Probe {
	return []Probe{{Name: "raw_tracepoint/sys_exit (" + sc + ")", Programs: []Program{mountAPIExit}}}
}

var fileOpsProbes = map[event.ID][]Probe{
	// The copy program also notes the destination as written for
	// sched_process_exec's writer_*; the shared writable mappings are noted
	// with it (a write path of the same kind: no write(2) of the bytes).
	event.IDFileCopy: {{
		Name: "raw_tracepoint/sys_exit (copy_file_range, sendfile, splice, ioctl)+sys_enter (mmap)",
		Programs: []Program{
			sysExit("sys_exit_file_copy", copySyscalls),
			{Name: "sys_enter_mmap_shared", Syscalls: []string{"mmap"}},
		},
	}},
	event.IDFsopen:    mountAPIProbe("fsopen"),
	event.IDFsconfig:  mountAPIProbe("fsconfig"),
	event.IDFsmount:   mountAPIProbe("fsmount"),
	event.IDMoveMount: mountAPIProbe("move_mount"),
	event.IDOpenTree:  mountAPIProbe("open_tree"),
	// the completion notes the files OPENAT opened for writing
	event.IDIoUringSubmitReq: {
		{Name: "tp_btf/io_uring_submit_req+io_uring_complete", Programs: []Program{{Name: "tp_btf_io_uring_submit_req"}, {Name: "tp_btf_io_uring_complete"}}},
		{Name: "raw_tracepoint/io_uring_submit_req+io_uring_complete", Programs: []Program{{Name: "raw_tp_io_uring_submit_req"}, {Name: "raw_tp_io_uring_complete"}}},
	},
}

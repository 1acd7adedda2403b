package vigil.signatures.process_hidden_by_mount

mount(dev, path, fstype, flags) := {
	"name": "security_sb_mount",
	"process": {"pid": 4400, "host_pid": 4400, "comm": "mount", "exe": "/usr/bin/mount", "uid": 0},
	"args": {"dev_name": dev, "path": path, "fs_type": fstype, "flags": flags, "syscall": "mount"},
}

test_bind_mount_over_a_process if {
	some f in finding with input as mount("/tmp/.empty", "/proc/2231", "", 4096)
	f.pid == 2231
	f.mount_point == "/proc/2231"
	f.source == "/tmp/.empty"
}

test_tmpfs_over_a_process_or_below_it if {
	some f in finding with input as mount("none", "/proc/911/", "tmpfs", 0)
	f.pid == 911
	some g in finding with input as mount("/dev/shm/x", "/proc/911/cmdline", "", 4096)
	g.pid == 911
}

test_other_proc_mounts_are_quiet if {
	count(finding) == 0 with input as mount("proc", "/proc", "proc", 14)
	count(finding) == 0 with input as mount("/dev/null", "/proc/kcore", "", 4096)
	count(finding) == 0 with input as mount("tmpfs", "/proc/acpi", "tmpfs", 1)
	count(finding) == 0 with input as mount("binfmt_misc", "/proc/sys/fs/binfmt_misc", "binfmt_misc", 0)
	count(finding) == 0 with input as mount("/proc/1/ns/net", "/run/netns/x", "", 4096)
	count(finding) == 0 with input as mount("/srv/data", "/mnt/proc/123x", "", 4096)
}

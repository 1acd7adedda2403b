package vigil.signatures.kernel_recon

read(path, comm, exe) := {
	"name": "security_file_open",
	"process": {"pid": 9100, "host_pid": 9100, "uid": 1000, "comm": comm, "exe": exe},
	"return_value": 3,
	"args": {"pathname": path, "flags": 32768},
}

test_aslr_probe if {
	some f in finding with input as read("/proc/sys/kernel/randomize_va_space", "cat", "/usr/bin/cat")
	f.probed == "aslr"
	not f.in_container
}

test_scheduler_dump if {
	some f in finding with input as read("/sys/kernel/debug/sched/debug", "head", "/usr/bin/head")
	f.probed == "scheduler_tasks"
	count(finding) == 1 with input as read("/proc/sched_debug", "exploit", "/tmp/exploit")
}

test_sysctl_is_quiet if {
	count(finding) == 0 with input as read("/proc/sys/kernel/randomize_va_space", "sysctl", "/usr/sbin/sysctl")
}

test_profilers_are_quiet if {
	count(finding) == 0 with input as read("/proc/sys/kernel/kptr_restrict", "perf", "/usr/bin/perf")
	count(finding) == 0 with input as read("/proc/sys/kernel/kptr_restrict", "perf_6.1", "/usr/bin/perf_6.1")
	count(finding) == 0 with input as read("/proc/sys/kernel/kptr_restrict", "bpftrace", "/usr/bin/bpftrace")
}

test_a_profiler_name_outside_system_dirs_fires if {
	count(finding) == 1 with input as read("/proc/sys/kernel/kptr_restrict", "perf", "/tmp/perf")
	count(finding) == 1 with input as read("/proc/sys/kernel/kptr_restrict", "perf_6.1", "/dev/shm/perf_6.1")
	count(finding) == 1 with input as read("/proc/sys/kernel/kptr_restrict", "perf_x", "/usr/bin/perf_x")
}

test_writes_are_left_to_kernel_tunable_tampering if {
	count(finding) == 0 with input as object.union(read("/proc/sys/kernel/randomize_va_space", "sh", "/usr/bin/dash"), {"args": {"flags": 32769}})
}

test_other_tunables_are_quiet if {
	count(finding) == 0 with input as read("/proc/sys/kernel/hostname", "cat", "/usr/bin/cat")
	count(finding) == 0 with input as read("/proc/sys/kernel/randomize_va_space_x", "cat", "/usr/bin/cat")
}

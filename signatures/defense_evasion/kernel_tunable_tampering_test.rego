package vigil.signatures.kernel_tunable_tampering

open_file(path, flags, fs, comm, exe) := {
	"name": "security_file_open",
	"process": {
		"pid": 5100, "host_pid": 5100, "uid": 0, "comm": comm, "exe": exe,
		"ancestors": [{"pid": 900, "host_pid": 900, "comm": "bash", "exe": "/usr/bin/bash", "uid": 0}],
	},
	"return_value": 3,
	"args": {"pathname": path, "flags": flags, "fs_type": fs},
}

write(path) := open_file(path, 32769, "proc", "sh", "/usr/bin/dash")

test_core_pattern_written_from_a_shell if {
	some f in finding with input as write("/proc/sys/kernel/core_pattern")
	f.kind == "usermode_helper"
	f.tunable == "core_pattern"
	f.technique == "T1611"
	f.succeeded
}

test_modprobe_and_uevent_helper if {
	some f in finding with input as write("/proc/sys/kernel/modprobe")
	f.tunable == "modprobe"
	some g in finding with input as open_file("/sys/kernel/uevent_helper", 1, "sysfs", "sh", "/usr/bin/dash")
	g.tunable == "uevent_helper"
}

test_release_agent_of_a_cgroup_mounted_anywhere if {
	some f in finding with input as open_file("/tmp/cgrp/release_agent", 1, "cgroup", "sh", "/usr/bin/dash")
	f.tunable == "release_agent"
	f.kind == "usermode_helper"
}

test_release_agent_needs_a_cgroup_file_system if {
	count(finding) == 0 with input as open_file("/tmp/cgrp/release_agent", 1, "tmpfs", "sh", "/usr/bin/dash")
	count(finding) == 0 with input as open_file("/tmp/cgrp/release_agent", 1, "", "sh", "/usr/bin/dash")
}

test_release_agent_refused_open_under_sys_fs_cgroup if {
	some f in finding with input as object.union(
		open_file("/sys/fs/cgroup/rdma/release_agent", 1, "", "sh", "/usr/bin/dash"),
		{"return_value": -13},
	)
	not f.succeeded
	f.return_value == -13
}

test_binfmt_misc_registration_is_persistence if {
	some f in finding with input as open_file("/proc/sys/fs/binfmt_misc/register", 1, "binfmt_misc", "sh", "/usr/bin/dash")
	f.tunable == "binfmt_misc"
	f.technique == "T1546"
	some g in finding with input as open_file("/mnt/bm/register", 1, "binfmt_misc", "sh", "/usr/bin/dash")
	g.tunable == "binfmt_misc"
}

test_protections_turned_down if {
	some f in finding with input as write("/proc/sys/kernel/randomize_va_space")
	f.kind == "protection"
	f.tunable == "aslr"
	f.technique == "T1562.001"
	some g in finding with input as write("/proc/sys/kernel/yama/ptrace_scope")
	g.tunable == "ptrace_scope"
}

test_sysrq_trigger if {
	some f in finding with input as write("/proc/sysrq-trigger")
	f.technique == "T1529"
}

test_reading_is_quiet if {
	count(finding) == 0 with input as open_file("/proc/sys/kernel/core_pattern", 32768, "proc", "sh", "/usr/bin/dash")
	count(finding) == 0 with input as open_file("/proc/sys/kernel/randomize_va_space", 32768, "proc", "cat", "/usr/bin/cat")
}

test_other_tunables_are_quiet if {
	count(finding) == 0 with input as write("/proc/sys/net/ipv4/ip_forward")
	count(finding) == 0 with input as write("/proc/sys/vm/overcommit_memory")
	count(finding) == 0 with input as open_file("/sys/class/net/eth0/mtu", 1, "sysfs", "sh", "/usr/bin/dash")
	count(finding) == 0 with input as open_file("/home/ann/register", 1, "ext4", "vim", "/usr/bin/vim")
}

test_boot_tools_are_quiet if {
	count(finding) == 0 with input as open_file("/proc/sys/kernel/kptr_restrict", 1, "proc", "systemd-sysctl", "/usr/lib/systemd/systemd-sysctl")
	count(finding) == 0 with input as open_file("/proc/sys/fs/binfmt_misc/register", 1, "binfmt_misc", "systemd-binfmt", "/usr/lib/systemd/systemd-binfmt")
}

test_a_copy_of_a_boot_tool_is_not_trusted if {
	some f in finding with input as open_file("/proc/sys/kernel/core_pattern", 1, "proc", "systemd-sysctl", "/tmp/systemd-sysctl")
	f.tunable == "core_pattern"
}

test_package_scripts_are_quiet if {
	ev := write("/proc/sys/kernel/sysrq")
	count(finding) == 0 with input as object.union(ev, {"process": object.union(ev.process, {"ancestors": [
		{"pid": 800, "comm": "sh", "exe": "/usr/bin/dash"},
		{"pid": 700, "comm": "dpkg", "exe": "/usr/bin/dpkg"},
	]})})
}

sysctl(argv) := object.union(open_file("/proc/sys/kernel/kptr_restrict", 32769, "proc", "sysctl", "/usr/sbin/sysctl"), {"process": {
	"pid": 5100, "host_pid": 5100, "uid": 0, "comm": "sysctl", "exe": "/usr/sbin/sysctl", "argv": argv,
}})

test_sysctl_applying_files_is_quiet if {
	count(finding) == 0 with input as sysctl(["sysctl", "--system"])
	count(finding) == 0 with input as sysctl(["sysctl", "-p", "/etc/sysctl.d/10-hardening.conf"])
	count(finding) == 0 with input as sysctl(["sysctl", "-qp"])
	count(finding) == 0 with input as sysctl(["sysctl", "--load=/etc/sysctl.conf"])
}

test_sysctl_setting_a_value_fires if {
	some f in finding with input as sysctl(["sysctl", "-w", "kernel.kptr_restrict=0"])
	f.tunable == "kptr_restrict"
	count(finding) == 1 with input as sysctl(["sysctl", "kernel.kptr_restrict=0"])
}

test_notify_on_release if {
	some f in finding with input as open_file("/tmp/cgrp/x/notify_on_release", 1, "cgroup", "sh", "/usr/bin/dash")
	f.tunable == "notify_on_release"
	count(finding) == 0 with input as open_file("/tmp/cgrp/x/notify_on_release", 1, "ext4", "sh", "/usr/bin/dash")
}

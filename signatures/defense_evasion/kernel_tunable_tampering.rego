# Kernel tunable tampering: a file of /proc/sys or /sys that changes how the
# kernel protects itself, or that names a program the kernel itself will
# run as root, is opened for writing.
#
# Two kinds of file, one class of behaviour (telling the kernel to do the
# intruder's work):
#   - usermode helpers: core_pattern (a "|/path" pattern runs the program on
#     every crash, as root, in the host's namespaces: the classic way out of
#     a privileged container), modprobe and hotplug / uevent_helper (run on
#     an unknown binary format or a device event), a cgroup v1
#     release_agent (run when a cgroup empties) and a binfmt_misc register
#     (an interpreter for every file that matches a magic: persistence);
#   - protections turned down: ASLR, kernel pointer and dmesg restrictions,
#     Yama's ptrace scope, perf and unprivileged BPF limits, the link and
#     FIFO protections, set-user-id core dumps, the lowest mappable address,
#     the magic SysRq key and its trigger.
# The tools that set these at boot (systemd-sysctl, systemd-binfmt,
# update-binfmts, ...), sysctl applying the configuration files and package
# maintainer scripts are left out; `sysctl -w` is not, since none of these
# is turned down in the normal course of running a host.
package vigil.signatures.kernel_tunable_tampering

import data.vigil.lib

metadata := {
	"id": "kernel-tunable-tampering",
	"name": "Kernel protection or usermode helper changed",
	"version": "1.0.0",
	"severity": "high",
	"description": "A kernel tunable was opened for writing: a usermode helper the kernel runs as root (core_pattern, modprobe, hotplug, uevent_helper, a cgroup release_agent or notify_on_release, a binfmt_misc registration), or a protection (ASLR, kptr_restrict, dmesg_restrict, ptrace_scope, perf and BPF limits, link protections, suid_dumpable, mmap_min_addr, SysRq).",
	"tactics": ["TA0004", "TA0005", "TA0003"],
	"techniques": ["T1611", "T1546", "T1562.001", "T1529"],
	"tags": ["kernel", "sysctl", "container-escape", "defense-evasion"],
	"events": ["security_file_open"],
}

# usermode_helpers: file -> what the kernel runs
usermode_helpers := {
	"/proc/sys/kernel/core_pattern": "core_pattern",
	"/proc/sys/kernel/modprobe": "modprobe",
	"/proc/sys/kernel/hotplug": "hotplug",
	"/sys/kernel/uevent_helper": "uevent_helper",
	"/proc/sys/fs/binfmt_misc/register": "binfmt_misc",
}

protections := {
	"/proc/sys/kernel/randomize_va_space": "aslr",
	"/proc/sys/kernel/kptr_restrict": "kptr_restrict",
	"/proc/sys/kernel/dmesg_restrict": "dmesg_restrict",
	"/proc/sys/kernel/yama/ptrace_scope": "ptrace_scope",
	"/proc/sys/kernel/perf_event_paranoid": "perf_event_paranoid",
	"/proc/sys/kernel/unprivileged_bpf_disabled": "unprivileged_bpf_disabled",
	"/proc/sys/net/core/bpf_jit_harden": "bpf_jit_harden",
	"/proc/sys/kernel/sysrq": "sysrq",
	"/proc/sys/fs/suid_dumpable": "suid_dumpable",
	"/proc/sys/fs/protected_symlinks": "protected_symlinks",
	"/proc/sys/fs/protected_hardlinks": "protected_hardlinks",
	"/proc/sys/fs/protected_fifos": "protected_fifos",
	"/proc/sys/fs/protected_regular": "protected_regular",
	"/proc/sys/vm/mmap_min_addr": "mmap_min_addr",
}

path := input.args.pathname

fs_type := lib.arg("fs_type", "")

# cheap first test: direct references, one mask (579: write access,
# creation or truncation, as lib.opens_for_writing)
candidate if bits.and(input.args.flags, 579) != 0

tunable := {"kind": "usermode_helper", "name": usermode_helpers[path]}

# release_agent of a cgroup v1 hierarchy, wherever it is mounted
tunable := {"kind": "usermode_helper", "name": "release_agent"} if {
	lib.basename(path) == "release_agent"
	release_agent_fs
}

# notify_on_release arms the release_agent for one cgroup (the other half of
# the cgroup v1 escape)
tunable := {"kind": "usermode_helper", "name": "notify_on_release"} if {
	lib.basename(path) == "notify_on_release"
	release_agent_fs
}

# a binfmt_misc instance mounted somewhere else (a container's own)
tunable := {"kind": "usermode_helper", "name": "binfmt_misc"} if {
	not usermode_helpers[path]
	lib.basename(path) == "register"
	fs_type == "binfmt_misc"
}

tunable := {"kind": "protection", "name": protections[path]}

tunable := {"kind": "sysrq_trigger", "name": "sysrq_trigger"} if path == "/proc/sysrq-trigger"

release_agent_fs if fs_type == "cgroup"

# the syscall fallback of a refused open does not know the file system
release_agent_fs if {
	fs_type == ""
	startswith(path, "/sys/fs/cgroup/")
}

technique := {
	"usermode_helper": "T1611",
	"protection": "T1562.001",
	"sysrq_trigger": "T1529",
}

# binfmt_misc registrations outlive the process: persistence more than escape
finding_technique := "T1546" if tunable.name == "binfmt_misc"

else := technique[tunable.kind]

# the services that apply sysctl.d, binfmt.d and kdump settings at boot
boot_tools := {
	"systemd", "systemd-sysctl", "systemd-binfmt", "update-binfmts", "systemd-coredump",
	"apport", "kdumpctl", "kdump-config", "tuned", "abrtd", "abrt-ccpp",
}

trusted if lib.is_system_program(input.process, boot_tools)

trusted if {
	some a in object.get(input.process, "ancestors", [])
	lib.is_system_program(a, {"systemd-sysctl", "systemd-binfmt", "update-binfmts", "tuned"})
}

trusted if lib.from_package_manager

# sysctl applying the configuration files (-p, --load, --system), as the
# boot services and administrators do: the values come from files only root
# writes. sysctl -w and sysctl name=value are not trusted.
trusted if {
	lib.is_system_program(input.process, {"sysctl"})
	some a in object.get(input.process, "argv", [])
	applies_files(a)
}

applies_files(a) if a in {"-p", "--load", "--system"}

applies_files(a) if startswith(a, "--load=")

applies_files(a) if regex.match(`^-[a-zA-Z]*p`, a)

return_value := object.get(input, "return_value", 0)

finding contains {
	"pathname": path,
	"kind": tunable.kind,
	"tunable": tunable.name,
	"technique": finding_technique,
	"succeeded": return_value >= 0,
	"return_value": return_value,
	"in_container": object.get(input.process, "container_id", "") != "",
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	candidate
	tunable
	not trusted
}

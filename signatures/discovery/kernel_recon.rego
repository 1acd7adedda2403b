# Kernel reconnaissance: a program reads the settings an exploit checks
# before it picks its technique (is ASLR on, are kernel pointers hidden) or
# the scheduler's debug dump, which lists every task of the host with its
# pid and state, from inside a container too.
#
# Privilege-escalation scripts (linpeas, linux-exploit-suggester, ...) and
# exploits read these; ordinary programs do not. sysctl, which reads every
# tunable when asked for all, the boot services, and the kernel's profiling
# and tracing tools (perf, bpftrace, bpftool, trace-cmd, SystemTap, crash:
# they check kptr_restrict to know whether kernel addresses resolve), each
# installed in a system directory, are left out.
package vigil.signatures.kernel_recon

import data.vigil.lib

metadata := {
	"id": "kernel-recon",
	"name": "Kernel protections or scheduler state probed",
	"version": "1.0.0",
	"severity": "low",
	"description": "A program read whether ASLR is on or kernel pointers are hidden (/proc/sys/kernel/randomize_va_space, kptr_restrict), or the scheduler's debug dump of every task (/proc/sched_debug, /sys/kernel/debug/sched/debug): the checks an exploit or a privilege-escalation script makes first.",
	"tactics": ["TA0007"],
	"techniques": ["T1082", "T1057"],
	"tags": ["recon", "discovery", "kernel", "exploit"],
	"events": ["security_file_open"],
}

probed_files := {
	"/proc/sys/kernel/randomize_va_space": "aslr",
	"/proc/sys/kernel/kptr_restrict": "kernel_pointers",
	"/proc/sched_debug": "scheduler_tasks",
	"/sys/kernel/debug/sched/debug": "scheduler_tasks",
	"/sys/kernel/debug/sched_debug": "scheduler_tasks",
}

what := probed_files[input.args.pathname]

readers := {
	"sysctl", "systemd", "systemd-sysctl", "tuned", "sosreport", "sos", "kdumpctl",
	"perf", "bpftrace", "bpftool", "trace-cmd", "stap", "staprun", "crash",
}

trusted if lib.is_system_program(input.process, readers)

# Debian's perf is a wrapper that runs perf_<kernel version>
trusted if {
	regex.match(`^perf_[0-9][0-9.]*$`, object.get(input.process, "comm", ""))
	lib.under(object.get(input.process, "exe", ""), lib.system_program_dirs)
}

trusted if lib.from_package_manager

finding contains {
	"pathname": input.args.pathname,
	"probed": what,
	"in_container": object.get(input.process, "container_id", "") != "",
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	what
	lib.opens_for_reading(lib.arg("flags", 0))
	not trusted
}

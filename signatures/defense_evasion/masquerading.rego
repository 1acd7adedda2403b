# A program disguised as part of the system: an executable outside the
# system folders named like a system daemon or kernel thread
# (/tmp/.x/sshd, /dev/shm/kworker), or a process started with an argv[0]
# that imitates a kernel thread ("[kworker/0:1]"). Kernel threads never
# exec, so a user program with such a name chose it to hide in `ps`.
package vigil.signatures.masquerading

import data.vigil.lib

metadata := {
	"id": "masquerading-process",
	"name": "Program masquerading as a system process",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program outside the system folders was named like a system daemon or kernel thread, or a program was started with an argv[0] imitating a kernel thread, to pass for part of the system in process listings.",
	"tactics": ["TA0005"],
	"techniques": ["T1036.004", "T1036.005"],
	"tags": ["masquerading", "stealth"],
	"events": ["sched_process_exec"],
}

# Names of daemons and kernel threads found on every Linux host.
system_names := {
	"sshd", "systemd", "init", "cron", "crond", "atd", "rsyslogd", "syslogd", "journald",
	"systemd-journald", "systemd-logind", "systemd-udevd", "systemd-resolved", "systemd-networkd",
	"dbus-daemon", "udevd", "agetty", "getty", "login", "polkitd", "irqbalance", "auditd",
	"kworker", "kthreadd", "ksoftirqd", "kswapd0", "migration", "rcu_sched", "rcu_preempt",
	"watchdogd", "kdevtmpfs", "khugepaged", "kblockd", "jbd2", "kauditd",
}

# "kworker/0:1" and "[kworker/u8:2-events]" name the thread "kworker".
thread_base(name) := regex.replace(trim(name, "[]"), `[/:].*$`, "")

program := lib.exec_path

reasons contains "system-name-outside-system-folders" if {
	thread_base(lib.basename(program)) in system_names
	not lib.under(program, lib.installed_program_dirs)
	not startswith(program, "/memfd:") # fileless-exec reports those
}

default argv0 := ""

argv0 := input.args.argv[0]

reasons contains "kernel-thread-argv0" if regex.match(`^\[[^\]]+\]$`, argv0)

# Every exec of the host comes here: a program installed where programs are
# installed, started under an ordinary argv[0], is done with at once.
candidate if startswith(argv0, "[")

candidate if not lib.under(program, lib.installed_program_dirs)

finding contains {
	"program": program,
	"argv0": argv0,
	"reasons": sort(reasons),
	"ancestry": lib.ancestry,
} if {
	candidate
	count(reasons) > 0
}

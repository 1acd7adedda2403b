# File attributes locked or unlocked: chattr makes a file immutable (+i) or
# append-only (+a), or takes that away (-i, -a). Intruders lock their cron
# jobs, SSH keys and binaries so that root cannot simply delete or edit
# them (rm fails with "Operation not permitted" until someone thinks of
# lsattr), and unlock system files they want to change; some malware
# unlocks /etc/passwd or /etc/ld.so.preload before writing.
#
# Administrators rarely set these attributes by hand, and then mostly on
# files of their own outside the system's folders: the rule fires for files
# in the system's configuration, program, library and boot folders, in home
# folders' SSH and shell start-up files, and in temporary folders.
package vigil.signatures.file_attribute_lock

import data.vigil.lib

metadata := {
	"id": "file-attribute-lock",
	"name": "Immutable or append-only attribute changed",
	"version": "1.0.0",
	"severity": "medium",
	"description": "chattr set or cleared the immutable (i) or append-only (a) attribute of a file in a system folder, a temporary folder, or a home folder's SSH or shell start-up files: locking planted persistence against removal, or unlocking a protected file to change it.",
	"tactics": ["TA0005", "TA0003"],
	"techniques": ["T1222.002", "T1564"],
	"tags": ["chattr", "immutable", "anti-forensics", "file"],
	"events": ["sched_process_exec"],
}

argv := lib.arg("argv", [])

# chattr itself, or busybox's
is_chattr if lib.exec_program == "chattr"

first := lib.exec_args_from

# +i, -ia, =ai, +ie: a mode word naming i or a
changes contains change if {
	some i, a in argv
	i >= first
	regex.match(`^[-+=][a-zA-Z]*[ia][a-zA-Z]*$`, a)
	change := a
}

# chattr's own options that take a value: -v VERSION, -p PROJECT
value_positions contains i + 1 if {
	some i, a in argv
	i >= first
	a in {"-v", "-p"}
}

targets contains a if {
	some i, a in argv
	i >= first
	not regex.match(`^[-+=]`, a)
	not value_positions[i]
}

watched_dirs := array.concat(lib.system_program_dirs, array.concat(lib.world_writable_dirs, [
	"/etc", "/boot", "/var/spool/cron", "/var/log", "/usr/local/bin", "/usr/local/sbin",
]))

home_files := {".ssh", ".bashrc", ".bash_profile", ".profile", ".zshrc", ".bash_logout", ".config/autostart"}

watched(t) if lib.under(t, watched_dirs)

watched(t) if {
	rel := lib.home_relative(t)
	some f in home_files
	rel == f
}

watched(t) if {
	rel := lib.home_relative(t)
	some f in home_files
	startswith(rel, concat("", [f, "/"]))
}

locked contains t if {
	some t in targets
	watched(t)
}

finding contains {
	"changes": sort(changes),
	"files": sort(locked),
	"locks": count([c | some c in changes; not startswith(c, "-")]) > 0,
	"argv": argv,
	"ancestry": lib.ancestry,
} if {
	is_chattr
	count(changes) > 0
	count(locked) > 0
	not lib.from_package_manager
}

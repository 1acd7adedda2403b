# Timestomping: touch gives a file a time of the user's choosing (-t, -d,
# --date) or another file's (-r, --reference), so that a planted or modified
# file looks as old as its neighbours and escapes a search by modification
# time (find -newer, -mtime).
#
# Scripts set times for ordinary reasons (markers for find -newer, builds),
# so the rule looks at where: a target inside the system's program,
# library, configuration, boot or log folders, or a time copied from a file
# in them onto anything (touch -r /bin/ls /tmp/.x: the planted file takes
# the age of a system program). Package managers are left out.
#
# A program that sets the times itself (utimensat, futimens, utimes, utime:
# the utimensat event, reported only for a time the caller chose, not for
# "now") onto a file in those folders is reported too, unless it is touch
# (judged above by its arguments), a package manager, or a tool that keeps
# the times of what it copies or unpacks (tar, cp -p, rsync, install -p,
# unzip, ...): those set old times on every file they place.
# Known to fire on benign work: a script that copies files into /etc with
# their times kept (Python's shutil.copy2, Perl's File::Copy::preserve).
package vigil.signatures.timestomp

import data.vigil.lib

metadata := {
	"id": "timestomp",
	"name": "File times forged",
	"version": "1.1.0",
	"severity": "medium",
	"description": "touch set an explicit time (-t, -d) or copied a file's time (-r) onto a file in a system folder (programs, libraries, /etc, /boot, /var/log), or copied a system file's time onto any file, or another program set a chosen time on a file in a system folder through utimensat/futimens/utimes: timestomping, to hide a planted or modified file.",
	"tactics": ["TA0005"],
	"techniques": ["T1070.006"],
	"tags": ["timestomp", "anti-forensics", "file"],
	"events": ["sched_process_exec", "utimensat"],
}

argv := lib.arg("argv", [])

# touch itself, or busybox's
is_touch if {
	input.name == "sched_process_exec"
	lib.exec_program == "touch"
}

# where touch's own arguments begin
first := lib.exec_args_from

# short options that take a value, alone or as the last of a cluster
# (-t STAMP, -amt STAMP, -r FILE, -d DATE)
takes_value(a) if regex.match(`^-[acfhm]*[tdr]$`, a)

takes_value(a) if a in {"--date", "--reference", "--time"}

# option i and its value
option_value(i) := argv[i + 1] if takes_value(argv[i])

# values given inside the option: -t200101010000, --date=..., --reference=...
inline_value(a) := substring(a, count(m[0][1]), -1) if {
	m := regex.find_all_string_submatch_n(`^(-[acfhm]*[tdr])[^-]`, a, 1)
	count(m) == 1
}

inline_value(a) := substring(a, indexof(a, "=") + 1, -1) if {
	startswith(a, "--")
	contains(a, "=")
}

options := [[i, a] | some i, a in argv; i >= first; startswith(a, "-")]

explicit_time contains "stamp" if {
	some [_, a] in options
	regex.match(`^(-[acfhm]*[td]|--date)`, a)
}

references contains r if {
	some [i, a] in options
	regex.match(`^-[acfhm]*r$`, a)
	r := argv[i + 1]
}

references contains r if {
	some [i, a] in options
	a == "--reference"
	r := argv[i + 1]
}

references contains r if {
	some [_, a] in options
	regex.match(`^(-[acfhm]*r[^-]|--reference=)`, a)
	r := inline_value(a)
}

explicit_time contains "reference" if count(references) > 0

value_positions contains i + 1 if {
	some [i, a] in options
	takes_value(a)
}

targets contains a if {
	some i, a in argv
	i >= first
	not startswith(a, "-")
	not value_positions[i]
}

system_dirs := array.concat(lib.system_program_dirs, [
	"/etc", "/boot", "/var/log", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib",
	"/usr/share", "/usr/include", "/opt",
])

stomped contains t if {
	some t in targets
	lib.under(t, system_dirs)
}

system_references contains r if {
	some r in references
	lib.under(r, system_dirs)
}

finding contains {
	"targets": sort(targets),
	"system_targets": sort(stomped),
	"references": sort(references),
	"how": sort(explicit_time),
	"argv": argv,
	"ancestry": lib.ancestry,
} if {
	is_touch
	count(explicit_time) > 0
	count(stomped) + count(system_references) > 0
	not lib.from_package_manager
}

# ---- a program setting the times itself ----

# tools that give the files they copy or unpack the times of their source:
# old times on new files are their job
time_keepers := {
	"tar", "bsdtar", "gtar", "cpio", "pax", "unzip", "7z", "7za", "7zz", "unrar", "ar",
	"cp", "mv", "install", "rsync", "scp", "sftp-server", "sftp", "ftp", "lftp", "wget",
	"curl", "git", "patch",
	"systemd-tmpfiles", "ostree", "flatpak", "snapd", "busybox", "containerd", "dockerd",
	"logrotate",
	# the shadow suite keeps a backup of each account database with the
	# original's times (/etc/passwd-, /etc/shadow-, /etc/subuid-, ...)
	"useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "newusers",
	"passwd", "chpasswd", "chgpasswd", "chage", "chfn", "chsh", "gpasswd", "vipw", "vigr",
	"pwck", "grpck", "adduser", "deluser", "addgroup", "delgroup", "pwconv", "grpconv",
}

utime_fields := {k: v |
	some k in ["atime", "mtime"]
	v := input.args[k]
}

finding contains {
	"targets": [path],
	"system_targets": [path],
	"references": [],
	"how": ["syscall"],
	"syscall": lib.arg("syscall", ""),
	"times": utime_fields,
	"ancestry": lib.ancestry,
} if {
	input.name == "utimensat"
	object.get(input, "return_value", 0) == 0
	path := input.args.pathname
	lib.under(path, system_dirs)
	count(utime_fields) > 0
	not lib.is_process_named(input.process, time_keepers | {"touch"})
	not lib.from_package_manager
}

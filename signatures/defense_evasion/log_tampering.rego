# Log and history tampering: a system log, a login record or a shell history
# is deleted, truncated, moved away, replaced, or made a symbolic link (to
# /dev/null, typically) - how intruders erase their traces.
#
# Log rotation does all of this too, by design: logrotate and savelog (and
# what they run: gzip, postrotate scripts), the journal and syslog daemons,
# systemd-tmpfiles, package managers are left out. journalctl --vacuum is
# not: a person wiping the journal by hand is worth a look. A shell saving its own
# history writes a temporary file and renames it over the history: a shell
# replacing a history file is that, not tampering.
package vigil.signatures.log_tampering

import data.vigil.lib

metadata := {
	"id": "log-tampering",
	"name": "Log or shell history tampering",
	"version": "1.0.0",
	"severity": "high",
	"description": "A system log, a login record (wtmp, btmp, lastlog, utmp) or a shell history was deleted, truncated, moved away, replaced or turned into a symbolic link, by something other than log rotation.",
	"tactics": ["TA0005"],
	"techniques": ["T1070.002", "T1070.003"],
	"tags": ["logs", "history", "anti-forensics", "file"],
	"events": ["security_inode_unlink", "do_truncate", "security_inode_rename", "security_inode_symlink"],
}

login_records := {
	"/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/var/log/faillog",
	"/var/run/utmp", "/run/utmp", "/var/lib/wtmpdb/wtmp.db", "/var/lib/lastlog/lastlog2.db",
}

# Shell and REPL histories, wherever HISTFILE points: matched by name.
history_names := {
	".bash_history", ".zsh_history", ".zhistory", ".history", ".sh_history",
	".ash_history", ".mksh_history", ".python_history", ".mysql_history",
	".psql_history", ".sqlite_history", ".node_repl_history", ".rediscli_history",
	".lesshst", "fish_history",
}

kind(path) := "login_records" if path in login_records

else := "system_log" if lib.under(path, ["/var/log"])

else := "shell_history" if lib.basename(path) in history_names

technique := {"login_records": "T1070.002", "system_log": "T1070.002", "shell_history": "T1070.003"}

ok(ev) if object.get(ev, "return_value", 0) >= 0

# ---- what was done to which file ----

tampered := {"path": input.args.pathname, "operation": "unlink"} if {
	input.name == "security_inode_unlink"
	input.args.dir != true
	ok(input)
}

tampered := {"path": input.args.pathname, "operation": "truncate"} if {
	input.name == "do_truncate"
	ok(input)
}

# the log is moved out of the way
tampered := {"path": input.args.old_path, "operation": "rename_away"} if {
	input.name == "security_inode_rename"
	kind(input.args.old_path)
	ok(input)
}

# something else is put in its place (mv /dev/null-like file over it, or the
# temporary symlink of ln -sf)
tampered := {"path": input.args.new_path, "operation": "replace"} if {
	input.name == "security_inode_rename"
	not kind(input.args.old_path)
	not shell_saving_history(input.args.new_path)
	ok(input)
}

tampered := {"path": input.args.pathname, "operation": "symlink"} if {
	input.name == "security_inode_symlink"
	ok(input)
}

shell_saving_history(path) if {
	kind(path) == "shell_history"
	lib.is_shell(object.get(input.process, "exe", ""))
}

# ---- who may ----

log_maintainers := {
	"logrotate", "savelog", "systemd-journald", "systemd-tmpfiles",
	"rsyslogd", "syslog-ng", "auditd", "plymouthd", "Xorg", "sa1", "sa2", "sadc",
	"unattended-upgr", "unattended-upgrade",
}

# log maintenance runs helpers (gzip, postrotate scripts): its descendants
# are trusted with logs too
maintained if lib.from_system_program(log_maintainers)

maintained if lib.from_package_manager

finding contains {
	"pathname": tampered.path,
	"kind": k,
	"technique": technique[k],
	"operation": tampered.operation,
	"target": lib.arg("target", ""),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	k := kind(tampered.path)
	not maintained
}

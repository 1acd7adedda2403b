# Privilege-escalation reconnaissance: the file system is searched for
# set-user-id or set-group-id programs, for files with capabilities, or
# for what any user may write.
#
# The first thing an intruder with a foothold as an ordinary user does is
# look for a way up: set-user-id programs that can be bent (GTFOBins), files
# carrying capabilities (cap_setuid, cap_dac_override), writable files and
# folders that root runs or reads (T1083, T1548.001). Every enumeration
# script (linpeas, LinEnum, linux-smart-enumeration) and every hand on a
# shell does it the same way: "find / -perm -4000", "find / -perm -u=s",
# "getcap -r /", "find / -writable -type d".
#
# Only searches that start from the root or a top-level system folder
# count. Security auditors that do this as their job (Debian's
# checksecurity, lynis, rkhunter, tiger, OpenSCAP, ...) are left out when
# they are installed in a system directory. Low severity: reconnaissance,
# to correlate with what the same session did next.
package vigil.signatures.privilege_escalation_recon

import data.vigil.lib

metadata := {
	"id": "privilege-escalation-recon",
	"name": "Search for set-user-id, capability or writable files",
	"version": "1.0.0",
	"severity": "low",
	"description": "find searched the root or a top-level system folder for set-user-id or set-group-id files (-perm -4000, -u=s, /6000, ...) or for files any user may write (-writable, -perm -o+w, -perm -2), or getcap listed file capabilities recursively: the enumeration that precedes a local privilege escalation. Security auditors installed in system folders (checksecurity, lynis, rkhunter, tiger, OpenSCAP) are left out.",
	"tactics": ["TA0007", "TA0004"],
	"techniques": ["T1083", "T1548.001"],
	"tags": ["discovery", "privilege-escalation", "setuid"],
	"events": ["sched_process_exec"],
}

program := lib.exec_program

args := array.slice(input.args.argv, lib.exec_args_from, count(input.args.argv))

# the root and the top-level folders where programs and their data live
wide_roots := {"/", "/usr", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local", "/usr/local/bin", "/opt", "/etc", "/var", "/home", "/lib", "/usr/lib", "/snap"}

wide_root(r) if trim_right(r, "/") in wide_roots

wide_root("/")

find_roots := lib.find_roots(args)

# -perm's mode names the set-user-id or set-group-id bit: -4000, /4000,
# 4000, -u=s, /g=s, -6000, /u+s, ...
setid_mode(m) if regex.match(`^[-/]?0?[2-7][0-7]{3}$`, m)

setid_mode(m) if regex.match(`^[-/]?([ugoa]*[+=][rwxXtst]*s|.*,[ugoa]*[+=][rwxXt]*s)`, m)

# -perm's mode names the write bit for others: -o+w, -o=w, -2, /002, -0002
world_writable_mode(m) if regex.match(`^[-/]?(o[+=]w|0*2|0*[0-7]?[0-7]?[2367])$`, m)

perm_modes contains args[i + 1] if {
	some i, a in args
	a == "-perm"
}

reasons contains "setid-search" if {
	program in {"find", "gfind", "bfs"}
	some r in find_roots
	wide_root(r)
	some m in perm_modes
	setid_mode(m)
}

reasons contains "writable-search" if {
	program in {"find", "gfind", "bfs"}
	some r in find_roots
	wide_root(r)
	writable_test
}

writable_test if "-writable" in args

writable_test if {
	some m in perm_modes
	world_writable_mode(m)
}

reasons contains "capability-search" if {
	program == "getcap"
	some a in args
	a in {"-r", "-R"}
	some o in lib.operands(args, set())
	wide_root(args[o])
}

auditors := {
	"checksecurity", "check-setuid", "lynis", "rkhunter", "chkrootkit", "tiger", "tigercron",
	"oscap", "openscap", "aide", "debsecan", "wazuh-agentd", "ossec-agentd", "ossec-syscheckd",
	"wazuh-syscheckd", "osqueryd", "tripwire", "samhain", "trivy", "grype",
}

finding contains {
	"reasons": sort(reasons),
	"program": lib.exec_path,
	"argv": input.args.argv,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
	not lib.from_system_program(auditors)
}

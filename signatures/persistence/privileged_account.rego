# An account created or changed so that it holds root's powers: a new user
# with uid 0 (a second root), or a user put into a group that grants root
# (sudo, wheel, admin, root) or root-equivalent access (docker, lxd, disk).
# Backdoor accounts like these are how intruders keep their way back in.
package vigil.signatures.privileged_account

import data.vigil.lib

metadata := {
	"id": "privileged-account-change",
	"name": "Account given root or root-equivalent rights",
	"version": "1.0.0",
	"severity": "high",
	"description": "useradd, adduser, usermod or gpasswd created an account with uid 0 or added an account to a group that grants root (sudo, wheel, admin, root, docker, lxd, disk).",
	"tactics": ["TA0003", "TA0004"],
	"techniques": ["T1136.001", "T1098"],
	"tags": ["account", "persistence", "sudo"],
	"events": ["sched_process_exec"],
}

# by name, and root's group by number
privileged_groups := {"sudo", "wheel", "admin", "root", "docker", "lxd", "disk", "adm", "shadow", "0"}

prog := lib.basename(lib.exec_path)

argv := input.args.argv

option_values(names) := lib.option_values(argv, names)

reasons contains "uid 0" if {
	prog in {"useradd", "usermod", "adduser"}
	"0" in option_values({"-u", "--uid"})
}

reasons contains sprintf("group %s", [g]) if {
	prog in {"useradd", "usermod"}
	some v in option_values({"-G", "--groups", "-g", "--gid"})
	some g in split(v, ",")
	g in privileged_groups
}

# adduser USER GROUP (Debian), gpasswd -a USER GROUP, addgroup USER GROUP
reasons contains sprintf("group %s", [argv[2]]) if {
	prog in {"adduser", "addgroup"}
	count(argv) == 3
	not startswith(argv[1], "-")
	argv[2] in privileged_groups
}

reasons contains sprintf("group %s", [g]) if {
	prog == "gpasswd"
	some i, a in argv
	a in {"-a", "--add", "-M", "--members"}
	g := argv[count(argv) - 1]
	g in privileged_groups
	i < count(argv) - 1
}

# Every exec of the host comes here: one set lookup first.
candidate if prog in {"useradd", "usermod", "adduser", "addgroup", "gpasswd"}

finding contains {
	"program": lib.exec_path,
	"changes": sort(reasons),
	"command": lib.cmdline,
	"ancestry": lib.ancestry,
} if {
	candidate
	count(reasons) > 0
}

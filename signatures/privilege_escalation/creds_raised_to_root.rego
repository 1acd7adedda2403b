# Credentials raised to root: a task's real or effective uid changes from a
# non-zero value to 0, and the task had none of root before: its real,
# effective and saved uids were all non-zero. A root process that lends its
# effective uid to an unprivileged user and takes it back (apt's download
# methods as _apt, daemons dropping privilege for a moment) gains nothing:
# its real or saved uid stayed 0 all along.
#
# The commit_creds event is the one source of truth: it reports the change
# itself, whichever path made it (setuid family, exec of a set-user-id
# binary, a kernel exploit overwriting the cred struct), old and new ids side
# by side. The setuid syscall events are not selected on purpose: a setuid(0)
# by a task that is already root changes nothing, and a real change would be
# reported twice.
#
# The set-user-id programs a distribution installs so that users can do
# this (sudo, su, passwd, mount, ...) are left out, when the program making
# the change is the installed one: judged by its executable's path, never by
# its comm, which any process can set. A copy elsewhere, an unknown
# set-user-id program, or any other way to uid 0 is reported. Their abuse
# has signatures of its own (exec-without-argv, setuid-loader-env).
package vigil.signatures.creds_raised_to_root

import data.vigil.lib

metadata := {
	"id": "creds-raised-to-root",
	"name": "Credentials raised to root",
	"version": "1.1.0",
	"severity": "high",
	"description": "A task that had no root id (real, effective and saved uids all non-zero) got a real or effective user id of 0 (root), other than through the set-user-id programs a distribution installs for that (sudo, su, pkexec, passwd, mount, ...): the mark of a privilege escalation.",
	"tactics": ["TA0004"],
	"techniques": ["T1548.001", "T1068"],
	"tags": ["credentials", "root", "privilege"],
	"events": ["commit_creds"],
}

# A missing id (a probe that could not read it) leaves the rule undefined:
# no guess is reported as a change.

# had_root: one of the old real, effective or saved uids was 0. An old
# saved uid the event does not carry (a capture of an older sensor) is
# unknown and proves nothing either way.
had_root if {
	some k in ["old_uid", "old_euid", "old_suid"]
	object.get(input.args, k, null) == 0
}

raised contains "uid" if {
	input.args.old_uid != 0
	input.args.new_uid == 0
}

raised contains "euid" if {
	input.args.old_euid != 0
	input.args.new_euid == 0
}

# sanctioned_programs are installed set-user-id root (or run as root and
# switch users on purpose): the privilege tools, the account tools, mount
# helpers, sandboxes and session helpers.
sanctioned_programs := {
	"sudo", "sudoedit", "su", "doas", "pkexec", "polkit-agent-helper-1", "runuser",
	"passwd", "chsh", "chfn", "gpasswd", "newgrp", "sg", "chage", "expiry",
	"newuidmap", "newgidmap", "unix_chkpwd", "crontab", "at",
	"mount", "umount", "fusermount", "fusermount3", "mount.nfs", "mount.cifs",
	"mount.ecryptfs_private", "ntfs-3g", "ping", "ping6", "traceroute6.iputils",
	"ssh-keysign", "dbus-daemon-launch-helper", "Xorg.wrap", "Xorg", "chrome-sandbox",
	"snap-confine", "lxc-user-nic", "pppd", "staprun", "vmware-user-suid-wrapper",
	"userhelper", "login", "sshd", "sshd-session",
}

# the program making the change: the one being executed when the kernel
# hook reports an exec, the process's own otherwise
program := exe if {
	exe := object.get(input.args, "exe", "")
	exe != ""
}

else := object.get(input.process, "exe", "")

sanctioned if {
	lib.basename(program) in sanctioned_programs
	lib.under(program, lib.system_program_dirs)
}

finding contains {
	"raised": sort(raised),
	"program": program,
	"old_uid": lib.arg("old_uid", null),
	"new_uid": lib.arg("new_uid", null),
	"old_euid": lib.arg("old_euid", null),
	"new_euid": lib.arg("new_euid", null),
	"syscall": lib.arg("syscall", ""),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(raised) > 0
	not had_root
	not sanctioned
}

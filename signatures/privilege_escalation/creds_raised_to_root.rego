# Credentials raised to root: a task's real or effective uid changes from a
# non-zero value to 0.
#
# The commit_creds event is the one source of truth: it reports the change
# itself, whichever path made it (setuid family, exec of a set-user-id
# binary, a kernel exploit overwriting the cred struct), old and new ids side
# by side. The setuid syscall events are not selected on purpose: a setuid(0)
# by a task that is already root changes nothing, and a real change would be
# reported twice.
package vigil.signatures.creds_raised_to_root

import data.vigil.lib

metadata := {
	"id": "creds-raised-to-root",
	"name": "Credentials raised to root",
	"version": "1.0.0",
	"severity": "high",
	"description": "A task's real or effective user id changed from a non-zero value to 0 (root). Legitimate through sudo, su or other set-user-id programs; otherwise the mark of a privilege escalation.",
	"tactics": ["TA0004"],
	"techniques": ["T1548.001", "T1068"],
	"tags": ["credentials", "root", "privilege"],
	"events": ["commit_creds"],
}

# A missing id (a probe that could not read it) leaves the rule undefined:
# no guess is reported as a change.
raised contains "uid" if {
	input.args.old_uid != 0
	input.args.new_uid == 0
}

raised contains "euid" if {
	input.args.old_euid != 0
	input.args.new_euid == 0
}

finding contains {
	"raised": sort(raised),
	"old_uid": lib.arg("old_uid", null),
	"new_uid": lib.arg("new_uid", null),
	"old_euid": lib.arg("old_euid", null),
	"new_euid": lib.arg("new_euid", null),
	"syscall": lib.arg("syscall", ""),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(raised) > 0
}

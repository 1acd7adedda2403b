# An unprivileged user's program gained powerful capabilities when it was
# executed: the file carries file capabilities (setcap cap_setuid+ep on a
# copy of python, cap_dac_read_search on tar, ...), a backdoor that survives
# without a set-user-id bit and that `find -perm -4000` does not show.
#
# Only changes committed by an exec are looked at: a capability raised
# through unshare(CLONE_NEWUSER) lives in a user namespace of its own and
# gives nothing on the host. Root (old euid 0) gains nothing new either.
package vigil.signatures.capabilities_gained_at_exec

import data.vigil.lib

metadata := {
	"id": "capabilities-gained-at-exec",
	"name": "Dangerous capabilities gained through exec",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program run by a non-root user gained capabilities that amount to root (setuid, dac_override, sys_admin, sys_ptrace, sys_module, ...) when it was executed, through file capabilities.",
	"tactics": ["TA0004", "TA0003"],
	"techniques": ["T1548", "T1068"],
	"tags": ["capabilities", "setcap", "privilege"],
	"events": ["commit_creds"],
}

# The fallback probe names the syscall; the kernel hook names the program
# being executed when the change is part of an exec.
at_exec if input.args.syscall in {"execve", "execveat"}

at_exec if object.get(input.args, "exe", "") != ""

gained contains name if {
	some bit, name in lib.root_capabilities
	lib.has_capability(input.args.new_cap_effective, bit)
	not lib.has_capability(input.args.old_cap_effective, bit)
}

finding contains {
	"capabilities": sort(gained),
	"program": object.get(input.args, "exe", object.get(input.process, "exe", "")),
	"uid": input.args.new_uid,
	"euid": input.args.new_euid,
	"ancestry": lib.ancestry,
} if {
	at_exec
	input.args.old_euid != 0
	input.args.new_euid != 0
	count(gained) > 0
}

# Unprivileged user namespace with a network or mount namespace of its own.
#
# A user namespace makes an unprivileged user root inside it, with every
# capability over the namespaces it owns. Created together with a network or
# mount namespace, it opens to that user the kernel code that needs
# CAP_NET_ADMIN or CAP_SYS_ADMIN (netfilter, nf_tables, traffic control,
# file system mounts): the first step of most Linux privilege escalation
# exploits of recent years (CVE-2022-0185, CVE-2023-32233, CVE-2024-1086,
# ...), unshare(CLONE_NEWUSER|CLONE_NEWNET) and then the bug.
#
# Browser and desktop sandboxes and rootless container runtimes do the same
# on purpose and are left out by name (the process or an ancestor; not when
# its program sits in a world-writable directory such as /tmp). A user
# namespace alone (unshare -U, for file ownership tricks) is not reported;
# neither is root creating one (container runtimes with user namespaces).
package vigil.signatures.unprivileged_user_namespace

import data.vigil.lib

metadata := {
	"id": "unprivileged-user-namespace",
	"name": "Unprivileged user namespace with network or mount namespace",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A process of a non-root user created a user namespace together with a network or mount namespace (unshare or clone with CLONE_NEWUSER|CLONE_NEWNET or CLONE_NEWNS), which gives it capabilities over kernel code most exploits need. Browser sandboxes and rootless container tools are left out.",
	"tactics": ["TA0004"],
	"techniques": ["T1068"],
	"tags": ["namespace", "user-namespace", "exploit"],
	"events": ["switch_task_namespaces"],
}

changed := {k | some k in lib.arg("changed", [])}

# the namespaces that give an exploit something to work on
with_user := changed & {"net", "mnt"}

creating_syscalls := {"unshare", "clone", "clone3"}

unprivileged if {
	input.process.uid != 0
	input.process.euid != 0
}

sandbox if lib.installed_as(input.process, lib.userns_sandboxes)

sandbox if {
	some a in object.get(input.process, "ancestors", [])
	lib.installed_as(a, lib.userns_sandboxes)
}

finding contains {
	"syscall": input.args.syscall,
	"changed": sort(changed),
	"flags": lib.arg("flags", 0),
	"child_pid": lib.arg("target_pid", 0),
	"uid": input.process.uid,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	input.args.syscall in creating_syscalls
	"user" in changed
	count(with_user) > 0
	unprivileged
	not sandbox
}

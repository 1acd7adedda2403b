# Namespace escape: a process in a container's namespaces joins the host's.
#
# setns(2) into the host's initial namespaces (those of the kernel's own
# tasks) by a process that was not in them is how a privileged container
# breaks out: nsenter -t 1 -m -u -i -n -p, or setns on /proc/1/ns/* or on a
# pidfd of a host process, then a shell in the host. The sensor compares the
# caller's namespaces before and after the call and names those that became
# the host's (entered_host).
#
# Leaving a mount, pid or user namespace for the host's is the escape
# itself: nothing on a host needs it. Network, uts, ipc and cgroup
# namespaces are another matter: container network plugins (CNI) and
# runtimes enter a container's network namespace on one thread and come back
# to the host's; that return looks like an escape but the process never left
# the host. For those kinds the signature needs the process to run in a
# container (its cgroup names one).
package vigil.signatures.namespace_escape

import data.vigil.lib

metadata := {
	"id": "namespace-escape",
	"name": "Namespace escape to the host",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process joined the host's initial namespaces with setns after running in other ones: a container breakout (nsenter into pid 1's namespaces, setns on /proc/1/ns or a host process's pidfd). Mount, pid and user namespaces count from anywhere; network, uts, ipc and cgroup namespaces only from a process in a container.",
	"tactics": ["TA0004"],
	"techniques": ["T1611"],
	"tags": ["container", "namespace", "escape"],
	"events": ["switch_task_namespaces"],
}

# Namespaces no host process comes back to after visiting a container.
escape_kinds := {"mnt", "pid_for_children", "user"}

entered := {k | some k in lib.arg("entered_host", [])}

in_container if object.get(input.process, "container_id", "") != ""

escaped contains k if {
	input.args.syscall == "setns"
	input.return_value == 0
	some k in entered
	k in escape_kinds
}

escaped contains k if {
	input.args.syscall == "setns"
	input.return_value == 0
	in_container
	some k in entered
}

finding contains {
	"entered_host": sort(escaped),
	"changed": lib.arg("changed", []),
	"via": lib.arg("fd_kind", ""),
	"target_pid": lib.arg("target_pid", 0),
	"container_id": object.get(input.process, "container_id", ""),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(escaped) > 0
}

# Namespace escape: a contained process joins the host's namespaces.
#
# setns(2) into the host's initial namespaces (those of the kernel's own
# tasks) by a process that runs in a container is how a privileged container
# breaks out: nsenter -t 1 -m -u -i -n -p, or setns on /proc/1/ns/* or on a
# pidfd of a host process, then a shell on the host. The sensor compares the
# caller's namespaces before and after the call and names those that became
# the host's (entered_host).
#
# Contained means: the process's cgroup names a container, or it runs in a
# pid namespace of its own (a container the cgroup does not reveal). Host
# processes coming back to the host's namespaces are left out: network
# plugins (CNI) and agents enter a container's network or mount namespace on
# one thread and return. A containerised network agent (cilium, calico) does
# the same with the network namespace, so joining the host's network, uts,
# ipc or cgroup namespace alone is not enough either: it takes the mount,
# pid or user namespace (the host's file system, its processes, its
# credentials: what an escape is for), or three namespaces at once.
package vigil.signatures.namespace_escape

import data.vigil.lib

metadata := {
	"id": "namespace-escape",
	"name": "Namespace escape to the host",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process in a container (its cgroup names one, or it has a pid namespace of its own) joined the host's initial mount, pid or user namespace, or three of its namespaces at once, with setns: a container breakout (nsenter into pid 1's namespaces, setns on /proc/1/ns or a host process's pidfd).",
	"tactics": ["TA0004"],
	"techniques": ["T1611"],
	"tags": ["container", "namespace", "escape"],
	"events": ["switch_task_namespaces"],
}

# the namespaces that make a join an escape on their own
escape_kinds := {"mnt", "pid_for_children", "user"}

entered := {k | some k in lib.arg("entered_host", [])}

contained if object.get(input.process, "container_id", "") != ""

contained if {
	input.process.pid_ns != lib.host_pid_ns
}

joined if {
	input.args.syscall == "setns"
	input.return_value == 0
	contained
}

escaped := entered if {
	joined
	count(entered & escape_kinds) > 0
}

escaped := entered if {
	joined
	count(entered) >= 3
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

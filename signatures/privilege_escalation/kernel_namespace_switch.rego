# Namespaces switched by kernel code outside setns, unshare and clone.
#
# A kernel exploit that has gained code execution in the kernel finishes
# its container escape in the kernel itself:
# switch_task_namespaces(find_task_by_vpid(1), init_nsproxy) together with
# commit_creds(prepare_kernel_cred(0)). No syscall asks for it, so the
# sensor's kernel hook on switch_task_namespaces sees it arrive from an
# unrelated syscall (the one the exploit came through: ioctl, msgsnd,
# sendmsg, ...). Where that hook does not load (a kernel without fentry and
# kprobes) the event never carries such a switch and the signature is
# silent.
#
# The one legitimate switch outside those syscalls is exec entering the
# time namespace a previous unshare(CLONE_NEWTIME) prepared: a switch during
# execve that changes the time namespace alone is left out.
package vigil.signatures.kernel_namespace_switch

import data.vigil.lib

metadata := {
	"id": "namespace-switch-outside-syscalls",
	"name": "Namespaces switched by kernel code",
	"version": "1.0.0",
	"severity": "critical",
	"description": "The kernel switched a task's namespaces outside setns, unshare and clone: what a kernel exploit's payload does to escape a container (switch_task_namespaces(task, init_nsproxy)). Needs the sensor's kernel hook (fentry or kprobe).",
	"tactics": ["TA0004"],
	"techniques": ["T1068", "T1611"],
	"tags": ["kernel", "exploit", "namespace", "escape"],
	"events": ["switch_task_namespaces"],
}

# the syscalls that switch namespaces by design; the syscall layer reports
# setns and unshare, the fork tracepoint clone
namespace_syscalls := {"setns", "unshare", "clone", "clone3", "fork", "vfork"}

exec_syscalls := {"execve", "execveat"}

changed := {k | some k in lib.arg("changed", [])}

outside if {
	not lib.arg("syscall", "") in namespace_syscalls
	count(changed) > 0
	not exec_time_namespace
}

exec_time_namespace if {
	lib.arg("syscall", "") in exec_syscalls
	changed == {"time"}
}

finding contains {
	"changed": sort(changed),
	"entered_host": lib.arg("entered_host", []),
	"syscall_nr": lib.arg("syscall_nr", -1),
	"target_pid": lib.arg("target_pid", 0),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	outside
}

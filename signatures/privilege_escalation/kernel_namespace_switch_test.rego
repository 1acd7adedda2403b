package vigil.signatures.kernel_namespace_switch

switch(syscall, nr, changed) := {
	"name": "switch_task_namespaces",
	"probe": "fentry/switch_task_namespaces",
	"return_value": 0,
	"process": {"pid": 31337, "comm": "exploit", "exe": "/tmp/x/exploit", "uid": 1000},
	"args": {"syscall": syscall, "syscall_nr": nr, "changed": changed, "entered_host": changed, "target_pid": 1},
}

test_switch_from_an_ioctl_fires if {
	some f in finding with input as switch("", 16, ["mnt", "net", "pid_for_children"])
	f.changed == ["mnt", "net", "pid_for_children"]
	f.syscall_nr == 16
	f.target_pid == 1
}

test_setns_unshare_clone_are_quiet if {
	every sc in ["setns", "unshare", "clone", "clone3"] {
		count(finding) == 0 with input as switch(sc, 0, ["net"])
	}
}

test_exec_entering_a_time_namespace_is_quiet if {
	count(finding) == 0 with input as switch("execve", 59, ["time"])
}

test_exec_switching_more_than_time_fires if {
	some f in finding with input as switch("execve", 59, ["mnt", "time"])
	f.changed == ["mnt", "time"]
}

test_nothing_changed_is_quiet if {
	count(finding) == 0 with input as switch("", 16, [])
}

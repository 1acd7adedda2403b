package vigil.signatures.namespace_escape

host_pid_ns := 4026531836

setns(entered, container_id, pid_ns) := {
	"name": "switch_task_namespaces",
	"return_value": 0,
	"process": {"pid": 4100, "comm": "nsenter", "exe": "/usr/bin/nsenter", "uid": 0, "container_id": container_id, "pid_ns": pid_ns},
	"args": {
		"syscall": "setns", "fd_kind": "pidfd", "target_pid": 1, "flags": 0,
		"changed": entered, "entered_host": entered,
	},
}

test_nsenter_into_pid_1_from_a_container if {
	some f in finding with input as setns(["mnt", "uts", "ipc", "net", "pid_for_children"], "4c1e8d2f9a77", 4026532404)
	f.entered_host == ["ipc", "mnt", "net", "pid_for_children", "uts"]
	f.via == "pidfd"
	f.target_pid == 1
}

test_mount_namespace_from_a_container_with_host_pids if {
	# docker run --pid=host --privileged: the cgroup still names the container
	some f in finding with input as setns(["mnt"], "4c1e8d2f9a77", host_pid_ns)
	f.entered_host == ["mnt"]
}

test_mount_namespace_from_an_own_pid_namespace if {
	# a container whose cgroup the sensor does not recognise
	some f in finding with input as setns(["mnt"], "", 4026532404)
	f.container_id == ""
}

test_host_process_coming_back_is_quiet if {
	# an agent that read a container's files, a CNI plugin
	count(finding) == 0 with input as setns(["mnt"], "", host_pid_ns)
	count(finding) == 0 with input as setns(["net"], "", host_pid_ns)
}

test_network_namespace_alone_from_a_container_is_quiet if {
	# a containerised network agent back from a pod's network namespace
	count(finding) == 0 with input as setns(["net"], "4c1e8d2f9a77", host_pid_ns)
}

test_three_namespaces_from_a_container_fire if {
	some f in finding with input as setns(["uts", "ipc", "net"], "4c1e8d2f9a77", 4026532404)
	f.entered_host == ["ipc", "net", "uts"]
}

test_refused_setns_is_quiet if {
	ev := json.patch(setns(["mnt"], "c1", 4026532404), [{"op": "replace", "path": "/return_value", "value": -1}])
	count(finding) == 0 with input as ev
}

test_setns_into_a_container_is_quiet if {
	# runc, docker exec, ip netns exec: new namespaces, none of them the host's
	ev := json.patch(setns([], "c1", 4026532404), [{"op": "replace", "path": "/args/changed", "value": ["mnt", "net"]}])
	count(finding) == 0 with input as ev
}

test_unshare_is_not_setns if {
	ev := json.patch(setns(["mnt"], "c1", 4026532404), [{"op": "replace", "path": "/args/syscall", "value": "unshare"}])
	count(finding) == 0 with input as ev
}

test_missing_arguments_are_quiet if {
	count(finding) == 0 with input as {"name": "switch_task_namespaces", "return_value": 0, "process": {}, "args": {"syscall": "setns"}}
}

package vigil.signatures.namespace_escape

setns(entered, container_id) := {
	"name": "switch_task_namespaces",
	"return_value": 0,
	"process": {"pid": 4100, "comm": "nsenter", "exe": "/usr/bin/nsenter", "uid": 0, "container_id": container_id},
	"args": {
		"syscall": "setns", "fd_kind": "pidfd", "target_pid": 1, "flags": 0,
		"changed": entered, "entered_host": entered,
	},
}

test_nsenter_into_pid_1_from_a_container if {
	some f in finding with input as setns(["mnt", "uts", "ipc", "net", "pid_for_children"], "4c1e8d2f9a77")
	f.entered_host == ["ipc", "mnt", "net", "pid_for_children", "uts"]
	f.via == "pidfd"
	f.target_pid == 1
}

test_mount_namespace_from_anywhere if {
	some f in finding with input as setns(["mnt"], "")
	f.entered_host == ["mnt"]
}

test_network_namespace_of_a_host_process_is_quiet if {
	# a CNI plugin coming back from a container's network namespace
	count(finding) == 0 with input as setns(["net"], "")
}

test_network_namespace_from_a_container_fires if {
	some f in finding with input as setns(["net"], "4c1e8d2f9a77")
	f.entered_host == ["net"]
}

test_refused_setns_is_quiet if {
	ev := json.patch(setns(["mnt"], "c1"), [{"op": "replace", "path": "/return_value", "value": -1}])
	count(finding) == 0 with input as ev
}

test_setns_into_a_container_is_quiet if {
	# runc, docker exec, ip netns exec: new namespaces, none of them the host's
	ev := json.patch(setns([], ""), [{"op": "replace", "path": "/args/changed", "value": ["mnt", "net"]}])
	count(finding) == 0 with input as ev
}

test_unshare_is_not_setns if {
	ev := json.patch(setns(["mnt"], "c1"), [{"op": "replace", "path": "/args/syscall", "value": "unshare"}])
	count(finding) == 0 with input as ev
}

test_missing_arguments_are_quiet if {
	count(finding) == 0 with input as {"name": "switch_task_namespaces", "return_value": 0, "process": {}, "args": {"syscall": "setns"}}
}

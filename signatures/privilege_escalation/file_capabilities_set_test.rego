package vigil.signatures.file_capabilities_set

setcap(path, permitted, comm, exe) := {
	"name": "setxattr",
	"process": {
		"pid": 7000, "host_pid": 7000, "uid": 0, "comm": comm, "exe": exe,
		"ancestors": [{"pid": 900, "host_pid": 900, "comm": "bash", "exe": "/usr/bin/bash", "uid": 0}],
	},
	"return_value": 0,
	"args": {
		"pathname": path, "name": "security.capability", "size": 20, "flags": 0, "syscall": "setxattr",
		"cap_permitted": permitted, "cap_inheritable": 0, "cap_effective": true, "cap_version": 2,
	},
}

# cap_setuid is bit 7, cap_net_raw 13, cap_net_bind_service 10, cap_sys_admin 21
test_setuid_capability_on_a_copied_interpreter if {
	some f in finding with input as setcap("/tmp/python3", 128, "setcap", "/usr/sbin/setcap")
	f.capabilities == ["cap_setuid"]
	f.in_temp_dir
	f.effective
	f.succeeded
}

test_several_capabilities_named if {
	some f in finding with input as setcap("/usr/local/bin/tool", bits.or(bits.or(128, 8192), bits.lsh(1, 21)), "python3", "/usr/bin/python3.11")
	f.capabilities == ["cap_setuid", "cap_sys_admin"]
	not f.in_temp_dir
}

test_harmless_grants_are_quiet if {
	count(finding) == 0 with input as setcap("/usr/bin/ping", 8192, "setcap", "/usr/sbin/setcap")
	count(finding) == 0 with input as setcap("/opt/app/server", 1024, "setcap", "/usr/sbin/setcap")
	count(finding) == 0 with input as setcap("/opt/app/server", 0, "setcap", "/usr/sbin/setcap")
}

test_other_attributes_are_quiet if {
	ev := setcap("/tmp/x", 128, "setfattr", "/usr/bin/setfattr")
	count(finding) == 0 with input as json.patch(ev, [{"op": "replace", "path": "/args/name", "value": "security.selinux"}])
}

test_package_installation_is_quiet if {
	ev := setcap("/usr/bin/newuidmap", 128, "setcap", "/usr/sbin/setcap")
	count(finding) == 0 with input as json.patch(ev, [{"op": "add", "path": "/process/ancestors/-", "value": {"pid": 800, "comm": "dpkg", "exe": "/usr/bin/dpkg"}}])
}

test_refused_attempt_is_reported if {
	ev := json.patch(setcap("/tmp/sh", bits.lsh(1, 21), "setcap", "/usr/sbin/setcap"), [{"op": "replace", "path": "/return_value", "value": -1}])
	some f in finding with input as ev
	not f.succeeded
}

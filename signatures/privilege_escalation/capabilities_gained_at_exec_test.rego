package vigil.signatures.capabilities_gained_at_exec

import data.vigil.lib

creds(syscall, old_caps, new_caps, old_euid, new_euid) := {
	"name": "commit_creds",
	"process": {"pid": 50, "comm": "python3", "exe": "/home/eve/python3"},
	"args": {
		"syscall": syscall, "old_uid": 1000, "new_uid": 1000, "old_euid": old_euid, "new_euid": new_euid,
		"old_cap_effective": old_caps, "new_cap_effective": new_caps,
	},
}

# cap_setuid is bit 7, cap_net_raw bit 13
test_setcap_setuid_python_fires if {
	some f in finding with input as creds("execve", 0, 128, 1000, 1000)
	f.capabilities == ["cap_setuid"]
	f.program == "/home/eve/python3"
}

test_kernel_hook_exec_with_exe if {
	ev := json.patch(creds("", 0, 2199023255551, 1000, 1000), [{"op": "add", "path": "/args/exe", "value": "/tmp/tar"}])
	some f in finding with input as ev
	count(f.capabilities) == count(lib.root_capabilities)
	f.program == "/tmp/tar"
}

test_harmless_capability_is_quiet if {
	count(finding) == 0 with input as creds("execve", 0, 8192, 1000, 1000)
}

test_setuid_root_exec_is_left_to_creds_raised_to_root if {
	count(finding) == 0 with input as creds("execve", 0, 2199023255551, 1000, 0)
}

test_root_is_quiet if {
	count(finding) == 0 with input as creds("execve", 0, 128, 0, 0)
}

test_outside_exec_is_quiet if {
	count(finding) == 0 with input as creds("", 0, 2199023255551, 1000, 1000)
	count(finding) == 0 with input as creds("capset", 0, 128, 1000, 1000)
}

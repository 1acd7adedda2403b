package vigil.signatures.setuid_bit_set

chmod := {"pid": 50, "comm": "chmod", "exe": "/usr/bin/chmod", "uid": 0, "ancestors": [{"pid": 49, "comm": "bash", "exe": "/usr/bin/bash"}]}

chmod_ev(path, mode, old) := {"name": "security_path_chmod", "process": chmod, "args": {"pathname": path, "mode": mode, "old_mode": old}}

reg_755 := 33261 # 0100755

dir_775 := 16893 # 040775

test_chmod_u_plus_s_fires if {
	some f in finding with input as chmod_ev("/tmp/.sh", 2541, reg_755) # 04755
	f.bits == ["setuid"]
	f.mode == "4755"
	f.ancestry == ["bash(49)"]
}

test_fallback_without_old_mode_fires if {
	count(finding) == 1 with input as chmod_ev("/tmp/.sh", 2541, 0)
}

test_setgid_executable_file_fires if {
	some f in finding with input as chmod_ev("/usr/local/bin/x", 1517, reg_755) # 02755
	f.bits == ["setgid"]
}

test_setgid_directory_is_quiet if {
	count(finding) == 0 with input as chmod_ev("/srv/shared", 1533, dir_775) # 02775 on a directory
	# unknown type: a shared folder is far more likely than a set-gid file
	count(finding) == 0 with input as chmod_ev("/srv/shared", 1533, 0)
}

test_plain_modes_are_quiet if {
	count(finding) == 0 with input as chmod_ev("/tmp/x", 493, reg_755) # 0755
	count(finding) == 0 with input as chmod_ev("/tmp", 1023, 0) # 01777, sticky
}

test_setuid_on_a_directory_is_quiet if {
	count(finding) == 0 with input as chmod_ev("/tmp/d", 2541, 16877)
}

test_package_manager_and_image_tools_are_quiet if {
	dpkg := {"comm": "dpkg", "exe": "/usr/bin/dpkg"}
	ev := {"name": "security_path_chmod", "process": dpkg, "args": {"pathname": "/usr/bin/passwd.dpkg-new", "mode": 2541, "old_mode": reg_755}}
	count(finding) == 0 with input as ev
	ctr := {"comm": "containerd", "exe": "/usr/bin/containerd"}
	ev2 := {"name": "security_path_chmod", "process": ctr, "args": {"pathname": "/var/lib/containerd/x/usr/bin/su", "mode": 2541, "old_mode": reg_755}}
	count(finding) == 0 with input as ev2
}

test_refused_chmod_is_quiet if {
	ev := object.union(chmod_ev("/usr/bin/bash", 2541, reg_755), {"return_value": -1})
	count(finding) == 0 with input as ev
}

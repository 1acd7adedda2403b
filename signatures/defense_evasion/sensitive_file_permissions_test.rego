package vigil.signatures.sensitive_file_permissions

chmod(path, mode) := {
	"name": "security_path_chmod", "return_value": 0,
	"process": {"pid": 3100, "comm": "chmod", "exe": "/usr/bin/chmod", "uid": 1000, "ancestors": [{"pid": 3000, "comm": "bash", "exe": "/usr/bin/bash"}]},
	"args": {"pathname": path, "mode": mode, "old_mode": 0},
}

test_passwd_world_writable_fires if {
	some f in finding with input as chmod("/etc/passwd", 438) # 0666
	f.loosened == ["world-writable"]
	f.mode == "0666"
}

test_shadow_world_readable_fires if {
	some f in finding with input as chmod("/etc/shadow", 420) # 0644
	f.loosened == ["world-readable"]
}

test_shadow_0777_is_both if {
	some f in finding with input as chmod("/etc/shadow", 511)
	f.loosened == ["world-readable", "world-writable"]
}

test_sudoers_d_file_fires if {
	some f in finding with input as chmod("/etc/sudoers.d/90-cloud", 438)
	f.loosened == ["world-writable"]
}

test_program_folder_fires if {
	some f in finding with input as chmod("/usr/local/bin", 511)
	f.pathname == "/usr/local/bin"
}

test_etc_sticky_still_fires if {
	some f in finding with input as chmod("/etc", 1023) # 01777
	f.loosened == ["world-writable"]
}

test_user_private_key_readable_fires if {
	some f in finding with input as chmod("/home/ann/.ssh/id_ed25519", 420)
	f.loosened == ["world-readable"]
}

test_host_key_readable_fires if {
	some f in finding with input as chmod("/etc/ssh/ssh_host_rsa_key", 420)
	f.loosened == ["world-readable"]
}

test_public_key_is_quiet if {
	count(finding) == 0 with input as chmod("/home/ann/.ssh/id_ed25519.pub", 420)
	count(finding) == 0 with input as chmod("/etc/ssh/ssh_host_rsa_key.pub", 420)
}

test_usual_modes_are_quiet if {
	count(finding) == 0 with input as chmod("/etc/passwd", 420) # 0644
	count(finding) == 0 with input as chmod("/etc/shadow", 416) # 0640
	count(finding) == 0 with input as chmod("/usr/local/bin/tool", 493) # 0755
	count(finding) == 0 with input as chmod("/etc/sudoers", 288) # 0440
}

test_other_places_are_quiet if {
	count(finding) == 0 with input as chmod("/tmp/build/out.sh", 511)
	count(finding) == 0 with input as chmod("/root/project/run.sh", 511)
	count(finding) == 0 with input as chmod("/home/ann/.ssh/config", 438)
	count(finding) == 0 with input as chmod("/var/www/html/uploads", 511)
}

test_refused_chmod_is_quiet if {
	count(finding) == 0 with input as object.union(chmod("/etc/passwd", 438), {"return_value": -1})
}

test_package_manager_is_quiet if {
	ev := object.union(chmod("/usr/lib/x86_64-linux-gnu/libfoo.so", 511), {"process": {"pid": 3100, "comm": "dpkg", "exe": "/usr/bin/dpkg", "ancestors": []}})
	count(finding) == 0 with input as ev
}

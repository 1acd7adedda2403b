package vigil.signatures.credential_file_access

open_of(path, flags, ret, proc) := {
	"name": "security_file_open",
	"return_value": ret,
	"process": proc,
	"args": {"pathname": path, "flags": flags, "syscall": "openat"},
}

cat := {"pid": 4100, "comm": "cat", "exe": "/usr/bin/cat", "uid": 0, "ancestors": [{"pid": 4000, "comm": "bash", "exe": "/usr/bin/bash"}]}

read_only := 32768 # O_RDONLY | O_LARGEFILE

test_root_reading_shadow_fires if {
	some f in finding with input as open_of("/etc/shadow", read_only, 3, cat)
	f.kind == "password_hashes"
	f.technique == "T1003.008"
	f.succeeded
	f.ancestry == ["bash(4000)"]
}

test_refused_attempt_fires_as_not_succeeded if {
	nobody := object.union(cat, {"uid": 65534})
	some f in finding with input as open_of("/etc/shadow", read_only, -13, nobody)
	not f.succeeded
	f.return_value == -13
	f.uid == 65534
}

test_backup_and_gshadow_and_opasswd_fire if {
	every p in ["/etc/shadow-", "/etc/gshadow", "/etc/security/opasswd", "/etc/tcb/ann/shadow"] {
		count(finding) == 1 with input as open_of(p, read_only, 3, cat)
	}
}

test_ssh_keys_fire if {
	some f in finding with input as open_of("/etc/ssh/ssh_host_ed25519_key", read_only, 3, cat)
	f.kind == "ssh_host_key"
	f.technique == "T1552.004"
	some g in finding with input as open_of("/home/ann/.ssh/id_rsa", read_only, 3, cat)
	g.kind == "ssh_private_key"
	count(finding) == 1 with input as open_of("/root/.ssh/id_ed25519_sk", 2, 3, cat) # O_RDWR reads too
}

test_public_keys_are_quiet if {
	count(finding) == 0 with input as open_of("/etc/ssh/ssh_host_ed25519_key.pub", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/home/ann/.ssh/id_rsa.pub", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/home/ann/.ssh/known_hosts", read_only, 3, cat)
}

test_ordinary_files_are_quiet if {
	count(finding) == 0 with input as open_of("/etc/passwd", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/etc/hostname", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/etc/shadowsocks.json", read_only, 3, cat)
}

test_write_only_open_is_not_a_read if {
	count(finding) == 0 with input as open_of("/etc/shadow", 1 + 64 + 512, 3, cat)
}

test_authentication_stack_is_quiet if {
	every p in [
		{"comm": "unix_chkpwd", "exe": "/usr/sbin/unix_chkpwd"},
		{"comm": "sshd", "exe": "/usr/sbin/sshd"},
		{"comm": "sudo", "exe": "/usr/bin/sudo"},
		{"comm": "passwd", "exe": "/usr/bin/passwd"},
		{"comm": "useradd", "exe": "/usr/sbin/useradd"},
	] {
		count(finding) == 0 with input as open_of("/etc/shadow", read_only, 3, p)
	}
	count(finding) == 0 with input as open_of("/etc/ssh/ssh_host_rsa_key", read_only, 3, {"comm": "sshd", "exe": "/usr/sbin/sshd"})
	count(finding) == 0 with input as open_of("/home/ann/.ssh/id_ed25519", read_only, 3, {"comm": "ssh", "exe": "/usr/bin/ssh"})
}

test_impostor_named_like_the_stack_fires if {
	# the name is borrowed, the program does not live in a system directory
	count(finding) == 1 with input as open_of("/etc/shadow", read_only, 3, {"comm": "sshd", "exe": "/tmp/.x/sshd"})
	# ssh tools are trusted with keys, not with password hashes
	count(finding) == 1 with input as open_of("/etc/shadow", read_only, 3, {"comm": "ssh", "exe": "/usr/bin/ssh"})
}

test_package_upgrade_is_quiet if {
	postinst := {"comm": "ssh-keygen-wrap", "exe": "/usr/bin/dash", "ancestors": [{"pid": 700, "comm": "dpkg", "exe": "/usr/bin/dpkg"}]}
	count(finding) == 0 with input as open_of("/etc/ssh/ssh_host_rsa_key", read_only, 3, postinst)
}

test_missing_return_value_counts_as_success if {
	some f in finding with input as {"name": "security_file_open", "process": cat, "args": {"pathname": "/etc/shadow", "flags": 0}}
	f.succeeded
}

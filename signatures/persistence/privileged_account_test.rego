package vigil.signatures.privileged_account

run(path, argv) := {"name": "sched_process_exec", "process": {"pid": 13, "comm": "x"}, "args": {"pathname": path, "argv": argv}}

test_second_root if {
	some f in finding with input as run("/usr/sbin/useradd", ["useradd", "-o", "-u", "0", "-g", "0", "-M", "toor"])
	f.changes == ["group 0", "uid 0"]
}

test_long_uid_option if {
	some f in finding with input as run("/usr/sbin/useradd", ["useradd", "--uid=0", "--non-unique", "x"])
	f.changes == ["uid 0"]
}

test_usermod_sudo if {
	some f in finding with input as run("/usr/sbin/usermod", ["usermod", "-aG", "sudo", "eve"])
	f.changes == ["group sudo"]
}

test_usermod_groups if {
	some f in finding with input as run("/usr/sbin/usermod", ["usermod", "-a", "-G", "users,docker", "eve"])
	f.changes == ["group docker"]
}

test_adduser_to_sudo if {
	some f in finding with input as run("/usr/sbin/adduser", ["adduser", "eve", "sudo"])
	f.changes == ["group sudo"]
}

test_gpasswd if {
	some f in finding with input as run("/usr/bin/gpasswd", ["gpasswd", "-a", "eve", "wheel"])
	f.changes == ["group wheel"]
}

test_ordinary_account_is_quiet if {
	count(finding) == 0 with input as run("/usr/sbin/useradd", ["useradd", "-m", "-s", "/bin/bash", "-G", "users", "bob"])
	count(finding) == 0 with input as run("/usr/sbin/adduser", ["adduser", "--disabled-password", "bob"])
	count(finding) == 0 with input as run("/usr/sbin/usermod", ["usermod", "-s", "/bin/zsh", "bob"])
}

test_option_given_twice if {
	some f in finding with input as run("/usr/sbin/useradd", ["useradd", "-u", "1001", "-u", "0", "x"])
	f.changes == ["uid 0"]
}

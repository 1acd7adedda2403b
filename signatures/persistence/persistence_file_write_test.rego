package vigil.signatures.persistence_file_write

sh := {"pid": 5100, "comm": "sh", "exe": "/usr/bin/dash", "ancestors": [{"pid": 5000, "comm": "bash", "exe": "/usr/bin/bash"}]}

wronly_creat := 32768 + 1 + 64 # O_LARGEFILE | O_WRONLY | O_CREAT

open_write(path, proc) := {
	"name": "security_file_open",
	"return_value": 3,
	"process": proc,
	"args": {"pathname": path, "flags": wronly_creat, "created": true},
}

rename_to(old, new, proc) := {
	"name": "security_inode_rename",
	"process": proc,
	"args": {"old_path": old, "new_path": new, "flags": 0},
}

fires_as(ev, location, technique) if {
	some f in finding with input as ev
	f.location == location
	f.technique == technique
}

test_each_location_has_its_technique if {
	fires_as(open_write("/etc/cron.d/backdoor", sh), "cron", "T1053.003")
	fires_as(open_write("/etc/crontab", sh), "cron", "T1053.003")
	fires_as(open_write("/var/spool/cron/crontabs/root", sh), "cron", "T1053.003")
	fires_as(open_write("/var/spool/cron/root", sh), "cron", "T1053.003")
	fires_as(open_write("/var/spool/cron/atjobs/a0001", sh), "at", "T1053.002")
	fires_as(open_write("/etc/systemd/system/evil.service", sh), "systemd_unit", "T1543.002")
	fires_as(open_write("/usr/lib/systemd/system/evil.service", sh), "systemd_unit", "T1543.002")
	fires_as(open_write("/home/ann/.config/systemd/user/evil.service", sh), "systemd_unit", "T1543.002")
	fires_as(open_write("/home/ann/.config/autostart/evil.desktop", sh), "xdg_autostart", "T1547.013")
	fires_as(open_write("/etc/rc.local", sh), "rc_script", "T1037.004")
	fires_as(open_write("/etc/init.d/evil", sh), "rc_script", "T1037.004")
	fires_as(open_write("/etc/profile.d/evil.sh", sh), "shell_profile", "T1546.004")
	fires_as(open_write("/root/.bashrc", sh), "shell_profile", "T1546.004")
	fires_as(open_write("/home/ann/.zshrc", sh), "shell_profile", "T1546.004")
	fires_as(open_write("/root/.ssh/authorized_keys", sh), "ssh_authorized_keys", "T1098.004")
	fires_as(open_write("/home/ann/.ssh/authorized_keys2", sh), "ssh_authorized_keys", "T1098.004")
	fires_as(open_write("/etc/ld.so.preload", sh), "ld_preload", "T1574.006")
	fires_as(open_write("/etc/ld.so.conf.d/evil.conf", sh), "ld_preload", "T1574.006")
	fires_as(open_write("/etc/sudoers", sh), "sudoers", "T1548.003")
	fires_as(open_write("/etc/sudoers.d/90-evil", sh), "sudoers", "T1548.003")
	fires_as(open_write("/etc/passwd", sh), "account_database", "T1136.001")
	fires_as(open_write("/etc/shadow", sh), "account_database", "T1136.001")
}

test_append_to_authorized_keys_is_a_write if {
	ev := {"name": "security_file_open", "process": sh, "args": {"pathname": "/root/.ssh/authorized_keys", "flags": 32768 + 1 + 1024, "created": false}}
	some f in finding with input as ev
	f.operation == "write"
}

test_created_file_is_a_create if {
	some f in finding with input as open_write("/etc/cron.d/x", sh)
	f.operation == "create"
	f.ancestry == ["bash(5000)"]
}

test_read_only_open_is_quiet if {
	ev := {"name": "security_file_open", "process": sh, "args": {"pathname": "/etc/crontab", "flags": 32768}}
	count(finding) == 0 with input as ev
}

test_refused_write_is_quiet if {
	ev := object.union(open_write("/etc/cron.d/x", sh), {"return_value": -13})
	count(finding) == 0 with input as ev
}

test_rename_into_a_location_fires if {
	# sed -i writes a temporary file beside the target and renames it over
	some f in finding with input as rename_to("/etc/sedX1b2c3", "/etc/passwd", {"comm": "sed", "exe": "/usr/bin/sed"})
	f.operation == "rename"
	f.location == "account_database"
}

test_symlink_and_link_into_a_location_fire if {
	fires_as({"name": "security_inode_symlink", "process": sh, "args": {"pathname": "/etc/systemd/system/multi-user.target.wants/evil.service", "target": "/tmp/evil.service"}}, "systemd_unit", "T1543.002")
	fires_as({"name": "security_inode_link", "process": sh, "args": {"old_path": "/tmp/x", "new_path": "/etc/cron.d/x"}}, "cron", "T1053.003")
}

test_unrelated_paths_are_quiet if {
	every p in ["/etc/hostname", "/etc/cron.allow.bak/../x", "/tmp/crontab", "/home/ann/notes/.bashrc", "/etc/systemd/systemd.conf", "/etc/sudoers.bak", "/etc/passwd-"] {
		count(finding) == 0 with input as open_write(p, sh)
	}
}

test_package_manager_is_quiet if {
	postinst := {"comm": "postinst", "exe": "/usr/bin/dash", "ancestors": [{"pid": 70, "comm": "dpkg", "exe": "/usr/bin/dpkg"}, {"pid": 60, "comm": "apt", "exe": "/usr/bin/apt"}]}
	count(finding) == 0 with input as open_write("/etc/systemd/system/foo.service", postinst)
	count(finding) == 0 with input as open_write("/etc/cron.d/foo", {"comm": "dpkg", "exe": "/usr/bin/dpkg"})
}

test_owners_only_for_their_own_files if {
	useradd := {"comm": "useradd", "exe": "/usr/sbin/useradd"}
	count(finding) == 0 with input as rename_to("/etc/passwd+", "/etc/passwd", useradd)
	count(finding) == 0 with input as open_write("/home/new/.bashrc", useradd)
	# useradd is no owner of sudoers
	count(finding) == 1 with input as open_write("/etc/sudoers.d/new", useradd)
	systemd := {"comm": "systemd", "exe": "/usr/lib/systemd/systemd"}
	count(finding) == 0 with input as {"name": "security_inode_symlink", "process": systemd, "args": {"pathname": "/etc/systemd/system/multi-user.target.wants/foo.service", "target": "/lib/systemd/system/foo.service"}}
	count(finding) == 1 with input as open_write("/etc/cron.d/x", systemd)
	count(finding) == 0 with input as open_write("/root/.ssh/authorized_keys", {"comm": "cloud-init", "exe": "/usr/bin/python3.11"})
}

test_owner_name_from_elsewhere_is_not_trusted if {
	count(finding) == 1 with input as rename_to("/tmp/p", "/etc/passwd", {"comm": "useradd", "exe": "/dev/shm/useradd"})
}

test_pam_udev_motd_and_package_hooks if {
	fires_as(open_write("/etc/pam.d/sshd", sh), "pam", "T1556.003")
	fires_as(open_write("/lib/x86_64-linux-gnu/security/pam_unix.so", sh), "pam", "T1556.003")
	fires_as(open_write("/usr/lib64/security/pam_evil.so", sh), "pam", "T1556.003")
	fires_as(open_write("/etc/udev/rules.d/75-evil.rules", sh), "udev_rule", "T1546.017")
	fires_as(open_write("/usr/lib/udev/rules.d/99-evil.rules", sh), "udev_rule", "T1546.017")
	fires_as(open_write("/etc/update-motd.d/99-evil", sh), "login_script", "T1037")
	fires_as(open_write("/etc/NetworkManager/dispatcher.d/50-evil", sh), "login_script", "T1037")
	fires_as(open_write("/etc/apt/apt.conf.d/99-evil", sh), "package_hook", "T1546.016")
	fires_as(open_write("/etc/systemd/system-generators/evil", sh), "systemd_unit", "T1543.002")
	fires_as(open_write("/etc/anacrontab", sh), "cron", "T1053.003")
	fires_as(open_write("/etc/modules-load.d/rootkit.conf", sh), "kernel_module_config", "T1547.006")
	fires_as(open_write("/etc/modprobe.d/evil.conf", sh), "kernel_module_config", "T1547.006")
	fires_as(open_write("/etc/modules", sh), "kernel_module_config", "T1547.006")
}

test_pam_profile_tools_own_pam_d if {
	count(finding) == 0 with input as open_write("/etc/pam.d/common-auth", {"comm": "pam-auth-update", "exe": "/usr/sbin/pam-auth-update"})
	count(finding) == 0 with input as open_write("/lib/udev/hwdb.d/20-x.hwdb", sh)
	count(finding) == 0 with input as open_write("/usr/lib/x86_64-linux-gnu/libc.so.6", sh)
}

test_ssh_login_scripts_and_configuration if {
	fires_as(open_write("/etc/ssh/sshrc", sh), "login_script", "T1037")
	fires_as(open_write("/root/.ssh/rc", sh), "login_script", "T1037")
	fires_as(open_write("/home/ann/.ssh/rc", sh), "login_script", "T1037")
	fires_as(open_write("/etc/ssh/sshd_config", sh), "sshd_config", "T1098.004")
	fires_as(rename_to("/etc/ssh/sshd_config.d/.tmp1", "/etc/ssh/sshd_config.d/99-keys.conf", sh), "sshd_config", "T1098.004")
	fires_as(open_write("/etc/bash_completion.d/git-helper", sh), "shell_profile", "T1546.004")
}

test_cloud_init_sets_sshd_options if {
	count(finding) == 0 with input as open_write("/etc/ssh/sshd_config.d/50-cloud-init.conf", {"comm": "cloud-init", "exe": "/usr/bin/python3.11"})
	count(finding) == 0 with input as open_write("/etc/ssh/sshd_config", {"comm": "cloud-init", "exe": "/usr/bin/python3.11"})
}

test_other_ssh_files_are_not_persistence if {
	count(finding) == 0 with input as open_write("/etc/ssh/ssh_config", sh)
	count(finding) == 0 with input as open_write("/root/.ssh/known_hosts", sh)
	count(finding) == 0 with input as open_write("/root/.ssh/rc.bak/x", sh)
}

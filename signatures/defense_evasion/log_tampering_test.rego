package vigil.signatures.log_tampering

sh := {"pid": 6100, "comm": "sh", "exe": "/usr/bin/dash", "ancestors": [{"pid": 6000, "comm": "bash", "exe": "/usr/bin/bash"}]}

rm := {"pid": 6101, "comm": "rm", "exe": "/usr/bin/rm", "ancestors": [{"pid": 6000, "comm": "bash", "exe": "/usr/bin/bash"}]}

unlink(path, proc) := {"name": "security_inode_unlink", "process": proc, "args": {"pathname": path, "dir": false}}

truncate(path, proc) := {"name": "do_truncate", "process": proc, "args": {"pathname": path, "length": 0}}

rename(old, new, proc) := {"name": "security_inode_rename", "process": proc, "args": {"old_path": old, "new_path": new}}

symlink(path, target, proc) := {"name": "security_inode_symlink", "process": proc, "args": {"pathname": path, "target": target}}

one(ev) := f if {
	fs := finding with input as ev
	count(fs) == 1
	some f in fs
}

test_deleting_logs_fires if {
	f := one(unlink("/var/log/auth.log", rm))
	f.kind == "system_log"
	f.technique == "T1070.002"
	f.operation == "unlink"
	one(unlink("/var/log/wtmp", rm)).kind == "login_records"
	one(unlink("/run/utmp", rm)).kind == "login_records"
	one(unlink("/var/log/audit/audit.log", rm)).kind == "system_log"
}

test_deleting_history_fires if {
	f := one(unlink("/root/.bash_history", rm))
	f.kind == "shell_history"
	f.technique == "T1070.003"
	# wherever HISTFILE points
	one(unlink("/srv/app/.zsh_history", rm)).kind == "shell_history"
}

test_truncating_fires if {
	# : > /var/log/syslog is an O_TRUNC open by the shell
	f := one(truncate("/var/log/syslog", sh))
	f.operation == "truncate"
	one(truncate("/var/log/btmp", {"comm": "truncate", "exe": "/usr/bin/truncate"})).kind == "login_records"
}

test_moving_a_log_away_fires if {
	f := one(rename("/var/log/secure", "/tmp/s", {"comm": "mv", "exe": "/usr/bin/mv"}))
	f.operation == "rename_away"
	f.pathname == "/var/log/secure"
}

test_ln_sf_dev_null_over_history_fires if {
	# ln -sf makes a temporary symlink beside the target and renames it over
	ln := {"comm": "ln", "exe": "/usr/bin/ln"}
	count(finding) == 0 with input as symlink("/root/CuAb12Cd", "/dev/null", ln)
	f := one(rename("/root/CuAb12Cd", "/root/.bash_history", ln))
	f.operation == "replace"
	# ln -s when there was no history yet
	g := one(symlink("/root/.bash_history", "/dev/null", ln))
	g.operation == "symlink"
	g.target == "/dev/null"
}

test_shell_saving_its_history_is_quiet if {
	bash := {"comm": "bash", "exe": "/usr/bin/bash"}
	count(finding) == 0 with input as rename("/root/.bash_history-01234.tmp", "/root/.bash_history", bash)
	# but a shell moving the history away is not saving it
	count(finding) == 1 with input as rename("/root/.bash_history", "/tmp/h", bash)
}

test_log_rotation_is_quiet if {
	logrotate := {"comm": "logrotate", "exe": "/usr/sbin/logrotate"}
	count(finding) == 0 with input as rename("/var/log/syslog", "/var/log/syslog.1", logrotate)
	gzip := {"comm": "gzip", "exe": "/usr/bin/gzip", "ancestors": [{"pid": 90, "comm": "logrotate", "exe": "/usr/sbin/logrotate"}]}
	count(finding) == 0 with input as unlink("/var/log/syslog.2", gzip)
	journald := {"comm": "systemd-journal", "exe": "/usr/lib/systemd/systemd-journald"}
	count(finding) == 0 with input as unlink("/var/log/journal/0f/system@x.journal", journald)
	dpkg := {"comm": "dpkg", "exe": "/usr/bin/dpkg"}
	count(finding) == 0 with input as unlink("/var/log/apt/eipp.log.xz", dpkg)
}

test_impostor_logrotate_fires if {
	count(finding) == 1 with input as unlink("/var/log/auth.log", {"comm": "logrotate", "exe": "/tmp/logrotate"})
}

test_unrelated_files_are_quiet if {
	count(finding) == 0 with input as unlink("/tmp/build.log", rm)
	count(finding) == 0 with input as unlink("/var/lib/foo/state", rm)
	count(finding) == 0 with input as truncate("/srv/app/data.db", sh)
	count(finding) == 0 with input as symlink("/root/.vimrc", "/etc/vimrc", sh)
	count(finding) == 0 with input as rename("/tmp/a", "/tmp/b", sh)
}

test_directories_and_refusals_are_quiet if {
	count(finding) == 0 with input as {"name": "security_inode_unlink", "process": rm, "args": {"pathname": "/var/log/old", "dir": true}}
	refused := object.union(unlink("/var/log/auth.log", rm), {"return_value": -13})
	count(finding) == 0 with input as refused
}

package vigil.signatures.self_deleting_program

unlink(path, proc) := {"name": "security_inode_unlink", "process": proc, "args": {"pathname": path, "dir": false}}

test_program_deleting_itself_fires if {
	some f in finding with input as unlink("/tmp/.x/bot", {"pid": 10, "comm": "bot", "exe": "/tmp/.x/bot"})
	f.deleted_by == ["self"]
}

test_rm_run_by_the_program_fires if {
	rm := {"comm": "rm", "exe": "/usr/bin/rm", "ancestors": [
		{"pid": 11, "comm": "sh", "exe": "/usr/bin/dash", "argv": ["sh", "-c", "rm -f /var/tmp/bot"]},
		{"pid": 10, "comm": "bot", "exe": "/var/tmp/bot"},
	]}
	some f in finding with input as unlink("/var/tmp/bot", rm)
	f.deleted_by == ["descendant"]
	f.ancestry == ["sh(11)", "bot(10)"]
}

test_script_removing_itself_fires if {
	rm := {"comm": "rm", "exe": "/usr/bin/rm", "ancestors": [{"pid": 20, "comm": "x.sh", "exe": "/usr/bin/bash", "argv": ["/bin/bash", "/tmp/x.sh"]}]}
	some f in finding with input as unlink("/tmp/x.sh", rm)
	f.deleted_by == ["script_descendant"]
}

test_deleting_other_files_is_quiet if {
	rm := {"comm": "rm", "exe": "/usr/bin/rm", "ancestors": [{"pid": 20, "comm": "bash", "exe": "/usr/bin/bash", "argv": ["-bash"]}]}
	count(finding) == 0 with input as unlink("/tmp/x.sh", rm)
	count(finding) == 0 with input as unlink("/tmp/other", {"comm": "bot", "exe": "/tmp/bot"})
	# sh -c 'rm ...': "-c" is no script
	sh := {"comm": "rm", "exe": "/usr/bin/rm", "ancestors": [{"pid": 21, "comm": "sh", "exe": "/usr/bin/dash", "argv": ["sh", "-c", "rm /tmp/y"]}]}
	count(finding) == 0 with input as unlink("/tmp/y", sh)
}

test_no_exe_known_is_quiet if {
	count(finding) == 0 with input as unlink("/tmp/x", {"comm": "x"})
}

test_package_upgrade_is_quiet if {
	dpkg := {"comm": "dpkg", "exe": "/usr/bin/dpkg", "ancestors": [{"pid": 5, "comm": "apt", "exe": "/usr/bin/apt"}]}
	count(finding) == 0 with input as unlink("/usr/bin/dpkg", dpkg)
}

test_refused_and_directories_are_quiet if {
	ev := object.union(unlink("/tmp/bot", {"comm": "bot", "exe": "/tmp/bot"}), {"return_value": -1})
	count(finding) == 0 with input as ev
	count(finding) == 0 with input as {"name": "security_inode_unlink", "process": {"exe": "/tmp/d"}, "args": {"pathname": "/tmp/d", "dir": true}}
}

package vigil.signatures.exec_without_argv

ev(name, argv) := {"name": name, "process": {"pid": 9, "comm": "exploit"}, "args": {"pathname": "/usr/bin/pkexec", "argv": argv}}

test_execve_with_empty_argv_fires if {
	some f in finding with input as ev("execve", [])
	f.program == "/usr/bin/pkexec"
	f.event == "execve"
}

test_null_argv_fires if {
	some f in finding with input as ev("sched_process_exec", null)
	f.event == "sched_process_exec"
}

test_argv_with_name_is_quiet if {
	count(finding) == 0 with input as ev("execve", ["pkexec"])
}

test_kernel_filled_empty_string_is_quiet if {
	# what Linux >= 5.18 leaves in the new program: one empty string
	count(finding) == 0 with input as ev("sched_process_exec", [""])
}

test_event_without_argv_is_quiet if {
	count(finding) == 0 with input as {"name": "execve", "process": {}, "args": {"pathname": "/bin/ls"}}
}

test_unreadable_argv_is_quiet if {
	# execl("/bin/true", "true", "--some", "args", NULL) in a fresh child:
	# the literals sit in pages the child has not touched yet
	count(finding) == 0 with input as {"name": "execve", "process": {"pid": 9, "comm": "spawner"}, "args": {}, "unreadable": ["pathname", "argv"]}
	count(finding) == 0 with input as {"name": "execve", "process": {"pid": 9, "comm": "spawner"}, "args": {"pathname": "/bin/true", "argv": []}, "unreadable": ["argv"]}
}

test_exec_argc_decides if {
	some f in finding with input as {"name": "sched_process_exec", "process": {"pid": 9}, "args": {"pathname": "/usr/bin/pkexec", "argc": 0, "argv": []}}
	f.program == "/usr/bin/pkexec"
	count(finding) == 0 with input as {"name": "sched_process_exec", "process": {"pid": 9}, "args": {"pathname": "/bin/true", "argc": 3, "argv": ["true", "--some", "args"]}}
	# a caller that passed {""}: argc 1 (the sensor reports 0 when the caller's
	# argv was empty, even where Linux >= 5.18 ran the program with {""})
	some g in finding with input as {"name": "sched_process_exec", "process": {"pid": 9}, "args": {"pathname": "/usr/bin/pkexec", "argc": 0, "argv": [""]}}
	g.program == "/usr/bin/pkexec"
	count(finding) == 0 with input as {"name": "sched_process_exec", "process": {"pid": 9}, "args": {"pathname": "/usr/bin/pkexec", "argc": 1, "argv": [""]}}
}

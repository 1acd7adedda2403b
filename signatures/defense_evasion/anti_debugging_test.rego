package vigil.signatures.anti_debugging

bash := {"pid": 1500, "host_pid": 1500, "comm": "bash", "exe": "/usr/bin/bash", "uid": 1000}

traceme_under(ancestors, rv) := {
	"name": "ptrace",
	"return_value": rv,
	"process": {"pid": 4242, "host_pid": 4242, "comm": "implant", "exe": "/home/u/.local/bin/implant", "ancestors": ancestors},
	"args": {"request": 0, "request_name": "PTRACE_TRACEME", "pid": 0, "addr": 0, "data": 0},
}

test_traceme_under_a_shell_fires if {
	some f in finding with input as traceme_under([bash], 0)
	f.request == "PTRACE_TRACEME"
	f.succeeded
	f.return_value == 0
	f.exe == "/home/u/.local/bin/implant"
	f.parent_comm == "bash"
	f.parent_exe == "/usr/bin/bash"
	f.ancestry == ["bash(1500)"]
}

test_refused_traceme_fires_as_not_succeeded if {
	some f in finding with input as traceme_under([bash], -1)
	not f.succeeded
	f.return_value == -1
}

test_no_ancestors_still_fires if {
	some f in finding with input as traceme_under([], 0)
	f.parent_comm == ""
	f.parent_exe == ""
	f.ancestry == []
	ev := json.remove(traceme_under([], 0), ["process/ancestors"])
	some g in finding with input as ev
	g.parent_comm == ""
}

test_request_number_alone_is_enough if {
	ev := json.remove(traceme_under([bash], 0), ["args/request_name"])
	some f in finding with input as ev
	f.request == "PTRACE_TRACEME"
}

# fork_of(p) is the debugger's child before it executes the program: the
# sensor gives it its parent's comm and program
fork_of(p) := json.patch(traceme_under([p, bash], 0), [
	{"op": "replace", "path": "/process/comm", "value": p.comm},
	{"op": "replace", "path": "/process/exe", "value": object.get(p, "exe", "")},
])

tools := [
	{"pid": 900, "comm": "gdb", "exe": "/usr/bin/gdb"},
	{"pid": 900, "comm": "gdb", "exe": "/usr/libexec/gdb"},
	{"pid": 900, "comm": "gdb-multiarch", "exe": "/usr/bin/gdb-multiarch"},
	{"pid": 900, "comm": "lldb-server", "exe": "/usr/lib/llvm-16/bin/lldb-server"},
	{"pid": 900, "comm": "strace", "exe": "/usr/bin/strace"},
	{"pid": 900, "comm": "ltrace", "exe": "/usr/bin/ltrace"},
	{"pid": 900, "comm": "valgrind", "exe": "/usr/bin/valgrind"},
	{"pid": 900, "comm": "rr", "exe": "/usr/local/bin/rr"},
	{"pid": 900, "comm": "proot", "exe": "/usr/bin/proot"},
	{"pid": 900, "comm": "dlv", "exe": "/home/u/go/bin/dlv"},
	{"pid": 900, "comm": "gdb", "exe": "/home/u/.local/share/JetBrains/Toolbox/apps/clion/bin/gdb/linux/x64/bin/gdb"},
]

test_debuggers_starting_a_program_are_quiet if {
	every p in tools {
		count(finding) == 0 with input as fork_of(p)
	}
}

test_debuggers_probing_ptrace_are_quiet_even_refused if {
	ev := json.patch(fork_of({"pid": 900, "comm": "strace", "exe": "/usr/bin/strace"}), [{"op": "replace", "path": "/return_value", "value": -1}])
	count(finding) == 0 with input as ev
}

test_a_program_testing_for_the_debugger_it_runs_under_fires if {
	# after the exec: the debuggee itself calls PTRACE_TRACEME, and the
	# kernel refuses since gdb traces it already
	every p in tools {
		some f in finding with input as traceme_under([p, bash], -1)
		f.parent_is_debugger
		not f.succeeded
		f.exe == "/home/u/.local/bin/implant"
	}
}

test_only_the_parent_counts if {
	# a debugger further up does not trace this process: its parent does
	gdb := {"pid": 900, "comm": "gdb", "exe": "/usr/bin/gdb"}
	some f in finding with input as json.patch(fork_of(gdb), [{"op": "replace", "path": "/process/ancestors", "value": [bash, gdb]}])
	f.parent_comm == "bash"
	not f.parent_is_debugger
}

test_debugger_name_in_a_world_writable_dir_fires if {
	some f in finding with input as fork_of({"pid": 900, "comm": "gdb", "exe": "/tmp/gdb"})
	f.parent_exe == "/tmp/gdb"
	not f.parent_is_debugger
	some g in finding with input as fork_of({"pid": 900, "comm": "strace", "exe": "/dev/shm/.s/strace"})
	g.parent_comm == "strace"
}

test_a_parent_calling_itself_gdb_fires if {
	# prctl(PR_SET_NAME, "gdb") changes the comm, not the program
	some f in finding with input as fork_of({"pid": 900, "comm": "gdb", "exe": "/home/u/.cache/dropper"})
	f.parent_comm == "gdb"
	not f.parent_is_debugger
}

test_unknown_programs_are_judged_by_comm if {
	# the parent's program unknown
	ev := json.patch(traceme_under([{"pid": 900, "comm": "gdb"}, bash], 0), [{"op": "replace", "path": "/process/comm", "value": "gdb"}])
	count(finding) == 0 with input as ev
	# the caller's program unknown
	ev2 := json.remove(fork_of({"pid": 900, "comm": "gdb", "exe": "/usr/bin/gdb"}), ["process/exe"])
	count(finding) == 0 with input as ev2
	# a comm other than the debugger's: not its fork
	some f in finding with input as traceme_under([{"pid": 900, "comm": "gdb"}], 0)
	f.parent_is_debugger
	some g in finding with input as traceme_under([{"pid": 900, "comm": "sh"}], 0)
	g.parent_exe == ""
	not g.parent_is_debugger
}

test_the_caller_being_named_like_a_debugger_does_not_matter if {
	ev := json.patch(traceme_under([bash], 0), [
		{"op": "replace", "path": "/process/comm", "value": "gdb"},
		{"op": "replace", "path": "/process/exe", "value": "/usr/bin/gdb"},
	])
	some f in finding with input as ev
	f.exe == "/usr/bin/gdb"
}

test_other_ptrace_requests_are_quiet if {
	every req in [[16, "PTRACE_ATTACH"], [16902, "PTRACE_SEIZE"], [5, "PTRACE_POKEDATA"], [13, "PTRACE_SETREGS"]] {
		ev := json.patch(traceme_under([bash], 0), [
			{"op": "replace", "path": "/args/request", "value": req[0]},
			{"op": "replace", "path": "/args/request_name", "value": req[1]},
		])
		count(finding) == 0 with input as ev
	}
}

package vigil.signatures.process_injection

ptrace(req, is_child, process) := {
	"name": "ptrace",
	"return_value": 0,
	"process": object.union({"pid": 900, "comm": "loader", "exe": "/home/u/.cache/loader", "uid": 1000}, process),
	"args": {
		"request_name": req, "pid": 1234, "addr": 4198400, "data": 0,
		"target_pid": 1234, "target_comm": "sshd", "target_exe": "/usr/sbin/sshd", "target_is_child": is_child,
	},
}

test_pokedata_into_a_running_process_fires if {
	some f in finding with input as ptrace("PTRACE_POKEDATA", false, {})
	f.how == "ptrace_write"
	f.target_comm == "sshd"
	f.address == 4198400
	f.succeeded
}

test_write_into_a_child_fires_too if {
	some f in finding with input as ptrace("PTRACE_SETREGS", true, {})
	f.how == "ptrace_write"
	f.target_is_child
}

test_attach_to_a_running_process_fires if {
	some f in finding with input as ptrace("PTRACE_ATTACH", false, {})
	f.how == "ptrace_attach"
}

test_refused_attach_still_fires if {
	ev := json.patch(ptrace("PTRACE_SEIZE", false, {}), [{"op": "replace", "path": "/return_value", "value": -1}])
	some f in finding with input as ev
	not f.succeeded
}

test_attach_to_own_child_is_quiet if {
	count(finding) == 0 with input as ptrace("PTRACE_ATTACH", true, {})
}

test_gdb_is_quiet if {
	every req in ["PTRACE_ATTACH", "PTRACE_POKETEXT", "PTRACE_SETREGS"] {
		count(finding) == 0 with input as ptrace(req, false, {"comm": "gdb", "exe": "/usr/bin/gdb"})
	}
}

test_gdb_in_tmp_fires if {
	some f in finding with input as ptrace("PTRACE_POKETEXT", false, {"comm": "gdb", "exe": "/tmp/gdb"})
	f.exe == "/tmp/gdb"
}

test_profiler_attach_is_quiet_but_its_writes_are_not if {
	count(finding) == 0 with input as ptrace("PTRACE_ATTACH", false, {"comm": "py-spy", "exe": "/usr/local/bin/py-spy"})
	some f in finding with input as ptrace("PTRACE_POKEDATA", false, {"comm": "py-spy", "exe": "/usr/local/bin/py-spy"})
	f.how == "ptrace_write"
}

test_traceme_is_quiet if {
	count(finding) == 0 with input as ptrace("PTRACE_TRACEME", false, {})
}

vm_write(pid, ancestors) := {
	"name": "process_vm_writev",
	"return_value": 8,
	"process": {"pid": 900, "comm": "inj", "exe": "/usr/local/bin/inj", "ancestors": ancestors},
	"args": {"pid": pid, "local_iovcnt": 1, "remote_iovcnt": 1, "remote_addr": 140737488347136, "remote_len": 8, "flags": 0},
}

test_process_vm_writev_into_another_process_fires if {
	some f in finding with input as vm_write(1234, [])
	f.how == "process_vm_writev"
	f.target_pid == 1234
	f.address == 140737488347136
}

test_process_vm_writev_into_itself_is_quiet if {
	count(finding) == 0 with input as vm_write(900, [])
}

test_mpi_ranks_are_quiet if {
	count(finding) == 0 with input as vm_write(1234, [{"pid": 100, "comm": "mpirun", "exe": "/usr/bin/mpirun"}])
}

package vigil.signatures.process_memory_access

open_mem(path, flags, comm) := {
	"name": "security_file_open",
	"process": {"pid": 4000, "host_pid": 4000, "comm": comm, "exe": concat("", ["/usr/bin/", comm])},
	"return_value": 0,
	"args": {"pathname": path, "flags": flags},
}

test_reading_another_process_memory if {
	some f in finding with input as open_mem("/proc/812/mem", 0, "python3")
	f.target_pid == 812
	f.access == ["read"]
	f.succeeded
}

test_writing_a_thread_memory if {
	some f in finding with input as open_mem("/proc/812/task/813/mem", 2, "dd")
	f.access == ["read", "write"]
}

test_own_memory_is_quiet if {
	count(finding) == 0 with input as open_mem("/proc/4000/mem", 0, "python3")
	count(finding) == 0 with input as open_mem("/proc/self/mem", 0, "python3")
}

test_debugger_is_quiet if {
	count(finding) == 0 with input as open_mem("/proc/812/mem", 2, "gdb")
}

test_other_proc_files_are_quiet if {
	count(finding) == 0 with input as open_mem("/proc/812/maps", 0, "python3")
	count(finding) == 0 with input as open_mem("/proc/812/memx", 0, "python3")
	count(finding) == 0 with input as open_mem("/etc/passwd", 0, "python3")
}

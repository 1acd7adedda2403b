# Another process's memory opened through /proc/<pid>/mem: reading it dumps
# whatever the process holds (passwords in a keyring daemon or a browser,
# keys in an agent, as mimipenguin does), writing it injects code without
# ptrace's paper trail.
#
# Only debuggers and checkpoint tools have a reason to do this; a process
# reading its own memory (/proc/self/mem, its own pid) is left out.
package vigil.signatures.process_memory_access

import data.vigil.lib

metadata := {
	"id": "process-memory-access",
	"name": "Another process's memory opened through /proc",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process opened /proc/<pid>/mem of another process, to read its memory (credential dumping) or to write it (code injection).",
	"tactics": ["TA0006", "TA0005"],
	"techniques": ["T1003.007", "T1055.009"],
	"tags": ["memory", "proc", "injection", "credentials"],
	"events": ["security_file_open"],
}

debuggers := {"gdb", "gdbserver", "lldb", "lldb-server", "criu", "rr", "valgrind", "scanmem", "gcore"}

# cheap first test: every open of the host comes here
candidate if startswith(input.args.pathname, "/proc/")

target := to_number(m[0][1]) if {
	m := regex.find_all_string_submatch_n(`^/proc/([0-9]+)/(task/[0-9]+/)?mem$`, input.args.pathname, 1)
	count(m) == 1
}

own if target == input.process.pid

own if target == input.process.host_pid

access contains "write" if lib.opens_for_writing(lib.arg("flags", 0))

access contains "read" if lib.opens_for_reading(lib.arg("flags", 0))

finding contains {
	"pathname": input.args.pathname,
	"target_pid": target,
	"access": sort(access),
	"succeeded": object.get(input, "return_value", 0) >= 0,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	candidate
	target
	not own
	not lib.is_process_named(input.process, debuggers)
}

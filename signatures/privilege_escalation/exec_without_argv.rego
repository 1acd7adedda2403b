# A program started with an empty argument list (argc == 0).
#
# Every ordinary caller passes at least the program's name as argv[0], and
# programs assume it is there. Starting a program, usually a set-user-id
# one, with no arguments at all makes it read its environment as arguments:
# the trick behind CVE-2021-4034 (pkexec, "PwnKit"). Linux 5.18 and later
# replace an empty argv with {""} when they build the new program's stack,
# so the execve event, which shows what the caller passed, is the one that
# keeps the evidence; sched_process_exec covers older kernels.
package vigil.signatures.exec_without_argv

import data.vigil.lib

metadata := {
	"id": "exec-without-argv",
	"name": "Program executed without arguments (argc 0)",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program was executed with an empty argument list, not even its own name: the way exploits such as PwnKit (CVE-2021-4034, pkexec) make a set-user-id program misread its environment.",
	"tactics": ["TA0004"],
	"techniques": ["T1068"],
	"tags": ["exploit", "setuid", "pwnkit"],
	"events": ["execve", "execveat", "sched_process_exec"],
}

# The argv of an exec event is always present, possibly empty (null when
# the kernel side read an empty area); an event without the argument (a
# replayed event of another sensor) says nothing.
empty_argv if {
	argv := object.get(input.args, "argv", "absent")
	is_array(argv)
	count(argv) == 0
}

empty_argv if object.get(input.args, "argv", "absent") == null

finding contains {
	"program": program,
	"event": input.name,
	"setuid": lib.arg("setuid", false),
	"ancestry": lib.ancestry,
} if {
	empty_argv
	program := object.get(input.args, "pathname", "")
}

# A program started with an empty argument list (argc == 0).
#
# Every ordinary caller passes at least the program's name as argv[0], and
# programs assume it is there. Starting a program, usually a set-user-id
# one, with no arguments at all makes it read its environment as arguments:
# the trick behind CVE-2021-4034 (pkexec, "PwnKit"). Linux 5.18 and later
# replace an empty argv with {""} when they build the new program's stack;
# sched_process_exec's argc is still the caller's count (the sensor looks at
# the caller's argv at syscall entry), so it keeps the evidence on every
# kernel. execve and execveat are the execs that failed: an attempt with an
# empty argv is one too.
#
# Only a real argc of 0 counts. An argv the sensor could not read is listed
# in input.unreadable and absent from args: unknown, not empty.
package vigil.signatures.exec_without_argv

import data.vigil.lib

metadata := {
	"id": "exec-without-argv",
	"name": "Program executed without arguments (argc 0)",
	"version": "1.2.0",
	"severity": "high",
	"description": "A program was executed with an empty argument list, not even its own name: the way exploits such as PwnKit (CVE-2021-4034, pkexec) make a set-user-id program misread its environment.",
	"tactics": ["TA0004"],
	"techniques": ["T1068"],
	"tags": ["exploit", "setuid", "pwnkit"],
	"events": ["execve", "execveat", "sched_process_exec"],
}

# execve, execveat (failed execs): the argv the caller passed, read whole. An unreadable
# argv (absent, named in input.unreadable) or an event without the argument
# (a replayed event of another sensor) says nothing.
empty_argv if {
	input.name in {"execve", "execveat"}
	not lib.unreadable("argv")
	argv := object.get(input.args, "argv", "absent")
	is_array(argv)
	count(argv) == 0
}

# sched_process_exec: the kernel's argc when the event has it
empty_argv if {
	input.name == "sched_process_exec"
	input.args.argc == 0
}

# older captures without argc: an argv area the kernel left empty (null
# when read as a list)
empty_argv if {
	input.name == "sched_process_exec"
	not "argc" in object.keys(input.args)
	not lib.unreadable("argv")
	argv := object.get(input.args, "argv", "absent")
	argv == null
}

empty_argv if {
	input.name == "sched_process_exec"
	not "argc" in object.keys(input.args)
	not lib.unreadable("argv")
	argv := object.get(input.args, "argv", "absent")
	is_array(argv)
	count(argv) == 0
}

finding contains {
	"program": program,
	"event": input.name,
	"setuid": lib.arg("setuid", false),
	"ancestry": lib.ancestry,
} if {
	empty_argv
	program := object.get(input.args, "pathname", "")
}

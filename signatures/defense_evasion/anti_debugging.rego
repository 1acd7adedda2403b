# Anti-debugging: a process calls ptrace(PTRACE_TRACEME) to make its parent
# its tracer.
#
# A thread has one tracer at most. The call fails when a debugger already
# traces the process, which makes it the oldest "am I being debugged?" test:
# malware that sees the failure exits or acts harmless. When it succeeds,
# no debugger, strace or memory dumper can attach any more, which keeps
# analysts out of a running implant (T1622). Refused calls count: they are
# the test that found a tracer (or ptrace locked down by Yama).
#
# The same call is how a debugger starts a program under its control: it
# forks, the child calls PTRACE_TRACEME and executes the program. gdb and
# strace also fork children that call it to probe what the kernel's ptrace
# supports. So the call is left out when the caller's parent, its tracer
# from now on, is a debugger or tracer and the caller is still that fork:
# it runs the parent's program (the sensor gives a fork its parent's until
# it executes another). A program that makes the call itself under a
# debugger, after its exec, is reported (parent_is_debugger says so): that
# is the test finding the debugger.
#
# The parent is judged by the program it runs rather than by its comm,
# which any process can set with prctl(PR_SET_NAME); by its comm only when
# its program is unknown; never when that program lies in a world-writable
# directory such as /tmp.
package vigil.signatures.anti_debugging

import data.vigil.lib

metadata := {
	"id": "anti-debugging",
	"name": "Anti-debugging with PTRACE_TRACEME",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A process called ptrace(PTRACE_TRACEME), the classic test for an attached debugger (the call fails when one traces it) and a way to keep debuggers from attaching later. Debuggers and tracers (gdb, lldb, strace, ltrace, rr, ...) whose child calls it to start a program under their control are left out.",
	"tactics": ["TA0005", "TA0007"],
	"techniques": ["T1622"],
	"tags": ["anti-debugging", "ptrace", "evasion"],
	"events": ["ptrace"],
}

# tracers start the programs they debug, trace or record as their own
# children, which ask to be traced before they execute the program.
tracers := lib.debuggers | {
	"valgrind", "cuda-gdb", "rocgdb", "lldb-dap", "lldb-vscode",
}

traceme if input.args.request_name == "PTRACE_TRACEME"

# the request number is what the kernel got (PTRACE_TRACEME is 0)
traceme if input.args.request == 0

# the nearest ancestor, {} when the sensor knows none (pid 1 of a pid
# namespace has none)
default parent := {}

parent := input.process.ancestors[0]

parent_exe := object.get(parent, "exe", "")

default debugger_parent := false

debugger_parent if {
	parent_exe != ""
	not lib.under(parent_exe, lib.world_writable_dirs)
	name := lib.basename(parent_exe)
	some n in {name, lib.unversioned(name)}
	n in tracers
}

debugger_parent if {
	parent_exe == ""
	lib.is_process_named(parent, tracers)
}

# same_program is true when the caller runs its parent's program: a fork
# that has not executed anything yet. By comm when a program is unknown.
default same_program := false

same_program if {
	exe := object.get(input.process, "exe", "")
	exe != ""
	exe == parent_exe
}

same_program if {
	"" in {object.get(input.process, "exe", ""), parent_exe}
	object.get(input.process, "comm", "") == object.get(parent, "comm", "")
}

# a debugger's fork asking to be traced before it executes the program
debugger_starting_a_program if {
	debugger_parent
	same_program
}

return_value := object.get(input, "return_value", 0)

finding contains {
	"request": lib.arg("request_name", "PTRACE_TRACEME"),
	"succeeded": return_value >= 0,
	"return_value": return_value,
	"exe": object.get(input.process, "exe", ""),
	"parent_comm": object.get(parent, "comm", ""),
	"parent_exe": parent_exe,
	"parent_is_debugger": debugger_parent,
	"ancestry": lib.ancestry,
} if {
	traceme
	not debugger_starting_a_program
}

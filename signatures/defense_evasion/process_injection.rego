# Process injection: one process writes into another's memory or registers.
#
# ptrace(2) gives a tracer the tracee's memory and registers: malware uses
# it to write shellcode or a loader into a running process and redirect it
# there (T1055.008), hiding in a trusted process and taking its privileges
# and secrets. process_vm_writev(2) writes another process's memory without
# even stopping it (T1055).
#
# What is reported:
# - a write through ptrace (POKETEXT, POKEDATA, POKEUSR, SETREGS,
#   SETFPREGS, SETFPXREGS, SETREGSET) into any tracee, a child included: the
#   tracer started it does not make writing code into it less of an
#   injection;
# - PTRACE_ATTACH or PTRACE_SEIZE of a process that is not the caller's
#   child, even refused (a blocked attempt shows intent). Attaching to a
#   child it started is how debuggers, sandboxes and test harnesses run a
#   program under control; without a write it injects nothing;
# - process_vm_writev into another process.
#
# Left out: debuggers, tracers and checkpointing tools (gdb, lldb, dlv,
# strace, ltrace, rr, criu, ...) for everything, stack samplers and crash
# reporters (py-spy, eu-stack, crashpad, ...) for attaching, and MPI ranks
# (under mpirun, srun, ...) for process_vm_writev; by name, and not when the
# program sits in a world-writable directory such as /tmp.
package vigil.signatures.process_injection

import data.vigil.lib

metadata := {
	"id": "process-injection",
	"name": "Process injection",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process wrote into another process's memory or registers with ptrace (POKETEXT/POKEDATA/SETREGS...), attached with ptrace to a process it did not start, or wrote another process's memory with process_vm_writev. Debuggers, tracers and profilers are left out.",
	"tactics": ["TA0005", "TA0004"],
	"techniques": ["T1055.008", "T1055"],
	"tags": ["injection", "ptrace", "memory"],
	"events": ["ptrace", "process_vm_writev"],
}

ptrace_writes := {
	"PTRACE_POKETEXT", "PTRACE_POKEDATA", "PTRACE_POKEUSR", "PTRACE_SETREGS",
	"PTRACE_SETFPREGS", "PTRACE_SETFPXREGS", "PTRACE_SETREGSET",
}

ptrace_attaches := {"PTRACE_ATTACH", "PTRACE_SEIZE"}

debugger if lib.installed_as(input.process, lib.debuggers)

sampler if lib.installed_as(input.process, lib.stack_samplers)

mpi_rank if {
	some a in object.get(input.process, "ancestors", [])
	lib.installed_as(a, lib.hpc_launchers)
}

how contains "ptrace_write" if {
	input.name == "ptrace"
	input.args.request_name in ptrace_writes
	not debugger
}

how contains "ptrace_attach" if {
	input.name == "ptrace"
	input.args.request_name in ptrace_attaches
	lib.arg("target_is_child", false) != true
	not debugger
	not sampler
}

how contains "process_vm_writev" if {
	input.name == "process_vm_writev"
	input.args.pid != input.process.pid
	not debugger
	not mpi_rank
}

finding contains {
	"how": h,
	"request": lib.arg("request_name", ""),
	"target_pid": lib.arg("pid", 0),
	"target_comm": lib.arg("target_comm", ""),
	"target_exe": lib.arg("target_exe", ""),
	"target_is_child": lib.arg("target_is_child", false),
	"address": object.get(input.args, "addr", lib.arg("remote_addr", 0)),
	"succeeded": input.return_value >= 0,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	some h in how
}

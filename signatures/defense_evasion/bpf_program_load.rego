# BPF program loaded by a process that is not a known BPF tool.
#
# Tracing, LSM and network data-path BPF programs run in the kernel with
# the power of a module: eBPF rootkits (TripleCross, ebpfkit, boopkit,
# bad-bpf) hook syscalls to hide files and processes, overwrite what
# programs read (bpf_probe_write_user), steal credentials from PAM or TLS
# libraries with uprobes, and open backdoors in XDP or TC. Socket filters
# and cgroup programs (used by every container runtime, systemd and
# libpcap) are not reported.
#
# Known BPF agents and tools (security and observability agents, network
# data planes, bpftool, bpftrace, bcc's tools, perf, systemd) are left out
# by name, not when their program sits in a world-writable directory such as
# /tmp. vigil's own sensor is filtered in the kernel already. A refused load
# is reported too: it shows intent.
package vigil.signatures.bpf_program_load

import data.vigil.lib

metadata := {
	"id": "bpf-program-load",
	"name": "BPF program loaded by an unexpected process",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process that is not a known BPF agent or tool loaded a tracing, LSM or network data-path BPF program (kprobe/uprobe, tracepoint, raw tracepoint, fentry/fexit, LSM, extension, XDP, TC): how eBPF rootkits hook the kernel.",
	"tactics": ["TA0005", "TA0003"],
	"techniques": ["T1014"],
	"tags": ["bpf", "rootkit", "kernel"],
	"events": ["security_bpf"],
}

# program types that can hook the kernel or user programs, or rewrite
# packets before the network stack sees them
hooking_types := {
	"kprobe", "tracepoint", "raw_tracepoint", "raw_tracepoint_writable", "perf_event",
	"tracing", "lsm", "ext", "xdp", "sched_cls", "sched_act",
}

known_tool if lib.installed_as(input.process, lib.bpf_agents)

known_tool if lib.bcc_tool

finding contains {
	"prog_type": input.args.prog_type,
	"prog_name": lib.arg("prog_name", ""),
	"attach_type": lib.arg("attach_type", ""),
	"insn_cnt": lib.arg("insn_cnt", 0),
	"succeeded": input.return_value >= 0,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	input.args.cmd == "BPF_PROG_LOAD"
	input.args.prog_type in hooking_types
	not known_tool
}

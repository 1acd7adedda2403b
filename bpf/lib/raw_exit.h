/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef VIGIL_RAW_EXIT_H
#define VIGIL_RAW_EXIT_H

/*
 * Syscall exits routed through the raw sys_exit program.
 *
 * On a kernel that lacks some syscalls vigil watches (no modules, no kexec),
 * one program hangs on the raw sys_exit tracepoint anyway and runs for every
 * syscall of every task (module.bpf.c). A syscall handler on a syscall's own
 * trace event costs that syscall the perf trace event's work on top of the
 * handler (a record built and copied before the program runs); called from
 * the raw program instead, the handler costs only itself. So where the raw
 * program is attached, the sensor puts the handlers of busy syscalls (the
 * open family) in this table, indexed by syscall number, and takes them off
 * those syscalls' trace events; the raw program tail-calls the entry of the
 * syscall at hand, and an empty entry falls through at once. Elsewhere the
 * table stays empty and nothing changes.
 */
#define RAW_EXIT_SLOTS 512

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, RAW_EXIT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} raw_exit_calls SEC(".maps");

/* raw_exit_nr is the number of the syscall whose exit is traced, from the
 * task's saved user registers (orig_ax keeps it; ax holds the return value). */
static __always_inline long raw_exit_nr(void)
{
	return current_syscall_regs()->orig_ax;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

/*
 * Probe declarations: how the sensor feeds each event, written beside the
 * programs that feed it. They compile to nothing but a check that the event
 * exists; internal/genevents reads them from the .bpf.c files and writes the
 * sensor's probe table (sensor/probes_gen.go), and the sensor's tests check
 * that every program named exists and every syscall is known.
 *
 * An event's probes are tried in the order they are declared, all in one
 * file; the first whose programs all load and attach feeds the event.
 *
 * PROBE(EVENT, "name", program, ...)
 *	one way of feeding EVENT (the EVENT_ name without EVENT_): the programs
 *	are attached together; "name" is what events and `vigil events` show.
 * FALLBACK(EVENT, "name", program, ...)
 *	the same, for a probe that sees the event from another layer (the
 *	syscall, another hook) than the kernel function named by the event.
 * HOOK_PROBES(EVENT, fn [+ fn ...], program, ...)
 *	the two probes of a HOOK: "fentry/fn+..." with fentry_fn..., then
 *	"kprobe/fn+..." with kprobe_fn..., each with the programs that follow.
 * SYSCALLS(program, syscall, ...)
 *	the syscalls to whose trace events (syscalls/sys_enter_<syscall> or
 *	sys_exit_<syscall>, by the program's section) a syscall handler is
 *	attached when a probe names it bare.
 *
 * A program is written by name, or as name(syscall, ...) to give a syscall
 * handler the syscalls it is attached to in this probe (for sys_enter_save,
 * which saves the arguments of whichever syscall calls it, or to narrow a
 * handler to its event's syscalls); in that list, a program with a SYSCALLS
 * declaration stands for its syscalls: sys_enter_save(sys_exit_setid).
 *
 * In a probe's name, the word syscalls stands for the trace events its
 * syscall handlers are attached to: genevents writes them out,
 * "tracepoint/syscalls/sys_exit_{unlink,unlinkat,rmdir}".
 *
 *	SYSCALLS(sys_exit_unlink, unlink, unlinkat, rmdir);
 *	HOOK_PROBES(SECURITY_INODE_UNLINK, security_path_unlink + security_path_rmdir);
 *	FALLBACK(SECURITY_INODE_UNLINK, "syscalls", sys_exit_unlink);
 */
#define PROBE(ev, name, ...) _Static_assert(EVENT_##ev >= 0, "probe of " #ev)
#define FALLBACK(ev, name, ...) _Static_assert(EVENT_##ev >= 0, "probe of " #ev)
#define HOOK_PROBES(ev, ...) _Static_assert(EVENT_##ev >= 0, "probe of " #ev)
#define SYSCALLS(prog, ...) _Static_assert(1, #prog)

#endif

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * execve and execveat that failed, reported at syscall exit with the error.
 *
 * A successful exec is reported once, by sched_process_exec, from what the
 * kernel copied into the new program (argv, argc, the binprm's file): the
 * caller's memory is gone by the time the syscall returns. A failed exec
 * leaves the caller as it was, so its arguments are read here, after the
 * kernel has read them itself (the pages it faulted in hold the strings that
 * an entry-time read could not reach). The entry handlers (process.bpf.c)
 * saved the argument registers; sched_process_exec takes that state on
 * success, so what is left at exit with an error is a failed exec.
 */
#include "lib/common.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_exec(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = (long)ctx->ret;
	struct syscall_state s;
	struct event e;

	if (!take_syscall_state(&s) || ret >= 0)
		return 0;
	if (s.nr == NR_execve) {
		if (!emit_allowed(EVENT_EXECVE, 0) || !event_init(&e, ctx, EVENT_EXECVE))
			return 0;
		save_str(&e, ARG_EXECVE_PATHNAME, (void *)s.args[0], 1);
		save_str_arr(&e, ARG_EXECVE_ARGV, (const char *const *)s.args[1]);
	} else if (s.nr == NR_execveat) {
		if (!emit_allowed(EVENT_EXECVEAT, 0) || !event_init(&e, ctx, EVENT_EXECVEAT))
			return 0;
		save_s32(&e, ARG_EXECVEAT_DIRFD, (__s32)s.args[0]);
		save_str(&e, ARG_EXECVEAT_PATHNAME, (void *)s.args[1], 1);
		save_str_arr(&e, ARG_EXECVEAT_ARGV, (const char *const *)s.args[2]);
		save_s32(&e, ARG_EXECVEAT_FLAGS, (__s32)s.args[4]);
	} else {
		return 0;
	}
	event_submit(&e, ret);
	return 0;
}

/* the entry (process.bpf.c) saves the arguments, the exit reports a failure */
PROBE(EXECVE, "syscalls (execve that failed)", sys_enter_execve, sys_exit_exec(execve));
PROBE(EXECVEAT, "syscalls (execveat that failed)", sys_enter_execveat, sys_exit_exec(execveat));

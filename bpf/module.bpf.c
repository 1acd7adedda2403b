// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Kernel modules: init_module and finit_module, recorded at syscall exit so the
 * event carries the verdict; every attempt is reported, refused ones too.
 */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("raw_tracepoint/sys_exit")
int sys_exit_module(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = current_tid();
	struct syscall_state *st = bpf_map_lookup_elem(&syscall_states, &tid);
	struct event e;

	if (!st)
		return 0;
	struct syscall_state s = *st;
	bpf_map_delete_elem(&syscall_states, &tid);
	long ret = ctx->args[1];

	if (s.nr == NR_init_module) {
		/* init_module(void *umod, unsigned long len, const char *uargs) */
		if (!emit_allowed(EVENT_INIT_MODULE, 0) || !event_init(&e, ctx, EVENT_INIT_MODULE))
			return 0;
		save_u64(&e, 0, s.args[1]);
		save_str(&e, 1, (void *)s.args[2], 1);
	} else if (s.nr == NR_finit_module) {
		/* finit_module(int fd, const char *uargs, int flags) */
		if (!emit_allowed(EVENT_FINIT_MODULE, 0) || !event_init(&e, ctx, EVENT_FINIT_MODULE))
			return 0;
		save_s32(&e, 0, (__s32)s.args[0]);
		save_file_path(&e, 1, task_fd_file(e.task, (int)s.args[0]));
		save_str(&e, 2, (void *)s.args[1], 1);
		save_s32(&e, 3, (__s32)s.args[2]);
	} else {
		return 0;
	}
	event_submit(&e, ret);
	return 0;
}

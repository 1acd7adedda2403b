// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore
// bpf2go-types: record_header event_id arg_type event_mode

/*
 * The syscall layer. Each syscall handler is a tracepoint program, written
 * with its family (file_open.bpf.c, net_sock.bpf.c, ...):
 *
 *	SEC("tracepoint/syscalls/sys_exit")
 *	int sys_exit_unlink(struct syscall_exit_ctx *ctx)
 *	SYSCALLS(sys_exit_unlink, unlink, unlinkat, rmdir);
 *
 * and the loader attaches it to the trace event of each syscall its SYSCALLS
 * declaration (or the probe) names: syscalls/sys_exit_unlink,
 * syscalls/sys_exit_unlinkat, syscalls/sys_exit_rmdir. There is no
 * dispatcher: a syscall no wanted event needs has no program on its trace
 * events and runs none. (While any syscall trace event has a program, every
 * task takes the kernel's slower syscall path, which costs each syscall some
 * tens of ns; with raw sys_enter/sys_exit programs, every syscall also ran
 * them.) A syscall the running kernel lacks (fchmodat2 before 6.6) has no
 * trace event and is skipped with a note. ctx and the argument accessors are
 * in lib/common.h.
 */
#include "lib/common.h"
#include "lib/creds.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* sys_enter_save keeps a syscall's arguments and the caller's credentials for
 * the handler at exit, which sees the return value and the changed creds. */
SEC("tracepoint/syscalls/sys_enter")
int sys_enter_save(struct syscall_enter_ctx *ctx)
{
	struct syscall_state st = {};
	__u32 tid = current_tid();

	if (is_self())
		return 0;
	read_syscall_args(syscall_regs(ctx), st.args);
	st.nr = ctx->nr;
	read_current_creds(&st.creds);
	bpf_map_update_elem(&syscall_states, &tid, &st, BPF_ANY);
	return 0;
}

/* Keep the record types in this object's BTF for bpf2go -type and for the
 * layout test. */
const struct record_header *unused_record_header __attribute__((unused));
const enum event_id *unused_event_id __attribute__((unused));
const enum arg_type *unused_arg_type __attribute__((unused));
const enum event_mode *unused_event_mode __attribute__((unused));
const enum event_arg *unused_event_arg __attribute__((unused));

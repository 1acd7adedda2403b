// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore
// bpf2go-types: record_header event_id arg_type event_mode

/*
 * The syscall layer: one raw tracepoint on sys_enter and one on sys_exit, each
 * dispatching by syscall number through a prog array, so a syscall nobody
 * asked for costs one tail-call miss. Handlers live with their families.
 */
#include "lib/common.h"
#include "lib/creds.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("raw_tracepoint/sys_enter")
int raw_tp_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_self())
		return 0;
	bpf_tail_call(ctx, &sys_enter_progs, (__u32)ctx->args[1]);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int raw_tp_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_self())
		return 0;
	__u32 nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	bpf_tail_call(ctx, &sys_exit_progs, nr);
	return 0;
}

/* sys_enter_save keeps a syscall's arguments and the caller's credentials for
 * the handler at exit, which sees the return value and the changed creds. */
SEC("raw_tracepoint/sys_enter")
int sys_enter_save(struct bpf_raw_tracepoint_args *ctx)
{
	struct syscall_state st = {};
	__u32 tid = current_tid();

	read_syscall_args(syscall_regs(ctx), st.args);
	st.nr = ctx->args[1];
	read_task_creds((struct task_struct *)bpf_get_current_task(), &st.creds);
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

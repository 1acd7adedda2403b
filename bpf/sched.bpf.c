// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The scheduler and cgroups: cgroup directories and moves, task exit, context switches.
 */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/kernel.h"
#include "lib/kernel_capture.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ======== cgroup_mkdir, cgroup_rmdir, cgroup_attach_task ======== */

/* Args of mkdir/rmdir: path (in its hierarchy), hierarchy_id, level, id. */
/* args: EVENT_CGROUP_MKDIR, EVENT_CGROUP_RMDIR */
static __always_inline void emit_cgroup_dir(void *ctx, __u32 id, const char *path, __u32 hierarchy, __u32 level,
					    __u64 cgid, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(id, fallback) || !event_init(&e, ctx, id))
		return;
	save_str(&e, ARG_CGROUP_MKDIR_PATH, path, 0);
	save_u32(&e, ARG_CGROUP_MKDIR_HIERARCHY_ID, hierarchy);
	save_u32(&e, ARG_CGROUP_MKDIR_LEVEL, level);
	save_u64(&e, ARG_CGROUP_MKDIR_ID, cgid);
	event_submit(&e, 0);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(tp_btf_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_MKDIR, path, BPF_CORE_READ(cgrp, root, hierarchy_id),
			BPF_CORE_READ(cgrp, level), BPF_CORE_READ(cgrp, kn, id), 0);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(tp_btf_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_RMDIR, path, BPF_CORE_READ(cgrp, root, hierarchy_id),
			BPF_CORE_READ(cgrp, level), BPF_CORE_READ(cgrp, kn, id), 0);
	return 0;
}

/* The classic tracepoints carry the same, the path as a __data_loc string. */
#define DATA_LOC(ctx, loc) ((const char *)(ctx) + ((loc) & 0xffff))

SEC("tracepoint/cgroup/cgroup_mkdir")
int tracepoint_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_MKDIR, DATA_LOC(ctx, ctx->__data_loc_path), ctx->root, ctx->level, ctx->id, 1);
	return 0;
}

SEC("tracepoint/cgroup/cgroup_rmdir")
int tracepoint_cgroup_rmdir(struct trace_event_raw_cgroup *ctx)
{
	emit_cgroup_dir(ctx, EVENT_CGROUP_RMDIR, DATA_LOC(ctx, ctx->__data_loc_path), ctx->root, ctx->level, ctx->id, 1);
	return 0;
}

/* Args of attach: path, hierarchy_id, level, id (of the destination), then
 * pid (host id of the task moved), comm, threadgroup (tp_btf only). */
static __always_inline int cgroup_attach_head(struct event *e, void *ctx, const char *path, __u32 hierarchy,
					      __u32 level, __u64 cgid, int fallback)
{
	if (is_self() || !emit_allowed(EVENT_CGROUP_ATTACH_TASK, fallback) ||
	    !event_init(e, ctx, EVENT_CGROUP_ATTACH_TASK))
		return 0;
	save_str(e, ARG_CGROUP_ATTACH_TASK_PATH, path, 0);
	save_u32(e, ARG_CGROUP_ATTACH_TASK_HIERARCHY_ID, hierarchy);
	save_u32(e, ARG_CGROUP_ATTACH_TASK_LEVEL, level);
	save_u64(e, ARG_CGROUP_ATTACH_TASK_ID, cgid);
	return 1;
}

/* args: EVENT_CGROUP_ATTACH_TASK */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(tp_btf_cgroup_attach_task, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	struct event e;
	if (!cgroup_attach_head(&e, ctx, path, BPF_CORE_READ(dst, root, hierarchy_id), BPF_CORE_READ(dst, level),
				BPF_CORE_READ(dst, kn, id), 0))
		return 0;
	save_u32(&e, ARG_CGROUP_ATTACH_TASK_PID, BPF_CORE_READ(task, pid));
	save_str(&e, ARG_CGROUP_ATTACH_TASK_COMM, BPF_CORE_READ(task, comm), 0);
	save_bool(&e, ARG_CGROUP_ATTACH_TASK_THREADGROUP, threadgroup);
	event_submit(&e, 0);
	return 0;
}

/* args: EVENT_CGROUP_ATTACH_TASK */
SEC("tracepoint/cgroup/cgroup_attach_task")
int tracepoint_cgroup_attach_task(struct trace_event_raw_cgroup_migrate *ctx)
{
	struct event e;
	if (!cgroup_attach_head(&e, ctx, DATA_LOC(ctx, ctx->__data_loc_dst_path), ctx->dst_root, ctx->dst_level,
				ctx->dst_id, 1))
		return 0;
	save_u32(&e, ARG_CGROUP_ATTACH_TASK_PID, ctx->pid);
	save_str(&e, ARG_CGROUP_ATTACH_TASK_COMM, DATA_LOC(ctx, ctx->__data_loc_comm), 0);
	event_submit(&e, 0);
	return 0;
}

/* ======== do_exit ======== */

/* Args: exit_code (as passed to do_exit: status<<8, or the signal), and
 * group_dead (this is the process's last thread). */
static __always_inline void emit_do_exit(void *ctx, long code, int group_dead, int fallback)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_DO_EXIT, fallback) || !event_init(&e, ctx, EVENT_DO_EXIT))
		return;
	save_s64(&e, ARG_DO_EXIT_EXIT_CODE, code);
	save_bool(&e, ARG_DO_EXIT_GROUP_DEAD, group_dead);
	event_submit(&e, 0);
}

/* At entry the thread still counts in signal->live. */
HOOK(do_exit, long code)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	emit_do_exit(ctx, code, BPF_CORE_READ(t, signal, live.counter) == 1, 0);
	return 0;
}

/* sched_process_exit comes later in do_exit: the code is stored in
 * exit_code and the thread no longer counts in signal->live. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit_code, struct task_struct *p)
{
	emit_do_exit(ctx, BPF_CORE_READ(p, exit_code), BPF_CORE_READ(p, signal, live.counter) == 0, 1);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int raw_tp_sched_process_exit_code(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx->args[0];
	emit_do_exit(ctx, BPF_CORE_READ(p, exit_code), BPF_CORE_READ(p, signal, live.counter) == 0, 1);
	return 0;
}

/* ======== sched_switch ======== */

struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/* Args: preempt, prev_pid, prev_tid, prev_comm, prev_state, next_pid,
 * next_tid, next_comm. It runs in prev's context, so the header is prev's.
 *
 * Switches to and from the sensor are left out, as all its own activity is:
 * here they would also feed themselves (the sensor goes to sleep, the record
 * of that wakes it up, it reads and goes to sleep again...). */
static __always_inline void emit_sched_switch(void *ctx, int preempt, struct task_struct *prev, struct task_struct *next,
					      int fallback)
{
	struct event e;
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid), next_tgid = BPF_CORE_READ(next, tgid);
	if (self_tgid && (prev_tgid == self_tgid || next_tgid == self_tgid))
		return;
	if (!emit_allowed(EVENT_SCHED_SWITCH, fallback) || !event_init(&e, ctx, EVENT_SCHED_SWITCH))
		return;
	save_bool(&e, ARG_SCHED_SWITCH_PREEMPT, preempt);
	save_u32(&e, ARG_SCHED_SWITCH_PREV_PID, prev_tgid);
	save_u32(&e, ARG_SCHED_SWITCH_PREV_TID, BPF_CORE_READ(prev, pid));
	save_u64(&e, ARG_SCHED_SWITCH_PREV_STATE, task_state(prev));
	save_u32(&e, ARG_SCHED_SWITCH_NEXT_PID, next_tgid);
	save_u32(&e, ARG_SCHED_SWITCH_NEXT_TID, BPF_CORE_READ(next, pid));
	save_str(&e, ARG_SCHED_SWITCH_PREV_COMM, BPF_CORE_READ(prev, comm), 0);
	save_str(&e, ARG_SCHED_SWITCH_NEXT_COMM, BPF_CORE_READ(next, comm), 0);
	event_submit(&e, 0);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tp_btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	emit_sched_switch(ctx, preempt, prev, next, 0);
	return 0;
}

SEC("raw_tracepoint/sched_switch")
int raw_tp_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	emit_sched_switch(ctx, (int)ctx->args[0], (struct task_struct *)ctx->args[1], (struct task_struct *)ctx->args[2], 1);
	return 0;
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

PROBE(CGROUP_MKDIR, "tp_btf/cgroup_mkdir", tp_btf_cgroup_mkdir);
FALLBACK(CGROUP_MKDIR, "tracepoint/cgroup/cgroup_mkdir", tracepoint_cgroup_mkdir);
PROBE(CGROUP_RMDIR, "tp_btf/cgroup_rmdir", tp_btf_cgroup_rmdir);
FALLBACK(CGROUP_RMDIR, "tracepoint/cgroup/cgroup_rmdir", tracepoint_cgroup_rmdir);
PROBE(CGROUP_ATTACH_TASK, "tp_btf/cgroup_attach_task", tp_btf_cgroup_attach_task);
FALLBACK(CGROUP_ATTACH_TASK, "tracepoint/cgroup/cgroup_attach_task", tracepoint_cgroup_attach_task);
HOOK_PROBES(DO_EXIT, do_exit);
FALLBACK(DO_EXIT, "tp_btf/sched_process_exit (exit_code)", tp_btf_sched_process_exit_code);
FALLBACK(DO_EXIT, "raw_tracepoint/sched_process_exit (exit_code)", raw_tp_sched_process_exit_code);
PROBE(SCHED_SWITCH, "tp_btf/sched_switch", tp_btf_sched_switch);
FALLBACK(SCHED_SWITCH, "raw_tracepoint/sched_switch", raw_tp_sched_switch);

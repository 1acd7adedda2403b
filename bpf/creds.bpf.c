// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Credentials: the setuid family and capset (syscall events, recorded at exit
 * with their return value) and commit_creds. commit_creds is best seen at the
 * kernel function itself (fentry, else kprobe); where neither loads, the
 * syscall exit compares the caller's credentials with those saved at entry
 * (and sched_process_exec does the same across exec).
 */
#include "lib/common.h"
#include "lib/creds.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_setid(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	struct syscall_state s;
	if (!take_syscall_state(&s))
		return 0;

	long ret = ctx->ret;
	__u32 id = 0, nargs = 0;
	char name[16] = {};
	switch (s.nr) {
	case NR_setuid: id = EVENT_SETUID; nargs = 1; SYSNAME(name, "setuid"); break;
	case NR_setreuid: id = EVENT_SETREUID; nargs = 2; SYSNAME(name, "setreuid"); break;
	case NR_setresuid: id = EVENT_SETRESUID; nargs = 3; SYSNAME(name, "setresuid"); break;
	case NR_setgid: id = EVENT_SETGID; nargs = 1; SYSNAME(name, "setgid"); break;
	case NR_setregid: id = EVENT_SETREGID; nargs = 2; SYSNAME(name, "setregid"); break;
	case NR_setresgid: id = EVENT_SETRESGID; nargs = 3; SYSNAME(name, "setresgid"); break;
	case NR_setfsuid: id = EVENT_SETFSUID; nargs = 1; SYSNAME(name, "setfsuid"); break;
	case NR_setfsgid: id = EVENT_SETFSGID; nargs = 1; SYSNAME(name, "setfsgid"); break;
	case NR_capset: id = EVENT_CAPSET; SYSNAME(name, "capset"); break;
	default: return 0;
	}

	if (emit_allowed(id, 0)) {
		struct event e;
		if (event_init(&e, ctx, id)) {
			if (id == EVENT_CAPSET) {
				/* args: EVENT_CAPSET */
				/* capset(hdrp, datap): datap is two __user_cap_data_struct
				 * (low and high 32 bits) for capability version 2 and 3. */
				struct __user_cap_header_struct hdr = {};
				struct __user_cap_data_struct d[2] = {};
				bpf_probe_read_user(&hdr, sizeof(hdr), (void *)s.args[0]);
				bpf_probe_read_user(&d, sizeof(d), (void *)s.args[1]);
				save_s32(&e, ARG_CAPSET_PID, hdr.pid);
				save_u64(&e, ARG_CAPSET_EFFECTIVE, (__u64)d[1].effective << 32 | d[0].effective);
				save_u64(&e, ARG_CAPSET_PERMITTED, (__u64)d[1].permitted << 32 | d[0].permitted);
				save_u64(&e, ARG_CAPSET_INHERITABLE, (__u64)d[1].inheritable << 32 | d[0].inheritable);
			} else {
				for (__u32 i = 0; i < 3; i++)
					if (i < nargs)
						save_u32(&e, i, (__u32)s.args[i]);
			}
			event_submit(&e, ret);
		}
	}

	struct cred_snap now = {};
	read_current_creds(&now);
	if (creds_differ(&s.creds, &now))
		emit_commit_creds(ctx, &s.creds, &now, name, NULL, 1);
	return 0;
}

static __always_inline void commit_creds_hook(void *ctx, const struct cred *new)
{
	if (is_self())
		return;
	struct cred_snap old = {}, next = {};
	read_current_creds(&old);
	read_creds(new, &next);
	if (!creds_differ(&old, &next))
		return;
	char none[1] = {};
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file *exe = NULL;
	/* begin_new_exec has already switched to the new mm (and its exe_file)
	 * when it commits the new credentials */
	if (bpf_core_field_exists(t->in_execve) && BPF_CORE_READ_BITFIELD_PROBED(t, in_execve))
		exe = BPF_CORE_READ(t, mm, exe_file);
	emit_commit_creds(ctx, &old, &next, none, exe, 0);
}

HOOK(commit_creds, struct cred *new)
{
	commit_creds_hook(ctx, new);
	return 0;
}


/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_exit_setid, setuid, setreuid, setresuid, setgid, setregid, setresgid, setfsuid, setfsgid, capset);
PROBE(SETUID, "syscalls", sys_enter_save(setuid), sys_exit_setid(setuid));
PROBE(SETREUID, "syscalls", sys_enter_save(setreuid), sys_exit_setid(setreuid));
PROBE(SETRESUID, "syscalls", sys_enter_save(setresuid), sys_exit_setid(setresuid));
PROBE(SETGID, "syscalls", sys_enter_save(setgid), sys_exit_setid(setgid));
PROBE(SETREGID, "syscalls", sys_enter_save(setregid), sys_exit_setid(setregid));
PROBE(SETRESGID, "syscalls", sys_enter_save(setresgid), sys_exit_setid(setresgid));
PROBE(SETFSUID, "syscalls", sys_enter_save(setfsuid), sys_exit_setid(setfsuid));
PROBE(SETFSGID, "syscalls", sys_enter_save(setfsgid), sys_exit_setid(setfsgid));
PROBE(CAPSET, "syscalls", sys_enter_save(capset), sys_exit_setid(capset));
HOOK_PROBES(COMMIT_CREDS, commit_creds);
FALLBACK(COMMIT_CREDS, "tracepoint/syscalls/sys_{enter,exit}_{set*id,capset}+sys_enter_execve{,at} (credential compare)", sys_enter_save(sys_exit_setid), sys_exit_setid, sys_enter_execve, sys_enter_execveat);

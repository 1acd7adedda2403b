/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef VIGIL_CREDS_H
#define VIGIL_CREDS_H

#include "event.h"
#include "path.h"

static __always_inline void read_creds_fields(const struct cred *c, struct cred_snap *s)
{
	s->uid = BPF_CORE_READ(c, uid.val);
	s->gid = BPF_CORE_READ(c, gid.val);
	s->euid = BPF_CORE_READ(c, euid.val);
	s->egid = BPF_CORE_READ(c, egid.val);
	s->suid = BPF_CORE_READ(c, suid.val);
	s->sgid = BPF_CORE_READ(c, sgid.val);
	s->fsuid = BPF_CORE_READ(c, fsuid.val);
	s->fsgid = BPF_CORE_READ(c, fsgid.val);
	/* kernel_cap_t is a struct of one u64 since 6.3 and of two u32 before:
	 * reading 8 bytes gives the same value on both (little endian). */
	bpf_core_read(&s->cap_effective, sizeof(s->cap_effective), &c->cap_effective);
}

/* The ids and the capability sets lie in the first words of struct cred on
 * every kernel: one read of those words where this kernel's layout has
 * them there (CO-RE offsets), field by field otherwise. */
#define CRED_HEAD_WORDS 12

static __always_inline void read_creds(const struct cred *c, struct cred_snap *s)
{
	__u32 ou = bpf_core_field_offset(struct cred, uid), og = bpf_core_field_offset(struct cred, gid);
	__u32 oeu = bpf_core_field_offset(struct cred, euid), oeg = bpf_core_field_offset(struct cred, egid);
	__u32 osu = bpf_core_field_offset(struct cred, suid), osg = bpf_core_field_offset(struct cred, sgid);
	__u32 ofu = bpf_core_field_offset(struct cred, fsuid), ofg = bpf_core_field_offset(struct cred, fsgid);
	__u32 oc = bpf_core_field_offset(struct cred, cap_effective);
	if (ou / 4 < 2 * CRED_HEAD_WORDS && og / 4 < 2 * CRED_HEAD_WORDS && oeu / 4 < 2 * CRED_HEAD_WORDS &&
	    oeg / 4 < 2 * CRED_HEAD_WORDS && osu / 4 < 2 * CRED_HEAD_WORDS && osg / 4 < 2 * CRED_HEAD_WORDS &&
	    ofu / 4 < 2 * CRED_HEAD_WORDS && ofg / 4 < 2 * CRED_HEAD_WORDS && oc / 4 + 1 < 2 * CRED_HEAD_WORDS) {
		__u32 w[2 * CRED_HEAD_WORDS] = {};
		bpf_probe_read_kernel(w, sizeof(w), c);
		s->uid = w[ou / 4];
		s->gid = w[og / 4];
		s->euid = w[oeu / 4];
		s->egid = w[oeg / 4];
		s->suid = w[osu / 4];
		s->sgid = w[osg / 4];
		s->fsuid = w[ofu / 4];
		s->fsgid = w[ofg / 4];
		/* kernel_cap_t is a struct of one u64 since 6.3 and of two
		 * u32 before: the two words give the same value on both */
		s->cap_effective = (__u64)w[oc / 4 + 1] << 32 | w[oc / 4];
		return;
	}
	read_creds_fields(c, s);
}

static __always_inline void read_task_creds(struct task_struct *t, struct cred_snap *s)
{
	/* field by field: sched_process_exec, its one caller, has no stack
	 * left for the head */
	read_creds_fields(BPF_CORE_READ(t, real_cred), s);
}

/* read_current_creds: read_task_creds of the current task, whose cred
 * pointer is a plain load through its BTF pointer. */
static __always_inline void read_current_creds(struct cred_snap *s)
{
	struct task_struct *t = bpf_get_current_task_btf();
	read_creds(t->real_cred, s);
}

static __always_inline int creds_differ(const struct cred_snap *a, const struct cred_snap *b)
{
	return a->uid != b->uid || a->gid != b->gid || a->euid != b->euid || a->egid != b->egid ||
	       a->suid != b->suid || a->sgid != b->sgid || a->fsuid != b->fsuid ||
	       a->fsgid != b->fsgid || a->cap_effective != b->cap_effective;
}

static __always_inline void save_cred_snap(struct event *e, __u8 first, const struct cred_snap *s)
{
	save_u32(e, first + 0, s->uid);
	save_u32(e, first + 1, s->gid);
	save_u32(e, first + 2, s->euid);
	save_u32(e, first + 3, s->egid);
	save_u32(e, first + 4, s->suid);
	save_u32(e, first + 5, s->sgid);
	save_u32(e, first + 6, s->fsuid);
	save_u32(e, first + 7, s->fsgid);
	save_u64(e, first + 8, s->cap_effective);
}

/* save_cred_snap writes its run of nine in this order: the table's commit_creds
 * (event/spec_process.go) must keep it, for old_* and new_* alike. */
#define CRED_RUN_OK(P)                                                                                   \
	(ARG_COMMIT_CREDS_##P##GID == ARG_COMMIT_CREDS_##P##UID + 1 &&                                    \
	 ARG_COMMIT_CREDS_##P##EUID == ARG_COMMIT_CREDS_##P##UID + 2 &&                                   \
	 ARG_COMMIT_CREDS_##P##EGID == ARG_COMMIT_CREDS_##P##UID + 3 &&                                   \
	 ARG_COMMIT_CREDS_##P##SUID == ARG_COMMIT_CREDS_##P##UID + 4 &&                                   \
	 ARG_COMMIT_CREDS_##P##SGID == ARG_COMMIT_CREDS_##P##UID + 5 &&                                   \
	 ARG_COMMIT_CREDS_##P##FSUID == ARG_COMMIT_CREDS_##P##UID + 6 &&                                  \
	 ARG_COMMIT_CREDS_##P##FSGID == ARG_COMMIT_CREDS_##P##UID + 7 &&                                  \
	 ARG_COMMIT_CREDS_##P##CAP_EFFECTIVE == ARG_COMMIT_CREDS_##P##UID + 8)
_Static_assert(CRED_RUN_OK(OLD_), "commit_creds: old_* arguments out of save_cred_snap's order");
_Static_assert(CRED_RUN_OK(NEW_), "commit_creds: new_* arguments out of save_cred_snap's order");

/* emit_commit_creds sends the commit_creds event: old creds are args 0-8,
 * new creds 9-17, the syscall seen by a fallback (or "") arg 18, and, when
 * the change is part of an exec, the program being executed as arg 19: the
 * change is committed before the exec event, and the process table must not
 * pin it on the program that is being replaced. */
static __always_inline void emit_commit_creds(void *ctx, const struct cred_snap *old,
					      const struct cred_snap *new, const char *sys,
					      struct file *exe, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_COMMIT_CREDS, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_COMMIT_CREDS))
		return;
	save_cred_snap(&e, ARG_COMMIT_CREDS_OLD_UID, old);
	save_cred_snap(&e, ARG_COMMIT_CREDS_NEW_UID, new);
	save_str(&e, ARG_COMMIT_CREDS_SYSCALL, sys, 0);
	if (exe)
		save_file_path(&e, ARG_COMMIT_CREDS_EXE, exe);
	event_submit(&e, 0);
}

#endif

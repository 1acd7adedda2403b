/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Building a record: the context header from the current task, arguments
 * appended to the per-CPU scratch buffer, submission to the ring buffer with
 * drops counted. Every program follows one skeleton:
 *
 *   filter -> event_init() -> save_*() arguments -> event_submit()
 */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#include "maps.h"

struct event {
	struct scratch *s;
	__u32 off; /* next free byte in s->buf, always < MAX_RECORD after a save */
	__u32 argnum;
	void *ctx;
	struct task_struct *task;
};

/* The verifier wants every offset and size visibly bounded where it is used.
 * The barrier stops clang from proving the mask redundant from an earlier
 * check on another copy of the value and dropping it. */
#define BOUND(x, mask) ({ __u64 _b = (x); barrier_var(_b); _b & (mask); })
#define OFF(o) BOUND(o, MAX_RECORD - 1)
#define STRSZ(n) BOUND(n, 2 * MAX_STR - 1)

static __always_inline int is_self(void)
{
	return self_tgid && (bpf_get_current_pid_tgid() >> 32) == self_tgid;
}

static __always_inline __u32 event_mode(__u32 id)
{
	__u32 *m = bpf_map_lookup_elem(&event_modes, &id);
	return m ? *m : MODE_ANY;
}

/* emit_allowed tells whether a program may emit event id: off events never,
 * and a fallback program stays quiet when the preferred hook feeds the event. */
static __always_inline int emit_allowed(__u32 id, int fallback)
{
	__u32 m = event_mode(id);
	if (m == MODE_OFF)
		return 0;
	if (fallback && m == MODE_HOOK)
		return 0;
	if (!fallback && m == MODE_FALLBACK)
		return 0;
	return 1;
}

/* upid_nr returns the number struct pid *pid (a plain pointer) has at
 * namespace level `level`; plevel is the pid's own level (0 when the pid
 * is not visible there). */
static __always_inline __u32 upid_nr(struct pid *pid, unsigned int plevel, unsigned int level)
{
	if (!pid || plevel < level)
		return 0;
	struct upid up;
	if (bpf_core_read(&up, sizeof(up), &pid->numbers[level & 31]))
		return 0;
	return up.nr;
}

/* pid number of a struct pid as seen from namespace level `level`, 0 if the
 * pid is not visible there. */
static __always_inline __u32 pid_nr_at(struct pid *pid, unsigned int level)
{
	return pid ? upid_nr(pid, BPF_CORE_READ(pid, level), level) : 0;
}

static __always_inline unsigned int task_pid_level(struct task_struct *t)
{
	return BPF_CORE_READ(t, thread_pid, level);
}

static __always_inline struct scratch *scratch_buf(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* fill_header fills h for the current task. The task comes as a BTF
 * pointer (bpf_get_current_task_btf): its fields and those of what it
 * points to (parent, leader, credentials, namespaces) are plain loads; only
 * the per-level pid numbers (an array at a variable index) and the pid
 * namespace behind them take a read helper each. */
static __always_inline void fill_header(struct record_header *h, __u32 id)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_struct *leader = t->group_leader;
	struct task_struct *parent = t->real_parent;
	struct task_struct *pleader = parent->group_leader;
	const struct cred *cred = t->real_cred;
	unsigned int level = t->thread_pid->level;
	__u32 tgid = t->tgid, tid = t->pid;

	h->ts = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->retval = 0;
	h->start_time = leader->start_boottime;
	h->event_id = id;
	h->host_pid = tgid;
	h->host_tid = tid;
	h->host_ppid = parent->tgid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->euid = cred->euid.val;
	h->egid = cred->egid.val;
	h->mnt_ns = t->nsproxy->mnt_ns->ns.inum;
	/* the task's own pid namespace is the one at its pid's level */
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	struct upid up = {};
	bpf_core_read(&up, sizeof(up), &tp->numbers[level & 31]);
	h->tid = up.nr;
	h->pid_ns = BPF_CORE_READ(up.ns, ns.inum);
	/* a group leader's pid is its thread's; every thread of a group
	 * lives in one pid namespace */
	h->pid = tgid == tid ? up.nr : upid_nr(BPF_CORE_READ(leader, thread_pid), level, level);
	h->ppid = upid_nr(BPF_CORE_READ(pleader, thread_pid), pleader->thread_pid->level, level);
	h->reserved = 0;
	bpf_get_current_comm(&h->comm, sizeof(h->comm));
	h->argnum = 0;
}

/* event_begin starts a record for the current task in this CPU's scratch
 * buffer and leaves its header to event_header: a program whose filter
 * looks at the arguments (the open filter, at the path) saves those first
 * and fills the header, two dozen reads of the task, only for a record it
 * keeps. */
static __always_inline int event_begin(struct event *e, void *ctx)
{
	e->s = scratch_buf();
	if (!e->s)
		return 0;
	e->ctx = ctx;
	e->task = (struct task_struct *)bpf_get_current_task();
	e->off = sizeof(struct record_header);
	e->argnum = 0;
	return 1;
}

static __always_inline void event_header(struct event *e, __u32 id)
{
	fill_header((struct record_header *)e->s->buf, id);
}

/* event_init starts a record with its header filled. */
static __always_inline int event_init(struct event *e, void *ctx, __u32 id)
{
	if (!event_begin(e, ctx))
		return 0;
	event_header(e, id);
	return 1;
}

static __always_inline void count_drop(__u32 id)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &id);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Waking the ring's reader costs the writer an interrupt (irq_work, a
 * self-IPI: 10-12 µs in a VM), and the kernel wakes it for every record
 * written to a ring the reader has drained, which on a quiet host is every
 * record: a fork, an exec and an exit paid ~12 µs each for it. Routine
 * records wake the reader only when the ring fills past an eighth; the
 * sensor reads the ring every few milliseconds otherwise (ringPoll in
 * sensor/sensor.go), and a reader about to sleep finds what is there
 * (ring_buffer poll reports unread data). Critical records always wake it. */
static __always_inline __u64 ring_wakeup(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 mark = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 8;
	/* crossing the mark, not above it: one interrupt, not one per record
	 * while the reader catches up */
	return avail < mark && avail + size >= mark ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline int event_submit(struct event *e, long retval)
{
	struct record_header *h = (struct record_header *)e->s->buf;
	__u64 size = e->off;

	h->retval = retval;
	h->argnum = e->argnum;
	/* the barrier keeps clang from checking one copy and passing another */
	barrier_var(size);
	if (size > MAX_RECORD)
		size = MAX_RECORD;
	barrier_var(size);
	__u32 id = h->event_id;
	__u32 *crit = bpf_map_lookup_elem(&critical_ids, &id);
	long err;
	if (crit && *crit)
		err = bpf_ringbuf_output(&events_critical, e->s->buf, size, 0);
	else
		err = bpf_ringbuf_output(&events, e->s->buf, size, ring_wakeup(size));
	if (err) {
		count_drop(h->event_id);
		return 0;
	}
	return 1;
}

/* ---- arguments ---- */

static __always_inline int arg_head(struct event *e, __u8 index, __u8 type, __u32 need)
{
	if (e->off + 2 + need > MAX_RECORD)
		return 0;
	e->s->buf[OFF(e->off)] = index;
	e->s->buf[OFF(e->off + 1)] = type;
	e->off += 2;
	return 1;
}

#define DEFINE_SAVE_FIXED(name, ctype, argtype)                                  \
	static __always_inline int name(struct event *e, __u8 index, ctype v)    \
	{                                                                         \
		if (!arg_head(e, index, argtype, sizeof(v)))                     \
			return 0;                                                 \
		__builtin_memcpy(&e->s->buf[OFF(e->off)], &v, sizeof(v));        \
		e->off += sizeof(v);                                              \
		e->argnum++;                                                      \
		return 1;                                                         \
	}

DEFINE_SAVE_FIXED(save_s32, __s32, ARG_S32)
DEFINE_SAVE_FIXED(save_u32, __u32, ARG_U32)
DEFINE_SAVE_FIXED(save_s64, __s64, ARG_S64)
DEFINE_SAVE_FIXED(save_u64, __u64, ARG_U64)
DEFINE_SAVE_FIXED(save_bool, __u8, ARG_BOOL)

/* save_str copies a NUL-terminated string (user or kernel memory) as
 * [u32 len][bytes]. A string that does not fit what is left is cut and
 * flagged. */
static __always_inline int save_str(struct event *e, __u8 index, const void *src, int user)
{
	if (e->off + 2 + 4 + 1 > MAX_RECORD)
		return 0;
	__u32 at = e->off;
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = ARG_STR;
	__u32 room = MAX_RECORD - (at + 6);
	__u8 type = ARG_STR;
	if (room > MAX_STR)
		room = MAX_STR;
	long n;
	void *dst = &e->s->buf[OFF(at + 6)];
	if (user)
		n = bpf_probe_read_user_str(dst, STRSZ(room), src);
	else
		n = bpf_probe_read_kernel_str(dst, STRSZ(room), src);
	if (n < 0) {
		n = 0; /* nothing read: flagged, never passed off as "" */
		type |= ARG_UNREADABLE;
	}
	if (n == room && room < MAX_STR)
		type |= ARG_TRUNCATED;
	e->s->buf[OFF(at + 1)] = type;
	__u32 len = n;
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &len, 4);
	e->off = at + 6 + (STRSZ(len));
	e->argnum++;
	return 1;
}

/* save_bytes copies len bytes of kernel or user memory as [u32 len][bytes]. */
static __always_inline int save_bytes(struct event *e, __u8 index, const void *src, __u32 len, int user)
{
	if (len > MAX_STR)
		len = MAX_STR;
	__u32 at = e->off;
	if (!arg_head(e, index, ARG_BYTES, 4 + len))
		return 0;
	long err;
	void *dst = &e->s->buf[OFF(e->off + 4)];
	if (user)
		err = bpf_probe_read_user(dst, STRSZ(len), src);
	else
		err = bpf_probe_read_kernel(dst, STRSZ(len), src);
	if (err) {
		len = 0;
		e->s->buf[OFF(at + 1)] = ARG_BYTES | ARG_UNREADABLE;
	}
	__builtin_memcpy(&e->s->buf[OFF(e->off)], &len, 4);
	e->off += 4 + len;
	e->argnum++;
	return 1;
}

/* save_str_arr copies a NULL-terminated user array of strings (argv) into ONE
 * argument: [u16 count]([u32 len][bytes])*. What does not fit is dropped and
 * the argument flagged truncated; the record is never split. The loop runs in
 * bpf_loop so the verifier checks its body once, not once per element. */
struct strarr_ctx {
	struct scratch *s;
	const char *const *arr;
	__u32 off;
	__u16 count;
	__u8 truncated;
	__u8 unreadable;
};

static long strarr_elem(__u64 i, void *data)
{
	struct strarr_ctx *c = data;
	const char *p = NULL;
	if (bpf_probe_read_user(&p, sizeof(p), &c->arr[i])) {
		c->unreadable = 1;
		return 1;
	}
	if (!p)
		return 1;
	__u32 at = c->off;
	if (at > MAX_RECORD - 5) {
		c->truncated = 1;
		return 1;
	}
	__u32 room = MAX_RECORD - (at + 4);
	if (room > MAX_STR)
		room = MAX_STR;
	long n = bpf_probe_read_user_str(&c->s->buf[OFF(at + 4)], STRSZ(room), p);
	if (n <= 0) {
		/* a string in a page the task has not touched yet (a literal in
		 * a fresh child's text) cannot be read from here */
		c->unreadable = 1;
		return 1;
	}
	__u32 len = n;
	__builtin_memcpy(&c->s->buf[OFF(at)], &len, 4);
	c->off = at + 4 + STRSZ(len);
	c->count++;
	if (n == room && room < MAX_STR) {
		c->truncated = 1;
		return 1;
	}
	return 0;
}

static __always_inline int save_str_arr(struct event *e, __u8 index, const char *const *arr)
{
	if (e->off + 4 > MAX_RECORD)
		return 0;
	struct strarr_ctx c = {.s = e->s, .arr = arr, .off = e->off + 4};
	__u32 head = e->off;
	/* a NULL array is an empty one to the kernel (execve(path, NULL, ...)) */
	long n = arr ? bpf_loop(MAX_ARGV, strarr_elem, &c, 0) : 0;
	if (n == MAX_ARGV && !c.truncated) {
		const char *p = NULL;
		if (!bpf_probe_read_user(&p, sizeof(p), &arr[MAX_ARGV]) && p)
			c.truncated = 1;
	}
	__u8 type = ARG_STR_ARR | (c.truncated ? ARG_TRUNCATED : 0);
	if (c.unreadable) {
		/* part of the array is missing: what was read would pass for
		 * the whole of it, so none of it is sent */
		type = ARG_STR_ARR | ARG_UNREADABLE;
		c.count = 0;
		c.off = head + 4;
	}
	e->s->buf[OFF(head)] = index;
	e->s->buf[OFF(head + 1)] = type;
	__builtin_memcpy(&e->s->buf[OFF(head + 2)], &c.count, 2);
	e->off = c.off;
	e->argnum++;
	return 1;
}

/* save_user_blob copies [start, end) of user memory as one ARG_STR_LIST
 * argument (NUL-separated strings, e.g. a process's argv area). */
static __always_inline int save_str_list(struct event *e, __u8 index, unsigned long start, unsigned long end)
{
	__u8 type = ARG_STR_LIST;
	__u32 len = 0;
	if (end > start)
		len = end - start;
	if (e->off + 2 + 4 + 1 > MAX_RECORD)
		return 0;
	__u32 room = MAX_RECORD - (e->off + 6);
	if (room > MAX_STR * 2 - 1)
		room = MAX_STR * 2 - 1;
	if (len > room) {
		len = room;
		type |= ARG_TRUNCATED;
	}
	__u32 at = e->off;
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = type;
	len &= (MAX_STR * 2 - 1);
	barrier_var(len);
	if (len && bpf_probe_read_user(&e->s->buf[OFF(at + 6)], STRSZ(len), (void *)start)) {
		len = 0;
		e->s->buf[OFF(at + 1)] = ARG_STR_LIST | ARG_UNREADABLE;
	}
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &len, 4);
	e->off = at + 6 + len;
	e->argnum++;
	return 1;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps shared by every vigil BPF object. Each object declares them; the loader
 * creates them once and hands the same map to every object by name.
 */
#ifndef VIGIL_MAPS_H
#define VIGIL_MAPS_H

#include "record.h"

/* Room past MAX_RECORD so a string read at any in-bounds offset stays inside. */
#define SCRATCH_SIZE (MAX_RECORD + 2 * MAX_STR + 64)

struct scratch {
	__u8 buf[SCRATCH_SIZE];
};

/* Where a record is built: too large for the 512-byte stack. Indexed by CPU;
 * an ARRAY rather than a PERCPU_ARRAY because per-CPU values stop at 32 KiB.
 * The loader sizes it to the number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Where a path walk is (path.h). It lives in the map value, not on the
 * stack: the verifier does not track values in maps, so it sees one step of
 * the walk like the next and checks the step once, not once per component. */
#define PATH_HEAD_WORDS 8

struct path_walk {
	/* kernel pointers: struct dentry *, struct vfsmount *, struct mount * */
	__u64 dentry, vfsmnt, mnt, mnt_parent;
	__u32 off; /* where the path built so far starts in buf */
	__u32 pad;
	__u64 mnt_root;       /* the root of the mount walked */
	__u64 mnt_mountpoint; /* where that mount hangs on its parent */
	__u64 id[2];          /* the path's identity so far (path_id) */
	/* the first words of a dentry or a mount, read at once: here rather
	 * than on the stack of the walk's step, which sits at the end of the
	 * deepest call chains (6.1's verifier rounds each frame up to 32
	 * bytes and refuses a chain over 512) */
	__u64 head[PATH_HEAD_WORDS];
};

/* Second per-CPU buffer for building paths backwards from their last component. */
struct pathbuf {
	__u8 buf[MAX_STR * 2 + 256];
	struct path_walk walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} pathbufs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Events that signatures of high severity select (module loads, credential
 * changes, BPF loads, ...) go through a ring buffer of their own, so a flood
 * of routine records cannot crowd them out, and userspace reads it first.
 * critical_ids[id] != 0 routes event id there; the loader fills it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events_critical SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVENT_ID_MAX);
	__type(key, __u32);
	__type(value, __u32);
} critical_ids SEC(".maps");

/* Records the ring buffer refused, per event id and per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EVENT_ID_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* enum event_mode per event id, written by the loader after it chose probes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVENT_ID_MAX);
	__type(key, __u32);
	__type(value, __u32);
} event_modes SEC(".maps");

/* Credentials as compared by the commit_creds fallback. */
struct cred_snap {
	__u32 uid, gid, euid, egid, suid, sgid, fsuid, fsgid;
	__u64 cap_effective;
};

/* execve and execveat entries: the args slot that says whether the caller's
 * argv was empty (neither syscall has a sixth argument). */
#define EXEC_STATE_EMPTY_ARGV 5

/* What a syscall's entry leaves for its exit, keyed by host tid. */
struct syscall_state {
	__u64 args[6];
	__u64 nr;
	struct cred_snap creds;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct syscall_state);
} syscall_states SEC(".maps");

/* The sensor's own process: its activity is not reported. Set before load. */
volatile const __u32 self_tgid = 0;

#endif

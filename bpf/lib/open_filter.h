/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel side of the signatures' interest in file opens (event.Interest,
 * sensor/filter.go): an open no loaded signature can fire on never leaves
 * the kernel.
 *
 * The condition is a disjunction of up to OPEN_FILTER_ALTS alternatives; the
 * loader keeps, per alternative, at most one test of the path and the flag
 * masks, having widened every test the kernel cannot make (a substring, a
 * regex): a record is dropped only when no alternative can hold.
 *
 *   path tests: open_filter_paths, an LPM trie over the resolved path's first
 *     bytes. A prefix is stored as its bytes, an exact name with its NUL, so
 *     the longest match of "<path>\0" finds both; each entry's value is the
 *     set of alternatives it satisfies, its own and those of every shorter
 *     stored prefix of it (the trie returns only the longest).
 *   suffix tests "/name": open_filter_names, the file's own name.
 *   flag tests: open_filter_flagsets[flags & flag_mask], the alternatives
 *     those flag bits allow, computed by the loader for every combination
 *     (one lookup, no loop for the verifier to walk).
 */
#ifndef VIGIL_OPEN_FILTER_H
#define VIGIL_OPEN_FILTER_H

#include "event.h"

#define OPEN_FILTER_ALTS 64
#define OPEN_FILTER_KEY 256
#define OPEN_FILTER_NAME 64

struct open_filter {
	__u32 on;        /* 0: every open is wanted */
	__u32 flag_mask; /* the flag bits some alternative tests */
	__u64 path_free; /* alternatives with no path test the kernel makes */
	__u64 all;       /* every alternative */
};

struct open_filter_key {
	__u32 prefixlen; /* in bits */
	__u8 data[OPEN_FILTER_KEY];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct open_filter);
} open_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct open_filter_key);
	__type(value, __u64);
} open_filter_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[OPEN_FILTER_NAME]);
	__type(value, __u64);
} open_filter_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} open_filter_flagsets SEC(".maps");

/* Where the trie key is built: the stack has no room for it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct open_filter_key);
} open_filter_keys SEC(".maps");

/* open_filter_flags returns the alternatives the open's flags allow; all
 * ones when the filter is off. */
static __always_inline __u64 open_filter_flags(__u32 flags)
{
	__u32 zero = 0;
	struct open_filter *of = bpf_map_lookup_elem(&open_filter, &zero);
	if (!of || !of->on)
		return ~0ULL;
	if (!of->flag_mask)
		return of->all;
	__u32 key = flags & of->flag_mask;
	__u64 *bits = bpf_map_lookup_elem(&open_filter_flagsets, &key);
	return bits ? *bits : of->all;
}

/* open_filter_path tells whether some alternative in alts holds for the
 * path string the record holds at byte `at` (its [index][type][u32 len]
 * head) and the file's own name (NULL when there is no file: then name
 * tests are widened to pass). */
static __always_inline int open_filter_path(struct event *e, __u32 at, __u64 alts, struct file *f)
{
	__u32 zero = 0;
	struct open_filter *of = bpf_map_lookup_elem(&open_filter, &zero);
	if (!of || !of->on)
		return 1;
	if (alts & of->path_free)
		return 1;
	struct open_filter_key *k = bpf_map_lookup_elem(&open_filter_keys, &zero);
	if (!k)
		return 1;
	__u32 len = 0;
	bpf_probe_read_kernel(&len, sizeof(len), &e->s->buf[OFF(at + 2)]);
	/* len counts the NUL: "<path>\0" matches prefixes and exact names */
	if (len > OPEN_FILTER_KEY)
		len = OPEN_FILTER_KEY;
	if (len == 0)
		return 1;
	if (bpf_probe_read_kernel(k->data, len & (OPEN_FILTER_KEY - 1) ? len & (OPEN_FILTER_KEY - 1) : OPEN_FILTER_KEY,
				  &e->s->buf[OFF(at + 6)]))
		return 1;
	k->prefixlen = len * 8;
	__u64 *hit = bpf_map_lookup_elem(&open_filter_paths, k);
	if (hit && (*hit & alts))
		return 1;
	if (!f)
		return 1; /* no file, no name to test: widened */
	char name[OPEN_FILTER_NAME] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	hit = bpf_map_lookup_elem(&open_filter_names, name);
	return hit && (*hit & alts);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel side of the signatures' interest in file opens (event.Interest,
 * sensor/filter.go): an open no loaded signature can fire on never leaves
 * the kernel.
 *
 * The condition is a disjunction of up to OPEN_FILTER_ALTS alternatives,
 * each a conjunction. The loader keeps, per alternative, at most one test of
 * each kind below (the most selective one) and the flag masks, having
 * widened every test the kernel cannot make (it derives literal prefixes,
 * substrings and names from a regex where it can): an alternative holds
 * when every kind of test it has holds, and a record is dropped only when
 * no alternative can hold. Each kind yields the set of alternatives it
 * satisfies; need_* marks the alternatives that have a test of that kind.
 *
 *   path tests: open_filter_paths, an LPM trie over the resolved path's first
 *     bytes. A prefix is stored as its bytes, an exact name with its NUL, so
 *     the longest match of "<path>\0" finds both; each entry's value is the
 *     set of alternatives it satisfies, its own and those of every shorter
 *     stored prefix of it (the trie returns only the longest).
 *   suffix tests "/name": open_filter_names, the file's own name.
 *   substring tests: open_filter_needles, a second LPM trie of the
 *     substrings, looked up with the path from each byte that starts one
 *     (starts[]), within the path's first OPEN_FILTER_KEY bytes (a longer
 *     path passes).
 *   flag tests: open_filter_flagsets[flags & flag_mask], the alternatives
 *     those flag bits allow, computed by the loader for every combination
 *     (one lookup, no loop for the verifier to walk).
 */
#ifndef VIGIL_OPEN_FILTER_H
#define VIGIL_OPEN_FILTER_H

#include "event.h"
#include "path.h"

#define OPEN_FILTER_ALTS 64
#define OPEN_FILTER_KEY 256
#define OPEN_FILTER_NAME 64

struct open_filter {
	__u32 on;        /* 0: every open is wanted */
	__u32 flag_mask; /* the flag bits some alternative tests */
	__u64 need_path;   /* alternatives with a prefix or exact-name test */
	__u64 need_name;   /* ... with a file-name ("/name" suffix) test */
	__u64 need_needle; /* ... with a substring test */
	__u64 all;         /* every alternative */
	__u64 starts[4]; /* first bytes of the substrings, a 256-bit set */
	__u32 has_needles, has_names;
	__u64 gen; /* changes with every filter the loader writes (open_verdicts) */
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

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct open_filter_key);
	__type(value, __u64);
} open_filter_needles SEC(".maps");

/* The filter's verdict on the paths of files opened before, by the path's
 * identity (path_id in lib/path.h): the alternatives whose path, name and
 * substring tests the path passes, under filter generation gen. An open of
 * a file whose identity is known costs a walk of its dentries, not the
 * path's string and the filter's lookups; one whose path changed (a rename
 * of it or of a directory above it, a mount moved) has another identity.
 * An LRU map: a busy host forgets the oldest. */
struct open_verdict_key {
	__u64 id[2];
};

struct open_verdict {
	__u64 held;
	__u64 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct open_verdict_key);
	__type(value, struct open_verdict);
} open_verdicts SEC(".maps");

/* Where the trie keys are built (0: the path, 1: its tail for substrings):
 * the stack has no room for them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
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

struct needle_search {
	struct open_filter *of;
	struct open_filter_key *k, *tail;
	__u64 want;  /* the alternatives still to find a substring for */
	__u64 found; /* the alternatives whose substring was found */
	__u32 len;
};

/* needle_step looks for a substring at byte i of the path in k. */
static long needle_step(__u64 i, struct needle_search *ns)
{
	if (i + 1 >= ns->len)
		return 1;
	struct open_filter_key *k = ns->k, *tail = ns->tail;
	__u8 c = k->data[i & (OPEN_FILTER_KEY - 1)];
	if (!(ns->of->starts[(c >> 6) & 3] & (1ULL << (c & 63))))
		return 0;
	/* 1 <= n <= OPEN_FILTER_KEY since i + 1 < len <= OPEN_FILTER_KEY; the
	 * mask shows the verifier so */
	__u32 n = (((ns->len - i) - 1) & (OPEN_FILTER_KEY - 1)) + 1;
	if (bpf_probe_read_kernel(tail->data, n, &k->data[i & (OPEN_FILTER_KEY - 1)])) {
		ns->found = ~0ULL; /* unreadable: widened */
		return 1;
	}
	tail->prefixlen = (n - 1) * 8; /* the NUL is no part of a substring */
	/* the longest substring starting here; its entry carries those of the
	 * shorter ones it starts with */
	__u64 *hit = bpf_map_lookup_elem(&open_filter_needles, tail);
	if (hit)
		ns->found |= *hit;
	return (ns->want & ~ns->found) == 0;
}

/* open_filter_held returns the alternatives in alts that hold for the path
 * string the record holds at byte `at` (its [index][type][u32 len] head)
 * and the file's own name (NULL when there is no file: then name tests are
 * widened to pass); alts itself where the filter is off or a test could
 * not be made (widened). */
static __always_inline __u64 open_filter_tests(struct event *e, __u32 at, __u64 alts, struct file *f, struct open_filter *of);

static __always_inline __u64 open_filter_held(struct event *e, __u32 at, __u64 alts, struct file *f)
{
	__u32 zero = 0;
	struct open_filter *of = bpf_map_lookup_elem(&open_filter, &zero);
	if (!of || !of->on)
		return alts;
	/* the alternatives no path test narrows: the flags alone decide them */
	__u64 free = alts & ~(of->need_path | of->need_name | of->need_needle);
	if (free == alts)
		return alts;
	return free | open_filter_tests(e, at, alts & ~free, f, of);
}

/* open_filter_tests: open_filter_held for alternatives that all have a
 * path, name or substring test. */
static __always_inline __u64 open_filter_tests(struct event *e, __u32 at, __u64 alts, struct file *f, struct open_filter *of)
{
	__u32 zero = 0;
	struct open_filter_key *k = bpf_map_lookup_elem(&open_filter_keys, &zero);
	if (!k)
		return alts;
	__u32 len = 0;
	bpf_probe_read_kernel(&len, sizeof(len), &e->s->buf[OFF(at + 2)]);
	/* len counts the NUL: "<path>\0" matches prefixes and exact names */
	__u32 full = len;
	if (len > OPEN_FILTER_KEY)
		len = OPEN_FILTER_KEY;
	if (len == 0)
		return alts;
	if (bpf_probe_read_kernel(k->data, len & (OPEN_FILTER_KEY - 1) ? len & (OPEN_FILTER_KEY - 1) : OPEN_FILTER_KEY,
				  &e->s->buf[OFF(at + 6)]))
		return alts;
	if (alts & of->need_path) {
		k->prefixlen = len * 8;
		__u64 *hit = bpf_map_lookup_elem(&open_filter_paths, k);
		alts &= (hit ? *hit : 0) | ~of->need_path;
		if (!alts)
			return 0;
	}
	if (alts & of->need_name) {
		if (!f)
			return alts; /* no file, no name to test: widened */
		char name[OPEN_FILTER_NAME] = {};
		bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
		__u64 *hit = bpf_map_lookup_elem(&open_filter_names, name);
		alts &= (hit ? *hit : 0) | ~of->need_name;
		if (!alts)
			return 0;
	}
	if (!(alts & of->need_needle))
		return alts;
	if (full > OPEN_FILTER_KEY)
		return alts; /* past the bytes searched: widened */
	__u32 one = 1;
	struct open_filter_key *tail = bpf_map_lookup_elem(&open_filter_keys, &one);
	if (!tail)
		return alts;
	/* bpf_loop: the verifier checks the step once, not once per byte for
	 * every path of the caller that reaches here */
	struct needle_search ns = {.of = of, .k = k, .tail = tail, .want = alts & of->need_needle, .len = len};
	bpf_loop(OPEN_FILTER_KEY - 1, needle_step, &ns, 0);
	return alts & (ns.found | ~of->need_needle);
}

/* open_filter_file saves the path of the opened file f (fh, its head)
 * as argument index of e, the record at byte `at`, when some alternative
 * the open's flags allow may hold for it, and says whether one may: 0 drops
 * the record. A file whose path identity has a verdict of this filter's
 * generation is decided by it before its path is built; a verdict that no
 * alternative holds drops the open before its flags are looked up. */
static __always_inline int open_filter_file(struct event *e, __u8 index, __u32 at, __u32 flags, struct file *f,
					    const struct file_head *fh)
{
	__u32 zero = 0;
	struct open_filter *of = bpf_map_lookup_elem(&open_filter, &zero);
	if (!of || !of->on) {
		save_walked_path(e, index, fh->dentry, fh->mnt);
		return 1;
	}
	__u64 gen = of->gen, all = of->all;
	/* the alternatives no path test narrows: the flags alone decide them */
	__u64 free = all & ~(of->need_path | of->need_name | of->need_needle);
	__u64 alts = 0;
	if (free) {
		alts = open_filter_flags(flags);
		if (!alts)
			return 0;
		if (alts & free) {
			save_walked_path(e, index, fh->dentry, fh->mnt);
			return 1;
		}
	}
	struct pathbuf *pb = pathbuf();
	struct open_verdict_key k = {};
	if (pb) {
		path_id(pb, fh->dentry, fh->mnt, k.id);
		struct open_verdict *v = bpf_map_lookup_elem(&open_verdicts, &k);
		if (v && v->gen == gen) {
			__u64 held = v->held;
			if (!held)
				return 0;
			if (!free)
				alts = open_filter_flags(flags);
			if (!(alts & held))
				return 0;
			save_walked_path(e, index, fh->dentry, fh->mnt);
			return 1;
		}
	}
	save_walked_path(e, index, fh->dentry, fh->mnt);
	/* the verdict for every alternative, whatever these flags allow:
	 * the next open of the file may have other flags */
	__u64 held = open_filter_held(e, at, all, f);
	if (pb) {
		struct open_verdict v = {.held = held, .gen = gen};
		bpf_map_update_elem(&open_verdicts, &k, &v, BPF_ANY);
	}
	if (!held)
		return 0;
	if (!free)
		alts = open_filter_flags(flags);
	return (alts & held) != 0;
}

#endif

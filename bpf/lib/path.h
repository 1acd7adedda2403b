/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Resolving a struct path to a string without bpf_d_path (which only fentry/LSM
 * programs may call): walk dentries up to the mount root, then step to the
 * parent mount, writing components backwards into a per-CPU buffer.
 */
#ifndef VIGIL_PATH_H
#define VIGIL_PATH_H

#include "event.h"

#define NAME_MAX_LEN 255
#define PATHBUF_END (MAX_STR * 2 - 1)

static __always_inline __u32 user_dev(dev_t d)
{
	/* kernel dev_t is major<<20|minor; stat(2) encodes it differently */
	__u32 major = d >> 20, minor = d & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* One step of the walk, run by bpf_loop: the verifier checks the body once
 * (its state is in the map value, see struct path_walk) instead of once per
 * possible component, which keeps every program that resolves a path small
 * and quick to load. */
struct path_walk_ctx {
	struct pathbuf *pb;
};

static long path_walk_step(__u64 i, void *data)
{
	struct pathbuf *pb = ((struct path_walk_ctx *)data)->pb;
	struct path_walk *w = &pb->walk;
	/* local copies: CO-RE relocates accesses to kernel types only */
	struct dentry *dentry = (struct dentry *)w->dentry;
	struct vfsmount *vfsmnt = (struct vfsmount *)w->vfsmnt;
	struct mount *mnt = (struct mount *)w->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *d_parent = BPF_CORE_READ(dentry, d_parent);
	int pseudo = 0;
	if (dentry == mnt_root || dentry == d_parent) {
		if (dentry == mnt_root && (__u64)mnt != w->mnt_parent) {
			/* cross to the mount this one hangs on */
			w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = (struct mount *)w->mnt_parent;
			w->mnt = (__u64)mnt;
			w->mnt_parent = (__u64)BPF_CORE_READ(mnt, mnt_parent);
			w->vfsmnt = (__u64)&mnt->mnt;
			return 0;
		}
		if (dentry == mnt_root)
			return 1; /* the global root */
		/* a root that is no mount root: pseudo file systems (memfd,
		 * pipes, anon inodes) or a disconnected dentry. Keep its name. */
		pseudo = 1;
	}
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u32 len = name.len;
	if (len > NAME_MAX_LEN)
		len = NAME_MAX_LEN;
	__u32 at = w->off;
	if (at > PATHBUF_END || at < len + 1 + 1)
		return 1; /* too deep: keep the tail we have */
	__u32 off = (at - (len + 1)) & PATHBUF_END;
	if (bpf_probe_read_kernel(&pb->buf[off + 1], len & NAME_MAX_LEN, name.name))
		return 1;
	pb->buf[off] = '/';
	w->off = off;
	if (pseudo)
		return 1;
	w->dentry = (__u64)d_parent;
	return 0;
}

/* build_path writes path as a NUL-terminated string at the end of pb->buf
 * and returns the offset where it starts. */
static __always_inline __u32 build_path(struct pathbuf *pb, const struct path *path)
{
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	struct path_walk_ctx c = {.pb = pb};
	pb->walk.dentry = (__u64)BPF_CORE_READ(path, dentry);
	pb->walk.vfsmnt = (__u64)vfsmnt;
	pb->walk.mnt = (__u64)mnt;
	pb->walk.mnt_parent = (__u64)BPF_CORE_READ(mnt, mnt_parent);
	pb->walk.off = PATHBUF_END;
	pb->buf[PATHBUF_END] = 0;
	bpf_loop(MAX_PATH_DEPTH, path_walk_step, &c, 0);
	__u32 off = pb->walk.off;
	if (off >= PATHBUF_END) {
		off = PATHBUF_END - 1;
		pb->buf[off] = '/';
	}
	return off & PATHBUF_END;
}

static __always_inline struct pathbuf *pathbuf(void);

/* ---- a path's identity ----
 *
 * What a path string is made of, without building it: every dentry from
 * the file up to the global root with its name's hash and length and its
 * rename count (d_seq, which every d_move of that dentry bumps), and every
 * mount crossed. A rename of the file or of any directory above it, a
 * mount moved, a dentry freed and reused for another name: each changes
 * the identity. Two walks with one identity walked the same dentries under
 * the same names: the same path. Mixed into 128 bits; the pointers mixed
 * in are kernel addresses no caller knows, so no caller can aim at a
 * collision. */
static __always_inline void path_id_mix(struct path_walk *w, __u64 v)
{
	w->id[0] = (w->id[0] ^ v) * 0x9e3779b97f4a7c15ULL;
	w->id[1] = (w->id[1] + v) * 0xc2b2ae3d27d4eb4fULL;
	w->id[1] ^= w->id[1] >> 29;
}

/* The first words of struct dentry hold d_seq, d_parent and d_name (they
 * have since 2.6): one read for the three where this kernel's layout has
 * them there, three reads otherwise. */
#define DENTRY_HEAD_WORDS 8

static __always_inline int dentry_head(struct dentry *d, __u64 *parent, __u64 *hash_len, __u64 *seq)
{
	__u32 op = bpf_core_field_offset(struct dentry, d_parent);
	__u32 oh = bpf_core_field_offset(struct dentry, d_name.hash_len);
	__u32 os = bpf_core_field_offset(struct dentry, d_seq.seqcount.sequence);
	if (op / 8 < DENTRY_HEAD_WORDS && oh / 8 < DENTRY_HEAD_WORDS && os / 4 < 2 * DENTRY_HEAD_WORDS) {
		__u64 w[DENTRY_HEAD_WORDS];
		if (bpf_probe_read_kernel(w, sizeof(w), d))
			return 0;
		*parent = w[op / 8];
		*hash_len = w[oh / 8];
		*seq = ((__u32 *)w)[os / 4];
		return 1;
	}
	*parent = (__u64)BPF_CORE_READ(d, d_parent);
	*hash_len = BPF_CORE_READ(d, d_name.hash_len);
	*seq = BPF_CORE_READ(d, d_seq.seqcount.sequence);
	return 1;
}

static long path_id_step(__u64 i, void *data)
{
	struct pathbuf *pb = ((struct path_walk_ctx *)data)->pb;
	struct path_walk *w = &pb->walk;
	struct mount *mnt = (struct mount *)w->mnt;
	__u64 parent = 0, hash_len = 0, seq = 0;
	if (!dentry_head((struct dentry *)w->dentry, &parent, &hash_len, &seq)) {
		path_id_mix(w, ~0ULL); /* unreadable: the walk ends here, marked */
		return 1;
	}
	struct dentry *d_parent = (struct dentry *)parent;
	struct dentry *dentry = (struct dentry *)w->dentry;
	if (w->dentry == w->mnt_root || dentry == d_parent) {
		if (w->dentry == w->mnt_root && (__u64)mnt != w->mnt_parent) {
			/* as path_walk_step: onto the mount this one hangs on */
			w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = (struct mount *)w->mnt_parent;
			w->mnt = (__u64)mnt;
			w->mnt_parent = (__u64)BPF_CORE_READ(mnt, mnt_parent);
			w->mnt_root = (__u64)BPF_CORE_READ(mnt, mnt.mnt_root);
			path_id_mix(w, (__u64)mnt);
			return 0;
		}
		if (w->dentry == w->mnt_root)
			return 1;
		/* a pseudo file system's root: its name ends the path */
		path_id_mix(w, w->dentry);
		path_id_mix(w, hash_len);
		return 1;
	}
	path_id_mix(w, w->dentry);
	path_id_mix(w, hash_len);
	path_id_mix(w, seq);
	w->dentry = parent;
	return 0;
}

/* path_id computes f's path identity into id; 0 when f's path cannot be
 * read. A walk deeper than MAX_PATH_DEPTH covers the components
 * build_path keeps. */
static __always_inline int path_id(struct pathbuf *pb, struct file *f, __u64 id[2])
{
	struct path p;
	if (!f || bpf_core_read(&p, sizeof(p), &f->f_path))
		return 0;
	struct mount *mnt = container_of(p.mnt, struct mount, mnt);
	struct path_walk_ctx c = {.pb = pb};
	pb->walk.dentry = (__u64)p.dentry;
	pb->walk.vfsmnt = (__u64)p.mnt;
	pb->walk.mnt = (__u64)mnt;
	pb->walk.mnt_parent = (__u64)BPF_CORE_READ(mnt, mnt_parent);
	pb->walk.mnt_root = (__u64)BPF_CORE_READ(p.mnt, mnt_root);
	pb->walk.id[0] = (__u64)mnt;
	pb->walk.id[1] = 0x51ed27a3ULL;
	bpf_loop(MAX_PATH_DEPTH, path_id_step, &c, 0);
	id[0] = pb->walk.id[0];
	id[1] = pb->walk.id[1];
	return 1;
}

static __always_inline struct pathbuf *pathbuf(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&pathbufs, &cpu);
}

static __always_inline int save_path(struct event *e, __u8 index, const struct path *path)
{
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return 0;
	__u32 off = build_path(pb, path);
	return save_str(e, index, &pb->buf[BOUND(off, PATHBUF_END)], 0);
}

static __always_inline int save_file_path(struct event *e, __u8 index, struct file *f)
{
	struct path p;
	if (!f || bpf_core_read(&p, sizeof(p), &f->f_path))
		return save_str(e, index, "", 0);
	return save_path(e, index, &p);
}

/* file behind descriptor fd of task t, NULL when there is none */
static __always_inline struct file *task_fd_file(struct task_struct *t, int fd)
{
	if (fd < 0)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_core_read(&f, sizeof(f), &fds[fd]);
	return f;
}

#endif

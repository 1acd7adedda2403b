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

/* ---- reading the structures a walk visits ----
 *
 * Each bpf_probe_read_kernel costs tens of ns; a walk reads a few per
 * component. The fields a walk needs sit in the first words of struct
 * dentry (d_seq, d_parent, d_name, since 2.6) and of struct mount
 * (mnt_parent, mnt_mountpoint, mnt.mnt_root): one read of those words where
 * this kernel's layout (CO-RE offsets, known at load) has them there,
 * field by field otherwise. */
#define DENTRY_HEAD_WORDS PATH_HEAD_WORDS
#define MOUNT_HEAD_WORDS PATH_HEAD_WORDS

struct dentry_head {
	__u64 parent;   /* struct dentry * */
	__u64 hash_len; /* d_name.hash_len: the name's length in the high half */
	__u64 name;     /* d_name.name */
	__u32 seq;      /* d_seq: every d_move of the dentry bumps it */
};

static __always_inline int dentry_head(struct path_walk *pw, struct dentry *d, struct dentry_head *h)
{
	__u32 op = bpf_core_field_offset(struct dentry, d_parent);
	__u32 oh = bpf_core_field_offset(struct dentry, d_name.hash_len);
	__u32 on = bpf_core_field_offset(struct dentry, d_name.name);
	__u32 os = bpf_core_field_offset(struct dentry, d_seq.seqcount.sequence);
	if (op / 8 < DENTRY_HEAD_WORDS && oh / 8 < DENTRY_HEAD_WORDS && on / 8 < DENTRY_HEAD_WORDS &&
	    os / 4 < 2 * DENTRY_HEAD_WORDS) {
		__u64 *w = pw->head;
		long err = bpf_probe_read_kernel(w, sizeof(pw->head), d);
		h->parent = w[op / 8];
		h->hash_len = w[oh / 8];
		h->name = w[on / 8];
		h->seq = ((__u32 *)w)[os / 4];
		return err == 0;
	}
	h->parent = (__u64)BPF_CORE_READ(d, d_parent);
	h->hash_len = BPF_CORE_READ(d, d_name.hash_len);
	h->name = (__u64)BPF_CORE_READ(d, d_name.name);
	h->seq = BPF_CORE_READ(d, d_seq.seqcount.sequence);
	return 1;
}

/* walk_mount makes mnt the mount walked: its parent, its root and where it
 * hangs, into w. */
static __always_inline void walk_mount(struct path_walk *w, struct mount *mnt)
{
	__u32 op = bpf_core_field_offset(struct mount, mnt_parent);
	__u32 om = bpf_core_field_offset(struct mount, mnt_mountpoint);
	__u32 orr = bpf_core_field_offset(struct mount, mnt.mnt_root);
	w->mnt = (__u64)mnt;
	w->vfsmnt = (__u64)&mnt->mnt;
	if (op / 8 < MOUNT_HEAD_WORDS && om / 8 < MOUNT_HEAD_WORDS && orr / 8 < MOUNT_HEAD_WORDS) {
		__u64 *h = w->head;
		if (bpf_probe_read_kernel(h, sizeof(w->head), mnt))
			__builtin_memset(w->head, 0, sizeof(w->head));
		w->mnt_parent = h[op / 8];
		w->mnt_mountpoint = h[om / 8];
		w->mnt_root = h[orr / 8];
		return;
	}
	w->mnt_parent = (__u64)BPF_CORE_READ(mnt, mnt_parent);
	w->mnt_mountpoint = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
	w->mnt_root = (__u64)BPF_CORE_READ(mnt, mnt.mnt_root);
}

/* walk_start points w at path (dentry, vfsmount). */
static __always_inline void walk_start(struct path_walk *w, struct dentry *dentry, struct vfsmount *vfsmnt)
{
	w->dentry = (__u64)dentry;
	walk_mount(w, container_of(vfsmnt, struct mount, mnt));
}

/* walk_up_mount: at the root of the mount walked, steps onto the mount it
 * hangs on (1) or says this is the global root (0). */
static __always_inline int walk_up_mount(struct path_walk *w)
{
	if (w->mnt == w->mnt_parent)
		return 0;
	w->dentry = w->mnt_mountpoint;
	walk_mount(w, (struct mount *)w->mnt_parent);
	return 1;
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
	if (w->dentry == w->mnt_root)
		/* cross to the mount this one hangs on, or the global root */
		return walk_up_mount(w) ? 0 : 1;
	struct dentry_head h;
	if (!dentry_head(w, (struct dentry *)w->dentry, &h))
		return 1;
	/* a root that is no mount root: pseudo file systems (memfd, pipes,
	 * anon inodes) or a disconnected dentry. Keep its name. */
	int pseudo = h.parent == w->dentry;
	__u32 len = h.hash_len >> 32;
	if (len > NAME_MAX_LEN)
		len = NAME_MAX_LEN;
	__u32 at = w->off;
	if (at > PATHBUF_END || at < len + 1 + 1)
		return 1; /* too deep: keep the tail we have */
	__u32 off = (at - (len + 1)) & PATHBUF_END;
	if (bpf_probe_read_kernel(&pb->buf[off + 1], len & NAME_MAX_LEN, (const void *)h.name))
		return 1;
	pb->buf[off] = '/';
	w->off = off;
	if (pseudo)
		return 1;
	w->dentry = h.parent;
	return 0;
}

/* build_path writes path as a NUL-terminated string at the end of pb->buf
 * and returns the offset where it starts. */
static __always_inline __u32 build_path_of(struct pathbuf *pb, struct dentry *dentry, struct vfsmount *mnt)
{
	struct path_walk_ctx c = {.pb = pb};
	walk_start(&pb->walk, dentry, mnt);
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

static __always_inline __u32 build_path(struct pathbuf *pb, const struct path *path)
{
	struct path p = {};
	bpf_core_read(&p, sizeof(p), path);
	return build_path_of(pb, p.dentry, p.mnt);
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

static long path_id_step(__u64 i, void *data)
{
	struct pathbuf *pb = ((struct path_walk_ctx *)data)->pb;
	struct path_walk *w = &pb->walk;
	if (w->dentry == w->mnt_root) {
		/* as path_walk_step: onto the mount this one hangs on */
		if (!walk_up_mount(w))
			return 1;
		path_id_mix(w, w->mnt);
		return 0;
	}
	struct dentry_head h;
	if (!dentry_head(w, (struct dentry *)w->dentry, &h)) {
		path_id_mix(w, ~0ULL); /* unreadable: the walk ends here, marked */
		return 1;
	}
	path_id_mix(w, w->dentry);
	path_id_mix(w, h.hash_len);
	if (h.parent == w->dentry)
		return 1; /* a pseudo file system's root: its name ends the path */
	path_id_mix(w, h.seq);
	w->dentry = h.parent;
	return 0;
}

/* path_id computes the identity of the path (dentry, mnt) (an open
 * file's f_path) into id. A walk deeper than MAX_PATH_DEPTH covers the components build_path
 * keeps. */
static __always_inline void path_id(struct pathbuf *pb, __u64 dentry, __u64 mnt, __u64 id[2])
{
	struct path_walk_ctx c = {.pb = pb};
	walk_start(&pb->walk, (struct dentry *)dentry, (struct vfsmount *)mnt);
	pb->walk.id[0] = pb->walk.mnt;
	pb->walk.id[1] = 0x51ed27a3ULL;
	bpf_loop(MAX_PATH_DEPTH, path_id_step, &c, 0);
	id[0] = pb->walk.id[0];
	id[1] = pb->walk.id[1];
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

/* save_walked_path: save_path of a path already read (a file_head's) */
static __always_inline int save_walked_path(struct event *e, __u8 index, __u64 dentry, __u64 mnt)
{
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return 0;
	__u32 off = build_path_of(pb, (struct dentry *)dentry, (struct vfsmount *)mnt);
	return save_str(e, index, &pb->buf[BOUND(off, PATHBUF_END)], 0);
}

static __always_inline int save_file_path(struct event *e, __u8 index, struct file *f)
{
	struct path p;
	if (!f || bpf_core_read(&p, sizeof(p), &f->f_path))
		return save_str(e, index, "", 0);
	return save_walked_path(e, index, (__u64)p.dentry, (__u64)p.mnt);
}

/* file behind descriptor fd of task t, NULL when there is none. The
 * fdtable's first words hold max_fds and fd (they have since 2.6): one
 * read for both where this kernel's layout has them there. */
static __always_inline struct file *fdt_file(struct fdtable *fdt, int fd)
{
	unsigned int max;
	struct file **fds;
	__u32 om = bpf_core_field_offset(struct fdtable, max_fds);
	__u32 of = bpf_core_field_offset(struct fdtable, fd);
	if (om / 4 < 8 && of / 8 < 4) {
		__u64 h[4] = {};
		if (bpf_probe_read_kernel(h, sizeof(h), fdt))
			return NULL;
		max = ((__u32 *)h)[om / 4];
		fds = (struct file **)h[of / 8];
	} else {
		max = BPF_CORE_READ(fdt, max_fds);
		fds = BPF_CORE_READ(fdt, fd);
	}
	if ((unsigned int)fd >= max)
		return NULL;
	struct file *f = NULL;
	bpf_core_read(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline struct file *task_fd_file(struct task_struct *t, int fd)
{
	if (fd < 0)
		return NULL;
	return fdt_file(BPF_CORE_READ(t, files, fdt), fd);
}

/* current_fd_file: task_fd_file of the current task, whose files and fd
 * table pointers are plain loads through its BTF pointer. */
static __always_inline struct file *current_fd_file(int fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *t = bpf_get_current_task_btf();
	return fdt_file(t->files->fdt, fd);
}

/* What the open paths read of a struct file: f_mode, f_inode and f_path
 * sit in its first words on every kernel from 4.19 to today's (in another
 * order on each): one read where they do, field by field otherwise. */
#define FILE_HEAD_WORDS 12

struct file_head {
	/* plain words: a struct of kernel types here would be relocated */
	__u64 mnt;    /* f_path.mnt */
	__u64 dentry; /* f_path.dentry */
	__u64 inode;  /* f_inode */
	__u32 mode;   /* f_mode */
};

static __always_inline int file_head(struct file *f, struct file_head *h)
{
	__u32 op = bpf_core_field_offset(struct file, f_path);
	__u32 oi = bpf_core_field_offset(struct file, f_inode);
	__u32 om = bpf_core_field_offset(struct file, f_mode);
	__u32 pm = bpf_core_field_offset(struct path, mnt);
	__u32 pd = bpf_core_field_offset(struct path, dentry);
	if ((op + pm) / 8 < FILE_HEAD_WORDS && (op + pd) / 8 < FILE_HEAD_WORDS && oi / 8 < FILE_HEAD_WORDS &&
	    om / 4 < 2 * FILE_HEAD_WORDS) {
		/* every field set on both outcomes: clang may otherwise
		 * move a copy above the test, which the verifier refuses */
		__u64 w[FILE_HEAD_WORDS] = {};
		long err = bpf_probe_read_kernel(w, sizeof(w), f);
		h->mnt = w[(op + pm) / 8];
		h->dentry = w[(op + pd) / 8];
		h->inode = w[oi / 8];
		h->mode = ((__u32 *)w)[om / 4];
		return err == 0;
	}
	struct path p;
	if (bpf_core_read(&p, sizeof(p), &f->f_path))
		return 0;
	h->mnt = (__u64)p.mnt;
	h->dentry = (__u64)p.dentry;
	h->inode = (__u64)BPF_CORE_READ(f, f_inode);
	h->mode = BPF_CORE_READ(f, f_mode);
	return 1;
}

#endif

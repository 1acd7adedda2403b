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

/* build_path writes path as a NUL-terminated string at the end of pb->buf
 * and returns the offset where it starts. */
static __always_inline __u32 build_path(struct pathbuf *pb, const struct path *path)
{
	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
	__u32 off = PATHBUF_END;
	pb->buf[PATHBUF_END] = 0;

	for (int i = 0; i < MAX_PATH_DEPTH; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *d_parent = BPF_CORE_READ(dentry, d_parent);
		int pseudo = 0;
		if (dentry == mnt_root || dentry == d_parent) {
			if (dentry == mnt_root && mnt != mnt_parent) {
				/* cross to the mount this one hangs on */
				dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
				mnt = mnt_parent;
				mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
				vfsmnt = &mnt->mnt;
				continue;
			}
			if (dentry == mnt_root)
				break; /* the global root */
			/* a root that is no mount root: pseudo file systems (memfd,
			 * pipes, anon inodes) or a disconnected dentry. Keep its name. */
			pseudo = 1;
		}
		struct qstr name = BPF_CORE_READ(dentry, d_name);
		__u32 len = name.len;
		if (len > NAME_MAX_LEN)
			len = NAME_MAX_LEN;
		if (off < len + 1 + 1)
			break; /* too deep: keep the tail we have */
		off -= len + 1;
		off &= PATHBUF_END;
		if (bpf_probe_read_kernel(&pb->buf[off + 1], len & NAME_MAX_LEN, name.name))
			break;
		pb->buf[off] = '/';
		if (pseudo)
			break;
		dentry = d_parent;
	}
	if (off == PATHBUF_END) {
		off--;
		pb->buf[off & PATHBUF_END] = '/';
	}
	return off & PATHBUF_END;
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

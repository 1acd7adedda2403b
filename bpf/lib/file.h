/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers of the file family (file_*.bpf.c): paths given by a caller resolved
 * against its directory fd or working directory, paths of a directory entry
 * under a mounted directory, inode identity, the current syscall seen from a
 * kernel hook.
 */
#ifndef VIGIL_FILE_H
#define VIGIL_FILE_H

#include "event.h"
#include "path.h"
#include "syscall_nr.h"

/* uapi values; vmlinux.h has no macros */
#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define O_ACCMODE 00000003
#define O_WRONLY 00000001
#define O_RDWR 00000002
#define O_CREAT 00000100
#define O_TRUNC 00001000
#define O_APPEND 00002000
#define O_LARGEFILE 00100000
#define O_PATH 010000000
#define O_CLOEXEC 02000000
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define VM_WRITE 0x2
#define VM_EXEC 0x4
#define EPERM 1
#define ENOENT 2
#define EACCES 13
/* include/linux/fs.h: the open created the file (bit 20 from 4.19 to
 * today's kernels; the privileged test checks it on each kernel it runs on) */
#define FMODE_CREATED 0x100000

#define FMODE_WRITE 0x2

/* ---- files written, remembered per inode ----
 *
 * Every successful open for writing (or that creates the file) records who
 * did it, keyed by device and inode. sched_process_exec looks the executed
 * file up: a program written during this boot and then run is seen however
 * its bytes got there (write, copy_file_range, sendfile, splice, a shared
 * mapping, a reflink): all of them need a file opened for writing first. An
 * LRU map, so a busy host forgets the oldest writes, never fails a lookup. */
/* An inode number is reused once its file is gone: the generation the file
 * system gives each new inode (ext4, tmpfs, xfs...) keeps a new file from
 * inheriting the facts of an old one with the same number. */
struct inode_key {
	__u64 ino;
	__u32 dev; /* stat(2) encoding */
	__u32 gen; /* i_generation */
};

struct inode_write {
	__u64 ts; /* bpf_ktime_get_boot_ns() of the last write-open */
	__u32 host_pid;
	__u32 created; /* one of the write-opens created the file */
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inode_key);
	__type(value, struct inode_write);
} inode_writes SEC(".maps");

static __always_inline void inode_key_of(struct inode *ino, struct inode_key *k)
{
	k->ino = BPF_CORE_READ(ino, i_ino);
	k->dev = user_dev(BPF_CORE_READ(ino, i_sb, s_dev));
	k->gen = BPF_CORE_READ(ino, i_generation);
}

/* note_write_open_mode remembers inode ino when it is a regular file and
 * fmode (its file's f_mode) says the file was opened for writing or created
 * by the open. */
static __always_inline void note_write_open_mode(__u32 fmode, struct inode *ino)
{
	if (!(fmode & (FMODE_WRITE | FMODE_CREATED)))
		return;
	if ((BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFREG)
		return;
	struct inode_key k;
	inode_key_of(ino, &k);
	struct inode_write w = {};
	struct inode_write *prev = bpf_map_lookup_elem(&inode_writes, &k);
	w.ts = bpf_ktime_get_boot_ns();
	w.host_pid = bpf_get_current_pid_tgid() >> 32;
	w.created = (fmode & FMODE_CREATED) || (prev && prev->created);
	bpf_get_current_comm(&w.comm, sizeof(w.comm));
	bpf_map_update_elem(&inode_writes, &k, &w, BPF_ANY);
}

/* note_write_open remembers f's inode when f is a regular file opened for
 * writing or created by the open. */
static __always_inline void note_write_open(struct file *f)
{
	if (!f)
		return;
	__u32 fmode = BPF_CORE_READ(f, f_mode);
	if (fmode & (FMODE_WRITE | FMODE_CREATED))
		note_write_open_mode(fmode, BPF_CORE_READ(f, f_inode));
}

/* ---- the inode an unlink removes, for the syscall fallback ----
 *
 * At the unlink syscall's exit the entry is gone, so the fallback cannot
 * name the inode it removed. A file system's own unlink tracepoint (ext4's,
 * bpf/unlink.bpf.c) sees it while the dentry still holds it and leaves it
 * here, keyed by thread; the exit takes it. An LRU map: an unlink that no
 * syscall exit takes (the kernel's own) cannot fill it. */
struct unlinked_inode {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct unlinked_inode);
} unlinked_inodes SEC(".maps");

/* take_unlinked_inode moves what the tracepoint left for the current
 * thread into *u and forgets it; 0 when nothing was left (a file system
 * without such a tracepoint, rmdir). Called first thing at the exit, so a
 * failed unlink's leftover never reaches a later one. */
static __always_inline int take_unlinked_inode(struct unlinked_inode *u)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct unlinked_inode *v = bpf_map_lookup_elem(&unlinked_inodes, &tid);
	if (!v)
		return 0;
	*u = *v;
	bpf_map_delete_elem(&unlinked_inodes, &tid);
	return 1;
}

/* save_unlinked_inode saves the device and inode an unlink removed, or
 * marks both unreadable when they are not known. */
static __always_inline void save_unlinked_inode(struct event *e, __u8 dev_index, __u8 ino_index, int known,
						const struct unlinked_inode *u)
{
	__u32 at = e->off;
	save_u32(e, dev_index, known ? u->dev : 0);
	if (!known && at + 2 <= e->off)
		e->s->buf[OFF(at + 1)] = ARG_U32 | ARG_UNREADABLE;
	at = e->off;
	save_u64(e, ino_index, known ? u->ino : 0);
	if (!known && at + 2 <= e->off)
		e->s->buf[OFF(at + 1)] = ARG_U64 | ARG_UNREADABLE;
}

/* reportable: what a fallback reports: success, and refusals. A
 * refused permission is an attempt worth seeing (a non-root process probing
 * /etc/shadow); "no such file" is everyday noise (the dynamic loader alone
 * makes several per exec) and never reaches the kernel hook either. */
static __always_inline int reportable(long ret)
{
	return ret >= 0 || ret == -EACCES || ret == -EPERM;
}

/* The user-mode registers of the current task: what a kernel hook reads to
 * know which syscall it runs under and with which arguments. */
static __always_inline struct pt_regs *current_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline long current_syscall(struct pt_regs *regs)
{
	return BPF_CORE_READ(regs, orig_ax);
}

/* save_inode saves the device (stat(2) encoding) and inode number. */
static __always_inline void save_inode(struct event *e, __u8 dev_index, __u8 ino_index, struct inode *ino)
{
	__u32 dev = 0;
	__u64 nr = 0;
	if (ino) {
		dev = user_dev(BPF_CORE_READ(ino, i_sb, s_dev));
		nr = BPF_CORE_READ(ino, i_ino);
	}
	save_u32(e, dev_index, dev);
	save_u64(e, ino_index, nr);
}

/* save_dentry_path saves the path of dentry d, a child of directory dir: the
 * LSM path hooks get the parent as a struct path (with its mount, so the walk
 * crosses mounts) and the entry as a bare dentry. */
static __always_inline int save_dentry_path(struct event *e, __u8 index, struct vfsmount *mnt, struct dentry *d)
{
	struct path p = {};
	p.mnt = mnt;
	p.dentry = d;
	return save_path(e, index, &p);
}

/* save_joined saves dir + "/" + name as one string argument: dir a kernel
 * string (a resolved directory), name a relative path in user memory. */
static __always_inline int save_joined(struct event *e, __u8 index, const char *dir, const char *name)
{
	if (e->off + 2 + 4 + 1 > MAX_RECORD)
		return 0;
	__u32 at = e->off;
	__u32 room = MAX_RECORD - (at + 6);
	__u8 type = ARG_STR;
	if (room > MAX_STR)
		room = MAX_STR;
	long n = bpf_probe_read_kernel_str(&e->s->buf[OFF(at + 6)], STRSZ(room), dir);
	__u32 len = n > 0 ? n - 1 : 0; /* without its NUL */
	/* the root is "/": no second slash */
	if (!(len == 1 && e->s->buf[OFF(at + 6)] == '/') && len + 1 < room) {
		e->s->buf[OFF(at + 6 + len)] = '/';
		len++;
	}
	if (len < room) {
		long m = bpf_probe_read_user_str(&e->s->buf[OFF(at + 6 + len)], STRSZ(room - len), name);
		if (m <= 0) {
			/* the caller's name could not be read: the directory
			 * alone would pass for the path */
			len = 0;
			m = 0;
			type |= ARG_UNREADABLE;
		} else if (m == room - len && room < MAX_STR) {
			type |= ARG_TRUNCATED;
		}
		len += m;
	} else {
		type |= ARG_TRUNCATED;
	}
	e->s->buf[OFF(at)] = index;
	e->s->buf[OFF(at + 1)] = type;
	__builtin_memcpy(&e->s->buf[OFF(at + 2)], &len, 4);
	e->off = at + 6 + STRSZ(len);
	e->argnum++;
	return 1;
}

/* skip_dot_slash drops leading "./" from a user path: "./x" is "x". */
static __always_inline const char *skip_dot_slash(const char *p)
{
	for (int i = 0; i < 4; i++) {
		char c[2] = {};
		if (bpf_probe_read_user(c, sizeof(c), p) || c[0] != '.' || c[1] != '/')
			break;
		p += 2;
	}
	return p;
}

/* save_user_path_at saves a path given to a syscall (user memory) made
 * absolute the way the kernel reads it: against the directory behind dirfd,
 * or the working directory for AT_FDCWD; an empty path (AT_EMPTY_PATH) is
 * dirfd's own. "." and ".." inside the path are kept as given. */
static __always_inline int save_user_path_at(struct event *e, __u8 index, int dirfd, const char *upath)
{
	char c = 0;
	upath = skip_dot_slash(upath);
	if (bpf_probe_read_user(&c, 1, upath) || c == '/')
		return save_str(e, index, upath, 1);
	struct path base;
	struct task_struct *t = e->task;
	if (dirfd == AT_FDCWD) {
		struct fs_struct *fs = BPF_CORE_READ(t, fs);
		if (bpf_core_read(&base, sizeof(base), &fs->pwd))
			return save_str(e, index, upath, 1);
	} else {
		struct file *f = task_fd_file(t, dirfd);
		if (!f || bpf_core_read(&base, sizeof(base), &f->f_path))
			return save_str(e, index, upath, 1);
	}
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return save_str(e, index, upath, 1);
	__u32 off = build_path(pb, &base);
	if (c == 0)
		return save_str(e, index, &pb->buf[BOUND(off, PATHBUF_END)], 0);
	return save_joined(e, index, (const char *)&pb->buf[BOUND(off, PATHBUF_END)], upath);
}

#endif

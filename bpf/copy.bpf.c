// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Data that reaches a regular file without a write(2) of the process's own
 * bytes: copy_file_range (cp), sendfile, splice and reflinks (FICLONE,
 * FICLONERANGE), reported as file_copy; and shared writable mappings of a
 * file. Each of them also counts as a write of the destination inode in
 * inode_writes (lib/file.h), so that a later exec of it carries who wrote it
 * and when (sched_process_exec's writer_*), whatever the path.
 *
 * All from the syscall layer, at exit for the copies (the byte count is the
 * return value, the descriptors are still open) and at entry for mmap (its
 * exit slot belongs to security_mmap_file's fallback).
 */
#include "lib/common.h"
#include "lib/file.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* include/uapi/linux/fs.h */
#define FICLONE 0x40049409
#define FICLONERANGE 0x4020940d
#define MAP_SHARED 0x01

struct clone_range {
	__s64 src_fd;
	__u64 src_offset;
	__u64 src_length;
	__u64 dest_offset;
};

static __always_inline int is_regular(struct file *f)
{
	return f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFREG;
}

/* save_pipe_name saves "pipe:[<inode>]", the name /proc shows for a pipe
 * (its dentry has no name of its own: the kernel makes it up when asked) */
/* args: EVENT_FILE_COPY */
static __always_inline void save_pipe_name(struct event *e, __u8 index, __u64 ino)
{
	char s[32] = "pipe:[";
	char d[20];
	int n = 0;
	for (int i = 0; i < 20; i++) {
		d[i] = '0' + ino % 10;
		ino /= 10;
		n++;
		if (!ino)
			break;
	}
	int at = 6;
	for (int i = 19; i >= 0; i--) {
		if (i < n && at < 30)
			s[at++] = d[i];
	}
	if (at < 31)
		s[at] = ']';
	save_str(e, index, s, 0);
}

/* write_start: where a call that wrote n bytes started in f: at *uoff minus
 * n when the caller passed an offset (the kernel advanced it), else at the
 * file position minus n. */
static __always_inline __s64 write_start(struct file *f, const __s64 *uoff, long n)
{
	__s64 pos = 0;
	if (uoff) {
		if (bpf_probe_read_user(&pos, sizeof(pos), uoff))
			return -1;
	} else {
		pos = BPF_CORE_READ(f, f_pos);
	}
	return pos >= n ? pos - n : -1;
}

/* copy_file_range, sendfile, splice, ioctl(FICLONE, FICLONERANGE) at exit */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_file_copy(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	if (ret < 0)
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	int in = -1, out = -1;
	const __s64 *uoff = NULL;
	__s64 off = -1, bytes = ret;
	char sys[20] = {};
	switch (nr) {
	case NR_copy_file_range: /* (fd_in, off_in, fd_out, off_out, len, flags) */
	case NR_splice:          /* (fd_in, off_in, fd_out, off_out, len, flags) */
		in = a[0];
		out = a[2];
		uoff = (const __s64 *)a[3];
		if (nr == NR_splice)
			SYSNAME(sys, "splice");
		else
			SYSNAME(sys, "copy_file_range");
		break;
	case NR_sendfile: /* (out_fd, in_fd, offset, count): written at out's position */
		out = a[0];
		in = a[1];
		SYSNAME(sys, "sendfile");
		break;
	case NR_ioctl: /* (dest_fd, FICLONE, src_fd) or (dest_fd, FICLONERANGE, &range) */
		out = a[0];
		if ((__u32)a[1] == FICLONE) {
			in = a[2];
			off = 0;
			SYSNAME(sys, "ioctl_ficlone");
		} else if ((__u32)a[1] == FICLONERANGE) {
			struct clone_range r = {};
			if (!bpf_probe_read_user(&r, sizeof(r), (void *)a[2])) {
				in = r.src_fd;
				off = r.dest_offset;
				bytes = r.src_length;
			}
			SYSNAME(sys, "ioctl_ficlonerange");
		} else {
			return 0;
		}
		break;
	default:
		return 0;
	}
	/* a copy of nothing (the end of the source) changed nothing */
	if (ret == 0 && nr != NR_ioctl)
		return 0;
	struct file *dst = task_fd_file(t, out);
	if (!is_regular(dst))
		return 0;
	struct inode *dino = BPF_CORE_READ(dst, f_inode);
	if (nr == NR_ioctl && bytes == 0) /* FICLONE, or a range to the end */
		bytes = (__s64)BPF_CORE_READ(dino, i_size) - (off > 0 ? off : 0);
	if (nr != NR_ioctl)
		off = write_start(dst, uoff, ret);

	/* the destination was written: a later exec of it says by whom */
	note_write_open(dst);

	struct event e;
	if (!emit_allowed(EVENT_FILE_COPY, 0) || !event_init(&e, ctx, EVENT_FILE_COPY))
		return 0;
	struct file *src = task_fd_file(t, in);
	struct inode *sino = src ? BPF_CORE_READ(src, f_inode) : NULL;
	if (src) {
		if ((BPF_CORE_READ(sino, i_mode) & S_IFMT) == S_IFIFO &&
		    BPF_CORE_READ(sino, i_sb, s_magic) == PIPEFS_MAGIC)
			save_pipe_name(&e, ARG_FILE_COPY_SRC_PATH, BPF_CORE_READ(sino, i_ino));
		else
			save_file_path(&e, ARG_FILE_COPY_SRC_PATH, src);
		save_inode(&e, ARG_FILE_COPY_SRC_DEV, ARG_FILE_COPY_SRC_INODE, sino);
	}
	save_file_path(&e, ARG_FILE_COPY_PATHNAME, dst);
	save_inode(&e, ARG_FILE_COPY_DEV, ARG_FILE_COPY_INODE, dino);
	save_u32(&e, ARG_FILE_COPY_MODE, BPF_CORE_READ(dino, i_mode));
	save_s64(&e, ARG_FILE_COPY_OFFSET, off);
	save_s64(&e, ARG_FILE_COPY_BYTES, bytes);
	save_str(&e, ARG_FILE_COPY_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* mmap(addr, len, prot, flags, fd, off) at entry: a shared writable mapping
 * of a regular file lets the process write it with plain stores, no syscall
 * per write. The mapping needs the file open for writing (the kernel refuses
 * it otherwise), so note_write_open's test holds. */
SEC("tracepoint/syscalls/sys_enter")
int sys_enter_mmap_shared(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	if (!(a[2] & PROT_WRITE) || !(a[3] & MAP_SHARED) || (a[3] & MAP_ANONYMOUS) || is_self())
		return 0;
	struct file *f = task_fd_file((struct task_struct *)bpf_get_current_task(), (int)a[4]);
	if (is_regular(f))
		note_write_open(f);
	return 0;
}

/* The copy program also notes the destination as written for
 * sched_process_exec's writer_*; shared writable mappings are noted with it
 * (a write path of the same kind: no write(2) of the bytes). */
SYSCALLS(sys_exit_file_copy, copy_file_range, sendfile, splice, ioctl);
SYSCALLS(sys_enter_mmap_shared, mmap);
PROBE(FILE_COPY, "syscalls", sys_exit_file_copy, sys_enter_mmap_shared);

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Writes: vfs_write, vfs_writev and magic_write (the first bytes written to a
 * file). The syscall fallback runs at entry, where the file position is still
 * where the write starts.
 *
 * Each event is fed by the kernel function it is named after where the kernel
 * lets us trace it (fentry, else kprobe, both from one HOOK) and by the syscall
 * layer otherwise (see the PROBE declarations). Syscall fallbacks run at sys_exit
 * and read the arguments from the saved user registers (only ax is overwritten
 * with the return value), so they need no entry program.
 */
#include "lib/common.h"
#include "lib/file.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- magic_write, vfs_write, vfs_writev ---- */

#define MAGIC_LEN 20

/* A write at offset 0 of a regular file: its first bytes say what the file
 * is (an ELF header, a #! line). O_APPEND writes land at the end whatever
 * the position says. */
static __always_inline int writes_file_head(struct file *f, __u64 pos)
{
	if (pos != 0)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if ((BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	if ((BPF_CORE_READ(f, f_flags) & O_APPEND) && BPF_CORE_READ(ino, i_size) > 0)
		return 0;
	return 1;
}

/* magic_write args: 0 pathname, 1 bytes, 2 dev, 3 inode. */
static __always_inline void emit_magic_write(void *ctx, struct file *f, const void *ubuf, __u64 count, int fallback)
{
	struct event e;
	if (!count || !emit_allowed(EVENT_MAGIC_WRITE, fallback) || !event_init(&e, ctx, EVENT_MAGIC_WRITE))
		return;
	save_file_path(&e, ARG_MAGIC_WRITE_PATHNAME, f);
	save_bytes(&e, ARG_MAGIC_WRITE_BYTES, ubuf, count < MAGIC_LEN ? count : MAGIC_LEN, 1);
	save_inode(&e, ARG_MAGIC_WRITE_DEV, ARG_MAGIC_WRITE_INODE, BPF_CORE_READ(f, f_inode));
	event_submit(&e, 0);
}

/* vfs_write args: 0 pathname, 1 fd, 2 count, 3 pos; vfs_writev: count is
 * the number of iovecs (vlen). */
/* args: EVENT_VFS_WRITE, EVENT_VFS_WRITEV */
static __always_inline void emit_vfs_write(void *ctx, __u32 id, struct file *f, int fd, __u64 count, __u64 pos)
{
	struct event e;
	if (!event_init(&e, ctx, id))
		return;
	save_file_path(&e, ARG_VFS_WRITE_PATHNAME, f);
	save_s32(&e, ARG_VFS_WRITE_FD, fd);
	/* the one argument the two name apart */
	save_u64(&e, id == EVENT_VFS_WRITEV ? ARG_VFS_WRITEV_VLEN : ARG_VFS_WRITE_COUNT, count);
	save_s64(&e, ARG_VFS_WRITE_POS, pos);
	event_submit(&e, 0);
}

/* The fd is the current syscall's first argument when the write came from
 * one of the syscalls named; kernel-internal writes have none (-1). */
static __always_inline int hook_write_fd(int vec)
{
	struct pt_regs *regs = current_regs();
	long nr = current_syscall(regs);
	if (vec ? (nr == NR_writev || nr == NR_pwritev || nr == NR_pwritev2) : (nr == NR_write || nr == NR_pwrite64))
		return BPF_CORE_READ(regs, di);
	return -1;
}

static __always_inline void write_hook(void *ctx, struct file *f, const void *ubuf, __u64 count, loff_t *ppos,
				       __u64 vlen, int vec)
{
	if (is_self())
		return;
	__u32 id = vec ? EVENT_VFS_WRITEV : EVENT_VFS_WRITE;
	int magic = emit_allowed(EVENT_MAGIC_WRITE, 0), all = emit_allowed(id, 0);
	if (!magic && !all)
		return;
	__u64 pos = 0;
	if (ppos)
		bpf_probe_read_kernel(&pos, sizeof(pos), ppos);
	if (magic && writes_file_head(f, pos))
		emit_magic_write(ctx, f, ubuf, count, 0);
	if (all)
		emit_vfs_write(ctx, id, f, hook_write_fd(vec), vec ? vlen : count, pos);
}

HOOK(vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos)
{
	write_hook(ctx, file, buf, count, pos, 0, 0);
	return 0;
}

/* the magic bytes of a vectored write are the start of its first iovec */
static __always_inline void writev_hook(void *ctx, struct file *f, const struct iovec *vec, unsigned long vlen, loff_t *pos)
{
	struct iovec iov = {};
	if (vlen)
		bpf_probe_read_user(&iov, sizeof(iov), vec);
	write_hook(ctx, f, iov.iov_base, iov.iov_len, pos, vlen, 1);
}

HOOK(vfs_writev, struct file *file, const struct iovec *vec, unsigned long vlen, loff_t *pos)
{
	writev_hook(ctx, file, vec, vlen, pos);
	return 0;
}

/* write, pwrite64, writev, pwritev, pwritev2 at entry, where the file
 * position is still where the write starts. */
SEC("tracepoint/syscalls/sys_enter")
int sys_enter_write(struct syscall_enter_ctx *ctx)
{
	if (is_self())
		return 0;
	long nr = ctx->nr;
	int vec = nr == NR_writev || nr == NR_pwritev || nr == NR_pwritev2;
	__u32 id = vec ? EVENT_VFS_WRITEV : EVENT_VFS_WRITE;
	int magic = emit_allowed(EVENT_MAGIC_WRITE, 1), all = emit_allowed(id, 1);
	if (!magic && !all)
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	struct file *f = current_fd_file(a[0]);
	if (!f)
		return 0;
	/* pwrite64(fd, buf, count, pos), pwritev(fd, iov, vlen, pos, pos_h),
	 * pwritev2(..., flags): pos -1 in pwritev2 means the file position */
	__s64 pos = BPF_CORE_READ(f, f_pos);
	if (nr == NR_pwrite64 || nr == NR_pwritev || (nr == NR_pwritev2 && (__s64)a[3] != -1))
		pos = a[3];
	const void *buf = (const void *)a[1];
	__u64 count = a[2];
	if (vec) {
		struct iovec iov = {};
		if (a[2])
			bpf_probe_read_user(&iov, sizeof(iov), (void *)a[1]);
		buf = iov.iov_base;
		count = iov.iov_len;
	}
	if (magic && writes_file_head(f, pos))
		emit_magic_write(ctx, f, buf, count, 1);
	if (all)
		emit_vfs_write(ctx, id, f, a[0], a[2], pos);
	return 0;
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_enter_write, write, pwrite64, writev, pwritev, pwritev2);
HOOK_PROBES(MAGIC_WRITE, vfs_write + vfs_writev);
FALLBACK(MAGIC_WRITE, "syscalls", sys_enter_write);
HOOK_PROBES(VFS_WRITE, vfs_write);
FALLBACK(VFS_WRITE, "syscalls", sys_enter_write(write, pwrite64));
HOOK_PROBES(VFS_WRITEV, vfs_writev);
FALLBACK(VFS_WRITEV, "syscalls", sys_enter_write(writev, pwritev, pwritev2));

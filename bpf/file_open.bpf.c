// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Files opened and truncated: security_file_open and the open syscalls, do_truncate.
 *
 * Each event is fed by the kernel function it is named after where the kernel
 * lets us trace it (fentry, else kprobe, both from one HOOK) and by the syscall
 * layer otherwise (see the PROBE declarations). Syscall fallbacks run at sys_exit
 * and read the arguments from the saved user registers (only ax is overwritten
 * with the return value), so they need no entry program.
 */
#include "lib/common.h"
#include "lib/file.h"
#include "lib/open_filter.h"
#include "lib/raw_exit.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- security_file_open ---- */

/* Args: 0 pathname, 1 flags, 2 mode (the inode's), 3 dev, 4 inode, 5 fs_type,
 * 6 created, 7 syscall (fallback only). The path is saved first, with the
 * record's header left for later (event_begin): the open filter decides on
 * it, and most opens go no further. */
/* args: EVENT_SECURITY_FILE_OPEN */
static __always_inline void save_open_file(struct event *e, struct file *f, const struct file_head *fh)
{
	struct inode *ino = (struct inode *)fh->inode;
	save_u32(e, ARG_SECURITY_FILE_OPEN_MODE, BPF_CORE_READ(ino, i_mode));
	save_inode(e, ARG_SECURITY_FILE_OPEN_DEV, ARG_SECURITY_FILE_OPEN_INODE, ino);
	save_str(e, ARG_SECURITY_FILE_OPEN_FS_TYPE, BPF_CORE_READ(ino, i_sb, s_type, name), 0);
	save_bool(e, ARG_SECURITY_FILE_OPEN_CREATED, (fh->mode & FMODE_CREATED) != 0);
}

static __always_inline void file_open_hook(void *ctx, struct file *f)
{
	struct event e;
	struct file_head fh;
	if (is_self() || !file_head(f, &fh))
		return;
	note_write_open_mode(fh.mode, (struct inode *)fh.inode);
	if (!emit_allowed(EVENT_SECURITY_FILE_OPEN, 0))
		return;
	__u32 flags = BPF_CORE_READ(f, f_flags);
	if (!event_begin(&e, ctx))
		return;
	if (!open_filter_file(&e, ARG_SECURITY_FILE_OPEN_PATHNAME, e.off, flags, f, &fh))
		return;
	event_header(&e, EVENT_SECURITY_FILE_OPEN);
	save_open_file(&e, f, &fh);
	save_u32(&e, ARG_SECURITY_FILE_OPEN_FLAGS, flags);
	event_submit(&e, 0);
}

HOOK(security_file_open, struct file *file)
{
	file_open_hook(ctx, file);
	return 0;
}

/* do_truncate args: 0 pathname, 1 length, 2 syscall (fallback only). */
static __always_inline void emit_open_truncate(void *ctx, struct file *f, const char *sys)
{
	struct event e;
	if (!emit_allowed(EVENT_DO_TRUNCATE, 1) || !event_init(&e, ctx, EVENT_DO_TRUNCATE))
		return;
	save_file_path(&e, ARG_DO_TRUNCATE_PATHNAME, f);
	save_s64(&e, ARG_DO_TRUNCATE_LENGTH, 0);
	save_str(&e, ARG_DO_TRUNCATE_SYSCALL, sys, 0);
	event_submit(&e, 0);
}

/* open, openat, openat2, creat at exit: the returned fd's file is resolved as
 * the hook sees it. A refused open never reaches the LSM hook (permission is
 * checked before it), so refusals are reported from here whichever probe
 * feeds the event, with the path the caller gave. */
static __always_inline int open_exit(void *ctx, long nr, long ret)
{
	/* the opened file, read once: its f_mode, inode and path serve the
	 * write-open record, the filter and the record */
	struct file *f = NULL;
	struct file_head fh = {};
	if (ret >= 0) {
		f = current_fd_file(ret);
		if (f && !file_head(f, &fh))
			f = NULL;
	}
	/* the write-open record is kept whichever probe feeds the event: the
	 * kernel hook does it too, and the newest writer wins */
	if (f)
		note_write_open_mode(fh.mode, (struct inode *)fh.inode);
	__u32 m = event_mode(EVENT_SECURITY_FILE_OPEN);
	int want_open = ret >= 0 ? emit_allowed(EVENT_SECURITY_FILE_OPEN, 1) : m != MODE_OFF && reportable(ret);
	if (!want_open && !emit_allowed(EVENT_DO_TRUNCATE, 1))
		return 0;

	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	int dirfd = AT_FDCWD;
	const char *upath;
	__u32 flags;
	char sys[8] = {};
	switch (nr) {
	case NR_open: /* open(path, flags, mode) */
		upath = (const char *)a[0];
		flags = a[1];
		SYSNAME(sys, "open");
		break;
	case NR_creat: /* creat(path, mode) */
		upath = (const char *)a[0];
		flags = O_CREAT | O_WRONLY | O_TRUNC;
		SYSNAME(sys, "creat");
		break;
	case NR_openat: /* openat(dirfd, path, flags, mode) */
		dirfd = a[0];
		upath = (const char *)a[1];
		flags = a[2];
		SYSNAME(sys, "openat");
		break;
	case NR_openat2: { /* openat2(dirfd, path, struct open_how *, size) */
		struct open_how how = {};
		bpf_probe_read_user(&how, sizeof(how), (void *)a[2]);
		dirfd = a[0];
		upath = (const char *)a[1];
		flags = how.flags;
		SYSNAME(sys, "openat2");
		break;
	}
	default:
		return 0;
	}
	/* what the hook sees in f_flags: the kernel adds O_LARGEFILE to every
	 * open on 64-bit and keeps O_CLOEXEC in the fd table instead */
	flags = (flags | O_LARGEFILE) & ~O_CLOEXEC;
	/* an O_PATH open opens nothing: no LSM check, and none reported here */
	if (ret >= 0 && (flags & O_PATH))
		return 0;

	/* a refused open has no file: its flags, then the path the caller
	 * gave, decide */
	__u64 alts = want_open && !f ? open_filter_flags(flags) : 0;
	if (f ? want_open : alts != 0) {
		struct event e;
		if (event_begin(&e, ctx)) {
			__u32 at = e.off;
			int keep;
			if (f) {
				keep = open_filter_file(&e, ARG_SECURITY_FILE_OPEN_PATHNAME, at, flags, f, &fh);
			} else {
				save_user_path_at(&e, ARG_SECURITY_FILE_OPEN_PATHNAME, dirfd, upath);
				keep = open_filter_held(&e, at, alts, NULL) != 0;
			}
			if (keep) {
				event_header(&e, EVENT_SECURITY_FILE_OPEN);
				if (f) {
					save_open_file(&e, f, &fh);
				} else {
					save_u32(&e, ARG_SECURITY_FILE_OPEN_MODE, 0);
					save_inode(&e, ARG_SECURITY_FILE_OPEN_DEV, ARG_SECURITY_FILE_OPEN_INODE, NULL);
					save_str(&e, ARG_SECURITY_FILE_OPEN_FS_TYPE, "", 0);
					save_bool(&e, ARG_SECURITY_FILE_OPEN_CREATED, 0);
				}
				save_u32(&e, ARG_SECURITY_FILE_OPEN_FLAGS, flags);
				save_str(&e, ARG_SECURITY_FILE_OPEN_SYSCALL, sys, 0);
				event_submit(&e, ret);
			}
		}
	}
	/* do_truncate fallback: O_TRUNC truncates an existing regular file (one
	 * the open did not create), whatever the access mode */
	struct inode *ino = (struct inode *)fh.inode;
	if (f && (flags & O_TRUNC) && (BPF_CORE_READ(ino, i_mode) & S_IFMT) == S_IFREG && !(fh.mode & FMODE_CREATED))
		emit_open_truncate(ctx, f, sys);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_open(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	return open_exit(ctx, ctx->nr, ctx->ret);
}

/* The same handler called from the raw sys_exit program where that one is
 * attached anyway (lib/raw_exit.h): it is not attached itself. */
SEC("raw_tracepoint/sys_exit")
int raw_exit_open(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_self())
		return 0;
	return open_exit(ctx, raw_exit_nr(), (long)ctx->args[1]);
}

/* ---- do_truncate ---- */

/* Every truncation passes do_truncate: truncate(2), ftruncate(2) and an
 * O_TRUNC open of an existing file. Only the last two hand it their file;
 * truncate(2) is taken at security_path_truncate, which has the path with
 * its mount (6.1 also calls that hook for the other two: skipped there). */
static __always_inline void emit_truncate_hook(void *ctx, const struct path *path, struct file *f, __s64 length)
{
	struct event e;
	if (!emit_allowed(EVENT_DO_TRUNCATE, 0) || !event_init(&e, ctx, EVENT_DO_TRUNCATE))
		return;
	if (f)
		save_file_path(&e, ARG_DO_TRUNCATE_PATHNAME, f);
	else
		save_path(&e, ARG_DO_TRUNCATE_PATHNAME, path);
	save_s64(&e, ARG_DO_TRUNCATE_LENGTH, length);
	event_submit(&e, 0);
}

HOOK(do_truncate, void *idmap, struct dentry *dentry, loff_t length, unsigned int time_attrs, struct file *filp)
{
	if (!is_self() && filp)
		emit_truncate_hook(ctx, NULL, filp, length);
	return 0;
}

static __always_inline void path_truncate_hook(void *ctx, const struct path *path)
{
	if (is_self())
		return;
	struct pt_regs *regs = current_regs();
	if (current_syscall(regs) != NR_truncate)
		return;
	emit_truncate_hook(ctx, path, NULL, BPF_CORE_READ(regs, si));
}

HOOK(security_path_truncate, const struct path *path)
{
	path_truncate_hook(ctx, path);
	return 0;
}

/* truncate(path, length), ftruncate(fd, length) at exit */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_truncate(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_DO_TRUNCATE, 1) || !event_init(&e, ctx, EVENT_DO_TRUNCATE))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	char sys[12] = {};
	if (ctx->nr == NR_ftruncate) {
		SYSNAME(sys, "ftruncate");
		save_file_path(&e, ARG_DO_TRUNCATE_PATHNAME, task_fd_file(e.task, a[0]));
	} else {
		SYSNAME(sys, "truncate");
		save_user_path_at(&e, ARG_DO_TRUNCATE_PATHNAME, AT_FDCWD, (const char *)a[0]);
	}
	save_s64(&e, ARG_DO_TRUNCATE_LENGTH, a[1]);
	save_str(&e, ARG_DO_TRUNCATE_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_exit_open, open, openat, openat2, creat);
SYSCALLS(sys_exit_truncate, truncate, ftruncate);
HOOK_PROBES(SECURITY_FILE_OPEN, security_file_open, sys_exit_open);
FALLBACK(SECURITY_FILE_OPEN, "syscalls", sys_exit_open);
HOOK_PROBES(DO_TRUNCATE, do_truncate + security_path_truncate);
FALLBACK(DO_TRUNCATE, "syscalls (truncate, ftruncate, and O_TRUNC opens)", sys_exit_truncate, sys_exit_open);

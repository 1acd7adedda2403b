// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Files: opens, unlinks, renames, links, memory protection, the first bytes
 * written to a file, mounts, device nodes, mode changes, truncation.
 *
 * Each event is fed by the kernel function it is named after where the kernel
 * lets us trace it (fentry, else kprobe) and by the syscall layer otherwise.
 * The path events hook the LSM *path* hooks (security_path_unlink, ...) rather
 * than the inode ones: they get the parent directory as a struct path, mount
 * included, so the reported path is the one the caller sees, across mounts.
 *
 * Syscall fallbacks run at sys_exit and read the arguments from the saved
 * user registers (only ax is overwritten with the return value), so they need
 * no entry program; mprotect and write are seen at entry, where the old
 * protection and the file position are still those the call starts from.
 */
#include "lib/common.h"
#include "lib/file.h"
#include "lib/open_filter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- security_file_open ---- */

/* Args: 0 pathname, 1 flags, 2 mode (the inode's), 3 dev, 4 inode, 5 fs_type,
 * 6 created, 7 syscall (fallback only). */
/* args: EVENT_SECURITY_FILE_OPEN */
static __always_inline void save_open_file(struct event *e, struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	save_file_path(e, ARG_SECURITY_FILE_OPEN_PATHNAME, f);
	save_u32(e, ARG_SECURITY_FILE_OPEN_MODE, BPF_CORE_READ(ino, i_mode));
	save_inode(e, ARG_SECURITY_FILE_OPEN_DEV, ARG_SECURITY_FILE_OPEN_INODE, ino);
	save_str(e, ARG_SECURITY_FILE_OPEN_FS_TYPE, BPF_CORE_READ(ino, i_sb, s_type, name), 0);
	save_bool(e, ARG_SECURITY_FILE_OPEN_CREATED, (BPF_CORE_READ(f, f_mode) & FMODE_CREATED) != 0);
}

static __always_inline void file_open_hook(void *ctx, struct file *f)
{
	struct event e;
	if (is_self())
		return;
	note_write_open(f);
	if (!emit_allowed(EVENT_SECURITY_FILE_OPEN, 0))
		return;
	__u32 flags = BPF_CORE_READ(f, f_flags);
	__u64 alts = open_filter_flags(flags);
	if (!alts || !event_init(&e, ctx, EVENT_SECURITY_FILE_OPEN))
		return;
	__u32 at = e.off;
	save_open_file(&e, f);
	if (!open_filter_path(&e, at, alts, f))
		return;
	save_u32(&e, ARG_SECURITY_FILE_OPEN_FLAGS, flags);
	event_submit(&e, 0);
}

SEC("fentry/security_file_open")
int BPF_PROG(fentry_security_file_open, struct file *file)
{
	file_open_hook(ctx, file);
	return 0;
}

SEC("kprobe/security_file_open")
int BPF_KPROBE(kprobe_security_file_open, struct file *file)
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
SEC("raw_tracepoint/sys_exit")
int sys_exit_open(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	/* the write-open record is kept whichever probe feeds the event: the
	 * kernel hook does it too, and the newest writer wins */
	if (ret >= 0)
		note_write_open(task_fd_file((struct task_struct *)bpf_get_current_task(), ret));
	__u32 m = event_mode(EVENT_SECURITY_FILE_OPEN);
	int want_open = ret >= 0 ? emit_allowed(EVENT_SECURITY_FILE_OPEN, 1) : m != MODE_OFF && reportable(ret);
	if (!want_open && !emit_allowed(EVENT_DO_TRUNCATE, 1))
		return 0;

	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
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

	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file *f = ret >= 0 ? task_fd_file(t, ret) : NULL;
	__u64 alts = want_open ? open_filter_flags(flags) : 0;
	if (alts) {
		struct event e;
		if (event_init(&e, ctx, EVENT_SECURITY_FILE_OPEN)) {
			__u32 at = e.off;
			if (f) {
				save_open_file(&e, f);
			} else {
				save_user_path_at(&e, ARG_SECURITY_FILE_OPEN_PATHNAME, dirfd, upath);
				save_u32(&e, ARG_SECURITY_FILE_OPEN_MODE, 0);
				save_inode(&e, ARG_SECURITY_FILE_OPEN_DEV, ARG_SECURITY_FILE_OPEN_INODE, NULL);
				save_str(&e, ARG_SECURITY_FILE_OPEN_FS_TYPE, "", 0);
				save_bool(&e, ARG_SECURITY_FILE_OPEN_CREATED, 0);
			}
			save_u32(&e, ARG_SECURITY_FILE_OPEN_FLAGS, flags);
			save_str(&e, ARG_SECURITY_FILE_OPEN_SYSCALL, sys, 0);
			if (open_filter_path(&e, at, alts, f))
				event_submit(&e, ret);
		}
	}
	/* do_truncate fallback: O_TRUNC truncates an existing regular file (one
	 * the open did not create), whatever the access mode */
	if (f && (flags & O_TRUNC) && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFREG &&
	    !(BPF_CORE_READ(f, f_mode) & FMODE_CREATED))
		emit_open_truncate(ctx, f, sys);
	return 0;
}

/* ---- security_inode_unlink (unlink and rmdir) ---- */

/* Args: 0 pathname, 1 inode, 2 dev, 3 dir, 4 syscall (fallback only). */
static __always_inline void unlink_hook(void *ctx, const struct path *dir, struct dentry *d, int rmdir)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_INODE_UNLINK, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_UNLINK))
		return;
	save_dentry_path(&e, ARG_SECURITY_INODE_UNLINK_PATHNAME, BPF_CORE_READ(dir, mnt), d);
	save_inode(&e, ARG_SECURITY_INODE_UNLINK_DEV, ARG_SECURITY_INODE_UNLINK_INODE, BPF_CORE_READ(d, d_inode));
	save_bool(&e, ARG_SECURITY_INODE_UNLINK_DIR, rmdir);
	event_submit(&e, 0);
}

SEC("fentry/security_path_unlink")
int BPF_PROG(fentry_security_path_unlink, const struct path *dir, struct dentry *dentry)
{
	unlink_hook(ctx, dir, dentry, 0);
	return 0;
}

SEC("fentry/security_path_rmdir")
int BPF_PROG(fentry_security_path_rmdir, const struct path *dir, struct dentry *dentry)
{
	unlink_hook(ctx, dir, dentry, 1);
	return 0;
}

SEC("kprobe/security_path_unlink")
int BPF_KPROBE(kprobe_security_path_unlink, const struct path *dir, struct dentry *dentry)
{
	unlink_hook(ctx, dir, dentry, 0);
	return 0;
}

SEC("kprobe/security_path_rmdir")
int BPF_KPROBE(kprobe_security_path_rmdir, const struct path *dir, struct dentry *dentry)
{
	unlink_hook(ctx, dir, dentry, 1);
	return 0;
}

/* unlink, unlinkat, rmdir at exit; the entry is gone by then: inode and dev
 * come from the file system's unlink tracepoint (unlink.bpf.c), else they
 * are unreadable. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_unlink(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct unlinked_inode gone;
	int known = take_unlinked_inode(&gone);
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_UNLINK, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	int dirfd = AT_FDCWD, rmdir = 0;
	const char *upath = (const char *)a[0];
	char sys[12] = {};
	switch (nr) {
	case NR_unlink: SYSNAME(sys, "unlink"); break;
	case NR_rmdir: SYSNAME(sys, "rmdir"); rmdir = 1; break;
	case NR_unlinkat: /* unlinkat(dirfd, path, flags) */
		dirfd = a[0];
		upath = (const char *)a[1];
		rmdir = (a[2] & AT_REMOVEDIR) != 0;
		SYSNAME(sys, "unlinkat");
		break;
	default: return 0;
	}
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_UNLINK))
		return 0;
	save_user_path_at(&e, ARG_SECURITY_INODE_UNLINK_PATHNAME, dirfd, upath);
	save_unlinked_inode(&e, ARG_SECURITY_INODE_UNLINK_DEV, ARG_SECURITY_INODE_UNLINK_INODE, known && ret == 0, &gone);
	save_bool(&e, ARG_SECURITY_INODE_UNLINK_DIR, rmdir);
	save_str(&e, ARG_SECURITY_INODE_UNLINK_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- security_inode_rename ---- */

/* Args: 0 old_path, 1 new_path, 2 flags, 3 inode, 4 dev, 5 syscall. */
static __always_inline void rename_hook(void *ctx, const struct path *old_dir, struct dentry *old_dentry,
					const struct path *new_dir, struct dentry *new_dentry, __u32 flags)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_INODE_RENAME, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_RENAME))
		return;
	save_dentry_path(&e, ARG_SECURITY_INODE_RENAME_OLD_PATH, BPF_CORE_READ(old_dir, mnt), old_dentry);
	save_dentry_path(&e, ARG_SECURITY_INODE_RENAME_NEW_PATH, BPF_CORE_READ(new_dir, mnt), new_dentry);
	save_u32(&e, ARG_SECURITY_INODE_RENAME_FLAGS, flags);
	save_inode(&e, ARG_SECURITY_INODE_RENAME_DEV, ARG_SECURITY_INODE_RENAME_INODE, BPF_CORE_READ(old_dentry, d_inode));
	event_submit(&e, 0);
}

SEC("fentry/security_path_rename")
int BPF_PROG(fentry_security_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	rename_hook(ctx, old_dir, old_dentry, new_dir, new_dentry, flags);
	return 0;
}

SEC("kprobe/security_path_rename")
int BPF_KPROBE(kprobe_security_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	       const struct path *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	rename_hook(ctx, old_dir, old_dentry, new_dir, new_dentry, flags);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_rename(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_RENAME, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	int olddfd = AT_FDCWD, newdfd = AT_FDCWD;
	const char *oldp = (const char *)a[0], *newp = (const char *)a[1];
	__u32 flags = 0;
	char sys[12] = {};
	switch (nr) {
	case NR_rename: SYSNAME(sys, "rename"); break;
	case NR_renameat: /* renameat(olddfd, old, newdfd, new) */
	case NR_renameat2: /* renameat2(olddfd, old, newdfd, new, flags) */
		olddfd = a[0];
		oldp = (const char *)a[1];
		newdfd = a[2];
		newp = (const char *)a[3];
		if (nr == NR_renameat2) {
			flags = a[4];
			SYSNAME(sys, "renameat2");
		} else {
			SYSNAME(sys, "renameat");
		}
		break;
	default: return 0;
	}
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_RENAME))
		return 0;
	save_user_path_at(&e, ARG_SECURITY_INODE_RENAME_OLD_PATH, olddfd, oldp);
	save_user_path_at(&e, ARG_SECURITY_INODE_RENAME_NEW_PATH, newdfd, newp);
	save_u32(&e, ARG_SECURITY_INODE_RENAME_FLAGS, flags);
	save_inode(&e, ARG_SECURITY_INODE_RENAME_DEV, ARG_SECURITY_INODE_RENAME_INODE, NULL);
	save_str(&e, ARG_SECURITY_INODE_RENAME_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- security_inode_symlink ---- */

/* Args: 0 pathname (the new link), 1 target (its content), 2 syscall. */
static __always_inline void symlink_hook(void *ctx, const struct path *dir, struct dentry *d, const char *target)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_INODE_SYMLINK, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_SYMLINK))
		return;
	save_dentry_path(&e, ARG_SECURITY_INODE_SYMLINK_PATHNAME, BPF_CORE_READ(dir, mnt), d);
	save_str(&e, ARG_SECURITY_INODE_SYMLINK_TARGET, target, 0);
	event_submit(&e, 0);
}

SEC("fentry/security_path_symlink")
int BPF_PROG(fentry_security_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name)
{
	symlink_hook(ctx, dir, dentry, old_name);
	return 0;
}

SEC("kprobe/security_path_symlink")
int BPF_KPROBE(kprobe_security_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name)
{
	symlink_hook(ctx, dir, dentry, old_name);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_symlink(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_SYMLINK, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	int dirfd = AT_FDCWD;
	const char *linkp = (const char *)a[1];
	char sys[12] = {};
	switch (nr) {
	case NR_symlink: SYSNAME(sys, "symlink"); break; /* symlink(target, linkpath) */
	case NR_symlinkat: /* symlinkat(target, newdirfd, linkpath) */
		dirfd = a[1];
		linkp = (const char *)a[2];
		SYSNAME(sys, "symlinkat");
		break;
	default: return 0;
	}
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_SYMLINK))
		return 0;
	save_user_path_at(&e, ARG_SECURITY_INODE_SYMLINK_PATHNAME, dirfd, linkp);
	save_str(&e, ARG_SECURITY_INODE_SYMLINK_TARGET, (const char *)a[0], 1);
	save_str(&e, ARG_SECURITY_INODE_SYMLINK_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- security_inode_link ---- */

/* Args: 0 old_path, 1 new_path, 2 inode, 3 dev, 4 syscall. A hard link never
 * crosses mounts: the old entry lives on new_dir's mount. */
static __always_inline void link_hook(void *ctx, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_INODE_LINK, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_LINK))
		return;
	struct vfsmount *mnt = BPF_CORE_READ(new_dir, mnt);
	save_dentry_path(&e, ARG_SECURITY_INODE_LINK_OLD_PATH, mnt, old_dentry);
	save_dentry_path(&e, ARG_SECURITY_INODE_LINK_NEW_PATH, mnt, new_dentry);
	save_inode(&e, ARG_SECURITY_INODE_LINK_DEV, ARG_SECURITY_INODE_LINK_INODE, BPF_CORE_READ(old_dentry, d_inode));
	event_submit(&e, 0);
}

SEC("fentry/security_path_link")
int BPF_PROG(fentry_security_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	link_hook(ctx, old_dentry, new_dir, new_dentry);
	return 0;
}

SEC("kprobe/security_path_link")
int BPF_KPROBE(kprobe_security_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	link_hook(ctx, old_dentry, new_dir, new_dentry);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit_link(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_LINK, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	int olddfd = AT_FDCWD, newdfd = AT_FDCWD;
	const char *oldp = (const char *)a[0], *newp = (const char *)a[1];
	char sys[8] = {};
	switch (nr) {
	case NR_link: SYSNAME(sys, "link"); break;
	case NR_linkat: /* linkat(olddfd, old, newdfd, new, flags) */
		olddfd = a[0];
		oldp = (const char *)a[1];
		newdfd = a[2];
		newp = (const char *)a[3];
		SYSNAME(sys, "linkat");
		break;
	default: return 0;
	}
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_LINK))
		return 0;
	save_user_path_at(&e, ARG_SECURITY_INODE_LINK_OLD_PATH, olddfd, oldp);
	save_user_path_at(&e, ARG_SECURITY_INODE_LINK_NEW_PATH, newdfd, newp);
	save_inode(&e, ARG_SECURITY_INODE_LINK_DEV, ARG_SECURITY_INODE_LINK_INODE, NULL);
	save_str(&e, ARG_SECURITY_INODE_LINK_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- security_file_mprotect, security_mmap_file, mem_prot_alert ---- */

/* mem_prot_alert args: 0 alert, 1 start, 2 len, 3 prot, 4 vm_flags,
 * 5 pathname. */
static __always_inline void emit_prot_alert(void *ctx, const char *alert, __u64 start, __u64 len, __u64 prot,
					    __u64 vm_flags, const char *path, int fallback)
{
	struct event e;
	if (!emit_allowed(EVENT_MEM_PROT_ALERT, fallback) || !event_init(&e, ctx, EVENT_MEM_PROT_ALERT))
		return;
	save_str(&e, ARG_MEM_PROT_ALERT_ALERT, alert, 0);
	save_u64(&e, ARG_MEM_PROT_ALERT_START, start);
	save_u64(&e, ARG_MEM_PROT_ALERT_LEN, len);
	save_u32(&e, ARG_MEM_PROT_ALERT_PROT, prot);
	save_u64(&e, ARG_MEM_PROT_ALERT_VM_FLAGS, vm_flags);
	save_str(&e, ARG_MEM_PROT_ALERT_PATHNAME, path, 0);
	event_submit(&e, 0);
}

/* security_file_mprotect args: 0 start, 1 len, 2 prot, 3 vm_flags,
 * 4 pathname (of the mapped file, "" for anonymous memory), 5 syscall.
 * path is a kernel string. Only changes that involve executable memory are
 * reported (the new protection or the old mapping is executable): the rest
 * (RELRO after every exec, heap growth) is frequent and says nothing. */
static __always_inline void emit_mprotect(void *ctx, __u64 start, __u64 len, __u64 prot, __u64 vm_flags,
					  const char *path, const char *sys, int fallback)
{
	struct event e;
	if (!(prot & PROT_EXEC) && !(vm_flags & VM_EXEC))
		return;
	if (emit_allowed(EVENT_SECURITY_FILE_MPROTECT, fallback) && event_init(&e, ctx, EVENT_SECURITY_FILE_MPROTECT)) {
		save_u64(&e, ARG_SECURITY_FILE_MPROTECT_START, start);
		save_u64(&e, ARG_SECURITY_FILE_MPROTECT_LEN, len);
		save_u32(&e, ARG_SECURITY_FILE_MPROTECT_PROT, prot);
		save_u64(&e, ARG_SECURITY_FILE_MPROTECT_VM_FLAGS, vm_flags);
		save_str(&e, ARG_SECURITY_FILE_MPROTECT_PATHNAME, path, 0);
		if (sys)
			save_str(&e, ARG_SECURITY_FILE_MPROTECT_SYSCALL, sys, 0);
		event_submit(&e, 0);
	}
	char alert[20] = {};
	if ((prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
		SYSNAME(alert, "mprotect_wx");
	else if ((prot & PROT_EXEC) && (vm_flags & VM_WRITE) && !(vm_flags & VM_EXEC))
		SYSNAME(alert, "mprotect_x_after_w");
	else
		return;
	emit_prot_alert(ctx, alert, start, len, prot, vm_flags, path, fallback);
}

/* file_path_in_buf writes the path of f (or "" for none) to the per-CPU path
 * buffer and returns it. */
static __always_inline const char *file_path_in_buf(struct pathbuf *pb, struct file *f)
{
	struct path p;
	if (!f || bpf_core_read(&p, sizeof(p), &f->f_path)) {
		pb->buf[PATHBUF_END] = 0;
		return (const char *)&pb->buf[PATHBUF_END];
	}
	__u32 off = build_path(pb, &p);
	return (const char *)&pb->buf[BOUND(off, PATHBUF_END)];
}

/* The hook runs once per mapping the range covers; start and len are the
 * syscall's. */
static __always_inline void mprotect_hook(void *ctx, struct vm_area_struct *vma, unsigned long reqprot)
{
	if (is_self())
		return;
	__u64 vm_flags = BPF_CORE_READ(vma, vm_flags);
	if (!(reqprot & PROT_EXEC) && !(vm_flags & VM_EXEC))
		return;
	struct pt_regs *regs = current_regs();
	__u64 start = BPF_CORE_READ(vma, vm_start), len = BPF_CORE_READ(vma, vm_end) - start;
	long nr = current_syscall(regs);
	if (nr == NR_mprotect || nr == NR_pkey_mprotect) {
		start = BPF_CORE_READ(regs, di);
		len = BPF_CORE_READ(regs, si);
	}
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return;
	const char *path = file_path_in_buf(pb, BPF_CORE_READ(vma, vm_file));
	emit_mprotect(ctx, start, len, reqprot, vm_flags, path, NULL, 0);
}

SEC("fentry/security_file_mprotect")
int BPF_PROG(fentry_security_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot)
{
	mprotect_hook(ctx, vma, reqprot);
	return 0;
}

SEC("kprobe/security_file_mprotect")
int BPF_KPROBE(kprobe_security_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot)
{
	mprotect_hook(ctx, vma, reqprot);
	return 0;
}

struct vma_info {
	__u64 addr;
	__u64 vm_flags;
	const char *path;
};

/* bpf_find_vma gives the first mapping that ends above addr; it holds the
 * mmap lock while this runs, so the mapping and its file stay put. */
static long vma_at(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_info *v = data;
	if (BPF_CORE_READ(vma, vm_start) > v->addr)
		return 0;
	v->vm_flags = BPF_CORE_READ(vma, vm_flags);
	struct pathbuf *pb = pathbuf();
	if (pb)
		v->path = file_path_in_buf(pb, BPF_CORE_READ(vma, vm_file));
	return 0;
}

/* mprotect(start, len, prot), pkey_mprotect(start, len, prot, pkey) at entry,
 * while the mapping still has its old protection. Only the mapping at start
 * is looked at. */
SEC("raw_tracepoint/sys_enter")
int sys_enter_mprotect(struct bpf_raw_tracepoint_args *ctx)
{
	if (!emit_allowed(EVENT_SECURITY_FILE_MPROTECT, 1) && !emit_allowed(EVENT_MEM_PROT_ALERT, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	char sys[16] = {};
	if (ctx->args[1] == NR_pkey_mprotect)
		SYSNAME(sys, "pkey_mprotect");
	else
		SYSNAME(sys, "mprotect");
	char none[1] = {};
	struct vma_info v = {.addr = a[0], .path = none};
	bpf_find_vma(bpf_get_current_task_btf(), a[0], vma_at, &v, 0);
	emit_mprotect(ctx, a[0], a[1], a[2], v.vm_flags, v.path, sys, 1);
	return 0;
}

/* security_mmap_file args: 0 addr (as asked for), 1 len, 2 prot, 3 flags,
 * 4 pathname ("" for anonymous memory), 5 dev, 6 inode. Only executable
 * mappings are reported: every malloc arena and thread stack is a mapping. */
static __always_inline void emit_mmap(void *ctx, __u64 addr, __u64 len, __u64 prot, __u64 flags,
				      struct file *f, long ret, int fallback)
{
	struct event e;
	if (emit_allowed(EVENT_SECURITY_MMAP_FILE, fallback) && event_init(&e, ctx, EVENT_SECURITY_MMAP_FILE)) {
		save_u64(&e, ARG_SECURITY_MMAP_FILE_ADDR, addr);
		save_u64(&e, ARG_SECURITY_MMAP_FILE_LEN, len);
		save_u32(&e, ARG_SECURITY_MMAP_FILE_PROT, prot);
		save_u32(&e, ARG_SECURITY_MMAP_FILE_FLAGS, flags);
		save_file_path(&e, ARG_SECURITY_MMAP_FILE_PATHNAME, f);
		save_inode(&e, ARG_SECURITY_MMAP_FILE_DEV, ARG_SECURITY_MMAP_FILE_INODE, f ? BPF_CORE_READ(f, f_inode) : NULL);
		event_submit(&e, ret);
	}
	if ((prot & (PROT_WRITE | PROT_EXEC)) != (PROT_WRITE | PROT_EXEC))
		return;
	struct pathbuf *pb = pathbuf();
	if (!pb)
		return;
	char alert[8] = {};
	SYSNAME(alert, "mmap_wx");
	emit_prot_alert(ctx, alert, addr, len, prot, 0, file_path_in_buf(pb, f), fallback);
}

/* Only mappings asked for with mmap(2): the kernel's own mappings of an exec
 * (the program, its interpreter) are the exec event's business. */
static __always_inline void mmap_hook(void *ctx, struct file *f, unsigned long prot, unsigned long flags)
{
	if (is_self() || !(prot & PROT_EXEC))
		return;
	struct pt_regs *regs = current_regs();
	if (current_syscall(regs) != NR_mmap)
		return;
	emit_mmap(ctx, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), prot, flags, f, 0, 0);
}

SEC("fentry/security_mmap_file")
int BPF_PROG(fentry_security_mmap_file, struct file *file, unsigned long prot, unsigned long flags)
{
	mmap_hook(ctx, file, prot, flags);
	return 0;
}

SEC("kprobe/security_mmap_file")
int BPF_KPROBE(kprobe_security_mmap_file, struct file *file, unsigned long prot, unsigned long flags)
{
	mmap_hook(ctx, file, prot, flags);
	return 0;
}

/* mmap(addr, len, prot, flags, fd, off) at exit: the return value is the
 * mapped address. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_mmap(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	if (!(a[2] & PROT_EXEC))
		return 0;
	struct file *f = NULL;
	if (!(a[3] & MAP_ANONYMOUS))
		f = task_fd_file((struct task_struct *)bpf_get_current_task(), a[4]);
	emit_mmap(ctx, a[0], a[1], a[2], a[3], f, ctx->args[1], 1);
	return 0;
}

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

SEC("fentry/vfs_write")
int BPF_PROG(fentry_vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos)
{
	write_hook(ctx, file, buf, count, pos, 0, 0);
	return 0;
}

SEC("kprobe/vfs_write")
int BPF_KPROBE(kprobe_vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos)
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

SEC("fentry/vfs_writev")
int BPF_PROG(fentry_vfs_writev, struct file *file, const struct iovec *vec, unsigned long vlen, loff_t *pos)
{
	writev_hook(ctx, file, vec, vlen, pos);
	return 0;
}

SEC("kprobe/vfs_writev")
int BPF_KPROBE(kprobe_vfs_writev, struct file *file, const struct iovec *vec, unsigned long vlen, loff_t *pos)
{
	writev_hook(ctx, file, vec, vlen, pos);
	return 0;
}

/* write, pwrite64, writev, pwritev, pwritev2 at entry, where the file
 * position is still where the write starts. */
SEC("raw_tracepoint/sys_enter")
int sys_enter_write(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_self())
		return 0;
	long nr = ctx->args[1];
	int vec = nr == NR_writev || nr == NR_pwritev || nr == NR_pwritev2;
	__u32 id = vec ? EVENT_VFS_WRITEV : EVENT_VFS_WRITE;
	int magic = emit_allowed(EVENT_MAGIC_WRITE, 1), all = emit_allowed(id, 1);
	if (!magic && !all)
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	struct file *f = task_fd_file((struct task_struct *)bpf_get_current_task(), a[0]);
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

/* ---- security_sb_mount, security_sb_umount ---- */

/* security_sb_mount args: 0 dev_name, 1 path (the mount point), 2 fs_type,
 * 3 flags, 4 syscall. The hook runs before the permission check, so
 * refused attempts are seen too. */
static __always_inline void mount_hook(void *ctx, const char *dev_name, const struct path *path, const char *type,
				       unsigned long flags)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_SB_MOUNT, 0) || !event_init(&e, ctx, EVENT_SECURITY_SB_MOUNT))
		return;
	save_str(&e, ARG_SECURITY_SB_MOUNT_DEV_NAME, dev_name, 0);
	save_path(&e, ARG_SECURITY_SB_MOUNT_PATH, path);
	save_str(&e, ARG_SECURITY_SB_MOUNT_FS_TYPE, type, 0);
	save_u64(&e, ARG_SECURITY_SB_MOUNT_FLAGS, flags);
	event_submit(&e, 0);
}

SEC("fentry/security_sb_mount")
int BPF_PROG(fentry_security_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data)
{
	mount_hook(ctx, dev_name, path, type, flags);
	return 0;
}

SEC("kprobe/security_sb_mount")
int BPF_KPROBE(kprobe_security_sb_mount, const char *dev_name, const struct path *path, const char *type,
	       unsigned long flags, void *data)
{
	mount_hook(ctx, dev_name, path, type, flags);
	return 0;
}

/* mount(source, target, fstype, flags, data) at exit, refusals included */
SEC("raw_tracepoint/sys_exit")
int sys_exit_mount(struct bpf_raw_tracepoint_args *ctx)
{
	struct event e;
	if (!emit_allowed(EVENT_SECURITY_SB_MOUNT, 1) || !event_init(&e, ctx, EVENT_SECURITY_SB_MOUNT))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	char sys[8] = "mount";
	save_str(&e, ARG_SECURITY_SB_MOUNT_DEV_NAME, (const char *)a[0], 1);
	save_user_path_at(&e, ARG_SECURITY_SB_MOUNT_PATH, AT_FDCWD, (const char *)a[1]);
	save_str(&e, ARG_SECURITY_SB_MOUNT_FS_TYPE, (const char *)a[2], 1);
	save_u64(&e, ARG_SECURITY_SB_MOUNT_FLAGS, a[3]);
	save_str(&e, ARG_SECURITY_SB_MOUNT_SYSCALL, sys, 0);
	event_submit(&e, ctx->args[1]);
	return 0;
}

/* security_sb_umount args: 0 path (the mount point), 1 flags, 2 syscall. */
static __always_inline void umount_hook(void *ctx, struct vfsmount *mnt, int flags)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_SB_UMOUNT, 0) || !event_init(&e, ctx, EVENT_SECURITY_SB_UMOUNT))
		return;
	save_dentry_path(&e, ARG_SECURITY_SB_UMOUNT_PATH, mnt, BPF_CORE_READ(mnt, mnt_root));
	save_s32(&e, ARG_SECURITY_SB_UMOUNT_FLAGS, flags);
	event_submit(&e, 0);
}

SEC("fentry/security_sb_umount")
int BPF_PROG(fentry_security_sb_umount, struct vfsmount *mnt, int flags)
{
	umount_hook(ctx, mnt, flags);
	return 0;
}

SEC("kprobe/security_sb_umount")
int BPF_KPROBE(kprobe_security_sb_umount, struct vfsmount *mnt, int flags)
{
	umount_hook(ctx, mnt, flags);
	return 0;
}

/* umount2(target, flags) at exit */
SEC("raw_tracepoint/sys_exit")
int sys_exit_umount(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_SB_UMOUNT, 1) || !event_init(&e, ctx, EVENT_SECURITY_SB_UMOUNT))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	char sys[8] = "umount2";
	save_user_path_at(&e, ARG_SECURITY_SB_UMOUNT_PATH, AT_FDCWD, (const char *)a[0]);
	save_s32(&e, ARG_SECURITY_SB_UMOUNT_FLAGS, a[1]);
	save_str(&e, ARG_SECURITY_SB_UMOUNT_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- security_inode_mknod ---- */

/* Device nodes and FIFOs. The path hook also runs for every regular file an
 * open creates and for every unix socket bound to a path: those are the
 * open's and the socket's business. */
static __always_inline int mknod_reported(__u32 mode)
{
	__u32 type = mode & S_IFMT;
	return type == S_IFCHR || type == S_IFBLK || type == S_IFIFO;
}

/* security_inode_mknod args: 0 pathname, 1 mode, 2 dev (stat(2) encoding),
 * 3 syscall. */
static __always_inline void mknod_hook(void *ctx, const struct path *dir, struct dentry *d, __u32 mode, __u32 dev)
{
	struct event e;
	if (is_self() || !mknod_reported(mode) || !emit_allowed(EVENT_SECURITY_INODE_MKNOD, 0))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_INODE_MKNOD))
		return;
	save_dentry_path(&e, ARG_SECURITY_INODE_MKNOD_PATHNAME, BPF_CORE_READ(dir, mnt), d);
	save_u32(&e, ARG_SECURITY_INODE_MKNOD_MODE, mode);
	/* still the caller's encoding: do_mknodat decodes it after the hook */
	save_u32(&e, ARG_SECURITY_INODE_MKNOD_DEV, dev);
	event_submit(&e, 0);
}

SEC("fentry/security_path_mknod")
int BPF_PROG(fentry_security_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode, unsigned int dev)
{
	mknod_hook(ctx, dir, dentry, mode, dev);
	return 0;
}

SEC("kprobe/security_path_mknod")
int BPF_KPROBE(kprobe_security_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode, unsigned int dev)
{
	mknod_hook(ctx, dir, dentry, mode, dev);
	return 0;
}

/* mknod(path, mode, dev), mknodat(dirfd, path, mode, dev) at exit */
SEC("raw_tracepoint/sys_exit")
int sys_exit_mknod(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_MKNOD, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	int dirfd = AT_FDCWD;
	const char *upath = (const char *)a[0];
	__u32 mode = a[1], dev = a[2];
	char sys[8] = {};
	if (nr == NR_mknodat) {
		dirfd = a[0];
		upath = (const char *)a[1];
		mode = a[2];
		dev = a[3];
		SYSNAME(sys, "mknodat");
	} else {
		SYSNAME(sys, "mknod");
	}
	if (!mknod_reported(mode) || !event_init(&e, ctx, EVENT_SECURITY_INODE_MKNOD))
		return 0;
	save_user_path_at(&e, ARG_SECURITY_INODE_MKNOD_PATHNAME, dirfd, upath);
	save_u32(&e, ARG_SECURITY_INODE_MKNOD_MODE, mode);
	save_u32(&e, ARG_SECURITY_INODE_MKNOD_DEV, dev);
	save_str(&e, ARG_SECURITY_INODE_MKNOD_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- security_path_chmod ---- */

#define S_IALLUGO 07777

/* security_path_chmod args: 0 pathname, 1 mode (the new permission bits),
 * 2 old_mode (type and permission bits before the change; 0 when unknown),
 * 3 syscall, 4 setuid, 5 setgid (the new mode has the bit). */
/* args: EVENT_SECURITY_PATH_CHMOD */
static __always_inline void save_chmod_mode(struct event *e, __u32 mode)
{
	save_u32(e, ARG_SECURITY_PATH_CHMOD_MODE, mode & S_IALLUGO);
	save_bool(e, ARG_SECURITY_PATH_CHMOD_SETUID, (mode & S_ISUID) != 0);
	save_bool(e, ARG_SECURITY_PATH_CHMOD_SETGID, (mode & S_ISGID) != 0);
}

static __always_inline void chmod_hook(void *ctx, const struct path *path, __u32 mode)
{
	struct event e;
	if (is_self() || !emit_allowed(EVENT_SECURITY_PATH_CHMOD, 0) || !event_init(&e, ctx, EVENT_SECURITY_PATH_CHMOD))
		return;
	save_path(&e, ARG_SECURITY_PATH_CHMOD_PATHNAME, path);
	save_chmod_mode(&e, mode);
	save_u32(&e, ARG_SECURITY_PATH_CHMOD_OLD_MODE, BPF_CORE_READ(path, dentry, d_inode, i_mode));
	event_submit(&e, 0);
}

SEC("fentry/security_path_chmod")
int BPF_PROG(fentry_security_path_chmod, const struct path *path, umode_t mode)
{
	chmod_hook(ctx, path, mode);
	return 0;
}

SEC("kprobe/security_path_chmod")
int BPF_KPROBE(kprobe_security_path_chmod, const struct path *path, umode_t mode)
{
	chmod_hook(ctx, path, mode);
	return 0;
}

/* chmod(path, mode), fchmod(fd, mode), fchmodat(dirfd, path, mode),
 * fchmodat2(dirfd, path, mode, flags) at exit, when the old mode is gone. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_chmod(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_PATH_CHMOD, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	char sys[12] = {};
	__u32 mode;
	switch (nr) {
	case NR_chmod: SYSNAME(sys, "chmod"); mode = a[1]; break;
	case NR_fchmod: SYSNAME(sys, "fchmod"); mode = a[1]; break;
	case NR_fchmodat: SYSNAME(sys, "fchmodat"); mode = a[2]; break;
	case NR_fchmodat2: SYSNAME(sys, "fchmodat2"); mode = a[2]; break;
	default: return 0;
	}
	if (!event_init(&e, ctx, EVENT_SECURITY_PATH_CHMOD))
		return 0;
	if (nr == NR_chmod)
		save_user_path_at(&e, ARG_SECURITY_PATH_CHMOD_PATHNAME, AT_FDCWD, (const char *)a[0]);
	else if (nr == NR_fchmod)
		save_file_path(&e, ARG_SECURITY_PATH_CHMOD_PATHNAME, task_fd_file(e.task, a[0]));
	else
		save_user_path_at(&e, ARG_SECURITY_PATH_CHMOD_PATHNAME, a[0], (const char *)a[1]);
	save_chmod_mode(&e, mode);
	save_u32(&e, ARG_SECURITY_PATH_CHMOD_OLD_MODE, 0);
	save_str(&e, ARG_SECURITY_PATH_CHMOD_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

/* ---- setxattr (security.* attributes) ---- */

/* The extended attributes the kernel's security modules read: file
 * capabilities (security.capability), SELinux and Smack labels, IMA and EVM
 * hashes. Other namespaces (user.*, trusted.*, system.posix_acl_*) are left
 * out: desktop tools and backups set them all day. */
#define XATTR_SECURITY_PREFIX_LEN 9

struct cap_value {
	__u32 magic_etc;
	__u32 permitted0, inheritable0;
	__u32 permitted1, inheritable1;
	__u32 rootid;
};

/* setxattr args: 0 pathname, 1 name, 2 value (its first bytes), 3 size,
 * 4 flags, 5 syscall; for security.capability also 6 cap_permitted,
 * 7 cap_inheritable, 8 cap_effective, 9 cap_version, 10 cap_rootid. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_setxattr(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SETXATTR, 0))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	char sys[12] = {};
	const char *uname, *uvalue;
	__u32 size, flags;
	switch (nr) {
	case NR_setxattr: SYSNAME(sys, "setxattr"); break;
	case NR_lsetxattr: SYSNAME(sys, "lsetxattr"); break;
	case NR_fsetxattr: SYSNAME(sys, "fsetxattr"); break;
	case NR_setxattrat: SYSNAME(sys, "setxattrat"); break;
	default: return 0;
	}
	if (nr == NR_setxattrat) {
		/* setxattrat(dirfd, path, at_flags, name, struct xattr_args *, usize) */
		struct { __u64 value; __u32 size, flags; } xa = {};
		if (bpf_probe_read_user(&xa, sizeof(xa), (void *)a[4]))
			return 0;
		uname = (const char *)a[3];
		uvalue = (const char *)xa.value;
		size = xa.size;
		flags = xa.flags;
	} else {
		/* (path or fd, name, value, size, flags) */
		uname = (const char *)a[1];
		uvalue = (const char *)a[2];
		size = a[3];
		flags = a[4];
	}
	char name[24] = {};
	if (bpf_probe_read_user_str(name, sizeof(name), uname) <= XATTR_SECURITY_PREFIX_LEN)
		return 0;
	if (name[0] != 's' || name[1] != 'e' || name[2] != 'c' || name[3] != 'u' || name[4] != 'r' ||
	    name[5] != 'i' || name[6] != 't' || name[7] != 'y' || name[8] != '.')
		return 0;
	if (!event_init(&e, ctx, EVENT_SETXATTR))
		return 0;
	if (nr == NR_fsetxattr)
		save_file_path(&e, ARG_SETXATTR_PATHNAME, task_fd_file(e.task, a[0]));
	else if (nr == NR_setxattrat)
		save_user_path_at(&e, ARG_SETXATTR_PATHNAME, a[0], (const char *)a[1]);
	else
		save_user_path_at(&e, ARG_SETXATTR_PATHNAME, AT_FDCWD, (const char *)a[0]);
	save_str(&e, ARG_SETXATTR_NAME, uname, 1);
	save_bytes(&e, ARG_SETXATTR_VALUE, uvalue, size < 64 ? size : 64, 1);
	save_u32(&e, ARG_SETXATTR_SIZE, size);
	save_u32(&e, ARG_SETXATTR_FLAGS, flags);
	save_str(&e, ARG_SETXATTR_SYSCALL, sys, 0);
	/* "security.capability": a struct vfs_cap_data (v1 12 bytes, v2 20,
	 * v3 24 with the root uid of its user namespace) */
	if (name[9] == 'c' && name[10] == 'a' && name[11] == 'p' && name[12] == 'a' && name[13] == 'b' &&
	    name[14] == 'i' && name[15] == 'l' && name[16] == 'i' && name[17] == 't' && name[18] == 'y' &&
	    name[19] == 0 && size >= 12) {
		struct cap_value c = {};
		long err;
		if (size >= 24)
			err = bpf_probe_read_user(&c, 24, uvalue);
		else if (size >= 20)
			err = bpf_probe_read_user(&c, 20, uvalue);
		else
			err = bpf_probe_read_user(&c, 12, uvalue);
		if (!err) {
			save_u64(&e, ARG_SETXATTR_CAP_PERMITTED, c.permitted0 | ((__u64)c.permitted1 << 32));
			save_u64(&e, ARG_SETXATTR_CAP_INHERITABLE, c.inheritable0 | ((__u64)c.inheritable1 << 32));
			save_bool(&e, ARG_SETXATTR_CAP_EFFECTIVE, c.magic_etc & 1);
			save_u32(&e, ARG_SETXATTR_CAP_VERSION, c.magic_etc >> 24);
			if (size >= 24)
				save_u32(&e, ARG_SETXATTR_CAP_ROOTID, c.rootid);
		}
	}
	event_submit(&e, ret);
	return 0;
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

SEC("fentry/do_truncate")
int BPF_PROG(fentry_do_truncate, void *idmap, struct dentry *dentry, loff_t length, unsigned int time_attrs, struct file *filp)
{
	if (!is_self() && filp)
		emit_truncate_hook(ctx, NULL, filp, length);
	return 0;
}

SEC("kprobe/do_truncate")
int BPF_KPROBE(kprobe_do_truncate, void *idmap, struct dentry *dentry, loff_t length, unsigned int time_attrs, struct file *filp)
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

SEC("fentry/security_path_truncate")
int BPF_PROG(fentry_security_path_truncate, const struct path *path)
{
	path_truncate_hook(ctx, path);
	return 0;
}

SEC("kprobe/security_path_truncate")
int BPF_KPROBE(kprobe_security_path_truncate, const struct path *path)
{
	path_truncate_hook(ctx, path);
	return 0;
}

/* truncate(path, length), ftruncate(fd, length) at exit */
SEC("raw_tracepoint/sys_exit")
int sys_exit_truncate(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_DO_TRUNCATE, 1) || !event_init(&e, ctx, EVENT_DO_TRUNCATE))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	char sys[12] = {};
	if (BPF_CORE_READ(syscall_regs(ctx), orig_ax) == NR_ftruncate) {
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

/* ---- utimensat (and futimens, utimes, futimesat, utime) ---- */

#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

/* A file's access or modification time set to a value the caller chose, the
 * way timestomping tools and touch -d/-r do. Setting them to now (touch, make,
 * editors: a NULL times array or UTIME_NOW) is everyday work and is not
 * reported. At exit: the kernel has read the times array, so its pages are
 * there. Args: 0 pathname, 1 atime, 2 mtime (seconds; each present only when
 * set to a given value), 3 flags, 4 syscall. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_utimes(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_UTIMENSAT, 0))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = BPF_CORE_READ(syscall_regs(ctx), orig_ax);
	char sys[12] = {};
	int dirfd = AT_FDCWD;
	const char *upath;
	const void *times;
	__u32 flags = 0;
	/* seconds and sub-second part of atime ([0], [1]) and mtime ([2], [3]) */
	__s64 t[4] = {};
	switch (nr) {
	case NR_utimensat: /* utimensat(dirfd, path, struct timespec[2], flags) */
		SYSNAME(sys, "utimensat");
		dirfd = a[0];
		upath = (const char *)a[1];
		times = (const void *)a[2];
		flags = a[3];
		break;
	case NR_futimesat: /* futimesat(dirfd, path, struct timeval[2]) */
		SYSNAME(sys, "futimesat");
		dirfd = a[0];
		upath = (const char *)a[1];
		times = (const void *)a[2];
		break;
	case NR_utimes: /* utimes(path, struct timeval[2]) */
		SYSNAME(sys, "utimes");
		upath = (const char *)a[0];
		times = (const void *)a[1];
		break;
	case NR_utime: /* utime(path, struct utimbuf { actime, modtime }) */
		SYSNAME(sys, "utime");
		upath = (const char *)a[0];
		times = (const void *)a[1];
		break;
	default:
		return 0;
	}
	if (!times)
		return 0; /* now */
	if (nr == NR_utime) {
		if (bpf_probe_read_user(t, 16, times))
			return 0;
		t[2] = t[1];
		t[1] = t[3] = 0;
	} else if (bpf_probe_read_user(t, sizeof(t), times)) {
		return 0;
	}
	int aset = 1, mset = 1;
	if (nr == NR_utimensat) {
		aset = t[1] != UTIME_NOW && t[1] != UTIME_OMIT;
		mset = t[3] != UTIME_NOW && t[3] != UTIME_OMIT;
	}
	if (!aset && !mset)
		return 0;
	if (!event_init(&e, ctx, EVENT_UTIMENSAT))
		return 0;
	/* futimens is utimensat(fd, NULL, ...): the fd's own file */
	if (!upath)
		save_file_path(&e, ARG_UTIMENSAT_PATHNAME, task_fd_file(e.task, dirfd));
	else
		save_user_path_at(&e, ARG_UTIMENSAT_PATHNAME, dirfd, upath);
	if (aset)
		save_s64(&e, ARG_UTIMENSAT_ATIME, t[0]);
	if (mset)
		save_s64(&e, ARG_UTIMENSAT_MTIME, t[2]);
	save_u32(&e, ARG_UTIMENSAT_FLAGS, flags);
	save_str(&e, ARG_UTIMENSAT_SYSCALL, sys, 0);
	event_submit(&e, ret);
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Names made and removed: unlink, rename, symlink, link, mknod.
 *
 * The path events hook the LSM *path* hooks (security_path_unlink, ...) rather
 * than the inode ones: they get the parent directory as a struct path, mount
 * included, so the reported path is the one the caller sees, across mounts.
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

HOOK(security_path_unlink, const struct path *dir, struct dentry *dentry)
{
	unlink_hook(ctx, dir, dentry, 0);
	return 0;
}

HOOK(security_path_rmdir, const struct path *dir, struct dentry *dentry)
{
	unlink_hook(ctx, dir, dentry, 1);
	return 0;
}

/* unlink, unlinkat, rmdir at exit; the entry is gone by then: inode and dev
 * come from the file system's unlink tracepoint (unlink.bpf.c), else they
 * are unreadable. */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_unlink(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct unlinked_inode gone;
	int known = take_unlinked_inode(&gone);
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_UNLINK, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

HOOK(security_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	rename_hook(ctx, old_dir, old_dentry, new_dir, new_dentry, flags);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_rename(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_RENAME, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

HOOK(security_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name)
{
	symlink_hook(ctx, dir, dentry, old_name);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_symlink(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_SYMLINK, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

HOOK(security_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	link_hook(ctx, old_dentry, new_dir, new_dentry);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_link(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_LINK, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

HOOK(security_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode, unsigned int dev)
{
	mknod_hook(ctx, dir, dentry, mode, dev);
	return 0;
}

/* mknod(path, mode, dev), mknodat(dirfd, path, mode, dev) at exit */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_mknod(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_INODE_MKNOD, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_exit_link, link, linkat);
SYSCALLS(sys_exit_mknod, mknod, mknodat);
SYSCALLS(sys_exit_rename, rename, renameat, renameat2);
SYSCALLS(sys_exit_symlink, symlink, symlinkat);
SYSCALLS(sys_exit_unlink, unlink, unlinkat, rmdir);
HOOK_PROBES(SECURITY_INODE_UNLINK, security_path_unlink + security_path_rmdir);
/* the fallback takes dev and inode from ext4's unlink tracepoint
 * (unlink.bpf.c) where the kernel has it, else marks them unreadable */
FALLBACK(SECURITY_INODE_UNLINK, "syscalls+tp_btf/ext4_unlink_enter", sys_exit_unlink, tp_btf_ext4_unlink_enter);
FALLBACK(SECURITY_INODE_UNLINK, "syscalls+raw_tracepoint/ext4_unlink_enter", sys_exit_unlink, raw_tp_ext4_unlink_enter);
FALLBACK(SECURITY_INODE_UNLINK, "syscalls", sys_exit_unlink);
HOOK_PROBES(SECURITY_INODE_RENAME, security_path_rename);
FALLBACK(SECURITY_INODE_RENAME, "syscalls", sys_exit_rename);
HOOK_PROBES(SECURITY_INODE_SYMLINK, security_path_symlink);
FALLBACK(SECURITY_INODE_SYMLINK, "syscalls", sys_exit_symlink);
HOOK_PROBES(SECURITY_INODE_LINK, security_path_link);
FALLBACK(SECURITY_INODE_LINK, "syscalls", sys_exit_link);
HOOK_PROBES(SECURITY_INODE_MKNOD, security_path_mknod);
FALLBACK(SECURITY_INODE_MKNOD, "syscalls", sys_exit_mknod);

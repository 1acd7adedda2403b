// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * What is said about a file rather than written in it: mounts, mode changes,
 * security.* extended attributes, times set to a chosen value.
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

HOOK(security_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags, void *data)
{
	mount_hook(ctx, dev_name, path, type, flags);
	return 0;
}

/* mount(source, target, fstype, flags, data) at exit, refusals included */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_mount(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
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
	event_submit(&e, ctx->ret);
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

HOOK(security_sb_umount, struct vfsmount *mnt, int flags)
{
	umount_hook(ctx, mnt, flags);
	return 0;
}

/* umount2(target, flags) at exit */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_umount(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
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

HOOK(security_path_chmod, const struct path *path, umode_t mode)
{
	chmod_hook(ctx, path, mode);
	return 0;
}

/* chmod(path, mode), fchmod(fd, mode), fchmodat(dirfd, path, mode),
 * fchmodat2(dirfd, path, mode, flags) at exit, when the old mode is gone. */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_chmod(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SECURITY_PATH_CHMOD, 1))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_setxattr(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_SETXATTR, 0))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

/* ---- utimensat (and futimens, utimes, futimesat, utime) ---- */

#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

/* A file's access or modification time set to a value the caller chose, the
 * way timestomping tools and touch -d/-r do. Setting them to now (touch, make,
 * editors: a NULL times array or UTIME_NOW) is everyday work and is not
 * reported. At exit: the kernel has read the times array, so its pages are
 * there. Args: 0 pathname, 1 atime, 2 mtime (seconds; each present only when
 * set to a given value), 3 flags, 4 syscall. */
SEC("tracepoint/syscalls/sys_exit")
int sys_exit_utimes(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	struct event e;
	if (!reportable(ret) || !emit_allowed(EVENT_UTIMENSAT, 0))
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
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

/* ---- probes (lib/probe.h): how the sensor feeds the events of this file ---- */

SYSCALLS(sys_exit_chmod, chmod, fchmod, fchmodat, fchmodat2);
SYSCALLS(sys_exit_mount, mount);
SYSCALLS(sys_exit_setxattr, setxattr, lsetxattr, fsetxattr, setxattrat);
SYSCALLS(sys_exit_umount, umount2);
SYSCALLS(sys_exit_utimes, utimensat, futimesat, utimes, utime);
HOOK_PROBES(SECURITY_SB_MOUNT, security_sb_mount);
FALLBACK(SECURITY_SB_MOUNT, "syscalls", sys_exit_mount);
HOOK_PROBES(SECURITY_SB_UMOUNT, security_sb_umount);
FALLBACK(SECURITY_SB_UMOUNT, "syscalls", sys_exit_umount);
HOOK_PROBES(SECURITY_PATH_CHMOD, security_path_chmod);
FALLBACK(SECURITY_PATH_CHMOD, "syscalls", sys_exit_chmod);
PROBE(SETXATTR, "syscalls", sys_exit_setxattr);
PROBE(UTIMENSAT, "syscalls", sys_exit_utimes);

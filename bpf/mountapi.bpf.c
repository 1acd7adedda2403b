// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The new mount API: fsopen, fsconfig, fsmount, move_mount, open_tree. A
 * mount made this way never calls mount(2), so security_sb_mount's syscall
 * fallback does not see it. Recorded at the syscall's exit: success and
 * refusals (reportable()), the descriptors they take or return still open.
 */
#include "lib/common.h"
#include "lib/file.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#define MOVE_MOUNT_T_EMPTY_PATH 0x40

/* fs_type of the file system context behind an fsopen/fspick descriptor */
static __always_inline const char *context_fs_type(struct file *f)
{
	struct fs_context *fc = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(fc, fs_type, name);
}

static __always_inline const char *mount_fs_type(struct file *f)
{
	return BPF_CORE_READ(f, f_path.mnt, mnt_sb, s_type, name);
}

/* args: EVENT_FSCONFIG */
static __always_inline void save_fsconfig_cmd(struct event *e, __u32 cmd)
{
	char s[28] = {};
	switch (cmd) {
	case 0: SYSNAME(s, "FSCONFIG_SET_FLAG"); break;
	case 1: SYSNAME(s, "FSCONFIG_SET_STRING"); break;
	case 2: SYSNAME(s, "FSCONFIG_SET_BINARY"); break;
	case 3: SYSNAME(s, "FSCONFIG_SET_PATH"); break;
	case 4: SYSNAME(s, "FSCONFIG_SET_PATH_EMPTY"); break;
	case 5: SYSNAME(s, "FSCONFIG_SET_FD"); break;
	case 6: SYSNAME(s, "FSCONFIG_CMD_CREATE"); break;
	case 7: SYSNAME(s, "FSCONFIG_CMD_RECONFIGURE"); break;
	case 8: SYSNAME(s, "FSCONFIG_CMD_CREATE_EXCL"); break;
	default: SYSNAME(s, "FSCONFIG_CMD_?"); break;
	}
	save_str(e, ARG_FSCONFIG_CMD, s, 0);
}

SEC("tracepoint/syscalls/sys_exit")
int sys_exit_mount_api(struct syscall_exit_ctx *ctx)
{
	if (is_self())
		return 0;
	long ret = ctx->ret;
	if (!reportable(ret) || is_self())
		return 0;
	__u64 a[6];
	read_syscall_args(syscall_regs(ctx), a);
	long nr = ctx->nr;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct event e;
	switch (nr) {
	case NR_fsopen: /* (fs_name, flags) */
		if (!emit_allowed(EVENT_FSOPEN, 0) || !event_init(&e, ctx, EVENT_FSOPEN))
			return 0;
		save_str(&e, ARG_FSOPEN_FS_TYPE, (const char *)a[0], 1);
		save_u32(&e, ARG_FSOPEN_FLAGS, a[1]);
		break;
	case NR_fsconfig: { /* (fd, cmd, key, value, aux) */
		if (!emit_allowed(EVENT_FSCONFIG, 0) || !event_init(&e, ctx, EVENT_FSCONFIG))
			return 0;
		__u32 cmd = a[1];
		save_s32(&e, ARG_FSCONFIG_FD, a[0]);
		save_fsconfig_cmd(&e, cmd);
		if (a[2])
			save_str(&e, ARG_FSCONFIG_KEY, (const char *)a[2], 1);
		if (cmd == FSCONFIG_SET_STRING && a[3])
			save_str(&e, ARG_FSCONFIG_VALUE, (const char *)a[3], 1);
		else if ((cmd == FSCONFIG_SET_PATH || cmd == FSCONFIG_SET_PATH_EMPTY) && a[3])
			save_user_path_at(&e, ARG_FSCONFIG_VALUE, (int)a[4], (const char *)a[3]);
		save_s32(&e, ARG_FSCONFIG_AUX, a[4]);
		if (ret >= 0)
			save_str(&e, ARG_FSCONFIG_FS_TYPE, context_fs_type(task_fd_file(t, a[0])), 0);
		break;
	}
	case NR_fsmount: /* (fs_fd, flags, attr_flags) */
		if (!emit_allowed(EVENT_FSMOUNT, 0) || !event_init(&e, ctx, EVENT_FSMOUNT))
			return 0;
		save_s32(&e, ARG_FSMOUNT_FD, a[0]);
		save_u32(&e, ARG_FSMOUNT_FLAGS, a[1]);
		save_u32(&e, ARG_FSMOUNT_ATTR_FLAGS, a[2]);
		if (ret >= 0)
			save_str(&e, ARG_FSMOUNT_FS_TYPE, mount_fs_type(task_fd_file(t, ret)), 0);
		break;
	case NR_move_mount: { /* (from_dfd, from_path, to_dfd, to_path, flags) */
		if (!emit_allowed(EVENT_MOVE_MOUNT, 0) || !event_init(&e, ctx, EVENT_MOVE_MOUNT))
			return 0;
		__u32 flags = a[4];
		char c = 1;
		bpf_probe_read_user(&c, 1, (const char *)a[1]);
		struct file *from = NULL;
		if ((flags & MOVE_MOUNT_F_EMPTY_PATH) && c == 0) {
			/* the usual new-API move: a detached mount's descriptor */
			from = task_fd_file(t, (int)a[0]);
			save_file_path(&e, ARG_MOVE_MOUNT_FROM_PATH, from);
		} else {
			save_user_path_at(&e, ARG_MOVE_MOUNT_FROM_PATH, (int)a[0], (const char *)a[1]);
		}
		save_user_path_at(&e, ARG_MOVE_MOUNT_PATHNAME, (int)a[2], (const char *)a[3]);
		if (from) {
			struct vfsmount *vm = BPF_CORE_READ(from, f_path.mnt);
			struct mount *m = container_of(vm, struct mount, mnt);
			save_str(&e, ARG_MOVE_MOUNT_FS_TYPE, BPF_CORE_READ(vm, mnt_sb, s_type, name), 0);
			save_str(&e, ARG_MOVE_MOUNT_SOURCE, BPF_CORE_READ(m, mnt_devname), 0);
		}
		save_u32(&e, ARG_MOVE_MOUNT_FLAGS, flags);
		break;
	}
	case NR_open_tree: /* (dfd, filename, flags) */
		if (!emit_allowed(EVENT_OPEN_TREE, 0) || !event_init(&e, ctx, EVENT_OPEN_TREE))
			return 0;
		save_user_path_at(&e, ARG_OPEN_TREE_PATHNAME, (int)a[0], (const char *)a[1]);
		save_u32(&e, ARG_OPEN_TREE_FLAGS, a[2]);
		if (ret >= 0)
			save_str(&e, ARG_OPEN_TREE_FS_TYPE, mount_fs_type(task_fd_file(t, ret)), 0);
		break;
	default:
		return 0;
	}
	event_submit(&e, ret);
	return 0;
}

SYSCALLS(sys_exit_mount_api, fsopen, fsconfig, fsmount, move_mount, open_tree);
PROBE(FSOPEN, "syscalls", sys_exit_mount_api(fsopen));
PROBE(FSCONFIG, "syscalls", sys_exit_mount_api(fsconfig));
PROBE(FSMOUNT, "syscalls", sys_exit_mount_api(fsmount));
PROBE(MOVE_MOUNT, "syscalls", sys_exit_mount_api(move_mount));
PROBE(OPEN_TREE, "syscalls", sys_exit_mount_api(open_tree));

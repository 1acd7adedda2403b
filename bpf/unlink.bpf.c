// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The inode an unlink removes, for security_inode_unlink's syscall fallback
 * (file.bpf.c's sys_exit_unlink), which runs when the entry is already
 * gone. ext4's own tracepoint fires in ext4_unlink with the dentry still
 * holding its inode; it is left in unlinked_inodes (lib/file.h) for the
 * thread's syscall exit. Other file systems have no such tracepoint: there
 * the fallback marks dev and inode unreadable.
 */
#include "lib/common.h"
#include "lib/file.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void on_unlink(struct dentry *d)
{
	struct inode *ino = BPF_CORE_READ(d, d_inode);
	if (!ino || is_self())
		return;
	struct unlinked_inode u = {};
	u.ino = BPF_CORE_READ(ino, i_ino);
	u.dev = user_dev(BPF_CORE_READ(ino, i_sb, s_dev));
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&unlinked_inodes, &tid, &u, BPF_ANY);
}

SEC("tp_btf/ext4_unlink_enter")
int BPF_PROG(tp_btf_ext4_unlink_enter, struct inode *parent, struct dentry *dentry)
{
	on_unlink(dentry);
	return 0;
}

SEC("raw_tracepoint/ext4_unlink_enter")
int raw_tp_ext4_unlink_enter(struct bpf_raw_tracepoint_args *ctx)
{
	on_unlink((struct dentry *)ctx->args[1]);
	return 0;
}

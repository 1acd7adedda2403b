/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "record.h"
#include "maps.h"
#include "event.h"
#include "hook.h"
#include "probe.h"

/* Inode mode bits (include/uapi/linux/stat.h; vmlinux.h has no macros). */
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISUID 0004000
#define S_ISGID 0002000
#define PIPEFS_MAGIC 0x50495045

/* SYSNAME writes a syscall's name, a string literal, into a char array. */
#define SYSNAME(buf, lit) __builtin_memcpy(buf, lit, sizeof(lit))

/* ctx of raw_tracepoint/sys_enter and sys_exit (and the programs they tail-call):
 * args[0] is the task's struct pt_regs *, args[1] the syscall number (enter)
 * or the return value (exit). */
static __always_inline struct pt_regs *syscall_regs(struct bpf_raw_tracepoint_args *ctx)
{
	return (struct pt_regs *)ctx->args[0];
}

static __always_inline void read_syscall_args(struct pt_regs *regs, __u64 args[6])
{
	/* x86_64 syscall convention: di, si, dx, r10, r8, r9 */
	args[0] = BPF_CORE_READ(regs, di);
	args[1] = BPF_CORE_READ(regs, si);
	args[2] = BPF_CORE_READ(regs, dx);
	args[3] = BPF_CORE_READ(regs, r10);
	args[4] = BPF_CORE_READ(regs, r8);
	args[5] = BPF_CORE_READ(regs, r9);
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

/* take_syscall_state moves what the syscall's entry saved for the current
 * thread into *out and forgets it; 0 when nothing was saved. */
static __always_inline int take_syscall_state(struct syscall_state *out)
{
	__u32 tid = current_tid();
	struct syscall_state *st = bpf_map_lookup_elem(&syscall_states, &tid);
	if (!st)
		return 0;
	*out = *st;
	bpf_map_delete_elem(&syscall_states, &tid);
	return 1;
}

#endif

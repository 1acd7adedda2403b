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

/*
 * ctx of a syscall handler: a tracepoint program attached to the syscall
 * trace events syscalls/sys_enter_<name> or syscalls/sys_exit_<name> of each
 * syscall it handles (the loader attaches it; SEC says which direction).
 * The kernel builds this record for BPF (perf_call_bpf_enter/exit): its
 * first 8 bytes hold what a program may not read, then the syscall's number
 * as an int, then the arguments (enter) or the return value (exit).
 *
 * Only the fields every syscall's event has are read from ctx: the loader
 * refuses to attach a program that reads past the end of an event's record
 * (getppid has no arguments), so the arguments come from the task's saved
 * user registers instead (syscall_regs), the same ones the kernel read them
 * from, at entry and at exit alike.
 */
struct syscall_enter_ctx {
	__u64 common;
	int nr;
	int pad;
	unsigned long args[6];
};

struct syscall_exit_ctx {
	__u64 common;
	int nr;
	int pad;
	long ret;
};

/* syscall_regs returns the current task's user registers at syscall entry;
 * ctx is unused: every syscall handler runs in the calling task. */
#define syscall_regs(ctx) current_syscall_regs()

static __always_inline struct pt_regs *current_syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The argument registers lie within 8 words of r10 in struct pt_regs (r10,
 * r9, r8, ax, cx, dx, si, di, on every x86_64 kernel): one read of those
 * words where this kernel's layout has them there, six reads otherwise. */
#define SYSCALL_REGS_WORDS 8

static __always_inline void read_syscall_args(struct pt_regs *regs, __u64 args[6])
{
	__u32 base = bpf_core_field_offset(struct pt_regs, r10);
	__u32 o0 = bpf_core_field_offset(struct pt_regs, di), o1 = bpf_core_field_offset(struct pt_regs, si);
	__u32 o2 = bpf_core_field_offset(struct pt_regs, dx), o4 = bpf_core_field_offset(struct pt_regs, r8);
	__u32 o5 = bpf_core_field_offset(struct pt_regs, r9);
	if (o0 >= base && o1 >= base && o2 >= base && o4 >= base && o5 >= base && (o0 - base) / 8 < SYSCALL_REGS_WORDS &&
	    (o1 - base) / 8 < SYSCALL_REGS_WORDS && (o2 - base) / 8 < SYSCALL_REGS_WORDS &&
	    (o4 - base) / 8 < SYSCALL_REGS_WORDS && (o5 - base) / 8 < SYSCALL_REGS_WORDS) {
		__u64 w[SYSCALL_REGS_WORDS] = {};
		bpf_probe_read_kernel(w, sizeof(w), (void *)regs + base);
		args[0] = w[(o0 - base) / 8];
		args[1] = w[(o1 - base) / 8];
		args[2] = w[(o2 - base) / 8];
		args[3] = w[0];
		args[4] = w[(o4 - base) / 8];
		args[5] = w[(o5 - base) / 8];
		return;
	}
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

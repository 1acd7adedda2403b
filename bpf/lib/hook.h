/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef VIGIL_HOOK_H
#define VIGIL_HOOK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/*
 * HOOK(fn, args...) { body } declares the two programs that trace the kernel
 * function fn on entry, around one body:
 *
 *	fentry_<fn>  SEC("fentry/<fn>")   where the kernel has BPF trampolines;
 *	kprobe_<fn>  SEC("kprobe/<fn>")   where it has not (or refuses fentry).
 *
 * args are fn's parameters, written as in C, as BPF_PROG and BPF_KPROBE take
 * them; the body sees them by name and ctx as a void * (pass it on to
 * event_init and the other helpers, do not index it), and returns an int that
 * both programs return. The sensor attaches one of the two, never both (see
 * the PROBE declarations), so the body runs once per call.
 *
 *	HOOK(security_path_link, struct dentry *old, const struct path *dir, struct dentry *new)
 *	{
 *		link_hook(ctx, old, dir, new);
 *		return 0;
 *	}
 */
#define HOOK(fn, args...)							\
static __always_inline int ____hook_##fn(void *ctx, ##args);			\
SEC("fentry/" #fn)								\
int fentry_##fn(unsigned long long *ctx)					\
{										\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	return ____hook_##fn(___bpf_ctx_cast(args));				\
	_Pragma("GCC diagnostic pop")						\
}										\
SEC("kprobe/" #fn)								\
int kprobe_##fn(struct pt_regs *ctx)						\
{										\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	return ____hook_##fn(___bpf_kprobe_args(args));				\
	_Pragma("GCC diagnostic pop")						\
}										\
static __always_inline int ____hook_##fn(void *ctx, ##args)

#endif

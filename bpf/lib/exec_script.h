/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The file an exec named when the kernel ran it through an interpreter (a
 * #! script, a binfmt_misc format), seen from sched_process_exec.
 *
 * By the time sched_process_exec fires, bprm->file is the interpreter:
 * exec_binprm (fs/exec.c, 5.8 to today) swaps bprm->interpreter in and
 * drops its reference to the script's file with fput() before it loads the
 * interpreter. That fput is the file's last (open_exec opened it for this
 * exec alone), and from a task fput does not free the file at once: it
 * queues the file's own callback_head (f_task_work, f_rcuhead on 6.1) on
 * current->task_works, to run ____fput when the task returns to user mode.
 * So the script's file is still alive and reachable at the tracepoint:
 * it is the oldest ____fput work on the list opened for exec (its f_flags
 * carry __FMODE_EXEC). Works are pushed at the head, and nothing runs them
 * during the exec; what comes after it (the old program's files, the
 * close-on-exec descriptors, a nested script's interpreter script) is
 * nearer the head. A probe on security_bprm_check would see the script too,
 * but not on kernels without kprobes and trampolines; this works wherever
 * sched_process_exec does.
 *
 * With binfmt_misc's O flag the kernel keeps the file open itself
 * (bprm->executable): that one is taken first.
 */
#ifndef VIGIL_EXEC_SCRIPT_H
#define VIGIL_EXEC_SCRIPT_H

#include "event.h"

/* fs/file_table.c's deferred fput callback, from kallsyms at load; 0 where
 * kallsyms hides addresses, which leaves scripts unseen */
extern void ____fput __ksym __weak;

/* __FMODE_EXEC in f_flags (include/linux/fs.h): opened by open_exec */
#define VIGIL_FMODE_EXEC 0x20
/* works looked at: the close-on-exec descriptors of the old program and
 * its mappings come after the script, nearer the head */
#define TASK_WORKS_MAX 64

/* struct file's callback_head before 6.7 (f_rcuhead, 6.1-6.6) and before
 * 6.0 (f_u.fu_rcuhead) */
struct file___rcuhead {
	struct callback_head f_rcuhead;
} __attribute__((preserve_access_index));

struct file___fu {
	union {
		struct callback_head fu_rcuhead;
	} f_u;
} __attribute__((preserve_access_index));

static __always_inline __u64 file_task_work_offset(void)
{
	if (bpf_core_field_exists(struct file, f_task_work))
		return bpf_core_field_offset(struct file, f_task_work);
	if (bpf_core_field_exists(struct file___rcuhead, f_rcuhead))
		return bpf_core_field_offset(struct file___rcuhead, f_rcuhead);
	return bpf_core_field_offset(struct file___fu, f_u.fu_rcuhead);
}

/* exec_script_file returns the file an exec named when bprm ran it through
 * an interpreter, NULL when it did not or the file is not found. */
static __always_inline struct file *exec_script_file(struct linux_binprm *bprm)
{
	/* only a binfmt handler that restarts the exec with an interpreter
	 * (bprm_change_interp) makes interp a string of its own */
	if (BPF_CORE_READ(bprm, interp) == BPF_CORE_READ(bprm, filename))
		return NULL;
	struct file *kept = BPF_CORE_READ(bprm, executable);
	if (kept)
		return kept;
	__u64 fput_fn = (__u64)&____fput;
	if (!fput_fn)
		return NULL;
	__u64 off = file_task_work_offset();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct callback_head *w = BPF_CORE_READ(t, task_works);
	struct file *found = NULL;
	for (int i = 0; i < TASK_WORKS_MAX && w; i++) {
		if ((__u64)BPF_CORE_READ(w, func) == fput_fn) {
			struct file *f = (struct file *)((void *)w - off);
			if (BPF_CORE_READ(f, f_flags) & VIGIL_FMODE_EXEC)
				found = f;
		}
		w = BPF_CORE_READ(w, next);
	}
	return found;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ONE definition of vigil's record layout. Every record the sensor reads
 * from the ring buffer is a struct record_header followed by hdr.argnum
 * self-describing arguments:
 *
 *   [u8 index][u8 type] payload
 *
 * payload by type (little endian, unaligned):
 *   ARG_S32/ARG_U32   4 bytes           ARG_S64/ARG_U64  8 bytes
 *   ARG_BOOL          1 byte            ARG_STR/ARG_BYTES [u32 len][len bytes]
 *   ARG_STR_ARR       [u16 count]([u32 len][len bytes])*   (strings keep their NUL)
 *   ARG_STR_LIST      [u32 len][len bytes of NUL-separated strings]
 *
 * ARG_TRUNCATED is or-ed into the type of a string, string array or list that
 * did not fit: a record is never split, it is cut short and says so.
 *
 * ARG_UNREADABLE is or-ed into the type of an argument whose memory the BPF
 * side could not read (a user page not faulted in yet, a bad pointer): its
 * payload is empty ([u32 0], [u16 0]) and means nothing. The sensor leaves
 * such an argument out of the event and names it in the event's unreadable
 * list: a failed read is never reported as "" or [].
 *
 * The Go side (package event, sensor/decode.go) is checked against this file by
 * tests that read the BTF of the compiled objects. Event ids and argument
 * indices come from the event table (event/spec_*.go) through the generated
 * event_ids.h.
 */
#ifndef VIGIL_RECORD_H
#define VIGIL_RECORD_H

/* enum event_id and enum event_arg: generated from the event table. */
#include "event_ids.h"

enum arg_type {
	ARG_S32 = 1,
	ARG_U32 = 2,
	ARG_S64 = 3,
	ARG_U64 = 4,
	ARG_STR = 5,
	ARG_STR_ARR = 6,
	ARG_BYTES = 7,
	ARG_BOOL = 8,
	ARG_STR_LIST = 9,
	ARG_UNREADABLE = 0x40,
	ARG_TRUNCATED = 0x80,
};

/* How the loader lets an event be emitted: see emit_allowed(). */
enum event_mode {
	MODE_ANY = 0,      /* whatever program feeds it */
	MODE_HOOK = 1,     /* the preferred kernel hook is attached: fallbacks stay quiet */
	MODE_FALLBACK = 2, /* only the fallback feeds it */
	MODE_OFF = 3,      /* not wanted */
};

#define TASK_COMM_LEN 16

struct record_header {
	__u64 ts;         /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;  /* cgroup v2 id of the current task */
	__s64 retval;     /* syscall/hook return value, 0 when there is none */
	__u64 start_time; /* process (group leader) start, ns since boot */
	__u32 event_id;   /* enum event_id */
	__u32 host_pid;   /* tgid in the initial pid namespace */
	__u32 host_tid;
	__u32 host_ppid;
	__u32 pid; /* in the task's own pid namespace */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 mnt_ns;
	__u32 pid_ns;
	__u32 reserved;
	char comm[TASK_COMM_LEN];
	__u8 argnum;
	__u8 pad[7];
};

/* Largest record; a power of two so offsets can be masked for the verifier. */
#define MAX_RECORD (1 << 15)
#define MAX_STR 4096    /* one string (PATH_MAX) */
#define MAX_ARGV 1024   /* elements of a string array before it is cut */
#define MAX_PATH_DEPTH 48

#endif

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
 * The Go side (sensor/event, sensor/decode.go) is checked against this file by
 * a test that reads the BTF of the compiled objects.
 */
#ifndef VIGIL_RECORD_H
#define VIGIL_RECORD_H

/* Stable event ids: never reuse a number. */
enum event_id {
	EVENT_EXECVE = 1,
	EVENT_EXECVEAT = 2,
	EVENT_INIT_MODULE = 3,
	EVENT_FINIT_MODULE = 4,
	EVENT_MEMFD_CREATE = 5,
	EVENT_SETUID = 6,
	EVENT_SETREUID = 7,
	EVENT_SETRESUID = 8,
	EVENT_SETGID = 9,
	EVENT_SETREGID = 10,
	EVENT_SETRESGID = 11,
	EVENT_SETFSUID = 12,
	EVENT_SETFSGID = 13,
	EVENT_CAPSET = 14,

	EVENT_SCHED_PROCESS_FORK = 100,
	EVENT_SCHED_PROCESS_EXEC = 101,
	EVENT_SCHED_PROCESS_EXIT = 102,

	EVENT_COMMIT_CREDS = 200,
	EVENT_SECURITY_BPRM_CHECK = 201,
	EVENT_SECURITY_KERNEL_READ_FILE = 202,

	/* files: 300-399 (file.bpf.c) */
	EVENT_SECURITY_FILE_OPEN = 300,
	EVENT_SECURITY_INODE_UNLINK = 301,
	EVENT_SECURITY_INODE_RENAME = 302,
	EVENT_SECURITY_INODE_SYMLINK = 303,
	EVENT_SECURITY_INODE_LINK = 304,
	EVENT_SECURITY_FILE_MPROTECT = 305,
	EVENT_MEM_PROT_ALERT = 306,
	EVENT_SECURITY_MMAP_FILE = 307,
	EVENT_MAGIC_WRITE = 308,
	EVENT_VFS_WRITE = 309,
	EVENT_VFS_WRITEV = 310,
	EVENT_SECURITY_SB_MOUNT = 311,
	EVENT_SECURITY_SB_UMOUNT = 312,
	EVENT_SECURITY_INODE_MKNOD = 313,
	EVENT_SECURITY_PATH_CHMOD = 314,
	EVENT_DO_TRUNCATE = 315,
	EVENT_SETXATTR = 316,
	EVENT_UTIMENSAT = 317,

	/* network: 400-499 (net.bpf.c) */
	EVENT_SOCKET = 400,
	EVENT_SECURITY_SOCKET_CREATE = 401,
	EVENT_SECURITY_SOCKET_BIND = 402,
	EVENT_SECURITY_SOCKET_LISTEN = 403,
	EVENT_SECURITY_SOCKET_CONNECT = 404,
	EVENT_SECURITY_SOCKET_ACCEPT = 405,
	EVENT_DUP = 406,
	EVENT_DUP2 = 407,
	EVENT_DUP3 = 408,
	EVENT_INET_SOCK_SET_STATE = 409,
	EVENT_TCP_CONNECT = 410,
	EVENT_UDP_SENDMSG = 411,
	EVENT_UDP_DISCONNECT = 412,
	EVENT_UDP_DESTROY_SOCK = 413,
	EVENT_NET_PACKET = 414,
	EVENT_NET_PACKET_DNS = 415,

	/* the kernel's own facilities: 500-599 (kernel.bpf.c) */
	EVENT_SWITCH_TASK_NAMESPACES = 500,
	EVENT_PTRACE = 501,
	EVENT_PROCESS_VM_READV = 502,
	EVENT_PROCESS_VM_WRITEV = 503,
	EVENT_SECURITY_BPF = 504,
	EVENT_SECURITY_BPF_MAP = 505,
	EVENT_CAP_CAPABLE = 506,
	EVENT_CGROUP_MKDIR = 507,
	EVENT_CGROUP_RMDIR = 508,
	EVENT_CGROUP_ATTACH_TASK = 509,
	EVENT_DO_EXIT = 510,
	EVENT_SCHED_SWITCH = 511,
	EVENT_KEXEC_LOAD = 512,
	EVENT_KEXEC_FILE_LOAD = 513,
	EVENT_SECURITY_KERNEL_POST_READ_FILE = 514,
	EVENT_MODULE_IMAGE_CHUNK = 515,
	EVENT_MODULE_IMAGE_CAPTURED = 516, /* made by the sensor from the chunks */

	EVENT_ID_MAX = 1024, /* size of the per-event tables (drops, modes) */
};

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

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * io_uring requests: opens, writes, xattrs, connects, ... that a process asks
 * the kernel for through a ring instead of their syscalls, so that no syscall
 * hook or fallback sees them. The tracepoint io_uring:io_uring_submit_req
 * fires in io_submit_sqe once the request is prepared: the operation's
 * arguments are in the request (struct io_kiocb, whose first bytes are the
 * operation's own struct: io_open, io_rw, io_connect, ...), and it runs in
 * the submitting task (or the ring's SQPOLL thread, which shares its files
 * and memory), so descriptors and user pointers resolve as for a syscall.
 * The file of a descriptor is not yet looked up at that point: it is read
 * from the task's table, or left unreadable for a registered (fixed) file.
 *
 * Linux 6.1 to 6.3 name that tracepoint io_uring_submit_sqe (req,
 * force_nonblock), fired at the same point of io_submit_sqe: the same body
 * serves both. The op structs a kernel lacks (io_ftrunc before 6.9) are
 * left out by a CO-RE check the verifier prunes on.
 *
 * io_uring:io_uring_complete notes the files opened for writing by OPENAT,
 * as sys_exit_open does for the syscalls (inode_writes, lib/file.h).
 */
#include "lib/common.h"
#include "lib/file.h"
#include "lib/net.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* include/uapi/linux/io_uring.h, enum io_uring_op (ABI: never renumbered) */
#define IORING_OP_WRITEV 2
#define IORING_OP_WRITE_FIXED 5
#define IORING_OP_CONNECT 16
#define IORING_OP_OPENAT 18
#define IORING_OP_WRITE 23
#define IORING_OP_OPENAT2 28
#define IORING_OP_SPLICE 30
#define IORING_OP_RENAMEAT 35
#define IORING_OP_UNLINKAT 36
#define IORING_OP_SYMLINKAT 38
#define IORING_OP_LINKAT 39
#define IORING_OP_FSETXATTR 41
#define IORING_OP_SETXATTR 42
#define IORING_OP_SOCKET 45
#define IORING_OP_FTRUNCATE 55
#define IORING_OP_WRITEV_FIXED 61
#define IORING_SETUP_SQPOLL (1U << 1)
#define REQ_F_FIXED_FILE_FLAG 1ULL
#define WRITE_HEADER_LEN 64

/* the op's name, 0 for an op not reported */
static __always_inline int op_name(__u8 op, char *s)
{
	switch (op) {
	case IORING_OP_OPENAT: SYSNAME(s, "OPENAT"); break;
	case IORING_OP_OPENAT2: SYSNAME(s, "OPENAT2"); break;
	case IORING_OP_WRITE: SYSNAME(s, "WRITE"); break;
	case IORING_OP_WRITEV: SYSNAME(s, "WRITEV"); break;
	case IORING_OP_WRITE_FIXED: SYSNAME(s, "WRITE_FIXED"); break;
	case IORING_OP_WRITEV_FIXED: SYSNAME(s, "WRITEV_FIXED"); break;
	case IORING_OP_CONNECT: SYSNAME(s, "CONNECT"); break;
	case IORING_OP_SETXATTR: SYSNAME(s, "SETXATTR"); break;
	case IORING_OP_FSETXATTR: SYSNAME(s, "FSETXATTR"); break;
	case IORING_OP_UNLINKAT: SYSNAME(s, "UNLINKAT"); break;
	case IORING_OP_RENAMEAT: SYSNAME(s, "RENAMEAT"); break;
	case IORING_OP_LINKAT: SYSNAME(s, "LINKAT"); break;
	case IORING_OP_SYMLINKAT: SYSNAME(s, "SYMLINKAT"); break;
	case IORING_OP_SOCKET: SYSNAME(s, "SOCKET"); break;
	case IORING_OP_SPLICE: SYSNAME(s, "SPLICE"); break;
	case IORING_OP_FTRUNCATE: SYSNAME(s, "FTRUNCATE"); break;
	default: return 0;
	}
	return 1;
}

static __always_inline int is_write_op(__u8 op)
{
	return op == IORING_OP_WRITE || op == IORING_OP_WRITEV || op == IORING_OP_WRITE_FIXED ||
	       op == IORING_OP_WRITEV_FIXED;
}

/* the ops whose path is in their own struct, with a directory fd there (or
 * none): io_init_req copies sqe->fd into the request only for ops on a file */
static __always_inline int is_path_op(__u8 op)
{
	return op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2 || op == IORING_OP_SETXATTR ||
	       op == IORING_OP_UNLINKAT || op == IORING_OP_RENAMEAT || op == IORING_OP_LINKAT ||
	       op == IORING_OP_SYMLINKAT || op == IORING_OP_SOCKET;
}

/*
 * The helpers below are functions of their own (__noinline): every
 * BPF_CORE_READ takes a stack slot, and all of them in one frame would not
 * leave room, under the 512 bytes all frames share, for net_save_ip's.
 */

/* a path held by the request as a struct filename: the caller's own pointer
 * (uptr) made absolute against dfd like a syscall's, else the kernel copy */
/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_filename(struct event *e, __u8 index, int dfd, struct filename *fn)
{
	const char *u = BPF_CORE_READ(fn, uptr);
	if (u)
		save_user_path_at(e, index, dfd, u);
	else
		save_str(e, index, BPF_CORE_READ(fn, name), 0);
}

/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_fd_path(struct event *e, struct file *f)
{
	if (f)
		save_file_path(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, f);
	else
		save_str(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, NULL, 0); /* unreadable */
}

static __noinline void note_write(struct file *f)
{
	note_write_open(f);
}

/* the address is read field by field, not as a whole sockaddr */
/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_connect(struct event *e, struct io_connect *c)
{
	const __u8 *sa = (const __u8 *)BPF_CORE_READ(c, addr);
	__u16 fam = 0, port = 0;
	__u8 a[16] = {};
	if (bpf_probe_read_user(&fam, sizeof(fam), sa)) {
		save_str(e, ARG_IO_URING_SUBMIT_REQ_REMOTE_ADDR, NULL, 1); /* unreadable */
		return;
	}
	save_name(e, ARG_IO_URING_SUBMIT_REQ_FAMILY, NT_FAMILY, fam);
	if (fam == AF_INET || fam == AF_INET6) {
		/* sin_port and sin6_port are both at offset 2; the address at
		 * 4 (sin_addr) or 8 (sin6_addr) */
		bpf_probe_read_user(&port, sizeof(port), sa + 2);
		if (fam == AF_INET)
			bpf_probe_read_user(a, 4, sa + 4);
		else
			bpf_probe_read_user(a, 16, sa + 8);
		save_ip(e, ARG_IO_URING_SUBMIT_REQ_REMOTE_ADDR, fam, a);
		save_u32(e, ARG_IO_URING_SUBMIT_REQ_REMOTE_PORT, bpf_ntohs(port));
	} else if (fam == AF_UNIX) {
		save_str(e, ARG_IO_URING_SUBMIT_REQ_REMOTE_ADDR, sa + 2, 1);
	}
}

/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_write(struct event *e, struct io_rw *rw, __u8 op)
{
	__u64 addr = BPF_CORE_READ(rw, addr);
	__u32 len = BPF_CORE_READ(rw, len);
	if (op == IORING_OP_WRITEV || op == IORING_OP_WRITEV_FIXED) {
		/* addr is an iovec array of len entries: the first buffer */
		__u64 base = 0, n = 0;
		bpf_probe_read_user(&base, sizeof(base), (void *)addr);
		bpf_probe_read_user(&n, sizeof(n), (void *)(addr + 8));
		addr = base;
		len = n;
	}
	save_u64(e, ARG_IO_URING_SUBMIT_REQ_LEN, len);
	save_bytes(e, ARG_IO_URING_SUBMIT_REQ_BYTES, (void *)addr, len < WRITE_HEADER_LEN ? len : WRITE_HEADER_LEN, 1);
}

/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_open(struct event *e, struct io_open *o)
{
	int dfd = BPF_CORE_READ(o, dfd);
	save_s32(e, ARG_IO_URING_SUBMIT_REQ_FD, dfd);
	save_filename(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, dfd, BPF_CORE_READ(o, filename));
	save_u32(e, ARG_IO_URING_SUBMIT_REQ_FLAGS, BPF_CORE_READ(o, how.flags));
	save_u32(e, ARG_IO_URING_SUBMIT_REQ_MODE, BPF_CORE_READ(o, how.mode));
}

/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_xattr(struct event *e, struct io_xattr *x, __u8 op, struct file *f)
{
	if (op == IORING_OP_SETXATTR)
		save_filename(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, AT_FDCWD, BPF_CORE_READ(x, filename));
	else
		save_fd_path(e, f);
	/* the name's address, not BPF_CORE_READ of the char[256] (a copy on
	 * the stack) */
	struct xattr_name *kn = BPF_CORE_READ(x, ctx.kname);
	save_str(e, ARG_IO_URING_SUBMIT_REQ_NAME, kn->name, 0);
	save_u32(e, ARG_IO_URING_SUBMIT_REQ_FLAGS, BPF_CORE_READ(x, ctx.flags));
	save_u64(e, ARG_IO_URING_SUBMIT_REQ_LEN, BPF_CORE_READ(x, ctx.size));
}

/* UNLINKAT, RENAMEAT, LINKAT, SYMLINKAT. io_rename and io_link have the
 * same layout (file, old_dfd, new_dfd, oldpath, newpath, flags); io_unlink
 * is (file, dfd, flags, filename). */
/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_names(struct event *e, struct io_kiocb *req, __u8 op)
{
	if (op == IORING_OP_UNLINKAT) {
		struct io_unlink *u = (struct io_unlink *)req;
		int dfd = BPF_CORE_READ(u, dfd);
		save_s32(e, ARG_IO_URING_SUBMIT_REQ_FD, dfd);
		save_filename(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, dfd, BPF_CORE_READ(u, filename));
		save_u32(e, ARG_IO_URING_SUBMIT_REQ_FLAGS, BPF_CORE_READ(u, flags));
		return;
	}
	struct io_link *l = (struct io_link *)req;
	int old_dfd = BPF_CORE_READ(l, old_dfd), new_dfd = BPF_CORE_READ(l, new_dfd);
	if (op == IORING_OP_SYMLINKAT) {
		/* symlinkat(target, new_dfd, linkpath): the target as given */
		save_s32(e, ARG_IO_URING_SUBMIT_REQ_FD, new_dfd);
		save_filename(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, new_dfd, BPF_CORE_READ(l, newpath));
		save_str(e, ARG_IO_URING_SUBMIT_REQ_NEW_PATH, BPF_CORE_READ(l, oldpath, name), 0);
		return;
	}
	save_s32(e, ARG_IO_URING_SUBMIT_REQ_FD, old_dfd);
	save_filename(e, ARG_IO_URING_SUBMIT_REQ_PATHNAME, old_dfd, BPF_CORE_READ(l, oldpath));
	save_filename(e, ARG_IO_URING_SUBMIT_REQ_NEW_PATH, new_dfd, BPF_CORE_READ(l, newpath));
	save_u32(e, ARG_IO_URING_SUBMIT_REQ_FLAGS, BPF_CORE_READ(l, flags));
}

/* SPLICE, FTRUNCATE: the file and a length */
/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_fd_len(struct event *e, struct io_kiocb *req, __u8 op, struct file *f, __s64 off)
{
	save_fd_path(e, f);
	if (op == IORING_OP_SPLICE) {
		save_s64(e, ARG_IO_URING_SUBMIT_REQ_OFFSET, off);
		save_u64(e, ARG_IO_URING_SUBMIT_REQ_LEN, BPF_CORE_READ((struct io_splice *)req, len));
	} else if (bpf_core_type_exists(struct io_ftrunc)) {
		/* FTRUNCATE (6.9 and later) */
		save_u64(e, ARG_IO_URING_SUBMIT_REQ_LEN, BPF_CORE_READ((struct io_ftrunc *)req, len));
	}
}

/* args: EVENT_IO_URING_SUBMIT_REQ */
static __noinline void save_socket(struct event *e, struct io_socket *so)
{
	save_name(e, ARG_IO_URING_SUBMIT_REQ_FAMILY, NT_FAMILY, BPF_CORE_READ(so, domain));
}

static __always_inline void on_submit(void *ctx, struct io_kiocb *req)
{
	char name[16] = {};
	__u8 op = BPF_CORE_READ(req, opcode);
	if (!op_name(op, name) || is_self())
		return;
	int path_op = is_path_op(op);
	int fd = BPF_CORE_READ(req, cqe.fd);
	int fixed = (BPF_CORE_READ(req, flags) & REQ_F_FIXED_FILE_FLAG) != 0;
	struct file *f = fixed || path_op ? NULL : task_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	__s64 off = 0;

	/* writes: the first bytes of a regular file only, as magic_write; any
	 * write of one counts for the exec-time record */
	if (is_write_op(op) || op == IORING_OP_SPLICE) {
		if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFREG)
			return;
		note_write(f);
		if (op == IORING_OP_SPLICE)
			off = BPF_CORE_READ((struct io_splice *)req, off_out);
		else
			off = BPF_CORE_READ((struct io_rw *)req, kiocb.ki_pos);
		if (off == -1)
			off = BPF_CORE_READ(f, f_pos);
		if (off != 0 && is_write_op(op))
			return;
	}
	struct event e;
	if (!emit_allowed(EVENT_IO_URING_SUBMIT_REQ, 0) || !event_init(&e, ctx, EVENT_IO_URING_SUBMIT_REQ))
		return;
	save_str(&e, ARG_IO_URING_SUBMIT_REQ_OP, name, 0);
	save_u32(&e, ARG_IO_URING_SUBMIT_REQ_OPCODE, op);
	if (!path_op)
		save_s32(&e, ARG_IO_URING_SUBMIT_REQ_FD, fd);
	save_bool(&e, ARG_IO_URING_SUBMIT_REQ_FIXED_FILE, fixed);
	save_bool(&e, ARG_IO_URING_SUBMIT_REQ_SQ_THREAD, (BPF_CORE_READ(req, ctx, flags) & IORING_SETUP_SQPOLL) != 0);
	switch (op) {
	case IORING_OP_OPENAT:
	case IORING_OP_OPENAT2:
		save_open(&e, (struct io_open *)req);
		break;
	case IORING_OP_WRITE:
	case IORING_OP_WRITE_FIXED:
	case IORING_OP_WRITEV:
	case IORING_OP_WRITEV_FIXED:
		save_fd_path(&e, f);
		save_s64(&e, ARG_IO_URING_SUBMIT_REQ_OFFSET, off);
		save_write(&e, (struct io_rw *)req, op);
		break;
	case IORING_OP_SPLICE:
	case IORING_OP_FTRUNCATE:
		save_fd_len(&e, req, op, f, off);
		break;
	case IORING_OP_CONNECT:
		save_connect(&e, (struct io_connect *)req);
		break;
	case IORING_OP_SOCKET:
		save_socket(&e, (struct io_socket *)req);
		break;
	case IORING_OP_SETXATTR:
	case IORING_OP_FSETXATTR:
		save_xattr(&e, (struct io_xattr *)req, op, f);
		break;
	default: /* UNLINKAT, RENAMEAT, LINKAT, SYMLINKAT */
		save_names(&e, req, op);
	}
	event_submit(&e, 0);
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(tp_btf_io_uring_submit_req, struct io_kiocb *req)
{
	on_submit(ctx, req);
	return 0;
}

SEC("raw_tracepoint/io_uring_submit_req")
int raw_tp_io_uring_submit_req(struct bpf_raw_tracepoint_args *ctx)
{
	on_submit(ctx, (struct io_kiocb *)ctx->args[0]);
	return 0;
}

/* the same tracepoint before Linux 6.4 (req, force_nonblock) */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(tp_btf_io_uring_submit_sqe, struct io_kiocb *req)
{
	on_submit(ctx, req);
	return 0;
}

SEC("raw_tracepoint/io_uring_submit_sqe")
int raw_tp_io_uring_submit_sqe(struct bpf_raw_tracepoint_args *ctx)
{
	on_submit(ctx, (struct io_kiocb *)ctx->args[0]);
	return 0;
}

/* an OPENAT that succeeded: its file counts as opened for writing when it
 * is, as for open(2) (sys_exit_open). The completion runs in the
 * submitter, its io-wq worker or SQPOLL thread: all share its files.
 *
 * The result is read from the request (req->cqe.res, which the kernel
 * copies into the ring's entry), not from the tracepoint's other
 * arguments: up to 6.12 at least they are (user_data, res, cflags, extra1,
 * extra2), later one struct io_uring_cqe pointer; ctx and req come first
 * in both. An auxiliary completion has no request (NULL): no opcode. */
static __always_inline void on_complete(struct io_kiocb *req)
{
	__u8 op = BPF_CORE_READ(req, opcode);
	if (op != IORING_OP_OPENAT && op != IORING_OP_OPENAT2)
		return;
	/* a direct open into a registered-file slot returns 0, no descriptor */
	if (BPF_CORE_READ((struct io_open *)req, file_slot))
		return;
	int fd = BPF_CORE_READ(req, cqe.res);
	if (fd >= 0 && !is_self())
		note_write_open(task_fd_file((struct task_struct *)bpf_get_current_task(), fd));
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(tp_btf_io_uring_complete, void *rctx, void *req)
{
	on_complete((struct io_kiocb *)req);
	return 0;
}

SEC("raw_tracepoint/io_uring_complete")
int raw_tp_io_uring_complete(struct bpf_raw_tracepoint_args *ctx)
{
	on_complete((struct io_kiocb *)ctx->args[1]);
	return 0;
}

/* the completion notes the files OPENAT opened for writing */
PROBE(IO_URING_SUBMIT_REQ, "tp_btf/io_uring_submit_req+io_uring_complete", tp_btf_io_uring_submit_req, tp_btf_io_uring_complete);
PROBE(IO_URING_SUBMIT_REQ, "tp_btf/io_uring_submit_sqe+io_uring_complete", tp_btf_io_uring_submit_sqe, tp_btf_io_uring_complete);
PROBE(IO_URING_SUBMIT_REQ, "raw_tracepoint/io_uring_submit_req+io_uring_complete", raw_tp_io_uring_submit_req, raw_tp_io_uring_complete);
PROBE(IO_URING_SUBMIT_REQ, "raw_tracepoint/io_uring_submit_sqe+io_uring_complete", raw_tp_io_uring_submit_sqe, raw_tp_io_uring_complete);

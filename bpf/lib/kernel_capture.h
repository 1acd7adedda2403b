/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel module images: security_kernel_post_read_file (the kernel has read a
 * file for itself, whole, into a buffer) and binary capture (the bytes of a
 * module sent as module_image_chunk records, reassembled by the sensor into a
 * file named by its sha256). Shared by module.bpf.c (the hook, init_module)
 * and kernel.bpf.c (kexec_file_load's fallback).
 */
#ifndef VIGIL_KERNEL_CAPTURE_H
#define VIGIL_KERNEL_CAPTURE_H

#include "event.h"
#include "path.h"

/* One chunk per record: what save_bytes takes at most. */
#define CAPTURE_CHUNK MAX_STR
/* Larger images are not captured: the ring buffer could not hold them. */
#define CAPTURE_MAX (64 << 20)

static __always_inline void read_file_kind(int id, char kind[20])
{
	switch (id) {
	case READING_FIRMWARE: __builtin_memcpy(kind, "firmware", 9); break;
	case READING_MODULE: __builtin_memcpy(kind, "module", 7); break;
	case READING_KEXEC_IMAGE: __builtin_memcpy(kind, "kexec-image", 12); break;
	case READING_KEXEC_INITRAMFS: __builtin_memcpy(kind, "kexec-initramfs", 16); break;
	case READING_POLICY: __builtin_memcpy(kind, "security-policy", 16); break;
	case READING_X509_CERTIFICATE: __builtin_memcpy(kind, "x509-certificate", 17); break;
	default: __builtin_memcpy(kind, "unknown", 8);
	}
}

/* security_kernel_post_read_file. Args: pathname, type, size. */
static __always_inline void emit_post_read_file(void *ctx, struct file *f, __u64 size, int id, int fallback)
{
	struct event e;
	char kind[20] = {};
	if (is_self() || !emit_allowed(EVENT_SECURITY_KERNEL_POST_READ_FILE, fallback))
		return;
	if (!event_init(&e, ctx, EVENT_SECURITY_KERNEL_POST_READ_FILE))
		return;
	read_file_kind(id, kind);
	save_u64(&e, ARG_SECURITY_KERNEL_POST_READ_FILE_SIZE, size);
	save_file_path(&e, ARG_SECURITY_KERNEL_POST_READ_FILE_PATHNAME, f);
	save_str(&e, ARG_SECURITY_KERNEL_POST_READ_FILE_TYPE, kind, 0);
	event_submit(&e, 0);
}

struct capture_ctx {
	void *ctx;
	const __u8 *buf;
	__u64 size;
	__u64 id;
	struct file *file; /* the module's file, NULL for init_module */
	int user;          /* buf is the caller's memory */
	char source[32];
};

/* One chunk: args capture_id, offset, total, data; the first chunk also
 * carries source and pathname. A chunk the ring buffer refuses ends the
 * capture (the sensor reports it incomplete). */
static long capture_chunk(__u64 i, void *data)
{
	struct capture_ctx *c = data;
	struct event e;
	__u64 off = i * CAPTURE_CHUNK;
	if (off >= c->size)
		return 1;
	__u32 n = c->size - off > CAPTURE_CHUNK ? CAPTURE_CHUNK : c->size - off;
	if (!event_init(&e, c->ctx, EVENT_MODULE_IMAGE_CHUNK))
		return 1;
	save_u64(&e, ARG_MODULE_IMAGE_CHUNK_CAPTURE_ID, c->id);
	save_u64(&e, ARG_MODULE_IMAGE_CHUNK_OFFSET, off);
	save_u64(&e, ARG_MODULE_IMAGE_CHUNK_TOTAL, c->size);
	save_bytes(&e, ARG_MODULE_IMAGE_CHUNK_DATA, c->buf + off, n, c->user);
	if (i == 0) {
		save_str(&e, ARG_MODULE_IMAGE_CHUNK_SOURCE, c->source, 0);
		if (c->file)
			save_file_path(&e, ARG_MODULE_IMAGE_CHUNK_PATHNAME, c->file);
	}
	return event_submit(&e, 0) ? 0 : 1;
}

/* capture_image sends size bytes at buf as module_image_chunk records, when
 * capture is on (the event is off unless the sensor has a capture
 * directory). bpf_loop rather than tail calls: one verified callback, no
 * limit of 33 calls, and the same code for every program type that feeds
 * it. */
static __always_inline void capture_image(void *ctx, const void *buf, __u64 size, int user, struct file *f,
					  const char *source)
{
	if (is_self() || event_mode(EVENT_MODULE_IMAGE_CHUNK) == MODE_OFF || !size || size > CAPTURE_MAX)
		return;
	struct capture_ctx c = {.ctx = ctx, .buf = buf, .size = size, .user = user, .file = f};
	/* unique enough: a boot-time clock in ns and the thread */
	c.id = bpf_ktime_get_boot_ns() ^ ((__u64)bpf_get_current_pid_tgid() << 40);
	bpf_probe_read_kernel_str(c.source, sizeof(c.source), source);
	bpf_loop((size + CAPTURE_CHUNK - 1) / CAPTURE_CHUNK, capture_chunk, &c, 0);
}

#endif

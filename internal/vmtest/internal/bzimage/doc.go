// Package bzimage turns an x86 bzImage (what distributions ship as
// /boot/vmlinuz-*) back into the ELF vmlinux it was built from, so that qemu
// can boot it directly through the PVH entry point and skip the in-guest
// decompression, which costs seconds under TCG emulation.
//
// The compressed payload is located through the boot protocol's setup header
// (payload_offset and payload_length, protocol 2.08 and later) rather than by
// scanning for magic numbers, and its decompressed size is checked against the
// size the kernel build appends to the payload. gzip and bzip2 are decompressed
// in Go; xz, lzma, lz4, zstd and lzo through the usual command-line tools.
package bzimage

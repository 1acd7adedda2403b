// Package cpio writes the "newc" cpio archives that the Linux kernel unpacks
// as its initramfs. Writing the archive in Go lets the VM test put device
// nodes such as /dev/console into the image without root or mknod, makes the
// image reproducible (owner root, mtime 0), and creates parent directories
// before their contents, which the kernel's unpacker requires.
package cpio

// Command vmtool is the host side of make vmtest, called by vmtest.sh:
//
//	vmtool vmlinux -o vmlinux /boot/vmlinuz-...     extract the ELF kernel for a PVH boot
//	vmtool initramfs -o out.cpio [-dev spec]... dir...  pack directories into a newc initramfs
//	vmtool verdict -kernel name -status n [-timed-out] log   judge one VM's serial log
//
// verdict prints one line per kernel and, on failure, the reasons, the
// failing tests with what they logged, and the tail of the serial log; it
// exits 1 when the kernel failed.
package main

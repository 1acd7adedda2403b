# System binary modified: a program, library or boot file of the system is
# written, created or replaced outside a package installation: a trojaned
# sshd or ls, a library planted for the loader to pick up, a patched
# dynamic loader or libc, a kernel module dropped where modprobe finds it,
# an altered initramfs or boot loader.
#
# The distribution owns these folders: its package manager (and the scripts
# it runs) is the only regular writer, and the boot and cache tools it
# triggers (update-initramfs, depmod, grub-mkconfig, ldconfig's caches, ...)
# are left out for their own files. /usr/local and /opt are the
# administrator's and are not watched; Python's compiled-module caches are
# not programs.
package vigil.signatures.system_binary_modified

import data.vigil.lib

metadata := {
	"id": "system-binary-modified",
	"name": "System program, library or boot file modified",
	"version": "1.0.0",
	"severity": "high",
	"description": "A file in the system's program, library or boot folders (/usr/bin, /usr/sbin, /usr/lib, /usr/libexec, /boot, ...) was written, created or replaced by something other than the package manager or the boot and cache tools it runs: a trojaned binary, a planted library, a patched dynamic loader.",
	"tactics": ["TA0003", "TA0005"],
	"techniques": ["T1554", "T1574.006", "T1542", "T1547.006"],
	"tags": ["persistence", "rootkit", "file", "binary"],
	"events": ["security_file_open", "security_inode_rename", "security_inode_link"],
}

# ---- what was written ----

written := lib.file_written

# a rename onto a system file replaces it
operation := "replace" if written.operation == "rename"

else := written.operation

path := written.path

system_dirs := [
	"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64",
	"/usr/lib", "/usr/lib64", "/usr/libexec", "/boot",
]

watched if lib.under(path, system_dirs)

# compiled Python modules and pip's site folders are no system programs
not_a_program if contains(path, "/__pycache__/")

not_a_program if endswith(path, ".pyc")

not_a_program if contains(path, "/site-packages/")

not_a_program if contains(path, "/dist-packages/")

# language package managers install into /usr/lib where the distribution
# puts their global prefix (npm -g, gem)
not_a_program if contains(path, "/node_modules/")

not_a_program if contains(path, "/gems/")

# ---- what it is ----

kind := "boot" if startswith(path, "/boot/")

else := "kernel_module" if regex.match(`\.ko(\.(xz|zst|gz))?$`, path)

else := "loader" if regex.match(`^ld(-linux[a-z0-9_-]*|-musl-[a-z0-9_]+)?\.so(\.[0-9]+)?$`, lib.basename(path))

else := "library" if regex.match(`\.so(\.[0-9.]+)?$`, path)

else := "program"

technique := {
	"boot": "T1542", "kernel_module": "T1547.006", "loader": "T1574.006",
	"library": "T1554", "program": "T1554",
}

# ---- who may ----

# the tools package triggers and boot updates run, each for its own files
maintenance_tools := {
	"update-initramfs", "mkinitramfs", "dracut", "mkinitcpio", "kernel-install", "lsinitramfs",
	"grub-mkconfig", "grub-install", "grub2-mkconfig", "grub2-install", "update-grub",
	"grub-mkimage", "grub-editenv", "grub2-editenv", "os-prober", "zipl", "shim-install",
	"bootctl", "systemd-boot-update", "fwupd", "fwupdtool", "dkms", "depmod", "ldconfig", "systemd-hwdb", "udevadm",
	"localedef", "locale-gen", "gdk-pixbuf-query-loaders", "gio-querymodules",
	"gtk-query-immodules-3.0", "update-mime-database", "glib-compile-schemas",
	"update-alternatives", "cpio", "zstd", "gzip", "xz", "lz4",
	"kdumpctl", "mkdumprd", "sbctl", "sbsign",
	# language package managers, for their own files and links
	"npm", "pnpm", "yarn", "corepack", "gem", "pip", "pip3",
}

maintenance if lib.is_system_program(input.process, maintenance_tools)

# mkinitramfs, dracut and dkms write through helpers (cpio, cp, zstd) they start
maintenance if {
	some a in object.get(input.process, "ancestors", [])
	lib.is_system_program(a, {"update-initramfs", "mkinitramfs", "dracut", "mkinitcpio", "kernel-install", "grub-mkconfig", "update-grub", "dkms"})
}

finding contains {
	"pathname": path,
	"kind": kind,
	"technique": technique[kind],
	"operation": operation,
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	written
	watched
	not not_a_program
	not maintenance
	not lib.from_package_manager
}

# Container escape through mounts and device nodes: from inside a container,
# a host block device is mounted (the host's root file system becomes
# readable and writable), a kernel file system that reaches outside the
# container is mounted (cgroup v1 and its release_agent, sysfs and its
# uevent_helper, debugfs, tracefs, securityfs, bpffs, configfs), or a block
# device node is created to get at a host disk. These are the steps of the
# well-known escapes from privileged containers.
#
# Container runtimes set up a container's own mounts and /dev from inside
# its namespaces (runc's init is already in them); they, and the sandboxing
# tools that do the same for desktop applications, are left out.
package vigil.signatures.container_escape_mount

import data.vigil.lib

metadata := {
	"id": "container-escape-mount",
	"name": "Host device or kernel file system reached from a container",
	"version": "1.0.0",
	"severity": "critical",
	"description": "Inside a container, a block device or a kernel file system (cgroup v1, sysfs, debugfs, tracefs, securityfs, bpf, configfs) was mounted, or a block device node was created: the usual first step of an escape from a privileged container.",
	"tactics": ["TA0004"],
	"techniques": ["T1611"],
	"tags": ["container", "escape", "mount"],
	"events": ["security_sb_mount", "security_inode_mknod"],
}

# what a disk is called under /dev
block_device(name) if regex.match(`^/dev/((s|h|v|xv)d[a-z]|nvme[0-9]|mmcblk[0-9]|dm-[0-9]|md[0-9]|loop[0-9]|mapper/|disk/|root$)`, name)

kernel_file_systems := {"cgroup", "sysfs", "debugfs", "tracefs", "securityfs", "bpf", "configfs"}

reasons contains "block_device_mount" if {
	input.name == "security_sb_mount"
	block_device(lib.arg("dev_name", ""))
}

reasons contains "kernel_fs_mount" if {
	input.name == "security_sb_mount"
	lib.arg("fs_type", "") in kernel_file_systems
}

s_ifmt := 61440 # 0170000

s_ifblk := 24576 # 0060000

reasons contains "block_device_node" if {
	input.name == "security_inode_mknod"
	bits.and(input.args.mode, s_ifmt) == s_ifblk
	object.get(input, "return_value", 0) >= 0
}

runtimes := {
	"runc", "crun", "youki", "runsc", "conmon", "containerd-shim", "containerd-shim-runc-v2",
	"lxc-start", "lxc-execute", "systemd-nspawn", "bwrap", "firejail", "nsjail",
	"minijail0", "flatpak", "snap-confine", "kata-agent", "docker-init", "tini",
}

# runc's init stage names itself runc:[1:CHILD], runc:[2:INIT] and may run
# from a memfd copy of runc, so it is known by that comm
runtime if startswith(object.get(input.process, "comm", ""), "runc:")

runtime if lib.is_process_named(input.process, runtimes)

finding contains {
	"reasons": sort(reasons),
	"dev_name": lib.arg("dev_name", ""),
	"fs_type": lib.arg("fs_type", ""),
	"pathname": object.get(input.args, "path", lib.arg("pathname", "")),
	"container_id": object.get(input.process, "container_id", ""),
	"succeeded": object.get(input, "return_value", 0) >= 0,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
	lib.in_container
	not runtime
}

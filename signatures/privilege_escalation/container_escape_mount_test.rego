package vigil.signatures.container_escape_mount

in_ctr := {"pid": 12, "comm": "mount", "exe": "/usr/bin/mount", "container_id": "3f1c0d9e", "pid_ns": 4026532400, "ancestors": [{"pid": 1, "comm": "bash", "exe": "/usr/bin/bash"}]}

on_host := {"pid": 812, "comm": "mount", "exe": "/usr/bin/mount", "pid_ns": 4026531836}

mount(dev, type, proc) := {"name": "security_sb_mount", "process": proc, "args": {"dev_name": dev, "path": "/mnt", "fs_type": type, "flags": 0}}

mknod(mode, proc) := {"name": "security_inode_mknod", "process": proc, "args": {"pathname": "/tmp/sda", "mode": mode, "dev": 2048}}

test_host_disk_mounted_in_a_container_fires if {
	some f in finding with input as mount("/dev/sda1", "ext4", in_ctr)
	f.reasons == ["block_device_mount"]
	f.container_id == "3f1c0d9e"
	f.pathname == "/mnt"
	every d in ["/dev/vda", "/dev/nvme0n1p2", "/dev/mapper/vg-root", "/dev/dm-0", "/dev/xvda1"] {
		count(finding) == 1 with input as mount(d, "xfs", in_ctr)
	}
}

test_cgroup_v1_for_release_agent_fires if {
	some f in finding with input as mount("cgroup", "cgroup", in_ctr)
	f.reasons == ["kernel_fs_mount"]
	count(finding) == 1 with input as mount("none", "debugfs", in_ctr)
}

test_block_device_node_fires if {
	some f in finding with input as mknod(25008, in_ctr) # 060660
	f.reasons == ["block_device_node"]
	f.pathname == "/tmp/sda"
}

test_a_new_pid_namespace_counts_as_a_container if {
	unshared := {"comm": "mount", "exe": "/usr/bin/mount", "pid_ns": 4026532999}
	count(finding) == 1 with input as mount("/dev/sdb1", "ext4", unshared)
}

test_the_host_is_quiet if {
	count(finding) == 0 with input as mount("/dev/sda1", "ext4", on_host)
	count(finding) == 0 with input as mknod(25008, on_host)
}

test_ordinary_container_mounts_are_quiet if {
	count(finding) == 0 with input as mount("tmpfs", "tmpfs", in_ctr)
	count(finding) == 0 with input as mount("proc", "proc", in_ctr)
	count(finding) == 0 with input as mount("cgroup2", "cgroup2", in_ctr)
	count(finding) == 0 with input as mknod(4480, in_ctr) # a FIFO
}

test_runtimes_are_quiet if {
	runc := object.union(in_ctr, {"comm": "runc:[2:INIT]", "exe": "/memfd:runc_cloned:/proc/self/exe (deleted)"})
	count(finding) == 0 with input as mount("sysfs", "sysfs", runc)
	bwrap := object.union(in_ctr, {"comm": "bwrap", "exe": "/usr/bin/bwrap"})
	count(finding) == 0 with input as mount("sysfs", "sysfs", bwrap)
}

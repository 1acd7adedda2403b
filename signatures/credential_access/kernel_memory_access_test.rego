package vigil.signatures.kernel_memory_access

# Open flags: O_RDONLY 0, O_WRONLY 1, O_RDWR 2, O_CREAT 0100, O_TRUNC 01000,
# O_LARGEFILE 0100000, O_CLOEXEC 02000000, O_SYNC 04010000.
o_rdonly := 32768

o_wronly_creat_trunc := 33345

o_rdwr_sync := 1085442

chr := 8608 # crw-r----- (0020640)

open_by(comm, exe, path, flags, fs, mode, rv) := {
	"name": "security_file_open",
	"return_value": rv,
	"process": {
		"pid": 5100, "host_pid": 5100, "uid": 0, "comm": comm, "exe": exe,
		"ancestors": [{"pid": 1400, "host_pid": 1400, "comm": "bash", "exe": "/usr/bin/bash", "uid": 0}],
	},
	"args": {"pathname": path, "flags": flags, "mode": mode, "fs_type": fs, "created": false},
}

dd(path, flags) := open_by("dd", "/usr/bin/dd", path, flags, "devtmpfs", chr, 3)

test_reading_physical_memory_fires if {
	some f in finding with input as dd("/dev/mem", o_rdonly)
	f.device == "mem"
	f.access == ["read"]
	f.succeeded
	f.return_value == 3
	f.flags == o_rdonly
	f.exe == "/usr/bin/dd"
	f.uid == 0
	f.ancestry == ["bash(1400)"]
	not f.masked
}

test_writing_physical_memory_fires if {
	some f in finding with input as dd("/dev/mem", o_wronly_creat_trunc)
	f.access == ["write"]
}

test_read_write_mapping_fires_with_both if {
	# devmem2 and friends: open O_RDWR|O_SYNC, then mmap a physical address
	some f in finding with input as open_by("devmem2", "/usr/local/bin/devmem2", "/dev/mem", o_rdwr_sync, "devtmpfs", chr, 3)
	f.access == ["read", "write"]
}

test_every_device_fires if {
	every path in ["/dev/mem", "/dev/kmem", "/dev/port"] {
		some f in finding with input as dd(path, o_rdonly)
		f.pathname == path
	}
	some k in finding with input as open_by("python3", "/usr/bin/python3.11", "/proc/kcore", o_rdonly, "proc", 33024, 3)
	k.device == "kcore"
	not k.masked
}

test_refused_attempt_fires_as_not_succeeded if {
	# a non-root user gets EACCES; the sensor reports the path as given
	ev := open_by("python3", "/usr/bin/python3.11", "/proc/kcore", o_rdonly, "", 0, -13)
	some f in finding with input as ev
	not f.succeeded
	f.return_value == -13
	# lockdown refuses root with EPERM
	some g in finding with input as open_by("dd", "/usr/bin/dd", "/dev/mem", o_wronly_creat_trunc, "", 0, -1)
	not g.succeeded
	g.access == ["write"]
}

test_missing_arguments_still_fire if {
	ev := {"name": "security_file_open", "process": {"pid": 1, "comm": "x"}, "args": {"pathname": "/dev/mem"}}
	some f in finding with input as ev
	f.access == ["read"]
	f.fs_type == ""
	f.exe == ""
	f.uid == -1
	f.succeeded
}

test_the_devices_elsewhere_fire if {
	# a chroot's bind-mounted /dev, a devtmpfs mounted again
	some a in finding with input as dd("/srv/chroot/dev/mem", o_rdonly)
	a.device == "mem"
	some b in finding with input as dd("/mnt/d/port", o_rdwr_sync)
	b.device == "port"
	# mknod /tmp/.k/kmem c 1 2: a node on tmpfs
	some c in finding with input as open_by("x", "/tmp/.k/x", "/tmp/.k/kmem", o_rdwr_sync, "tmpfs", chr, 3)
	c.device == "kmem"
	# a chroot's /proc
	some d in finding with input as open_by("x", "/tmp/.k/x", "/srv/chroot/proc/kcore", o_rdonly, "proc", 33024, 3)
	d.device == "kcore"
}

test_files_merely_named_like_them_are_quiet if {
	# regular files, on ordinary file systems
	count(finding) == 0 with input as open_by("vim", "/usr/bin/vim.basic", "/home/u/notes/mem", o_rdonly, "ext4", 33188, 3)
	count(finding) == 0 with input as open_by("node", "/usr/bin/node", "/srv/app/config/port", o_rdonly, "ext4", 33188, 3)
	count(finding) == 0 with input as open_by("cp", "/usr/bin/cp", "/var/crash/kcore", o_rdonly, "ext4", 33152, 3)
	# another process's memory is process-memory-access's business
	count(finding) == 0 with input as open_by("python3", "/usr/bin/python3.11", "/proc/812/mem", o_rdonly, "proc", 33152, 3)
	count(finding) == 0 with input as open_by("python3", "/usr/bin/python3.11", "/proc/812/task/813/mem", o_rdonly, "proc", 33152, 3)
	# a refused open carries no file system: only the device paths count
	count(finding) == 0 with input as open_by("python3", "/usr/bin/python3.11", "/tmp/mem", o_rdonly, "", 0, -13)
}

test_other_paths_are_quiet if {
	every path in ["/dev/memory", "/dev/null", "/dev/zero", "/dev/random", "/dev/mem0", "/dev/kmemx", "/dev/ports", "/dev/mem/", "/dev"] {
		count(finding) == 0 with input as dd(path, o_rdonly)
	}
	every path in ["/proc/kcore_x", "/proc/kcorex", "/proc/kallsyms", "/proc/kmsg", "/proc/meminfo", "/proc/iomem", "/proc/ioports", "/proc/self/mem", "/proc/kcore/"] {
		count(finding) == 0 with input as open_by("cat", "/usr/bin/cat", path, o_rdonly, "proc", 33060, 3)
	}
	count(finding) == 0 with input as open_by("cat", "/usr/bin/cat", "/sys/kernel/kcore", o_rdonly, "sysfs", 33060, 3)
	count(finding) == 0 with input as open_by("cat", "/usr/bin/cat", "/etc/mem", o_rdonly, "ext4", 33188, 3)
}

test_inventory_and_dump_tools_reading_are_quiet if {
	every tool in [
		["dmidecode", "/usr/sbin/dmidecode", "/dev/mem"],
		["biosdecode", "/usr/sbin/biosdecode", "/dev/mem"],
		["lshw", "/usr/bin/lshw", "/dev/mem"],
		["mcelog", "/usr/sbin/mcelog", "/dev/mem"],
		["crash", "/usr/bin/crash", "/proc/kcore"],
		["makedumpfile", "/usr/sbin/makedumpfile", "/proc/kcore"],
		["kexec", "/usr/sbin/kexec", "/proc/kcore"],
		["perf_6.1", "/usr/bin/perf_6.1", "/proc/kcore"],
		["perf", "/usr/lib/linux-tools/6.8.0-45-generic/perf", "/proc/kcore"],
		["drgn", "/usr/bin/python3.12", "/proc/kcore"],
	] {
		count(finding) == 0 with input as open_by(tool[0], tool[1], tool[2], o_rdonly, "devtmpfs", chr, 3)
	}
}

test_inventory_tools_writing_fire if {
	some f in finding with input as open_by("dmidecode", "/usr/sbin/dmidecode", "/dev/mem", o_rdwr_sync, "devtmpfs", chr, 3)
	f.access == ["read", "write"]
}

test_inventory_tool_names_outside_system_dirs_fire if {
	some f in finding with input as open_by("dmidecode", "/tmp/dmidecode", "/dev/mem", o_rdonly, "devtmpfs", chr, 3)
	f.exe == "/tmp/dmidecode"
	some g in finding with input as open_by("crash", "/usr/local/bin/crash", "/proc/kcore", o_rdonly, "proc", 33024, 3)
	g.device == "kcore"
}

test_device_writers_only_for_their_device if {
	count(finding) == 0 with input as open_by("Xorg", "/usr/lib/xorg/Xorg", "/dev/mem", o_rdwr_sync, "devtmpfs", chr, 3)
	count(finding) == 0 with input as open_by("sensors-detect", "/usr/bin/perl", "/dev/port", 32770, "devtmpfs", chr, 3)
	some f in finding with input as open_by("Xorg", "/usr/lib/xorg/Xorg", "/dev/port", 32770, "devtmpfs", chr, 3)
	f.device == "port"
	some g in finding with input as open_by("sensors-detect", "/usr/bin/perl", "/dev/mem", 32770, "devtmpfs", chr, 3)
	g.device == "mem"
}

test_masked_kcore_in_a_container_fires_and_says_so if {
	# runc binds /dev/null over /proc/kcore
	some f in finding with input as open_by("sh", "/bin/busybox", "/proc/kcore", o_rdonly, "devtmpfs", 8630, 3)
	f.masked
	f.device == "kcore"
}

package vigil.signatures.data_destruction

shell := {"pid": 2210, "host_pid": 2210, "comm": "bash", "exe": "/usr/bin/bash", "argv": ["-bash"], "uid": 0}

sshd := {"pid": 2201, "host_pid": 2201, "comm": "sshd", "exe": "/usr/sbin/sshd", "argv": ["sshd: root@pts/0"], "uid": 0}

exec_under(path, argv, ancestors) := {
	"name": "sched_process_exec",
	"process": {"pid": 6100, "host_pid": 6100, "comm": "x", "exe": path, "uid": 0, "ancestors": ancestors},
	"args": {"pathname": path, "filename": path, "argv": argv},
}

exec(path, argv) := exec_under(path, argv, [shell, sshd])

# --- secure deletion ---

test_shred_of_a_file if {
	some f in finding with input as exec("/usr/bin/shred", ["shred", "-u", "/var/lib/postgresql/dump.sql"])
	f.reasons == ["secure-delete"]
	f.targets == ["/var/lib/postgresql/dump.sql"]
	f.program == "/usr/bin/shred"
	f.uid == 0
	f.ancestry == ["bash(2210)", "sshd(2201)"]
}

test_shred_with_valued_options if {
	some f in finding with input as exec("/usr/bin/shred", ["shred", "-vzn", "3", "--random-source", "/dev/urandom", "-u", "/root/.bash_history", "notes.txt"])
	f.reasons == ["secure-delete"]
	f.targets == ["/root/.bash_history", "notes.txt"]
	some g in finding with input as exec("/usr/bin/shred", ["shred", "--iterations=7", "-s", "1M", "secrets.db"])
	g.targets == ["secrets.db"]
}

test_shred_of_a_disk_is_a_device_wipe if {
	some f in finding with input as exec("/usr/bin/shred", ["shred", "-v", "-n", "1", "/dev/sdb"])
	f.reasons == ["device-wipe"]
	f.targets == ["/dev/sdb"]
	some g in finding with input as exec("/usr/bin/shred", ["shred", "-fz", "/dev/nvme0n1", "/etc/shadow"])
	g.reasons == ["device-wipe", "secure-delete"]
}

test_the_secure_delete_suite_and_scrub if {
	some a in finding with input as exec("/usr/bin/srm", ["srm", "-rfz", "/var/log"])
	a.reasons == ["secure-delete"]
	some b in finding with input as exec("/usr/bin/wipe", ["wipe", "-rfq", "-Q", "2", "/home/ann/work"])
	b.targets == ["/home/ann/work"]
	some c in finding with input as exec("/usr/bin/sfill", ["sfill", "-l", "-l", "/"])
	c.targets == ["/"]
	some d in finding with input as exec("/usr/bin/scrub", ["scrub", "-p", "dod", "/dev/vdb"])
	d.reasons == ["device-wipe"]
	d.targets == ["/dev/vdb"]
	some e in finding with input as exec("/usr/bin/sdmem", ["sdmem", "-f", "-l"])
	e.reasons == ["secure-delete"]
	e.targets == []
	some g in finding with input as exec("/usr/bin/sswap", ["sswap", "/dev/mapper/vg0-swap"])
	g.reasons == ["device-wipe"]
}

test_shred_from_anywhere if {
	some f in finding with input as exec("/tmp/.x/shred", ["./shred", "-u", "db.sqlite"])
	f.reasons == ["secure-delete"]
}

test_shred_with_nothing_to_shred_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/shred", ["shred"])
	count(finding) == 0 with input as exec("/usr/bin/shred", ["shred", "--help"])
	count(finding) == 0 with input as exec("/usr/bin/shred", ["shred", "-n", "3"])
}

# --- dd ---

test_dd_onto_a_disk if {
	some f in finding with input as exec("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/dev/sda", "bs=1M"])
	f.reasons == ["device-wipe"]
	f.targets == ["/dev/sda"]
	f.program == "/usr/bin/dd"
}

test_dd_onto_every_kind_of_block_device if {
	every dev in [
		"/dev/sdb1", "/dev/vda", "/dev/xvdf", "/dev/nvme1n1p2", "/dev/hda", "/dev/mmcblk0",
		"/dev/mmcblk0p1", "/dev/dm-0", "/dev/md0", "/dev/md/data", "/dev/mapper/vg0-root",
		"/dev/loop3", "/dev/disk/by-id/ata-ST1000DM003_Z1D0", "/dev/disk/by-uuid/0b1c-44ee",
	] {
		some f in finding with input as exec("/usr/bin/dd", ["dd", "if=/dev/urandom", concat("", ["of=", dev]), "bs=4M", "status=progress"])
		f.targets == [dev]
	}
}

test_busybox_dd_onto_a_disk if {
	some f in finding with input as exec("/bin/busybox", ["busybox", "dd", "if=/dev/zero", "of=/dev/mmcblk0"])
	f.reasons == ["device-wipe"]
	some g in finding with input as exec("/bin/busybox", ["dd", "if=/dev/zero", "of=/dev/mtdblock0", "of=/dev/sda"])
	g.targets == ["/dev/sda"]
}

test_dd_cloning_onto_a_disk_fires if {
	some f in finding with input as exec("/usr/bin/dd", ["dd", "if=/dev/sda", "of=/dev/sdb", "bs=64K", "conv=noerror,sync"])
	f.targets == ["/dev/sdb"]
}

test_dcfldd_onto_a_disk if {
	some f in finding with input as exec("/usr/bin/dcfldd", ["dcfldd", "pattern=00", "of=/dev/sdc"])
	f.reasons == ["device-wipe"]
}

test_dd_image_backup_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/sda", "of=/backup/disk.img", "bs=4M"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/nvme0n1", "of=/mnt/usb/nvme.img", "status=progress"])
}

test_dd_to_files_and_character_devices_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/tmp/file", "bs=1M", "count=10"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/sda", "of=/dev/null", "bs=1M", "count=100"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "of=/dev/null"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/dev/shm/buf", "bs=1M", "count=1"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=disk.img", "of=/dev/stdout"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/dev/mapper/control"])
	count(finding) == 0 with input as exec("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/dev/loop-control"])
}

test_dd_name_in_an_operand_is_not_dd if {
	count(finding) == 0 with input as exec("/usr/bin/echo", ["echo", "dd", "of=/dev/sda"])
}

# --- partition tables and signatures ---

test_wipefs_all if {
	some f in finding with input as exec("/usr/sbin/wipefs", ["wipefs", "-a", "/dev/sdb"])
	f.reasons == ["device-wipe"]
	f.targets == ["/dev/sdb"]
	some g in finding with input as exec("/usr/sbin/wipefs", ["wipefs", "--all", "--force", "/dev/nvme0n1", "/dev/nvme1n1"])
	g.targets == ["/dev/nvme0n1", "/dev/nvme1n1"]
	some h in finding with input as exec("/usr/sbin/wipefs", ["wipefs", "-af", "/dev/vdb"])
	h.reasons == ["device-wipe"]
}

test_wipefs_listing_or_dry_run_is_quiet if {
	count(finding) == 0 with input as exec("/usr/sbin/wipefs", ["wipefs", "/dev/sdb"])
	count(finding) == 0 with input as exec("/usr/sbin/wipefs", ["wipefs", "-J", "-O", "DEVICE,TYPE", "/dev/sdb"])
	count(finding) == 0 with input as exec("/usr/sbin/wipefs", ["wipefs", "-n", "-a", "/dev/sdb"])
	count(finding) == 0 with input as exec("/usr/sbin/wipefs", ["wipefs", "--all", "--no-act", "/dev/sdb"])
}

test_wipefs_on_an_image_file_is_quiet if {
	count(finding) == 0 with input as exec("/usr/sbin/wipefs", ["wipefs", "-a", "build/disk.img"])
}

test_blkdiscard if {
	some f in finding with input as exec("/usr/sbin/blkdiscard", ["blkdiscard", "-f", "/dev/nvme0n1"])
	f.reasons == ["device-wipe"]
	f.targets == ["/dev/nvme0n1"]
	some g in finding with input as exec("/usr/sbin/blkdiscard", ["blkdiscard", "--secure", "/dev/sda"])
	g.reasons == ["device-wipe"]
}

test_sgdisk_zap_all if {
	some f in finding with input as exec("/usr/sbin/sgdisk", ["sgdisk", "--zap-all", "/dev/sda"])
	f.reasons == ["device-wipe"]
	some g in finding with input as exec("/usr/sbin/sgdisk", ["sgdisk", "-Z", "/dev/sdb"])
	g.targets == ["/dev/sdb"]
}

test_sgdisk_other_work_is_quiet if {
	count(finding) == 0 with input as exec("/usr/sbin/sgdisk", ["sgdisk", "-p", "/dev/sda"])
	count(finding) == 0 with input as exec("/usr/sbin/sgdisk", ["sgdisk", "-n", "1:0:+512M", "-t", "1:ef00", "/dev/sda"])
	count(finding) == 0 with input as exec("/usr/sbin/sgdisk", ["sgdisk", "-P", "-Z", "/dev/sda"])
	count(finding) == 0 with input as exec("/usr/sbin/sgdisk", ["sgdisk", "-Z", "disk.img"])
}

test_sfdisk_delete if {
	some f in finding with input as exec("/usr/sbin/sfdisk", ["sfdisk", "--delete", "/dev/sda"])
	f.reasons == ["device-wipe"]
	f.targets == ["/dev/sda"]
	some g in finding with input as exec("/usr/sbin/sfdisk", ["sfdisk", "--delete", "/dev/vdb", "2"])
	g.targets == ["/dev/vdb"]
}

test_sfdisk_other_work_is_quiet if {
	count(finding) == 0 with input as exec("/usr/sbin/sfdisk", ["sfdisk", "-l", "/dev/sda"])
	count(finding) == 0 with input as exec("/usr/sbin/sfdisk", ["sfdisk", "--json", "/dev/sda"])
	count(finding) == 0 with input as exec("/usr/sbin/sfdisk", ["sfdisk", "--delete", "disk.img", "1"])
}

test_mkfs_is_not_looked_at if {
	count(finding) == 0 with input as exec("/usr/sbin/mkfs.ext4", ["mkfs.ext4", "-F", "/dev/sdb1"])
	count(finding) == 0 with input as exec("/usr/sbin/mkfs", ["mkfs", "-t", "xfs", "/dev/nvme1n1"])
}

# --- rm ---

test_rm_of_the_root if {
	some f in finding with input as exec("/usr/bin/rm", ["rm", "-rf", "--no-preserve-root", "/"])
	f.reasons == ["mass-delete"]
	f.targets == ["/"]
	some g in finding with input as exec("/usr/bin/rm", ["rm", "-rf", "/"])
	g.reasons == ["mass-delete"]
	some h in finding with input as exec("/usr/bin/rm", ["rm", "-r", "-f", "/*"])
	h.targets == ["/*"]
}

test_rm_of_top_level_system_folders if {
	some f in finding with input as exec("/usr/bin/rm", ["rm", "-rf", "/etc"])
	f.targets == ["/etc"]
	some g in finding with input as exec("/usr/bin/rm", ["rm", "--recursive", "--force", "/home/", "/root"])
	g.targets == ["/home/", "/root"]
	some h in finding with input as exec("/usr/bin/rm", ["rm", "-Rf", "/var/*"])
	h.reasons == ["mass-delete"]
}

test_rm_of_an_expanded_root_glob if {
	some f in finding with input as exec("/usr/bin/rm", ["rm", "-fr", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/media", "/opt", "/proc", "/root", "/srv", "/usr", "/var"])
	f.targets == ["/bin", "/boot", "/etc", "/home", "/lib", "/opt", "/root", "/srv", "/usr", "/var"]
}

test_busybox_rm_of_the_root if {
	some f in finding with input as exec("/bin/busybox", ["busybox", "rm", "-rf", "/"])
	f.reasons == ["mass-delete"]
	some g in finding with input as exec("/bin/busybox", ["rm", "-rf", "/usr"])
	g.targets == ["/usr"]
}

test_rm_of_ordinary_trees_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-rf", "./build"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-rf", "/tmp/x"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-rf", "/var/lib/apt/lists/*"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-rf", "/etc/nginx/sites-enabled"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-rf", "/opt/app/releases/41"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-rf", "/etcetera"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-f", "/tmp/lock"])
}

test_rm_without_recursion_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-f", "/"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "/etc"])
	count(finding) == 0 with input as exec("/usr/bin/rm", ["rm", "-d", "/srv"])
}

test_other_programs_naming_the_root_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/ls", ["ls", "-R", "/"])
	count(finding) == 0 with input as exec("/usr/bin/chmod", ["chmod", "-R", "755", "/srv"])
}

# --- who may do it ---

dpkg := {"pid": 900, "host_pid": 900, "comm": "dpkg", "exe": "/usr/bin/dpkg", "argv": ["/usr/bin/dpkg", "--configure", "-a"], "uid": 0}

maintainer_script := {"pid": 950, "host_pid": 950, "comm": "postinst", "exe": "/usr/bin/dash", "argv": ["/bin/sh", "/var/lib/dpkg/info/x.postinst", "configure"], "uid": 0}

test_package_managers_are_left_out if {
	count(finding) == 0 with input as exec_under("/usr/bin/shred", ["shred", "-u", "/etc/ssl/private/old.key"], [maintainer_script, dpkg])
	count(finding) == 0 with input as exec_under("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/dev/loop0", "bs=1M", "count=1"], [maintainer_script, dpkg])
}

test_a_fake_dpkg_does_not_hide_it if {
	fake := {"pid": 900, "host_pid": 900, "comm": "dpkg", "exe": "/tmp/dpkg", "uid": 0}
	some f in finding with input as exec_under("/usr/bin/shred", ["shred", "-u", "x"], [fake])
	f.reasons == ["secure-delete"]
}

cloud_init := {"pid": 700, "host_pid": 700, "comm": "cloud-init", "exe": "/usr/bin/python3.12", "argv": ["/usr/bin/python3", "/usr/bin/cloud-init", "init"], "uid": 0}

chef := {"pid": 710, "host_pid": 710, "comm": "chef-client", "exe": "/opt/chef/embedded/bin/ruby", "argv": ["/opt/chef/embedded/bin/ruby", "/usr/bin/chef-client"], "uid": 0}

ansible := {"pid": 720, "host_pid": 720, "comm": "ansible-playboo", "exe": "/usr/bin/python3.11", "argv": ["/usr/bin/python3", "/usr/bin/ansible-playbook", "site.yml"], "uid": 0}

repart := {"pid": 730, "host_pid": 730, "comm": "systemd-repart", "exe": "/usr/bin/systemd-repart", "argv": ["systemd-repart", "--dry-run=no"], "uid": 0}

test_provisioning_tools_are_left_out if {
	count(finding) == 0 with input as exec_under("/usr/sbin/wipefs", ["wipefs", "-a", "/dev/vdb"], [cloud_init])
	count(finding) == 0 with input as exec_under("/usr/sbin/sgdisk", ["sgdisk", "--zap-all", "/dev/sdb"], [shell, chef])
	count(finding) == 0 with input as exec_under("/usr/bin/dd", ["dd", "if=/dev/zero", "of=/dev/sdc", "bs=1M", "count=10"], [shell, ansible])
	count(finding) == 0 with input as exec_under("/usr/sbin/blkdiscard", ["blkdiscard", "/dev/nvme1n1"], [repart])
}

test_a_provisioner_name_outside_installed_folders_does_not_hide_it if {
	fake := {"pid": 700, "host_pid": 700, "comm": "cloud-init", "exe": "/tmp/cloud-init", "uid": 0}
	some f in finding with input as exec_under("/usr/sbin/wipefs", ["wipefs", "-a", "/dev/vdb"], [fake])
	f.reasons == ["device-wipe"]
}

test_a_program_without_ancestors_or_uid if {
	some f in finding with input as {
		"name": "sched_process_exec",
		"process": {"pid": 1, "comm": "rm"},
		"args": {"pathname": "/usr/bin/rm", "argv": ["rm", "-rf", "/"]},
	}
	f.uid == -1
	f.ancestry == []
}

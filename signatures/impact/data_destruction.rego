# Data destruction: a program is run to destroy data so that it cannot be
# recovered.
#
# Wipers, ransomware crews covering their tracks and saboteurs with a shell
# all end the same way (T1485): files overwritten before they are unlinked
# (shred, wipe, srm, scrub and the secure-delete suite, T1070.004 when it is
# evidence that goes), a disk overwritten through its block device (dd
# of=/dev/sda, T1561.001), its partition table and file system signatures
# erased (wipefs -a, sgdisk --zap-all, sfdisk --delete) or its blocks
# discarded (blkdiscard, T1561.002), or the tree from the root down removed
# (rm -rf --no-preserve-root /, rm -rf /etc). Each is one command; by the
# time anyone looks there is nothing left to look at, so the exec is where
# it can still be seen.
#
# What is left out:
#   - dd writing anything but a disk: an image backup (dd if=/dev/sda
#     of=/backup/disk.img), a test file from /dev/zero, dd of=/dev/null;
#   - wipefs listing signatures (no -a) or in dry-run mode (-n), sgdisk
#     pretending (-P), and partition tools run on image files rather than
#     /dev; mkfs is not looked at at all, provisioning formats disks all day;
#   - rm of anything below a top-level folder (rm -rf ./build, /tmp/x,
#     /var/lib/apt/lists/*);
#   - shred and its kin with nothing to work on;
#   - whatever a package manager runs, and what the installers and
#     provisioning tools installed on the host run (cloud-init, anaconda,
#     subiquity, curtin, ansible, salt, puppet, chef, systemd-repart, ...):
#     they wipe disks and scrub secrets as their job.
package vigil.signatures.data_destruction

import data.vigil.lib

metadata := {
	"id": "data-destruction",
	"name": "Data destroyed beyond recovery",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program was run to destroy data beyond recovery: a secure-deletion tool (shred, wipe, srm, sfill, sdmem, scrub) on files or devices, dd writing to a disk's block device, wipefs -a, blkdiscard, sgdisk --zap-all or sfdisk --delete on a device, or rm removing the root or a top-level system folder recursively. Package managers and installed provisioning tools are left out, and so are dd to ordinary files and image backups.",
	"tactics": ["TA0040"],
	"techniques": ["T1485", "T1561.001", "T1561.002", "T1070.004"],
	"tags": ["impact", "wiper", "destruction", "anti-forensics"],
	"events": ["sched_process_exec"],
}

program := lib.exec_program

args := array.slice(input.args.argv, lib.exec_args_from, count(input.args.argv))

# A disk, a partition or a volume built from them, by the names the kernel,
# udev, device-mapper and md give them; /dev/null, /dev/zero, terminals and
# /dev/shm are not among them.
block_device(path) if {
	regex.match(`^/dev/(sd[a-z]|vd[a-z]|xvd[a-z]|hd[a-z]|nvme[0-9]|mmcblk[0-9]|dm-[0-9]|md[0-9]|md/.|mapper/.|loop[0-9]|disk/by-[a-z0-9-]+/.)`, path)
	path != "/dev/mapper/control"
}

# --- secure deletion: overwrite, then (usually) unlink ---

secure_deleters := {"shred", "gshred", "wipe", "srm", "sfill", "sswap", "sdmem", "scrub"}

# each tool's options that take a value, long and short; a short one may
# end a cluster of flags (shred -vzn 3 FILE)
valued_options := {
	"shred": {"-n", "--iterations", "-s", "--size", "--random-source"},
	"gshred": {"-n", "--iterations", "-s", "--size", "--random-source"},
	"wipe": {"-Q", "-R", "-S", "-T", "-l"},
	"scrub": {"-p", "--pattern", "-b", "--blocksize", "-s", "--device-size", "-D", "--dirent"},
}

valued_letters := {
	"shred": "ns",
	"gshred": "ns",
	"wipe": "QRSTl",
	"scrub": "pbsD",
}

takes_value(opt) if opt in object.get(valued_options, program, set())

takes_value(opt) if {
	letters := valued_letters[program]
	regex.match(concat("", [`^-[a-zA-Z]*[`, letters, `]$`]), opt)
}

# the files, folders and devices a secure deleter is given
overwritten contains a if {
	program in secure_deleters
	some i, a in args
	not regex.match(`^-.`, a)
	not after_valued_option(i)
}

after_valued_option(i) if {
	i > 0
	takes_value(args[i - 1])
}

reasons contains "secure-delete" if {
	some t in overwritten
	not block_device(t)
}

reasons contains "device-wipe" if {
	some t in overwritten
	block_device(t)
}

# sdmem wipes free memory: it takes no operand
reasons contains "secure-delete" if program == "sdmem"

# --- dd onto a disk ---

dd_programs := {"dd", "dcfldd", "dc3dd"}

# of=DEVICE; an input device (if=/dev/sda) is only read
dd_outputs contains substring(a, 3, -1) if {
	program in dd_programs
	some i, a in input.args.argv
	i >= lib.exec_args_from
	startswith(a, "of=/dev/")
	block_device(substring(a, 3, -1))
}

reasons contains "device-wipe" if count(dd_outputs) > 0

# --- partition tables, signatures and blocks erased ---

# arguments naming something in /dev: these tools only erase devices there
# (an image file being built stays quiet)
dev_operands contains a if {
	some i, a in input.args.argv
	i >= lib.exec_args_from
	startswith(a, "/dev/")
}

# -a among single-letter flags (-a, -af, -fa), or --all
wipefs_all if {
	some a in args
	regex.match(`^-[a-zA-Z]*a[a-zA-Z]*$`, a)
}

wipefs_all if "--all" in args

wipefs_dry_run if {
	some a in args
	regex.match(`^-[a-zA-Z]*n[a-zA-Z]*$`, a)
}

wipefs_dry_run if "--no-act" in args

sgdisk_zap if {
	some a in args
	regex.match(`^-[a-zA-Z]*Z[a-zA-Z]*$`, a)
}

sgdisk_zap if "--zap-all" in args

sgdisk_pretend if {
	some a in args
	a in {"-P", "--pretend"}
}

erased contains d if {
	program == "wipefs"
	wipefs_all
	not wipefs_dry_run
	some d in dev_operands
}

erased contains d if {
	program == "blkdiscard"
	some d in dev_operands
}

erased contains d if {
	program == "sgdisk"
	sgdisk_zap
	not sgdisk_pretend
	some d in dev_operands
}

erased contains d if {
	program == "sfdisk"
	"--delete" in args
	some d in dev_operands
}

reasons contains "device-wipe" if count(erased) > 0

# --- rm of the root or a top-level system folder ---

# /, /*, and the top-level system folders, bare or with a trailing / or /*
# (rm -rf /etc/*); the shell expands rm -rf /* into these
mass_targets contains a if {
	program == "rm"
	some i, a in input.args.argv
	i >= lib.exec_args_from
	regex.match(`^/((etc|usr|var|boot|home|root|bin|sbin|lib|lib32|lib64|opt|srv)(/\*?)?|\*)?$`, a)
	rm_recursive
}

# -r or -R alone or among other single-letter flags (-rf, -fR), or --recursive
rm_recursive if {
	some a in args
	regex.match(`^-[a-zA-Z]*[rR][a-zA-Z]*$`, a)
}

rm_recursive if "--recursive" in args

reasons contains "mass-delete" if count(mass_targets) > 0

# --- who may do it ---

# installers and configuration management that partition, wipe and clean
# up disks as their job; comm is cut to 15 characters (ansible-playbook,
# ironic-python-agent)
provisioners := {
	"cloud-init", "anaconda", "subiquity", "subiquity-server", "curtin", "ansible",
	"ansible-playbook", "ansible-playboo", "ansible-pull", "salt-minion", "salt-call",
	"puppet", "chef-client", "chef-solo", "systemd-repart", "ignition", "coreos-installer",
	"ceph-volume", "ironic-python-agent", "ironic-python-a",
}

# the process or an ancestor is one of the provisioners, installed on the
# host: lib.from_system_program, widened to the folders of installed
# programs (/opt, /usr/local, /snap) since chef and puppet run on a ruby of
# their own under /opt and subiquity is a snap
from_provisioner if lib.from_program_in(lib.installed_program_dirs, provisioners)

targets := (overwritten | dd_outputs) | (erased | mass_targets)

finding contains {
	"reasons": sort(reasons),
	"program": lib.exec_path,
	"targets": sort(targets),
	"argv": input.args.argv,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
	not lib.from_package_manager
	not from_provisioner
}

# Fileless execution: a program runs from something that is not a file on
# disk: an anonymous memfd, a file deleted before or while it ran, or shared
# memory (/dev/shm, /run/shm).
#
# Droppers use these to leave nothing for disk scanners and forensics. /tmp
# is not included even when it is tmpfs: running programs from /tmp is common
# and belongs in a separate, noisier signature.
package vigil.signatures.fileless_exec

import data.vigil.lib

metadata := {
	"id": "fileless-exec",
	"name": "Fileless execution",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program was executed from a memfd, from a deleted file, or from shared memory (/dev/shm, /run/shm), leaving no file on disk.",
	"tactics": ["TA0005"],
	"techniques": ["T1620", "T1027"],
	"tags": ["fileless", "memfd", "in-memory"],
	"events": ["sched_process_exec"],
}

# Written with trailing slashes: /dev/shmfoo is not /dev/shm.
shm_dirs := ["/dev/shm/", "/run/shm/"]

path := lib.exec_path

memfd if input.args.memfd == true

# The kernel names a memfd's file "memfd:<name>"; its d_path reads
# "/memfd:<name> (deleted)".
memfd if startswith(path, "/memfd:")

# runc re-executes itself from a sealed memfd copy named
# "runc_cloned:/proc/self/exe" (its defence against CVE-2019-5736) every
# time a container starts: the container runtime, not a payload.
runc_clone if startswith(path, "/memfd:runc_cloned:")

# A memfd never has a link on any file system, so the kernel also calls it
# deleted; "deleted" is reported only for files that had one.
deleted if {
	input.args.deleted == true
	not memfd
}

deleted if {
	endswith(path, " (deleted)")
	not memfd
}

shm if {
	some dir in shm_dirs
	startswith(path, dir)
}

reasons contains "memfd" if memfd

reasons contains "deleted" if deleted

reasons contains "shm" if shm

# Every exec of the host comes here: direct references decide for nearly
# all of them.
candidate if input.args.memfd == true

candidate if input.args.deleted == true

candidate if startswith(path, "/memfd:")

candidate if endswith(path, " (deleted)")

candidate if startswith(path, "/dev/shm/")

candidate if startswith(path, "/run/shm/")

finding contains {
	"reasons": sort(reasons),
	"pathname": path,
	"filename": lib.arg("filename", ""),
	"fs_type": lib.arg("fs_type", ""),
	"inode": lib.arg("inode", 0),
	"argv": lib.arg("argv", []),
	"ancestry": lib.ancestry,
} if {
	candidate
	count(reasons) > 0
	not runc_clone
}

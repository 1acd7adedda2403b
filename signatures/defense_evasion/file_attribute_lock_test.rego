package vigil.signatures.file_attribute_lock

chattr(argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 8300, "host_pid": 8300, "uid": 0, "comm": "chattr", "exe": "/usr/bin/chattr",
		"ancestors": [{"pid": 900, "host_pid": 900, "comm": "bash", "exe": "/usr/bin/bash", "uid": 0}]},
	"args": {"pathname": "/usr/bin/chattr", "argv": argv},
}

test_locking_planted_persistence if {
	some f in finding with input as chattr(["chattr", "+i", "/etc/cron.d/update"])
	f.files == ["/etc/cron.d/update"]
	f.changes == ["+i"]
	f.locks
	count(finding) == 1 with input as chattr(["chattr", "+ia", "/root/.ssh/authorized_keys"])
	count(finding) == 1 with input as chattr(["chattr", "-R", "+i", "/tmp/.x"])
	count(finding) == 1 with input as chattr(["chattr", "+a", "/home/ann/.bashrc"])
}

test_unlocking_a_system_file if {
	some f in finding with input as chattr(["chattr", "-i", "/etc/ld.so.preload"])
	not f.locks
	count(finding) == 1 with input as chattr(["chattr", "-ia", "/usr/bin/ps", "/usr/bin/top"])
}

test_other_attributes_are_quiet if {
	count(finding) == 0 with input as chattr(["chattr", "+c", "/etc/big.log"])
	count(finding) == 0 with input as chattr(["chattr", "+C", "/var/lib/mysql"])
	count(finding) == 0 with input as chattr(["chattr", "-e", "/etc/x"])
}

test_own_files_elsewhere_are_quiet if {
	count(finding) == 0 with input as chattr(["chattr", "+i", "/srv/data/archive.tar"])
	count(finding) == 0 with input as chattr(["chattr", "+i", "/home/ann/notes.txt"])
	# -p's value is no file
	count(finding) == 0 with input as chattr(["chattr", "-p", "/etc", "+i", "/srv/x"])
}

test_busybox_chattr if {
	ev := object.union(chattr([]), {"args": {"pathname": "/bin/busybox", "argv": ["busybox", "chattr", "+i", "/etc/passwd"]}})
	some f in finding with input as ev
	f.files == ["/etc/passwd"]
}

test_lsattr_is_quiet if {
	count(finding) == 0 with input as object.union(chattr(["lsattr", "/etc/passwd"]), {"args": {"pathname": "/usr/bin/lsattr"}})
}

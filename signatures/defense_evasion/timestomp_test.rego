package vigil.signatures.timestomp

touch(argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 8100, "host_pid": 8100, "uid": 0, "comm": "touch", "exe": "/usr/bin/touch",
		"ancestors": [{"pid": 900, "host_pid": 900, "comm": "bash", "exe": "/usr/bin/bash", "uid": 0}]},
	"args": {"pathname": "/usr/bin/touch", "argv": argv},
}

test_reference_from_a_system_program if {
	some f in finding with input as touch(["touch", "-r", "/bin/ls", "/tmp/.x"])
	f.references == ["/bin/ls"]
	f.targets == ["/tmp/.x"]
	f.how == ["reference"]
	count(finding) == 1 with input as touch(["touch", "--reference=/usr/bin/ssh", "/var/tmp/helper"])
	count(finding) == 1 with input as touch(["touch", "--reference", "/usr/bin/ssh", "/var/tmp/helper"])
	count(finding) == 1 with input as touch(["touch", "-r/usr/bin/ssh", "/var/tmp/helper"])
}

test_explicit_time_on_a_system_file if {
	some f in finding with input as touch(["touch", "-t", "202001011200", "/usr/lib/x86_64-linux-gnu/security/pam_unix.so"])
	f.system_targets == ["/usr/lib/x86_64-linux-gnu/security/pam_unix.so"]
	f.how == ["stamp"]
	count(finding) == 1 with input as touch(["touch", "-amt", "202001011200", "/etc/cron.d/job"])
	count(finding) == 1 with input as touch(["touch", "-d", "2019-03-04 10:00", "/var/log/auth.log"])
	count(finding) == 1 with input as touch(["touch", "--date=last year", "/etc/ld.so.preload"])
	count(finding) == 1 with input as touch(["touch", "-t202001011200", "/sbin/init"])
}

test_the_value_of_an_option_is_no_target if {
	# "-d /etc" would be a (strange) date, not a file touched in /etc
	count(finding) == 0 with input as touch(["touch", "-d", "/etc", "/tmp/marker"])
}

test_plain_touch_is_quiet if {
	count(finding) == 0 with input as touch(["touch", "/etc/nologin"])
	count(finding) == 0 with input as touch(["touch", "-c", "/var/log/wtmp"])
}

test_times_on_user_files_are_quiet if {
	count(finding) == 0 with input as touch(["touch", "-d", "2 hours ago", "/tmp/marker"])
	count(finding) == 0 with input as touch(["touch", "-r", "build/out.o", "build/stamp"])
}

test_busybox_touch if {
	ev := object.union(touch(["touch", "-r", "/bin/busybox", "/tmp/.b"]), {"args": {"pathname": "/bin/busybox", "argv": ["touch", "-r", "/bin/busybox", "/tmp/.b"]}})
	count(finding) == 1 with input as ev
	ev2 := object.union(touch([]), {"args": {"pathname": "/bin/busybox", "argv": ["busybox", "touch", "-r", "/bin/sh", "/tmp/.b"]}})
	some f in finding with input as ev2
	f.targets == ["/tmp/.b"]
}

test_other_programs_are_quiet if {
	count(finding) == 0 with input as object.union(touch(["cp", "-p", "/bin/ls", "/tmp/x"]), {"args": {"pathname": "/usr/bin/cp", "argv": ["cp", "-p", "/bin/ls", "/tmp/x"]}})
}

test_package_scripts_are_quiet if {
	ev := touch(["touch", "-r", "/usr/bin/foo", "/usr/bin/foo.new"])
	count(finding) == 0 with input as object.union(ev, {"process": object.union(ev.process, {"ancestors": [{"pid": 70, "comm": "dpkg", "exe": "/usr/bin/dpkg"}]})})
}

utimes(path, comm, args) := {
	"name": "utimensat",
	"process": {"pid": 8100, "comm": comm, "exe": concat("/", ["/tmp", comm])},
	"return_value": 0,
	"args": object.union({"pathname": path, "flags": 0, "syscall": "utimensat"}, args),
}

test_program_setting_an_old_time_on_a_system_file_fires if {
	some f in finding with input as utimes("/usr/lib/x86_64-linux-gnu/libpam.so.0", "stomp", {"mtime": 1420070400, "atime": 1420070400})
	f.how == ["syscall"]
	f.system_targets == ["/usr/lib/x86_64-linux-gnu/libpam.so.0"]
	f.times.mtime == 1420070400
	# futimens of an open file, the modification time alone
	count(finding) == 1 with input as utimes("/etc/cron.d/x", "implant", {"mtime": 1420070400, "syscall": "utimensat"})
}

test_program_setting_times_elsewhere_or_keepers_are_quiet if {
	count(finding) == 0 with input as utimes("/home/ann/x", "stomp", {"mtime": 1420070400})
	count(finding) == 0 with input as utimes("/usr/local/bin/node", "tar", {"mtime": 1420070400})
	count(finding) == 0 with input as utimes("/usr/bin/ls", "touch", {"mtime": 1420070400})
	count(finding) == 0 with input as utimes("/usr/bin/ls", "rsync", {"mtime": 1420070400})
	# useradd's backup of /etc/passwd keeps the original's times
	count(finding) == 0 with input as utimes("/etc/passwd-", "useradd", {"mtime": 1796484067, "atime": 1796484070})
	# refused
	count(finding) == 0 with input as json.patch(utimes("/usr/bin/ls", "stomp", {"mtime": 1}), [{"op": "replace", "path": "/return_value", "value": -1}])
	# no time given (now): the sensor does not report it; an event without one says nothing
	count(finding) == 0 with input as utimes("/usr/bin/ls", "stomp", {})
}

package vigil.signatures.masquerading

run(path, argv) := {"name": "sched_process_exec", "process": {"pid": 11, "comm": "x"}, "args": {"pathname": path, "argv": argv}}

test_sshd_in_tmp if {
	some f in finding with input as run("/tmp/.cache/sshd", ["sshd", "-D"])
	f.reasons == ["system-name-outside-system-folders"]
}

test_kworker_file_in_shm if {
	some f in finding with input as run("/dev/shm/kworker", ["kworker"])
	f.reasons == ["system-name-outside-system-folders"]
}

test_kernel_thread_argv0 if {
	some f in finding with input as run("/home/u/.local/share/xmr", ["[kworker/0:2-events]", "-o", "pool"])
	f.reasons == ["kernel-thread-argv0"]
	f.argv0 == "[kworker/0:2-events]"
}

test_both_reasons if {
	some f in finding with input as run("/var/tmp/kthreadd", ["[kthreadd]"])
	f.reasons == ["kernel-thread-argv0", "system-name-outside-system-folders"]
}

test_real_sshd_is_quiet if {
	count(finding) == 0 with input as run("/usr/sbin/sshd", ["sshd: alice [priv]"])
}

test_real_systemd_is_quiet if {
	count(finding) == 0 with input as run("/usr/lib/systemd/systemd", ["/sbin/init", "splash"])
}

test_ordinary_program_is_quiet if {
	count(finding) == 0 with input as run("/home/u/bin/tool", ["tool", "[x]"])
}

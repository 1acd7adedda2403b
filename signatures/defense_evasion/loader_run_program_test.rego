package vigil.signatures.loader_run_program

run(argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 8200, "host_pid": 8200, "uid": 1000, "comm": "ld-linux-x86-64", "exe": "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	"args": {"pathname": "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "argv": argv},
}

test_payload_in_tmp_run_through_the_loader if {
	some f in finding with input as run(["/lib64/ld-linux-x86-64.so.2", "/tmp/.x/payload", "-c", "cfg"])
	f.program == "/tmp/.x/payload"
	f.in_temp_dir
}

test_loader_options_are_skipped if {
	some f in finding with input as run(["ld.so", "--preload", "/tmp/h.so", "--argv0", "sshd", "/dev/shm/p"])
	f.program == "/dev/shm/p"
}

test_other_loaders if {
	ev := object.union(run(["ld-musl-x86_64.so.1", "./p"]), {"args": {"pathname": "/lib/ld-musl-x86_64.so.1"}})
	some f in finding with input as ev
	f.program == "./p"
	count(finding) == 1 with input as object.union(run(["x", "/tmp/p"]), {"args": {"pathname": "/lib/ld-linux-aarch64.so.1"}})
}

test_ldd_is_quiet if {
	count(finding) == 0 with input as run(["/lib64/ld-linux-x86-64.so.2", "--verify", "/usr/bin/ls"])
	count(finding) == 0 with input as run(["/lib64/ld-linux-x86-64.so.2", "--list", "/usr/bin/ls"])
	count(finding) == 0 with input as run(["/lib64/ld-linux-x86-64.so.2", "--help"])
}

test_loader_alone_is_quiet if {
	count(finding) == 0 with input as run(["/lib64/ld-linux-x86-64.so.2"])
}

test_bundle_with_its_own_libraries_is_quiet if {
	count(finding) == 0 with input as run(["/opt/app/lib/ld-linux-x86-64.so.2", "--library-path", "/opt/app/lib", "/opt/app/bin/app"])
}

test_other_programs_are_quiet if {
	count(finding) == 0 with input as object.union(run(["ld", "-o", "a.out", "a.o"]), {"args": {"pathname": "/usr/bin/ld"}})
	count(finding) == 0 with input as object.union(run(["ldconfig"]), {"args": {"pathname": "/usr/sbin/ldconfig"}})
}

test_ldd_listing_run_is_quiet if {
	ev := run(["/lib64/ld-linux-x86-64.so.2", "/bin/true"])
	count(finding) == 0 with input as object.union(ev, {"args": {"env": ["LD_TRACE_LOADED_OBJECTS=1"]}})
	count(finding) == 1 with input as object.union(ev, {"args": {"env": ["LD_TRACE_LOADED_OBJECTS="]}})
}

package vigil.signatures.loader_env_injection

exec_with(env) := {
	"name": "sched_process_exec",
	"process": {"pid": 31337, "comm": "sshd"},
	"args": {"pathname": "/usr/sbin/sshd", "argv": ["sshd", "-D"], "env": env},
}

test_preload_from_tmp_fires if {
	some f in finding with input as exec_with(["PATH=/usr/bin", "LD_PRELOAD=/tmp/.x/libhook.so"])
	f.libraries == ["/tmp/.x/libhook.so"]
	f.variables == ["LD_PRELOAD"]
	f.in_temp_dir
}

test_audit_from_home_fires if {
	some f in finding with input as exec_with(["LD_AUDIT=/home/eve/audit.so"])
	f.variables == ["LD_AUDIT"]
	not f.in_temp_dir
}

test_several_libraries_split if {
	some f in finding with input as exec_with(["LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /opt/app/hook.so:/dev/shm/a.so"])
	f.libraries == ["/dev/shm/a.so", "/opt/app/hook.so"]
}

test_system_library_is_quiet if {
	count(finding) == 0 with input as exec_with(["LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"])
	count(finding) == 0 with input as exec_with(["LD_PRELOAD=libjemalloc.so.2"])
}

test_empty_value_is_quiet if {
	count(finding) == 0 with input as exec_with(["LD_PRELOAD="])
}

test_no_env_is_quiet if {
	count(finding) == 0 with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/bin/ls"}}
}

test_other_ld_variables_are_quiet if {
	count(finding) == 0 with input as exec_with(["LD_LIBRARY_PATH=/tmp/lib"])
}

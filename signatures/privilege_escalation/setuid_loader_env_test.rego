package vigil.signatures.setuid_loader_env

exec_suid(uid, env) := {
	"name": "sched_process_exec",
	"process": {"pid": 4000, "uid": uid, "euid": 0, "comm": "su"},
	"args": {"pathname": "/usr/bin/su", "argv": ["su", "--help"], "setuid": true, "env": env},
}

test_looney_tunables_shape_fires if {
	some f in finding with input as exec_suid(1000, ["GLIBC_TUNABLES=glibc.malloc.mxfast=glibc.malloc.mxfast=AAAA"])
	f.variables == ["GLIBC_TUNABLES"]
	f.tunables_overflow_shape
	f.value_lengths.GLIBC_TUNABLES == 44
}

test_gconv_path_fires if {
	some f in finding with input as exec_suid(1000, ["GCONV_PATH=./pwnkit", "PATH=/bin"])
	f.variables == ["GCONV_PATH"]
	not f.tunables_overflow_shape
}

test_root_caller_is_quiet if {
	count(finding) == 0 with input as exec_suid(0, ["LD_PRELOAD=/tmp/x.so"])
}

test_plain_environment_is_quiet if {
	count(finding) == 0 with input as exec_suid(1000, ["PATH=/usr/bin", "LANG=C.UTF-8"])
}

test_non_setuid_program_is_quiet if {
	ev := json.patch(exec_suid(1000, ["LD_PRELOAD=/tmp/x.so"]), [{"op": "replace", "path": "/args/setuid", "value": false}])
	count(finding) == 0 with input as ev
}

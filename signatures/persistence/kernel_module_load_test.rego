package vigil.signatures.kernel_module_load

finit(ret) := {
	"name": "finit_module",
	"return_value": ret,
	"process": {"pid": 3100, "comm": "insmod", "exe": "/usr/bin/kmod", "uid": 0},
	"args": {"fd": 3, "pathname": "/tmp/rk/diamorphine.ko", "param_values": "", "flags": 0},
}

test_finit_module_success_fires if {
	some f in finding with input as finit(0)
	f.syscall == "finit_module"
	f.source == "/tmp/rk/diamorphine.ko"
	f.succeeded
}

test_failed_attempt_still_fires if {
	some f in finding with input as finit(-1)
	not f.succeeded
	f.return_value == -1
}

test_init_module_from_memory_fires if {
	ev := {
		"name": "init_module",
		"return_value": -17,
		"process": {"pid": 77, "comm": "loader", "uid": 0},
		"args": {"len": 16384, "param_values": "hide=1"},
	}
	some f in finding with input as ev
	f.source == "memory"
	f.image_size == 16384
	f.params == "hide=1"
}

test_missing_args_still_fire if {
	# A fallback probe that could not resolve the fd's path still reports.
	some f in finding with input as {"name": "finit_module", "return_value": 0, "process": {}, "args": {"fd": 5}}
	f.source == ""
}

test_exec_of_insmod_alone_does_not_fire if {
	count(finding) == 0 with input as {
		"name": "sched_process_exec",
		"return_value": 0,
		"process": {"comm": "insmod"},
		"args": {"pathname": "/usr/bin/kmod"},
	}
}

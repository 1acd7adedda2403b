package vigil.signatures.fileless_exec

exec(args) := {
	"name": "sched_process_exec",
	"process": {"pid": 6001, "comm": "3", "exe": "/memfd:payload (deleted)"},
	"args": object.union({"argv": ["x"], "fs_type": "ext4", "memfd": false, "deleted": false}, args),
}

test_memfd_exec_fires if {
	some f in finding with input as exec({"pathname": "/memfd:payload (deleted)", "memfd": true, "deleted": true, "fs_type": "tmpfs"})
	f.reasons == ["memfd"]
}

test_memfd_recognised_by_path_when_flag_missing if {
	ev := {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/memfd: (deleted)"}}
	some f in finding with input as ev
	f.reasons == ["memfd"]
}

test_deleted_binary_fires if {
	some f in finding with input as exec({"pathname": "/home/u/.cache/agent (deleted)", "deleted": true})
	f.reasons == ["deleted"]
}

test_dev_shm_fires if {
	some f in finding with input as exec({"pathname": "/dev/shm/.x/kinsing", "fs_type": "tmpfs"})
	f.reasons == ["shm"]
	f.fs_type == "tmpfs"
}

test_run_shm_fires if {
	some f in finding with input as exec({"pathname": "/run/shm/a"})
	f.reasons == ["shm"]
}

test_filename_used_when_path_unresolved if {
	some f in finding with input as exec({"pathname": "", "filename": "/dev/shm/a"})
	f.pathname == "/dev/shm/a"
}

test_deleted_file_in_shm_has_both_reasons if {
	some f in finding with input as exec({"pathname": "/dev/shm/a (deleted)", "deleted": true})
	f.reasons == ["deleted", "shm"]
}

test_tmp_on_tmpfs_does_not_fire if {
	count(finding) == 0 with input as exec({"pathname": "/tmp/build/configure", "fs_type": "tmpfs"})
}

test_ordinary_binary_does_not_fire if {
	count(finding) == 0 with input as exec({"pathname": "/usr/bin/ls"})
}

test_similar_prefix_does_not_fire if {
	count(finding) == 0 with input as exec({"pathname": "/dev/shmfoo/a"})
}

test_runc_self_clone_is_quiet if {
	count(finding) == 0 with input as exec({"pathname": "/memfd:runc_cloned:/proc/self/exe (deleted)", "memfd": true, "deleted": true})
}

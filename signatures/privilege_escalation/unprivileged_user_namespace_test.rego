package vigil.signatures.unprivileged_user_namespace

ns(syscall, changed, uid, process) := {
	"name": "switch_task_namespaces",
	"return_value": 0,
	"process": object.union({"pid": 5120, "uid": uid, "euid": uid, "comm": "exp", "exe": "/home/u/exp"}, process),
	"args": {"syscall": syscall, "changed": changed, "entered_host": [], "flags": 1342177280, "target_pid": 0},
}

test_unshare_user_and_net_by_a_user_fires if {
	some f in finding with input as ns("unshare", ["net", "user"], 1000, {})
	f.changed == ["net", "user"]
	f.uid == 1000
	f.syscall == "unshare"
}

test_clone_user_and_mnt_fires if {
	some f in finding with input as ns("clone", ["mnt", "user"], 1000, {})
	f.changed == ["mnt", "user"]
}

test_user_namespace_alone_is_quiet if {
	count(finding) == 0 with input as ns("unshare", ["user"], 1000, {})
}

test_root_is_quiet if {
	count(finding) == 0 with input as ns("unshare", ["net", "user"], 0, {})
}

test_chrome_sandbox_is_quiet if {
	count(finding) == 0 with input as ns("clone", ["net", "pid_for_children", "user"], 1000,
		{"comm": "chrome", "exe": "/opt/google/chrome/chrome"})
}

test_child_of_bwrap_is_quiet if {
	count(finding) == 0 with input as ns("unshare", ["mnt", "user"], 1000,
		{"comm": "x", "exe": "/usr/libexec/x", "ancestors": [{"pid": 40, "comm": "bwrap", "exe": "/usr/bin/bwrap"}]})
}

test_sandbox_name_in_tmp_still_fires if {
	some f in finding with input as ns("unshare", ["net", "user"], 1000, {"comm": "chrome", "exe": "/tmp/chrome"})
	f.exe == "/tmp/chrome"
}

test_setns_into_a_user_namespace_is_not_creation if {
	count(finding) == 0 with input as ns("setns", ["net", "user"], 1000, {})
}

package vigil.signatures.creds_raised_to_root

creds(old_uid, new_uid, old_euid, new_euid) := {
	"name": "commit_creds",
	"process": {"pid": 5120, "comm": "rootshell", "exe": "/opt/x/rootshell", "uid": old_uid},
	"args": {
		"old_uid": old_uid, "new_uid": new_uid,
		"old_euid": old_euid, "new_euid": new_euid,
		"old_gid": 1000, "new_gid": 1000,
		"syscall": "setuid",
	},
}

test_real_and_effective_uid_raised_is_one_finding if {
	fs := finding with input as creds(1000, 0, 1000, 0)
	count(fs) == 1
	some f in fs
	f.raised == ["euid", "uid"]
	f.syscall == "setuid"
}

test_effective_uid_only if {
	# exec of a set-user-id root binary: euid becomes 0, uid stays.
	some f in finding with input as creds(1000, 1000, 1000, 0)
	f.raised == ["euid"]
}

test_real_uid_raised_by_a_task_that_had_effective_root_is_quiet if {
	# a set-user-id root program (euid 0) making its real uid 0 gains
	# nothing it did not have
	count(finding) == 0 with input as creds(1000, 0, 0, 0)
}

test_seteuid_and_back_by_root_is_quiet if {
	# apt's methods: euid _apt (42) and back to 0, real and saved uid 0
	ev := json.patch(creds(0, 0, 42, 0), [{"op": "add", "path": "/args/old_suid", "value": 0}, {"op": "add", "path": "/args/new_suid", "value": 0}])
	count(finding) == 0 with input as ev
}

test_saved_root_is_root if {
	# real and effective uid 1000, saved uid 0: setresuid(0, 0, 0) takes
	# back what the task kept
	ev := json.patch(creds(1000, 0, 1000, 0), [{"op": "add", "path": "/args/old_suid", "value": 0}])
	count(finding) == 0 with input as ev
}

test_no_root_id_before_fires if {
	ev := json.patch(creds(1000, 0, 1000, 0), [{"op": "add", "path": "/args/old_suid", "value": 1000}])
	some f in finding with input as ev
	f.raised == ["euid", "uid"]
}

test_root_dropping_privileges_does_not_fire if {
	count(finding) == 0 with input as creds(0, 1000, 0, 1000)
}

test_root_staying_root_does_not_fire if {
	count(finding) == 0 with input as creds(0, 0, 0, 0)
}

test_change_between_non_root_users_does_not_fire if {
	count(finding) == 0 with input as creds(1000, 1001, 1000, 1001)
}

test_gid_zero_alone_does_not_fire if {
	ev := {"name": "commit_creds", "process": {}, "args": {
		"old_uid": 1000, "new_uid": 1000, "old_euid": 1000, "new_euid": 1000,
		"old_gid": 1000, "new_gid": 0,
	}}
	count(finding) == 0 with input as ev
}

test_missing_new_ids_do_not_fire if {
	count(finding) == 0 with input as {"name": "commit_creds", "process": {}, "args": {"old_uid": 1000}}
}

as_program(ev, exe) := json.patch(ev, [{"op": "replace", "path": "/process/exe", "value": exe}])

test_installed_privilege_tools_are_quiet if {
	count(finding) == 0 with input as as_program(creds(1000, 0, 1000, 0), "/usr/bin/sudo")
	count(finding) == 0 with input as as_program(creds(1000, 1000, 1000, 0), "/usr/bin/passwd")
	count(finding) == 0 with input as as_program(creds(1000, 1000, 1000, 0), "/bin/mount")
	count(finding) == 0 with input as as_program(creds(1000, 1000, 1000, 0), "/usr/lib/polkit-1/polkit-agent-helper-1")
}

test_a_copy_of_a_privilege_tool_fires if {
	some f in finding with input as as_program(creds(1000, 0, 1000, 0), "/tmp/sudo")
	f.program == "/tmp/sudo"
	some g in finding with input as as_program(creds(1000, 0, 1000, 0), "/home/eve/bin/su")
	g.program == "/home/eve/bin/su"
}

test_comm_of_a_privilege_tool_is_not_enough if {
	ev := json.patch(creds(1000, 0, 1000, 0), [
		{"op": "replace", "path": "/process/comm", "value": "sudo"},
		{"op": "replace", "path": "/process/exe", "value": "/usr/bin/python3.11"},
	])
	count(finding) == 1 with input as ev
}

test_kernel_hook_exec_names_the_program_executed if {
	# during the exec the process still runs its old program; args.exe is the new one
	ev := json.patch(creds(1000, 1000, 1000, 0), [
		{"op": "replace", "path": "/process/exe", "value": "/usr/bin/bash"},
		{"op": "add", "path": "/args/exe", "value": "/usr/bin/su"},
	])
	count(finding) == 0 with input as ev
	some f in finding with input as json.patch(ev, [{"op": "replace", "path": "/args/exe", "value": "/var/tmp/x"}])
	f.program == "/var/tmp/x"
}

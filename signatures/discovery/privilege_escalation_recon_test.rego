package vigil.signatures.privilege_escalation_recon

exec(path, argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 9100, "host_pid": 9100, "comm": "find", "exe": path, "uid": 1001, "ancestors": [
		{"pid": 9000, "host_pid": 9000, "comm": "sh", "exe": "/usr/bin/dash", "argv": ["sh", "-i"]},
	]},
	"args": {"pathname": path, "filename": path, "argv": argv},
}

under(ev, ancestors) := object.union(ev, {"process": object.union(ev.process, {"ancestors": ancestors})})

test_setuid_searches if {
	some f in finding with input as exec("/usr/bin/find", ["find", "/", "-perm", "-4000", "-type", "f"])
	f.reasons == ["setid-search"]
	f.uid == 1001
	some g in finding with input as exec("/usr/bin/find", ["find", "/", "-perm", "-u=s", "-type", "f", "2>/dev/null"])
	g.reasons == ["setid-search"]
	some h in finding with input as exec("/usr/bin/find", ["find", "/usr/bin", "/usr/sbin", "-perm", "/6000"])
	h.reasons == ["setid-search"]
	some k in finding with input as exec("/usr/bin/find", ["find", "-L", "/", "-xdev", "-perm", "-g=s"])
	k.reasons == ["setid-search"]
	some m in finding with input as exec("/bin/busybox", ["busybox", "find", "/", "-perm", "-2000"])
	m.reasons == ["setid-search"]
	some n in finding with input as exec("/usr/bin/find", ["find", "/", "-perm", "-04000"])
	n.reasons == ["setid-search"]
}

test_writable_searches if {
	some f in finding with input as exec("/usr/bin/find", ["find", "/", "-writable", "-type", "d"])
	f.reasons == ["writable-search"]
	some g in finding with input as exec("/usr/bin/find", ["find", "/etc", "-perm", "-o+w"])
	g.reasons == ["writable-search"]
	some h in finding with input as exec("/usr/bin/find", ["find", "/", "-xdev", "-type", "f", "-perm", "-0002"])
	h.reasons == ["writable-search"]
}

test_getcap_recursive if {
	some f in finding with input as exec("/usr/sbin/getcap", ["getcap", "-r", "/"])
	f.reasons == ["capability-search"]
	count(finding) == 0 with input as exec("/usr/sbin/getcap", ["getcap", "/usr/bin/ping"])
	count(finding) == 0 with input as exec("/usr/sbin/getcap", ["getcap", "-r", "/home/u/build"])
}

test_narrow_or_ordinary_searches_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", ".", "-perm", "-4000"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/srv/app/bin", "-perm", "-u=s"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/", "-perm", "-0644", "-name", "*.conf"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/usr", "-perm", "755", "-type", "f"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/tmp", "-writable"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/var/log", "-name", "*.gz", "-delete"])
}

test_auditors_are_quiet if {
	cs := [
		{"pid": 8900, "host_pid": 8900, "comm": "check-setuid", "exe": "/usr/bin/dash", "argv": ["/bin/sh", "/usr/share/checksecurity/check-setuid"]},
		{"pid": 8800, "host_pid": 8800, "comm": "checksecurity", "exe": "/usr/bin/dash", "argv": ["/bin/sh", "/usr/sbin/checksecurity"]},
	]
	count(finding) == 0 with input as under(exec("/usr/bin/find", ["find", "/", "-perm", "/6000", "-type", "f"]), cs)
	lynis := [{"pid": 8700, "host_pid": 8700, "comm": "lynis", "exe": "/usr/bin/dash", "argv": ["/bin/sh", "/usr/sbin/lynis", "audit", "system"]}]
	count(finding) == 0 with input as under(exec("/usr/bin/find", ["find", "/", "-perm", "-4000"]), lynis)
}

test_auditor_names_from_temporary_folders_do_not_exempt if {
	fake := [{"pid": 8700, "host_pid": 8700, "comm": "lynis", "exe": "/tmp/lynis", "argv": ["/tmp/lynis"]}]
	some f in finding with input as under(exec("/usr/bin/find", ["find", "/", "-perm", "-4000"]), fake)
	f.reasons == ["setid-search"]
}

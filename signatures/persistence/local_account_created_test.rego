package vigil.signatures.local_account_created

exec(path, argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 8100, "host_pid": 8100, "comm": "x", "exe": path, "uid": 0, "ancestors": [
		{"pid": 8000, "host_pid": 8000, "comm": "bash", "exe": "/usr/bin/bash", "argv": ["bash"]},
		{"pid": 7000, "host_pid": 7000, "comm": "sshd", "exe": "/usr/sbin/sshd", "argv": ["sshd: root@pts/0"]},
	]},
	"args": {"pathname": path, "filename": path, "argv": argv},
}

under(ev, ancestors) := object.union(ev, {"process": object.union(ev.process, {"ancestors": ancestors})})

test_useradd_with_home_and_default_shell if {
	some f in finding with input as exec("/usr/sbin/useradd", ["useradd", "-m", "backup2"])
	f.reasons == ["login-account"]
	f.account == "backup2"
	f.program == "/usr/sbin/useradd"
}

test_system_account_with_a_shell_and_a_password if {
	some f in finding with input as exec("/usr/sbin/useradd", ["useradd", "-M", "-N", "-r", "-s", "/bin/bash", "-c", "evil_account", "-p", "$6$xyz$abc", "art"])
	f.reasons == ["login-account", "password-on-command-line"]
	f.account == "art"
	some g in finding with input as exec("/usr/sbin/useradd", ["useradd", "--shell=/bin/zsh", "--system", "svc2"])
	g.reasons == ["login-account"]
}

test_adduser_debian_and_busybox if {
	some f in finding with input as exec("/usr/sbin/adduser", ["adduser", "--disabled-password", "--gecos", "", "deploy"])
	f.account == "deploy"
	some g in finding with input as exec("/bin/busybox", ["adduser", "-D", "-s", "/bin/sh", "eve"])
	g.account == "eve"
}

test_newusers if {
	some f in finding with input as exec("/usr/sbin/newusers", ["newusers", "/tmp/users.txt"])
	f.reasons == ["batch-accounts"]
	f.account == ""
}

test_service_accounts_are_quiet if {
	count(finding) == 0 with input as exec("/usr/sbin/useradd", ["useradd", "-r", "prometheus"])
	count(finding) == 0 with input as exec("/usr/sbin/useradd", ["useradd", "-rm", "svc"])
	count(finding) == 0 with input as exec("/usr/sbin/useradd", ["useradd", "--system", "--no-create-home", "--shell", "/bin/false", "node_exporter"])
	count(finding) == 0 with input as exec("/usr/sbin/useradd", ["useradd", "-m", "-s", "/usr/sbin/nologin", "app"])
	count(finding) == 0 with input as exec("/usr/sbin/adduser", ["adduser", "--system", "--group", "--no-create-home", "redis"])
	count(finding) == 0 with input as exec("/bin/busybox", ["adduser", "-S", "-D", "-H", "nginx"])
}

test_other_uses_of_the_tools_are_quiet if {
	# adduser USER GROUP adds to a group; useradd -D shows the defaults
	count(finding) == 0 with input as exec("/usr/sbin/adduser", ["adduser", "bob", "audio"])
	count(finding) == 0 with input as exec("/usr/sbin/useradd", ["useradd", "-D"])
	count(finding) == 0 with input as exec("/usr/sbin/usermod", ["usermod", "-s", "/bin/bash", "bob"])
}

test_system_machinery_is_quiet if {
	dpkg := [
		{"pid": 900, "host_pid": 900, "comm": "postinst", "exe": "/usr/bin/dash", "argv": ["/bin/sh", "/var/lib/dpkg/info/foo.postinst", "configure"]},
		{"pid": 800, "host_pid": 800, "comm": "dpkg", "exe": "/usr/bin/dpkg", "argv": ["dpkg", "-i", "foo.deb"]},
	]
	count(finding) == 0 with input as under(exec("/usr/sbin/useradd", ["useradd", "-m", "foo"]), dpkg)
	cloud := [{"pid": 700, "host_pid": 700, "comm": "cloud-init", "exe": "/usr/bin/cloud-init", "argv": ["/usr/bin/python3", "/usr/bin/cloud-init", "init"]}]
	count(finding) == 0 with input as under(exec("/usr/sbin/useradd", ["useradd", "-m", "-s", "/bin/bash", "ubuntu"]), cloud)
	ansible := [{"pid": 600, "host_pid": 600, "comm": "python3", "exe": "/usr/bin/python3.11", "argv": ["/usr/bin/python3", "/root/.ansible/tmp/ansible-tmp-1/AnsiballZ_user.py"]}]
	count(finding) == 0 with input as under(exec("/usr/sbin/useradd", ["useradd", "-m", "deploy"]), ansible)
}

test_a_fake_cloud_init_elsewhere_does_not_exempt if {
	fake := [{"pid": 700, "host_pid": 700, "comm": "cloud-init", "exe": "/tmp/cloud-init", "argv": ["/tmp/cloud-init"]}]
	some f in finding with input as under(exec("/usr/sbin/useradd", ["useradd", "-m", "x"]), fake)
	f.account == "x"
}

test_shell_at_the_end_of_a_flag_cluster if {
	some f in finding with input as exec("/usr/sbin/useradd", ["useradd", "-rs", "/bin/bash", "svc3"])
	f.reasons == ["login-account"]
	f.account == "svc3"
	count(finding) == 0 with input as exec("/usr/sbin/useradd", ["useradd", "-ms", "/usr/sbin/nologin", "app2"])
}

package vigil.signatures.offensive_tool

exec(path, argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 9300, "host_pid": 9300, "comm": "x", "exe": path, "uid": 33},
	"args": {"pathname": path, "filename": path, "argv": argv},
}

script(interp, path, argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 9300, "host_pid": 9300, "comm": "x", "exe": interp, "uid": 33},
	"args": {"pathname": interp, "filename": path, "argv": argv, "script_pathname": path},
}

test_programs if {
	some f in finding with input as exec("/tmp/.x/chisel", ["./chisel", "client", "10.0.9.4:8000", "R:socks"])
	f.reasons == ["tool-program"]
	some g in finding with input as exec("/usr/sbin/john", ["john", "--wordlist=rockyou.txt", "hashes.txt"])
	g.reasons == ["tool-program"]
	some h in finding with input as exec("/dev/shm/pspy64", ["./pspy64", "-pf", "-i", "1000"])
	h.reasons == ["tool-program"]
	some k in finding with input as exec("/usr/bin/impacket-secretsdump", ["impacket-secretsdump", "-just-dc", "corp/admin@10.0.0.5"])
	k.reasons == ["tool-program"]
	some m in finding with input as exec("/usr/bin/hashcat", ["hashcat", "-m", "1800", "shadow.txt", "wordlist"])
	m.program == "/usr/bin/hashcat"
}

test_thc_hydra_but_not_ory_hydra if {
	some f in finding with input as exec("/usr/bin/hydra", ["hydra", "-l", "root", "-P", "/tmp/pw.txt", "ssh://10.0.4.7"])
	f.reasons == ["tool-program"]
	count(finding) == 0 with input as exec("/usr/bin/hydra", ["hydra", "serve", "all", "--dev"])
	count(finding) == 0 with input as exec("/usr/bin/hydra", ["hydra", "migrate", "sql", "-e", "--yes"])
}

test_scripts_through_their_interpreter_line if {
	some f in finding with input as script("/usr/bin/bash", "/dev/shm/linpeas.sh", ["/dev/shm/linpeas.sh", "-a"])
	f.reasons == ["tool-script"]
	f.script == "/dev/shm/linpeas.sh"
}

test_scripts_given_to_an_interpreter if {
	some f in finding with input as exec("/usr/bin/bash", ["bash", "LinEnum.sh", "-t"])
	f.reasons == ["tool-script"]
	some g in finding with input as exec("/usr/bin/python3.11", ["python3", "-u", "/tmp/lazagne.py", "all"])
	g.reasons == ["tool-script"]
	some h in finding with input as exec("/usr/bin/dash", ["sh", "./les.sh"])
	h.reasons == ["tool-script"]
}

test_ordinary_programs_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/bash", ["bash", "-c", "echo linpeas.sh"])
	count(finding) == 0 with input as exec("/usr/bin/python3", ["python3", "manage.py", "runserver"])
	count(finding) == 0 with input as exec("/usr/bin/python3", ["python3", "-m", "http.server"])
	count(finding) == 0 with input as exec("/usr/local/bin/cdk", ["cdk", "deploy"])
	count(finding) == 0 with input as exec("/usr/bin/ssh", ["ssh", "-D", "1080", "host"])
	count(finding) == 0 with input as exec("/usr/bin/bash", ["bash", "deploy.sh", "linpeas.sh"])
}

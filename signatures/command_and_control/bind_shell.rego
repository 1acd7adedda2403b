# Bind shell: a shell waits for whoever connects, or a connection accepted
# from a listener becomes a program's standard input, output or error.
#
# Three shapes, from the kernel's side: a process that accepted a TCP or UDP
# connection dup2s it onto fd 0-2 (python -c 'socket...accept(); os.dup2',
# nc -l -e without fork); a shell itself listens (zsh's ztcp -l, ksh
# co-processes); a netcat or socat listener started with a command to run
# for the connection (nc -lvp 4444 -e /bin/sh, ncat -l --sh-exec,
# socat TCP-LISTEN:...,EXEC:sh).
#
# inetd and its successors, socket-activated services and sshd do the first
# by design and are left out; busybox is no shell here when it runs another
# applet (its httpd and telnetd listen): the listening shell is recognised
# by its comm.
package vigil.signatures.bind_shell

import data.vigil.lib

metadata := {
	"id": "bind-shell",
	"name": "Bind shell",
	"version": "1.0.0",
	"severity": "critical",
	"description": "A connection accepted from a listener was put on a process's standard input, output or error, a shell listened for connections, or a netcat/socat listener was started with a command to run for each connection: anyone who connects gets a shell.",
	"tactics": ["TA0002", "TA0011"],
	"techniques": ["T1059.004", "T1571"],
	"tags": ["network", "shell", "bind-shell"],
	"events": ["dup", "dup2", "dup3", "security_socket_listen"],
}

dup_events := {"dup", "dup2", "dup3"}

super_server if lib.is_process_named(input.process, lib.super_servers)

reasons contains "accepted-socket-on-stdio" if {
	input.name in dup_events
	input.args.newfd in lib.stdio_fds
	input.args.fd_type == "socket"
	lib.is_inet_peer(input.args)
	input.args.origin == "accept"
	not super_server
}

listening if {
	input.name == "security_socket_listen"
	input.args.family in lib.inet_families
}

# the comm of a real shell, not busybox running another applet
reasons contains "shell-listens" if {
	listening
	object.get(input.process, "comm", "") in (lib.shells - {"busybox"})
}

relay_exec_options := {"-e", "-c", "--exec", "--sh-exec", "--lua-exec"}

argv := object.get(input.process, "argv", [])

# nc -lvnp 4444 -e /bin/sh, nc -lve /bin/sh, ncat -l --sh-exec 'sh -i'
relay_runs_a_command if {
	some a in argv
	a in relay_exec_options
}

relay_runs_a_command if {
	some a in argv
	regex.match(`^-[A-Za-z]*e$`, a)
}

# socat TCP-LISTEN:4444,reuseaddr,fork EXEC:/bin/sh (or SYSTEM:)
relay_runs_a_command if {
	some a in argv
	regex.match(`(?i)^(exec|system):`, a)
}

reasons contains "relay-listener-runs-a-command" if {
	listening
	lib.is_process_named(input.process, lib.net_relays)
	relay_runs_a_command
}

finding contains {
	"reasons": sort(reasons),
	"fd": lib.arg("newfd", -1),
	"local_addr": lib.arg("local_addr", ""),
	"local_port": lib.arg("local_port", 0),
	"remote_addr": lib.arg("remote_addr", ""),
	"remote_port": lib.arg("remote_port", 0),
	"argv": argv,
	"program": object.get(input.process, "exe", object.get(input.process, "comm", "")),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
}

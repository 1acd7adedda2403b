# A shell or script interpreter started, directly or further down, by a web
# server or a Java application server: the mark of a web shell, or of
# command injection into a web application (Log4Shell and its kin).
#
# Web servers and application servers answer requests; they do not need a
# shell to do it. CGI setups that run shell scripts on purpose should add an
# exception for their script directory in a rule of their own.
package vigil.signatures.web_server_shell_exec

import data.vigil.lib

metadata := {
	"id": "web-server-shell",
	"name": "Shell spawned by a web server",
	"version": "1.0.0",
	"severity": "high",
	"description": "A shell or script interpreter was executed by a process that descends from a web or application server (nginx, Apache, php-fpm, Tomcat, JBoss, ...): a web shell or command injection.",
	"tactics": ["TA0002", "TA0003"],
	"techniques": ["T1505.003", "T1059.004"],
	"tags": ["web", "shell", "webshell"],
	"events": ["sched_process_exec"],
}

program := lib.exec_path

# The server re-executing itself (nginx's binary upgrade, php-fpm reload) is
# a server, not a shell.
is_server if lib.is_process_named({"comm": input.process.comm, "exe": program}, lib.web_servers)

kind := "shell" if {
	lib.is_shell(program)
} else := "interpreter" if {
	lib.is_interpreter(program)
}

# Java application servers run as "java": they are told apart by the class
# or home folder on their command line.
java_servers := `(?i)(org\.apache\.catalina|catalina\.home|jetty|jboss|wildfly|weblogic|websphere|glassfish|payara|resin|tomee)`

java_server(a) if {
	lib.is_process_named(a, {"java"})
	regex.match(java_servers, concat(" ", object.get(a, "argv", [])))
}

# the nearest ancestor that serves the web
servers := [a |
	some a in object.get(input.process, "ancestors", [])
	server_like(a)
]

server_like(a) if lib.is_process_named(a, lib.web_servers)

server_like(a) if java_server(a)

# Every exec of the host comes here: only shells and interpreters go on.
candidate if kind

finding contains {
	"program": program,
	"kind": kind,
	"argv": lib.arg("argv", []),
	"server": server.comm,
	"server_pid": server.pid,
	"ancestry": lib.ancestry,
} if {
	candidate
	kind
	not is_server
	server := servers[0]
}

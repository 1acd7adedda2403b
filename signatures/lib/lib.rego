# Package vigil.lib holds the helpers every signature may use
# (import data.vigil.lib). Helpers read only input: they are pure functions of
# the event, so a signature behaves the same live and in replay.
package vigil.lib

# basename(path) is the last element of a slash-separated path
# ("/usr/sbin/nginx" -> "nginx"; "nginx" -> "nginx"); "" when path is not a
# string.
default basename(_) := ""

basename(path) := name if {
	is_string(path)
	parts := split(path, "/")
	name := parts[count(parts) - 1]
}

# process_names(p) is the set of names a process (input.process or one of
# input.process.ancestors) is known by: its comm, the basename of its exe,
# and both without a trailing version ("php-fpm8.2" is also "php-fpm",
# "python3.12" also "python"). comm is cut to 15 bytes by the kernel and can
# be changed by the process itself; the exe path cannot, so matching either
# catches both.
process_names(p) := {n |
	some name in {object.get(p, "comm", ""), basename(object.get(p, "exe", ""))}
	some n in {name, unversioned(name)}
	n != ""
}

# unversioned(name) is name without a trailing version number.
unversioned(name) := regex.replace(name, `[0-9][0-9.]*$`, "")

# is_process_named(p, names) is true when p is known by one of names (a set
# or an array of strings), false otherwise.
default is_process_named(_, _) := false

is_process_named(p, names) if {
	some n in process_names(p)
	n in names
}

# has_ancestor(names) is true when any ancestor of the event's process (its
# parent, grandparent, ... up to the init of its pid namespace) is named one of
# names, false otherwise. "a shell whose ancestor is a web server" is
#   lib.is_shell(input.args.pathname); lib.has_ancestor(lib.web_servers)
default has_ancestor(_) := false

has_ancestor(names) if {
	some a in object.get(input.process, "ancestors", [])
	is_process_named(a, names)
}

# ancestor(names) is the nearest ancestor named one of names (an object with
# pid, host_pid, comm, exe, argv, uid); undefined when there is none.
ancestor(names) := matching[0] if {
	matching := [a |
		some a in object.get(input.process, "ancestors", [])
		is_process_named(a, names)
	]
	count(matching) > 0
}

# ancestry is the chain of the event's process, nearest first, as
# "comm(pid)" strings: handy in a finding's fields.
ancestry := [sprintf("%s(%d)", [a.comm, a.pid]) | some a in object.get(input.process, "ancestors", [])]

# shells are interactive and script shells by program name.
shells := {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "busybox"}

# web_servers are HTTP servers and application servers by program name.
web_servers := {
	"nginx", "apache", "apache2", "httpd", "lighttpd", "caddy", "traefik", "envoy",
	"php-fpm", "php-cgi", "uwsgi", "gunicorn", "tomcat", "catalina", "jetty",
}

# is_shell(path) is true when path (or a bare program name) names a shell,
# false otherwise.
default is_shell(_) := false

is_shell(path) if basename(path) in shells

# under(path, dirs) is true when path lies inside one of dirs (each written
# without a trailing slash), false otherwise.
default under(_, _) := false

under(path, dirs) if {
	is_string(path)
	some d in dirs
	startswith(path, concat("", [d, "/"]))
}

# arg(name, fallback) is the event's argument name, or fallback when the event
# does not carry it (a fallback probe may not fill every argument).
arg(name, fallback) := object.get(object.get(input, "args", {}), name, fallback)

# unreadable(name) is true when the sensor could not read the event's
# argument name (a caller's string in a page not faulted in yet, a bad
# pointer): the argument is left out of args and listed in input.unreadable.
# Its value is unknown: neither empty nor anything else. false otherwise.
default unreadable(_) := false

unreadable(name) if name in object.get(input, "unreadable", [])

# A process that has no business on the network connects out: a program
# running from shared memory or from a file that no longer exists (a
# dropper's payload), or a command a web server's shell started (command
# injection or a web shell fetching its next stage, opening a channel).
#
# Connections to loopback are left out: local services (databases,
# caches, the resolver stub) are not "the network". The web-server case
# needs a shell between the server and the connecting process: web servers
# and their workers connect to back ends all day. Programs run from /tmp
# are not included: installers (rustup-init, get.docker.com's scripts),
# build tools and test binaries (go test) do so routinely.
package vigil.signatures.unexpected_network_client

import data.vigil.lib

metadata := {
	"id": "unexpected-network-client",
	"name": "Network connection from an unexpected process",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program running from shared memory, a memfd or a deleted file, or a process started through a shell by a web server, connected to a non-loopback address.",
	"tactics": ["TA0011"],
	"techniques": ["T1071", "T1105", "T1505.003"],
	"tags": ["network", "fileless", "web-shell"],
	"events": ["security_socket_connect"],
}

exe := object.get(input.process, "exe", "")

fileless if lib.under(exe, ["/dev/shm", "/run/shm"])

fileless if startswith(exe, "/memfd:")

fileless if endswith(exe, " (deleted)")

reasons contains "fileless-program" if fileless

shell_in_lineage if lib.is_process_named(input.process, lib.shells)

shell_in_lineage if lib.has_ancestor(lib.shells)

reasons contains "spawned-by-web-server" if {
	not lib.is_process_named(input.process, lib.web_servers)
	shell_in_lineage
	lib.has_ancestor(lib.web_servers)
}

finding contains {
	"reasons": sort(reasons),
	"destination": sprintf("%s:%d", [input.args.remote_addr, input.args.remote_port]),
	"program": exe,
	"argv": object.get(input.process, "argv", []),
	"ancestry": lib.ancestry,
} if {
	input.args.family in lib.inet_families
	input.args.remote_port > 0
	not lib.is_loopback_addr(input.args.remote_addr)
	count(reasons) > 0
}

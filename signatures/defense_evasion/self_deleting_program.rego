# Self-deleting program: a process deletes the program it is running, or a
# program one of its ancestors runs (malware that calls `rm -f $0` through a
# shell, a script that removes itself): the program keeps running from
# memory and leaves no file to analyse.
package vigil.signatures.self_deleting_program

import data.vigil.lib

metadata := {
	"id": "self-deleting-program",
	"name": "Program deleted its own file",
	"version": "1.0.0",
	"severity": "high",
	"description": "A running program's file was deleted by the program itself or by one of its descendants, so that it runs on from memory with nothing left on disk.",
	"tactics": ["TA0005"],
	"techniques": ["T1070.004"],
	"tags": ["anti-forensics", "file", "deletion"],
	"events": ["security_inode_unlink"],
}

path := input.args.pathname

# a script is the first argument of its interpreter: sh /tmp/x.sh, or what
# the kernel runs for a #! file
script_interpreters := lib.shells | {"python", "python2", "python3", "perl", "ruby", "php", "node", "lua"}

deleted_by contains "self" if path == object.get(input.process, "exe", "")

deleted_by contains "descendant" if {
	some a in object.get(input.process, "ancestors", [])
	path == object.get(a, "exe", "")
}

deleted_by contains "script_descendant" if {
	some a in array.concat([input.process], object.get(input.process, "ancestors", []))
	lib.is_process_named(a, script_interpreters)
	argv := object.get(a, "argv", [])
	count(argv) > 1
	argv[1] == path
}

finding contains {
	"pathname": path,
	"deleted_by": sort(deleted_by),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	input.args.dir != true
	object.get(input, "return_value", 0) >= 0
	count(deleted_by) > 0
	# upgrades replace and remove programs that are running
	not lib.from_package_manager
}

# A program run through the dynamic loader: `/lib64/ld-linux-x86-64.so.2
# ./payload` maps and runs payload without executing it. The kernel only
# executes the loader, so the payload runs from a noexec mount (/tmp,
# /dev/shm mounted noexec), without its own exec permission bit, and out of
# sight of whatever watches execs by program name.
#
# ldd calls the loader with --verify, then with LD_TRACE_LOADED_OBJECTS
# set (it lists the libraries and runs nothing); some portable bundles
# start their programs with --library-path, from their own install folder:
# those are left out when the program lies in an installed-program folder.
package vigil.signatures.loader_run_program

import data.vigil.lib

metadata := {
	"id": "loader-run-program",
	"name": "Program run through the dynamic loader",
	"version": "1.0.0",
	"severity": "medium",
	"description": "The dynamic loader (ld-linux, ld-musl) was executed with a program to run, which then runs without being executed itself: from a noexec mount, without an exec bit, hidden from exec-based monitoring.",
	"tactics": ["TA0005"],
	"techniques": ["T1218", "T1620"],
	"tags": ["loader", "noexec-bypass", "evasion"],
	"events": ["sched_process_exec"],
}

# ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-linux.so.2, ld-musl-x86_64.so.1, ld.so
is_loader(path) if regex.match(`^ld(-linux(-[a-z0-9_-]+)?|-musl-[a-z0-9_]+)?\.so(\.[0-9]+)?$`, lib.basename(path))

argv := lib.arg("argv", [])

# cheap first test: the program's name starts with "ld"
candidate if startswith(lib.basename(lib.exec_path), "ld")

# options that take a value (glibc 2.33+: --library-path, --preload, --audit,
# --inhibit-rpath, --argv0, --glibc-hwcaps-prepend, --glibc-hwcaps-mask)
value_options := {
	"--library-path", "--preload", "--audit", "--inhibit-rpath", "--argv0",
	"--glibc-hwcaps-prepend", "--glibc-hwcaps-mask",
}

# ldd and introspection: the loader lists or checks, runs nothing
inspecting if {
	some a in argv
	a in {"--list", "--verify", "--help", "--version", "--list-tunables", "--list-diagnostics"}
}

# ldd's listing run: with LD_TRACE_LOADED_OBJECTS set the loader prints the
# libraries and runs nothing
inspecting if {
	v := lib.env_value("LD_TRACE_LOADED_OBJECTS")
	v != ""
}

# the program the loader is asked to run: its first argument that is not
# an option or an option's value
positions := [i |
	some i, a in argv
	i >= 1
	not startswith(a, "--")
	not value_options[argv[i - 1]]
]

program := argv[positions[0]]

# a bundle starting its own program with its own libraries
bundled if {
	some a in argv
	a == "--library-path"
	lib.under(program, lib.installed_program_dirs)
}

finding contains {
	"loader": lib.exec_path,
	"program": program,
	"in_temp_dir": lib.under(program, lib.world_writable_dirs),
	"argv": argv,
	"ancestry": lib.ancestry,
} if {
	candidate
	is_loader(lib.exec_path)
	not inspecting
	program
	not bundled
}

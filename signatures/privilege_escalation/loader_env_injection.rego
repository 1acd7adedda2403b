# Library injection through the dynamic loader's environment: a program was
# started with LD_PRELOAD or LD_AUDIT naming a library outside the system
# library folders, so that code of the caller's choosing runs inside it
# (credential stealers around ssh or sudo, user-land rootkits that hide
# files and processes).
#
# Needs the env argument of sched_process_exec (vigil sensor's default keeps
# loader variables). Libraries in the system folders are what packages such
# as jemalloc, libfaketime or a profiler preload: not reported. An empty
# value (LD_PRELOAD=) loads nothing.
package vigil.signatures.loader_env_injection

import data.vigil.lib

metadata := {
	"id": "loader-env-injection",
	"name": "Library injected through LD_PRELOAD or LD_AUDIT",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program was executed with LD_PRELOAD or LD_AUDIT pointing at a library outside the system library folders, so the library's code runs inside the program.",
	"tactics": ["TA0003", "TA0004", "TA0005"],
	"techniques": ["T1574.006"],
	"tags": ["injection", "loader", "ld_preload"],
	"events": ["sched_process_exec"],
}

loader_vars := ["LD_PRELOAD", "LD_AUDIT"]

# LD_PRELOAD separates libraries with spaces or colons; LD_AUDIT with colons.
libraries contains {"variable": var, "library": library} if {
	some var in loader_vars
	value := lib.env_value(var)
	some library in regex.split(`[ :]+`, value)
	library != ""
	not system_library(library)
}

# A bare name ("libjemalloc.so.2") is looked up in the system folders only.
system_library(library) if not contains(library, "/")

system_library(library) if lib.under(library, lib.system_library_dirs)

# Every exec of the host comes here: most carry no loader variable at all.
candidate if {
	some kv in input.args.env
	regex.match(`^LD_(PRELOAD|AUDIT)=`, kv)
}

finding contains {
	"libraries": sort([l.library | some l in libraries]),
	"variables": sort({l.variable | some l in libraries}),
	"program": lib.exec_path,
	"argv": lib.arg("argv", []),
	"in_temp_dir": in_temp,
	"ancestry": lib.ancestry,
} if {
	candidate
	count(libraries) > 0
	in_temp := count([l | some l in libraries; lib.under(l.library, lib.temp_dirs)]) > 0
}

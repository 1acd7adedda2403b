# A set-user-id program started by an unprivileged user with a loader or
# glibc environment variable that glibc distrusts in set-user-id programs:
# the shape of loader exploits such as CVE-2023-4911 (GLIBC_TUNABLES
# overflow, "Looney Tunables") and of GCONV_PATH/LOCPATH tricks.
#
# The dynamic loader ignores or filters these variables in secure mode, so a
# legitimate caller gains nothing by passing them: the attempt is the
# signal, whatever glibc then does with it. Root callers are left out: they
# have nothing to gain.
package vigil.signatures.setuid_loader_env

import data.vigil.lib

metadata := {
	"id": "setuid-loader-env",
	"name": "Set-user-id program started with a loader exploit environment",
	"version": "1.0.0",
	"severity": "high",
	"description": "An unprivileged user executed a set-user-id program with GLIBC_TUNABLES, GCONV_PATH, LOCPATH, LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH set: how glibc loader exploits (CVE-2023-4911 and its kin) reach root.",
	"tactics": ["TA0004"],
	"techniques": ["T1068", "T1574.006"],
	"tags": ["setuid", "glibc", "loader", "exploit"],
	"events": ["sched_process_exec"],
}

distrusted := ["GLIBC_TUNABLES", "GCONV_PATH", "LOCPATH", "LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH"]

present contains var if {
	some var in distrusted
	lib.env_value(var)
}

# Exploits of CVE-2023-4911 repeat a tunable inside one value
# ("glibc.malloc.mxfast=glibc.malloc.mxfast=...").
default tunables_overflow := false

tunables_overflow if regex.match(`=[^:]*=`, lib.env_value("GLIBC_TUNABLES"))

finding contains {
	"program": lib.exec_path,
	"variables": sort(present),
	"tunables_overflow_shape": tunables_overflow,
	"value_lengths": {var: count(lib.env_value(var)) | some var in present},
	"uid": input.process.uid,
	"argv": lib.arg("argv", []),
	"ancestry": lib.ancestry,
} if {
	input.args.setuid == true
	input.process.uid != 0
	count(present) > 0
}

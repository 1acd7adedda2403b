# Process hidden by a mount: something is mounted over a process's folder
# in /proc.
#
# ps, top, pgrep and every monitoring agent learn what runs by listing
# /proc and reading /proc/<pid>/. Mounting an empty folder (or a tmpfs)
# over /proc/<pid> makes that process vanish from all of them while it
# keeps running: a rootkit's trick that needs no kernel module, only
# mount (T1564, T1014). Nothing legitimate mounts over a process's folder:
# container runtimes mask files of /proc (kcore, keys, timer_list, ...),
# never a process.
package vigil.signatures.process_hidden_by_mount

import data.vigil.lib

metadata := {
	"id": "process-hidden-by-mount",
	"name": "Process hidden by a mount over /proc/<pid>",
	"version": "1.0.0",
	"severity": "high",
	"description": "A file system (a bind mount of an empty folder, a tmpfs, ...) was mounted over a process's folder in /proc (/proc/<pid> or below it), which hides that process from ps, top and every tool that lists /proc while it keeps running.",
	"tactics": ["TA0005"],
	"techniques": ["T1564", "T1014"],
	"tags": ["rootkit", "proc", "mount", "hiding"],
	"events": ["security_sb_mount"],
}

# /proc/1234, /proc/1234/, /proc/1234/status; /proc/self and /proc/sys are
# no process's folder
target := lib.arg("path", "")

hidden_pid := regex.find_all_string_submatch_n(`^/proc/([0-9]+)(/|$)`, target, 1)[0][1]

finding contains {
	"mount_point": target,
	"pid": to_number(hidden_pid),
	"source": lib.arg("dev_name", ""),
	"fs_type": lib.arg("fs_type", ""),
	"flags": lib.arg("flags", 0),
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	regex.match(`^/proc/[0-9]+(/|$)`, target)
}

# File capabilities set: a file is given capabilities that amount to root
# (setcap cap_setuid+ep on a copy of python, cap_dac_read_search on tar,
# cap_sys_admin on a shell). Whoever runs the file then holds them: a
# backdoor that any local user can use, which `find -perm -4000` does not
# show and which survives reboots.
#
# The write of the security.capability attribute is the act, whatever tool
# made it (setcap, a script calling setxattr, tar or rsync restoring
# attributes). Harmless grants (cap_net_raw for ping, cap_net_bind_service
# for a server) are left out, and so are package managers installing
# software that ships with capabilities.
package vigil.signatures.file_capabilities_set

import data.vigil.lib

metadata := {
	"id": "file-capabilities-set",
	"name": "Root-worthy file capabilities set",
	"version": "1.0.0",
	"severity": "high",
	"description": "A file was given capabilities that amount to root (setuid, setgid, dac_override, dac_read_search, fowner, sys_admin, sys_ptrace, sys_module, sys_rawio, setfcap, bpf) through its security.capability attribute, outside a package installation.",
	"tactics": ["TA0004", "TA0003"],
	"techniques": ["T1548", "T1554"],
	"tags": ["capabilities", "setcap", "privilege", "persistence", "file"],
	"events": ["setxattr"],
}

permitted := lib.arg("cap_permitted", 0)

granted := lib.root_capabilities_in(permitted)

return_value := object.get(input, "return_value", 0)

finding contains {
	"pathname": input.args.pathname,
	"capabilities": granted,
	"cap_permitted": permitted,
	"effective": lib.arg("cap_effective", false),
	"in_temp_dir": lib.under(input.args.pathname, lib.world_writable_dirs),
	"succeeded": return_value >= 0,
	"return_value": return_value,
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	input.args.name == "security.capability"
	count(granted) > 0
	not lib.from_package_manager
}

# Set-user-id bit set: a file is made set-user-id (or set-group-id and
# group-executable) by chmod. A set-user-id root copy of a shell or of any
# program is the classic way to keep root, or to hand it to an unprivileged
# user later.
#
# Tools that make set-id files (cp -p, install -m, tar, chmod) create the
# file first and set the mode with chmod or fchmod; a file created with a
# set-id mode by open(2) itself is rare and not looked for here: it would put
# this rule on every open of the host.
#
# Package managers install set-user-id programs (passwd, sudo, mount) and
# container image tools recreate them inside images: both are left out, as
# is systemd-tmpfiles, which applies modes from tmpfiles.d.
package vigil.signatures.setuid_bit_set

import data.vigil.lib

metadata := {
	"id": "setuid-bit-set",
	"name": "Set-user-id bit set on a file",
	"version": "1.0.0",
	"severity": "high",
	"description": "A regular file was made set-user-id (or set-group-id with group execute) with chmod, outside package managers and container image tools.",
	"tactics": ["TA0004", "TA0003"],
	"techniques": ["T1548.001"],
	"tags": ["setuid", "privilege", "file"],
	"events": ["security_path_chmod"],
}

s_isuid := 2048 # 04000

s_isgid := 1024 # 02000

s_ixgrp := 8 # 0010

s_ifmt := 61440 # 0170000

s_ifreg := 32768 # 0100000

# the new permission bits
mode := input.args.mode

# the file type, from the old mode (0 when the probe could not know it)
file_type := bits.and(lib.arg("old_mode", 0), s_ifmt)

# set-user-id has no meaning on a directory; an unknown type may be a file
regular_or_unknown if file_type in {0, s_ifreg}

bits_set contains "setuid" if {
	bits.and(mode, s_isuid) != 0
	regular_or_unknown
}

# set-group-id without group execute is mandatory locking, and on a
# directory it is how shared folders work: only a known regular file counts
bits_set contains "setgid" if {
	bits.and(mode, s_isgid + s_ixgrp) == s_isgid + s_ixgrp
	file_type == s_ifreg
}

finding contains {
	"pathname": input.args.pathname,
	"bits": sort(bits_set),
	"mode": sprintf("%04o", [bits.and(mode, 4095)]),
	"uid": object.get(input.process, "uid", -1),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(bits_set) > 0
	object.get(input, "return_value", 0) >= 0
	not lib.from_file_installer
}

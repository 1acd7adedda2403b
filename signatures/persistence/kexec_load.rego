# kexec: a new kernel loaded to be booted without firmware.
#
# kexec_load and kexec_file_load replace the running kernel at the next
# kexec reboot, without going through the firmware or the boot loader (and
# so past measured boot): a way to boot a modified kernel that persists and
# hides below everything else. On most hosts kexec is used only for kdump's
# crash kernel, loaded at boot; that case (the crash flag set, by a process
# under a kdump service) is left out. Every other attempt is reported,
# successful or not.
package vigil.signatures.kexec_load

import data.vigil.lib

metadata := {
	"id": "kexec-load",
	"name": "Kernel loaded with kexec",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process asked the kernel to load a new kernel image with kexec_load or kexec_file_load (successful or not), to be booted without firmware or boot loader. kdump's crash kernel, loaded at boot by its service, is left out.",
	"tactics": ["TA0003", "TA0005"],
	"techniques": ["T1014", "T1542"],
	"tags": ["kernel", "kexec", "rootkit"],
	"events": ["kexec_load", "kexec_file_load"],
}

# KEXEC_ON_CRASH for kexec_load, KEXEC_FILE_ON_CRASH for kexec_file_load:
# the image is the crash kernel, booted only after a panic
crash_flag := 1 if input.name == "kexec_load"

crash_flag := 2 if input.name == "kexec_file_load"

default crash_kernel := false

crash_kernel if bits.and(lib.arg("flags", 0), crash_flag) != 0

kdump if {
	crash_kernel
	lib.installed_as(input.process, lib.kdump_tools)
}

kdump if {
	crash_kernel
	some a in object.get(input.process, "ancestors", [])
	lib.installed_as(a, lib.kdump_tools)
}

finding contains {
	"syscall": input.name,
	"kernel": lib.arg("kernel_path", "memory"),
	"cmdline": lib.arg("cmdline", ""),
	"crash_kernel": crash_kernel,
	"flags": lib.arg("flags", 0),
	"succeeded": input.return_value == 0,
	"return_value": input.return_value,
	"ancestry": lib.ancestry,
} if {
	input.name in {"kexec_load", "kexec_file_load"}
	not kdump
}

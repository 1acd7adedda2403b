# Kernel memory opened through its device files: /dev/mem (physical
# memory), /dev/kmem (kernel virtual memory, gone since Linux 5.13),
# /dev/port (I/O ports) and /proc/kcore (the running kernel as an ELF core).
#
# Reading them dumps what the kernel and every process hold: keys, tokens,
# page cache, and the kernel's own addresses, which defeat KASLR for an
# exploit (T1003). Writing them patches the running kernel without loading
# a module, the way /dev/kmem rootkits hooked the syscall table, or
# reprograms hardware behind the kernel's back (T1014). Refused attempts
# count: a non-root probe gets EACCES, lockdown and STRICT_DEVMEM refuse root
# with EPERM, and the attempt still shows what was wanted.
#
# The device is known by its path, or, elsewhere, by its name on the file
# system that provides it: a devtmpfs or procfs mounted somewhere else (a
# chroot's /dev and /proc), or a character device node made with mknod
# under the same name. A node made under another name, or a path spelled
# with "." or ".." in a refused open (the sensor keeps a refused path as
# given), is not recognised.
#
# Left out: hardware inventory and crash-dump tools that read them as their
# job (dmidecode, lshw, mcelog, makedumpfile, crash, kexec, drgn, perf, the
# kdump scripts), installed in a system directory and only for reading; the
# X server mapping legacy VGA memory through /dev/mem, and lm-sensors
# probing chips through /dev/port.
package vigil.signatures.kernel_memory_access

import data.vigil.lib

metadata := {
	"id": "kernel-memory-access",
	"name": "Kernel memory device opened",
	"version": "1.0.0",
	"severity": "high",
	"description": "/dev/mem, /dev/kmem, /dev/port or /proc/kcore was opened, or the attempt refused: reading them dumps kernel and process memory (secrets, kernel addresses), writing them patches the running kernel or the hardware, as rootkits do. Hardware inventory and crash-dump tools reading them are left out.",
	"tactics": ["TA0006", "TA0005"],
	"techniques": ["T1003", "T1014"],
	"tags": ["kernel", "memory", "rootkit", "credentials", "file"],
	"events": ["security_file_open"],
}

path := input.args.pathname

devices := {"/dev/mem": "mem", "/dev/kmem": "kmem", "/dev/port": "port", "/proc/kcore": "kcore"}

fs_type := lib.arg("fs_type", "")

s_ifmt := 61440 # 0170000

s_ifchr := 8192 # 0020000

char_device if bits.and(lib.arg("mode", 0), s_ifmt) == s_ifchr

device := devices[path]

# the same devices elsewhere: /srv/chroot/dev/mem, a devtmpfs mounted on
# /mnt/d, a node made with mknod /tmp/x/mem c 1 1
device := name if {
	not devices[path]
	name := lib.basename(path)
	name in {"mem", "kmem", "port"}
	device_node
}

default device_node := false

device_node if fs_type == "devtmpfs"

device_node if char_device

# /proc/kcore of a procfs mounted elsewhere (a chroot's /proc); /proc/<pid>/
# files are procfs too, but none is named kcore
device := "kcore" if {
	not devices[path]
	lib.basename(path) == "kcore"
	fs_type == "proc"
}

# Container runtimes bind /dev/null over /proc/kcore: the open reads
# nothing. Still reported (the attempt is the same), and said.
default masked := false

masked if {
	device == "kcore"
	not fs_type in {"", "proc"}
}

flags := lib.arg("flags", 0)

access contains "read" if lib.opens_for_reading(flags)

access contains "write" if lib.opens_for_writing(flags)

# readers know the hardware (the DMI/SMBIOS tables dmidecode and lshw find
# in /dev/mem when sysfs lacks them) or the kernel (crash and drgn debug the
# live kernel through /proc/kcore, kexec -p and makedumpfile read its memory
# layout there, perf reads kernel text from it)
readers := lib.kdump_tools | {
	"dmidecode", "biosdecode", "ownership", "vpddecode", "lshw", "hwinfo", "mcelog",
	"makedumpfile", "crash", "kexec", "drgn", "perf",
	# Debian's /usr/bin/perf_6.1, without its version
	"perf_",
}

# programs that also write one device: the X server maps legacy VGA memory
# (int10, VESA) read-write through /dev/mem; sensors-detect probes Super-I/O
# chips through /dev/port, and so does hwclock the CMOS clock where it has
# no iopl().
device_writers := {
	"mem": {"Xorg", "Xorg.bin", "X"},
	"port": {"sensors-detect", "hwclock"},
}

default trusted := false

trusted if {
	access == {"read"}
	lib.is_system_program(input.process, readers)
}

trusted if lib.is_system_program(input.process, device_writers[device])

# the kernel hook reports 0, the syscall fallback the fd or -errno
return_value := object.get(input, "return_value", 0)

finding contains {
	"pathname": path,
	"device": device,
	"access": sort(access),
	"succeeded": return_value >= 0,
	"return_value": return_value,
	"flags": flags,
	"fs_type": fs_type,
	"masked": masked,
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	device
	not trusted
}

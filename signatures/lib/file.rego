# Helpers of the file signatures (security_file_open, magic_write, the path
# events): who wrote a file, where it lies, what it is. Pure functions of the
# event, like the rest of vigil.lib.
package vigil.lib

# system_program_dirs are where a distribution installs programs. A program
# named like a trusted tool is only trusted when it runs from one of them: a
# copy of "sshd" in /tmp is not the real one.
system_program_dirs := [
	"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/lib", "/lib",
	"/usr/lib64", "/lib64", "/usr/libexec",
]

# is_system_program(p, names) is true when p (input.process or an ancestor)
# runs an executable installed in a system directory and is known by one of
# names (its comm or its exe's basename: a script's comm is the script's
# name, its exe the interpreter's), false otherwise.
default is_system_program(_, _) := false

is_system_program(p, names) if program_in(p, system_program_dirs, names)

# package_managers install, upgrade and remove software, and run the
# packages' maintainer scripts as their children: they write everywhere.
package_managers := {
	"dpkg", "apt", "apt-get", "aptitude", "unattended-upgr", "unattended-upgrade",
	"packagekitd", "rpm", "dnf", "yum", "microdnf", "zypper", "pacman", "apk",
	"snapd", "flatpak", "xbps-install", "emerge",
}

# from_program_in(dirs, names) is true when the event's process or one of
# its ancestors is known by one of names and runs an executable that lies
# in one of dirs: the tool itself or a helper it started.
default from_program_in(_, _) := false

from_program_in(dirs, names) if program_in(input.process, dirs, names)

from_program_in(dirs, names) if {
	some a in object.get(input.process, "ancestors", [])
	program_in(a, dirs, names)
}

program_in(p, dirs, names) if {
	under(object.get(p, "exe", ""), dirs)
	is_process_named(p, names)
}

# from_system_program(names) is from_program_in for the system directories
# (is_system_program).
default from_system_program(_) := false

from_system_program(names) if from_program_in(system_program_dirs, names)

# from_package_manager is true when the event's process or one of its
# ancestors is a package manager installed in a system directory.
default from_package_manager := false

from_package_manager if from_system_program(package_managers)

# image_tools unpack container images and recreate their files, modes
# included; systemd-tmpfiles applies the modes tmpfiles.d asks for.
image_tools := {
	"containerd", "dockerd", "containerd-shim", "containerd-shim-runc-v2", "podman",
	"buildah", "skopeo", "crio", "umoci", "buildkitd", "buildkit-runc", "executor",
	"systemd-tmpfiles",
}

# from_file_installer is true when the event comes from software that sets
# file modes as its job: a package manager (or what it runs) or one of the
# image_tools, installed in a system directory.
default from_file_installer := false

from_file_installer if from_package_manager

from_file_installer if is_system_program(input.process, image_tools)

# home_relative(path) is path inside a home directory, without it:
# "/root/.bashrc" -> ".bashrc", "/home/ann/.ssh/id_rsa" -> ".ssh/id_rsa";
# undefined for a path outside /root and /home/*.
home_relative(path) := m[0][1] if {
	is_string(path)
	m := regex.find_all_string_submatch_n(`^/(?:root|home/[^/]+)/(.+)$`, path, 1)
	count(m) == 1
}

# Open flags (include/uapi/asm-generic/fcntl.h).
o_accmode := 3

o_wronly := 1

o_rdwr := 2

o_creat := 64

o_trunc := 512

# file_written is the file an event wrote into, and how: an open for
# writing ("write", or "create" when the open made the file), a rename or a
# hard link onto it ("rename", "link"), a symbolic link made there
# ("symlink"). Undefined for other events, for opens for reading, and for
# refused attempts, which wrote nothing. Most events are opens for reading:
# they stop at its first two lines, direct references and one built-in (579
# is O_ACCMODE | O_CREAT | O_TRUNC, as opens_for_writing).
file_written := {"path": input.args.pathname, "operation": op} if {
	input.name == "security_file_open"
	bits.and(input.args.flags, 579) != 0
	# a refused open wrote nothing (the kernel hook reports 0)
	object.get(input, "return_value", 0) >= 0
	op := open_operation
}

file_written := {"path": input.args.new_path, "operation": "rename"} if {
	input.name == "security_inode_rename"
	object.get(input, "return_value", 0) >= 0
}

file_written := {"path": input.args.new_path, "operation": "link"} if {
	input.name == "security_inode_link"
	object.get(input, "return_value", 0) >= 0
}

file_written := {"path": input.args.pathname, "operation": "symlink"} if {
	input.name == "security_inode_symlink"
	object.get(input, "return_value", 0) >= 0
}

open_operation := "create" if input.args.created == true

else := "write"

# opens_for_writing(flags) is true when an open with these flags may change
# the file: write access, creation or truncation; false otherwise.
default opens_for_writing(_) := false

opens_for_writing(flags) if bits.and(flags, o_accmode) != 0

opens_for_writing(flags) if bits.and(flags, o_creat + o_trunc) != 0

# opens_for_reading(flags) is true for read-only and read-write opens.
default opens_for_reading(_) := false

opens_for_reading(flags) if bits.and(flags, o_accmode) in {0, o_rdwr}

# file_magic(b) names what the first bytes of a file say it is ("elf" for
# "\x7fELF", "script" for "#!"), from magic_write's bytes (base64 in the
# event); "" otherwise.
default file_magic(_) := ""

file_magic(b) := "elf" if startswith(magic_bytes(b), "\u007fELF")

file_magic(b) := "script" if startswith(magic_bytes(b), "#!")

magic_bytes(b) := base64.decode(b) if {
	is_string(b)
	base64.is_valid(b)
}

# elf_header(b) is {"type": e_type, "machine": e_machine} of the ELF header
# at the start of b (base64 bytes, at least 20 of them: magic_write's bytes,
# sched_process_exec's header), both as 4 hex digits in big-endian order
# ("0003" is ET_DYN, "003e" x86-64) whatever the file's byte order;
# undefined when b holds no ELF header.
elf_header(b) := {"type": field(h, 32, order), "machine": field(h, 36, order)} if {
	h := hex.encode(magic_bytes(b))
	startswith(h, "7f454c46")
	count(h) >= 40
	order := substring(h, 10, 2) # EI_DATA: 01 little endian, 02 big endian
}

field(h, at, "01") := concat("", [substring(h, at + 2, 2), substring(h, at, 2)])

field(h, at, "02") := substring(h, at, 4)

# elf_runnable_types: ET_EXEC and ET_DYN (programs, PIE programs and shared
# objects); ET_REL objects (.o, BPF programs, kernel modules before linking)
# and core dumps are not run.
elf_runnable_types := {"0002", "0003"}

# elf_host_machines are the e_machine values of the CPUs Linux runs programs
# on: x86-64, i386, AArch64, ARM, RISC-V, PowerPC (32/64), s390, MIPS,
# LoongArch, SPARC64. BPF (0x00f7) and firmware or GPU objects are not among
# them. A rule judging a write cannot know the host's CPU, so any of these
# counts; an exec proves the file ran.
elf_host_machines := {"003e", "0003", "00b7", "0028", "00f3", "0014", "0015", "0016", "0008", "0102", "002b"}

# runnable_elf(b) is true when the bytes b start an ELF program or shared
# object for a CPU Linux runs programs on, false otherwise.
default runnable_elf(_) := false

runnable_elf(b) if {
	h := elf_header(b)
	h.type in elf_runnable_types
	h.machine in elf_host_machines
}

# temp_dirs are world-writable scratch directories, the usual drop zones.
temp_dirs := ["/tmp", "/var/tmp", "/dev/shm", "/run/shm"]

# in_container is true when the event's process runs in a container: the
# sensor found a container id in its cgroup, or it is in a pid namespace
# other than the initial one (4026531836, a fixed inode number).
default in_container := false

in_container if object.get(input.process, "container_id", "") != ""

in_container if {
	ns := object.get(input.process, "pid_ns", 0)
	ns != 0
	ns != 4026531836
}

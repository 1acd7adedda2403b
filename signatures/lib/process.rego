# Helpers about programs and their command lines and environments, for the
# signatures that select sched_process_exec and execve.
package vigil.lib

# cmdline is the event's argv joined with spaces ("" without argv): what a
# shell user typed, for patterns that span arguments.
default cmdline := ""

cmdline := concat(" ", input.args.argv) if is_array(input.args.argv)

# exec_path is the resolved path of the executed file, or the path given to
# exec when the probe could not resolve it.
exec_path := p if {
	p := input.args.pathname
	p != ""
} else := object.get(object.get(input, "args", {}), "filename", "")

# exec_program is the name of the program an exec runs: its executable's
# name, or for busybox the applet it runs, called through a link named
# after it (/bin/touch -> busybox) or as "busybox APPLET ...".
exec_program := name if {
	name := basename(exec_path)
	name != "busybox"
} else := name if {
	name := basename(input.args.argv[0])
	name != "busybox"
} else := input.args.argv[1]

# exec_args_from is the index in argv of the program's first argument: 2
# for "busybox APPLET ...", 1 otherwise.
exec_args_from := 2 if {
	basename(exec_path) == "busybox"
	basename(input.args.argv[0]) == "busybox"
} else := 1

# env_value(name) is the value of environment variable name in the exec
# event's env argument; undefined when the event does not carry it. A
# variable set twice has the value of its first occurrence, as getenv(3)
# sees it (and a crafted environment cannot make the rule fail).
env_value(name) := values[0] if {
	values := [v |
		some kv in input.args.env
		[k, v] := split_env(kv)
		k == name
	]
	count(values) > 0
}

# split_env("A=b=c") is ["A", "b=c"].
split_env(kv) := [k, v] if {
	i := indexof(kv, "=")
	i > 0
	k := substring(kv, 0, i)
	v := substring(kv, i + 1, -1)
}

# interpreters run code given on their command line or stdin, and can open
# sockets and spawn shells.
interpreters := {
	"python", "python2", "python3", "perl", "ruby", "php", "php-cgi", "node", "nodejs",
	"lua", "luajit", "tclsh", "wish", "awk", "gawk", "mawk", "nawk", "pwsh", "busybox",
}

# is_interpreter(path) is true when path (or a bare name) names a script
# interpreter, with or without a version suffix ("python3.12").
default is_interpreter(_) := false

is_interpreter(path) if basename(path) in interpreters

is_interpreter(path) if unversioned(basename(path)) in interpreters

# installed_program_dirs hold the programs a distribution or an
# administrator installs (system_program_dirs, the ones a distribution
# installs, plus /usr/local, /opt, /snap, ...); a file outside them is a
# download, a build or a drop.
installed_program_dirs := [
	"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin",
	"/usr/lib", "/usr/lib64", "/usr/libexec", "/lib", "/lib64", "/usr/local/lib", "/usr/local/libexec",
	"/usr/share", "/opt", "/snap", "/nix/store",
]

# system_library_dirs hold shared libraries the dynamic loader finds itself.
system_library_dirs := ["/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32", "/usr/local/lib", "/usr/local/lib64"]

# root_capabilities are the capabilities that let their holder become root
# or read and write anything (bit number -> name, include/uapi/linux/capability.h).
root_capabilities := {
	1: "cap_dac_override", 2: "cap_dac_read_search", 3: "cap_fowner", 6: "cap_setgid",
	7: "cap_setuid", 16: "cap_sys_module", 17: "cap_sys_rawio", 19: "cap_sys_ptrace",
	21: "cap_sys_admin", 31: "cap_setfcap", 39: "cap_bpf",
}

# has_capability(set, bit) is true when capability number bit is in the
# 64-bit set, false otherwise.
default has_capability(_, _) := false

has_capability(set, bit) if bits.and(set, bits.lsh(1, bit)) != 0

# root_capabilities_in(set) is the sorted names of the root_capabilities
# in set ([] for none).
root_capabilities_in(set) := sort([name | some bit, name in root_capabilities; has_capability(set, bit)])

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

# reads_program_from_stdin(program, argv) is true when program (a path or
# a bare name: a shell or a script interpreter) run with argv takes the
# code it runs from its standard input: no command string (sh -c, python
# -c/-m, perl/ruby/node -e, php -r) and no script file, or "-" / sh -s in
# place of one. `curl ... | sh` and `... | python3 -` do; `... | python3
# -m json.tool` and `... | sh -c 'cat > f'` do not. argv[0] is not looked at.
default reads_program_from_stdin(_, _) := false

reads_program_from_stdin(program, argv) if {
	is_shell(program)
	basename(program) != "busybox"
	args := array.slice(argv, 1, count(argv))
	not shell_code_given(args)
}

reads_program_from_stdin(program, argv) if {
	is_interpreter(program)
	not basename(program) in {"busybox", "awk", "gawk", "mawk", "nawk"}
	args := array.slice(argv, 1, count(argv))
	not interpreter_code_given(args)
}

# a command string, or a script file that no -s comes before
shell_code_given(args) if {
	some a in args
	regex.match(`^-[a-zA-Z]*c[a-zA-Z]*$`, a)
}

shell_code_given(args) if {
	ops := operands(args, {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
	count(ops) > 0
	args[min(ops)] != "-"
	not stdin_flag_before(args, min(ops))
}

stdin_flag_before(args, i) if {
	some j, a in args
	j < i
	regex.match(`^-[a-zA-Z]*s[a-zA-Z]*$`, a)
}

interpreter_code_given(args) if {
	some a in args
	regex.match(`^(-[a-zA-Z]*[cmeEr].*|--eval|--print|-p)$`, a)
}

interpreter_code_given(args) if {
	ops := operands(args, {"-W", "-X", "-I", "-x"})
	count(ops) > 0
	args[min(ops)] != "-"
}

# operands(args, valued) is the indexes of the arguments that are not
# options (nor the value of an option in valued); "-" is one.
operands(args, valued) := {i |
	some i, a in args
	not regex.match(`^[-+].`, a)
	not valued_option_at(args, i - 1, valued)
}

# option_values(args, names) is the set of values args give the option
# known by names: "-u 0", "--uid 0", "--uid=0", or a short option ending a
# cluster of single-letter flags ("-aG sudo", "-ms /bin/bash").
option_values(args, names) := {v |
	some i, a in args
	option_named(a, names)
	v := args[i + 1]
} | {v |
	some a in args
	some n in names
	startswith(a, concat("", [n, "="]))
	v := substring(a, count(n) + 1, -1)
}

option_named(a, names) if a in names

option_named(a, names) if {
	some n in names
	regex.match(`^-[a-zA-Z]$`, n)
	regex.match(concat("", [`^-[a-zA-Z]+`, substring(n, 1, 1), `$`]), a)
}

# find_roots(args) is the starting points of find, args being its
# arguments (without the program's name): what comes before its expression
# (the first word that starts with -, (, !, ) or ,), its leading options
# (-H, -L, -P, -O3, -D debugopts) left out.
find_roots(args) := {a |
	some i, a in args
	i < find_expression_end(args)
	not find_leading(args, i)
}

find_leading(args, i) if args[i] in {"-H", "-L", "-P", "-D"}

find_leading(args, i) if regex.match(`^-O[0-9]*$`, args[i])

find_leading(args, i) if {
	i > 0
	args[i - 1] == "-D"
}

find_expression_end(args) := min(starts) if {
	starts := {i | some i, a in args; regex.match(`^[-(!),]`, a); not find_leading(args, i)}
	count(starts) > 0
} else := count(args)

valued_option_at(args, i, valued) if {
	i >= 0
	args[i] in valued
}

# command_string is the code a shell runs with -c: the argument after its
# first -c (or a cluster such as -lc); the arguments after it are $0, $1...
command_string := argv[i + 1] if {
	argv := input.args.argv
	i := min({j | some j, a in argv; j > 0; regex.match(`^-[a-zA-Z]*c[a-zA-Z]*$`, a)})
	i + 1 < count(argv)
}

# pipes_code_into(text, producer) is true when the shell command text pipes
# the output of a command matching the regular expression producer into a
# shell or interpreter that runs it as code (reads_program_from_stdin):
# `curl -s URL | sudo bash -s`, not `curl -s URL | python3 -m json.tool`.
# Words are split on blanks (quotes are not parsed), redirections are left
# out, and a command ends at ; & ) or a newline.
default pipes_code_into(_, _) := false

pipes_code_into(text, producer) if {
	segs := split(text, "|")
	some i in numbers.range(1, count(segs) - 1)
	regex.match(producer, segs[i - 1])
	cmd := unsudo([w |
		some w in split(regex.split(`[;&)\n]`, segs[i])[0], " ")
		w != ""
		not regex.match(`^[0-9]*[<>]`, w)
	])
	count(cmd) > 0
	reads_program_from_stdin(cmd[0], cmd)
}

# unsudo(words) is words without a leading sudo (or doas) and its options.
unsudo(words) := rest if {
	count(words) > 0
	basename(words[0]) in {"sudo", "doas"}
	firsts := [i | some i, w in words; i > 0; not startswith(w, "-"); not valued_option_at(words, i - 1, {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"})]
	count(firsts) > 0
	rest := array.slice(words, min(firsts), count(words))
} else := words

# piped_into_code(comms, producer) is the two ends of a pipe the sensor
# joined on a sched_process_exec (stdin_writer_* on the reader's exec,
# stdout_reader_* on the writer's, whichever came second) when the writer
# is named in comms, its command line (comm, then its arguments) matches
# the regular expression producer, and the reader runs what it reads as
# code (reads_program_from_stdin): {"runner": the reader's path (its comm
# when this exec is the writer), "producer": the writer's argv}. Undefined
# otherwise.
piped_into_code(comms, producer) := {"runner": exec_path, "producer": object.get(input.args, "stdin_writer_argv", [])} if {
	writer := input.args.stdin_writer_comm
	command_matches(writer, object.get(input.args, "stdin_writer_argv", [writer]), comms, producer)
	reads_program_from_stdin(exec_path, input.args.argv)
}

piped_into_code(comms, producer) := {"runner": input.args.stdout_reader_comm, "producer": input.args.argv} if {
	reader := input.args.stdout_reader_comm
	command_matches(input.process.comm, input.args.argv, comms, producer)
	reads_program_from_stdin(reader, object.get(input.args, "stdout_reader_argv", [reader]))
}

# command_matches(comm, argv, comms, pattern): comm is in comms and comm
# followed by argv's arguments (argv[0] left out) matches pattern.
command_matches(comm, argv, comms, pattern) if {
	comm in comms
	regex.match(pattern, concat(" ", array.concat([comm], array.slice(argv, 1, count(argv)))))
}

# pipeline_on_parent_cmdline is true when the event's parent is a shell
# run with -c on a command line that holds a pipe: the pipeline the sensor
# joined was written there, and the parent's exec is where a signature
# reading command lines reports it.
default pipeline_on_parent_cmdline := false

pipeline_on_parent_cmdline if {
	parent := input.process.ancestors[0]
	is_shell(object.get(parent, "exe", parent.comm))
	regex.match(`\|`, concat(" ", parent.argv))
	regex.match(`^-[a-zA-Z]*c[a-zA-Z]*$`, parent.argv[_])
}

package event

// Event ids of the process, credential and module families;
// bpf/lib/event_ids.h is generated from them (go generate).
const (
	IDExecve      ID = 1
	IDExecveat    ID = 2
	IDInitModule  ID = 3
	IDFinitModule ID = 4
	IDMemfdCreate ID = 5
	IDSetuid      ID = 6
	IDSetreuid    ID = 7
	IDSetresuid   ID = 8
	IDSetgid      ID = 9
	IDSetregid    ID = 10
	IDSetresgid   ID = 11
	IDSetfsuid    ID = 12
	IDSetfsgid    ID = 13
	IDCapset      ID = 14

	IDSchedProcessFork ID = 100
	IDSchedProcessExec ID = 101
	IDSchedProcessExit ID = 102

	IDCommitCreds            ID = 200
	IDSecurityBprmCheck      ID = 201
	IDSecurityKernelReadFile ID = 202
)

func uids(names ...string) []Arg {
	out := make([]Arg, len(names))
	for i, n := range names {
		out[i] = Arg{Name: n, Type: TypeUint32}
	}
	return out
}

var processSpecs = []Spec{
	{
		ID: IDExecve, Name: "execve", Doc: "an exec that FAILED, reported when execve returns: return_value is the error (-2 ENOENT, -13 EACCES, -8 ENOEXEC, ...), the arguments are what the caller passed, read from its memory (argv whole in one event; a string that cannot be read is listed in unreadable). A successful exec is not an execve event: sched_process_exec reports it once, from what the kernel copied (argv, argc, the file)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "path as passed by the caller"},
			{Name: "argv", Type: TypeStrArray, Doc: "all arguments; the last element is \"...\" when truncated"},
		},
	},
	{
		ID: IDExecveat, Name: "execveat", Doc: "an exec relative to a directory fd (or of the fd itself, AT_EMPTY_PATH: fexecve) that FAILED, reported when execveat returns with the error in return_value; a successful one is sched_process_exec (see execve)",
		Args: []Arg{
			{Name: "dirfd", Type: TypeInt32},
			{Name: "pathname", Type: TypeString},
			{Name: "argv", Type: TypeStrArray},
			{Name: "flags", Type: TypeInt32},
		},
	},
	{
		ID: IDInitModule, Name: "init_module", Doc: "a kernel module image is loaded from memory (attempted, successful or not)",
		Args: []Arg{
			{Name: "len", Type: TypeUint64, Doc: "size of the module image"},
			{Name: "param_values", Type: TypeString},
		},
	},
	{
		ID: IDFinitModule, Name: "finit_module", Doc: "a kernel module is loaded from a file descriptor (attempted, successful or not)",
		Args: []Arg{
			{Name: "fd", Type: TypeInt32},
			{Name: "pathname", Type: TypeString, Doc: "path of the file behind fd"},
			{Name: "param_values", Type: TypeString},
			{Name: "flags", Type: TypeInt32},
		},
	},
	{
		ID: IDMemfdCreate, Name: "memfd_create", Doc: "an anonymous memory-backed file is created",
		Args: []Arg{
			{Name: "name", Type: TypeString},
			{Name: "flags", Type: TypeUint32},
		},
	},
	{ID: IDSetuid, Name: "setuid", Doc: "setuid(2)", Args: uids("uid")},
	{ID: IDSetreuid, Name: "setreuid", Doc: "setreuid(2)", Args: uids("ruid", "euid")},
	{ID: IDSetresuid, Name: "setresuid", Doc: "setresuid(2)", Args: uids("ruid", "euid", "suid")},
	{ID: IDSetgid, Name: "setgid", Doc: "setgid(2)", Args: uids("gid")},
	{ID: IDSetregid, Name: "setregid", Doc: "setregid(2)", Args: uids("rgid", "egid")},
	{ID: IDSetresgid, Name: "setresgid", Doc: "setresgid(2)", Args: uids("rgid", "egid", "sgid")},
	{ID: IDSetfsuid, Name: "setfsuid", Doc: "setfsuid(2)", Args: uids("fsuid")},
	{ID: IDSetfsgid, Name: "setfsgid", Doc: "setfsgid(2)", Args: uids("fsgid")},
	{
		ID: IDCapset, Name: "capset", Doc: "capset(2): the caller sets its capability sets",
		Args: []Arg{
			{Name: "pid", Type: TypeInt32},
			{Name: "effective", Type: TypeUint64},
			{Name: "permitted", Type: TypeUint64},
			{Name: "inheritable", Type: TypeUint64},
		},
	},
	{
		ID: IDSchedProcessFork, Name: "sched_process_fork", Doc: "a process or thread was created",
		Args: []Arg{
			{Name: "parent_pid", Type: TypeUint32, Doc: "host pid (tgid) of the parent"},
			{Name: "parent_tid", Type: TypeUint32},
			{Name: "child_pid", Type: TypeUint32, Doc: "host pid (tgid) of the child"},
			{Name: "child_tid", Type: TypeUint32},
			{Name: "child_ns_pid", Type: TypeUint32, Doc: "child pid in its own pid namespace"},
			{Name: "thread", Type: TypeBool, Doc: "the child is a thread of the parent's process"},
			{Name: "start_time", Type: TypeUint64, Doc: "child start time, ns since boot"},
		},
	},
	{
		ID: IDSchedProcessExec, Name: "sched_process_exec", Doc: "a program was executed (after the point of no return)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "resolved path of the executed file"},
			{Name: "filename", Type: TypeString, Doc: "path as given to exec"},
			{Name: "interpreter", Type: TypeString, Doc: "interpreter path when it differs from filename (scripts)"},
			{Name: "argv", Type: TypeStrArray},
			{Name: "dev", Type: TypeUint32},
			{Name: "inode", Type: TypeUint64},
			{Name: "mode", Type: TypeUint32, Doc: "inode mode (type and permission bits)"},
			{Name: "memfd", Type: TypeBool, Doc: "the file is a memfd (memfd_create)"},
			{Name: "deleted", Type: TypeBool, Doc: "the file has no link left on its file system"},
			{Name: "fs_type", Type: TypeString, Doc: "file system type of the executed file (tmpfs, ext4, ...)"},
			{Name: "stdin_type", Type: TypeString, Doc: "what fd 0 is: file, pipe, socket, chr, fifo, ..."},
			{Name: "old_pid", Type: TypeUint32},
			{Name: "setuid", Type: TypeBool, Doc: "the file has the set-user-id bit"},
			{Name: "env", Type: TypeStrArray, Doc: "environment as NAME=value; by default only the variables that change how programs load or log (LD_*, HISTFILE, BASH_ENV, ...), all with the sensor's --exec-env all"},
			{Name: "stdout_type", Type: TypeString, Doc: "what fd 1 is: file, pipe, socket, chr, fifo, ..."},
			{Name: "argc", Type: TypeUint32, Doc: "the argument count the caller passed (linux_binprm argc; 0 when the caller's argv was empty at syscall entry, although 5.18 and later run the program with argc 1 and an empty argv[0])"},
			{Name: "header", Type: TypeBytes, Doc: "the first 64 bytes of the file the kernel loaded (for a script, of its interpreter): ELF header or #! line"},
			{Name: "written_ns_ago", Type: TypeUint64, Doc: "present when the executed file was opened for writing (or created) during this boot, by any write path: ns between the last such open and this exec"},
			{Name: "writer_pid", Type: TypeUint32, Doc: "host pid of the process that last opened the file for writing (with written_ns_ago)"},
			{Name: "writer_comm", Type: TypeString, Doc: "comm of that process (with written_ns_ago)"},
			{Name: "writer_created", Type: TypeBool, Doc: "one of those opens created the file (with written_ns_ago)"},
			{Name: "script_pathname", Type: TypeString, Doc: "present when the kernel ran the file the exec named through an interpreter (a #! script, whose interpreter is pathname, or a binfmt_misc format): that file's resolved path"},
			{Name: "script_dev", Type: TypeUint32, Doc: "device of the script (with script_pathname)"},
			{Name: "script_inode", Type: TypeUint64, Doc: "inode of the script (with script_pathname)"},
			{Name: "script_written_ns_ago", Type: TypeUint64, Doc: "as written_ns_ago, for the script: present when it was opened for writing (or created) during this boot"},
			{Name: "script_writer_pid", Type: TypeUint32, Doc: "host pid of the process that last opened the script for writing (with script_written_ns_ago)"},
			{Name: "script_writer_comm", Type: TypeString, Doc: "comm of that process (with script_written_ns_ago)"},
			{Name: "script_writer_created", Type: TypeBool, Doc: "one of those opens created the script (with script_written_ns_ago)"},
			{Name: "stdin_pipe", Type: TypeUint64, Doc: "inode number of the pipe on fd 0 (with stdin_type pipe): the same number as another exec's stdout_pipe joins the two ends of a shell pipeline"},
			{Name: "stdout_pipe", Type: TypeUint64, Doc: "inode number of the pipe on fd 1 (with stdout_type pipe)"},
			{Name: "stdin_writer_pid", Type: TypeUint32, Doc: "set by the sensor: host pid of the last program executed with its stdout on this exec's stdin pipe (the left side of `curl ... | sh`), when that exec came first"},
			{Name: "stdin_writer_comm", Type: TypeString, Doc: "comm of that program (with stdin_writer_pid)"},
			{Name: "stdin_writer_argv", Type: TypeStrArray, Doc: "its argv, at most the first 16 arguments (with stdin_writer_pid)"},
			{Name: "stdout_reader_pid", Type: TypeUint32, Doc: "set by the sensor: host pid of the last program executed with its stdin on this exec's stdout pipe (the right side of `curl ... | sh`), when that exec came first"},
			{Name: "stdout_reader_comm", Type: TypeString, Doc: "comm of that program (with stdout_reader_pid)"},
			{Name: "stdout_reader_argv", Type: TypeStrArray, Doc: "its argv, at most the first 16 arguments (with stdout_reader_pid)"},
		},
	},
	{
		ID: IDSchedProcessExit, Name: "sched_process_exit", Doc: "a thread exited; group_exit tells whether the whole process is gone",
		Args: []Arg{
			{Name: "exit_code", Type: TypeInt32, Doc: "exit status (status<<8) or terminating signal"},
			{Name: "group_exit", Type: TypeBool, Doc: "the last thread of the process exited"},
		},
	},
	{
		ID: IDCommitCreds, Name: "commit_creds", Doc: "a task's credentials changed: old and new ids and effective capabilities",
		Args: []Arg{
			{Name: "old_uid", Type: TypeUint32}, {Name: "old_gid", Type: TypeUint32},
			{Name: "old_euid", Type: TypeUint32}, {Name: "old_egid", Type: TypeUint32},
			{Name: "old_suid", Type: TypeUint32}, {Name: "old_sgid", Type: TypeUint32},
			{Name: "old_fsuid", Type: TypeUint32}, {Name: "old_fsgid", Type: TypeUint32},
			{Name: "old_cap_effective", Type: TypeUint64},
			{Name: "new_uid", Type: TypeUint32}, {Name: "new_gid", Type: TypeUint32},
			{Name: "new_euid", Type: TypeUint32}, {Name: "new_egid", Type: TypeUint32},
			{Name: "new_suid", Type: TypeUint32}, {Name: "new_sgid", Type: TypeUint32},
			{Name: "new_fsuid", Type: TypeUint32}, {Name: "new_fsgid", Type: TypeUint32},
			{Name: "new_cap_effective", Type: TypeUint64},
			{Name: "syscall", Type: TypeString, Doc: "the syscall during which the change was seen (fallback probe), empty from the kernel hook"},
			{Name: "exe", Type: TypeString, Doc: "when the change is part of an exec: the program being executed (absent otherwise)"},
		},
	},
	{
		ID: IDSecurityBprmCheck, Name: "security_bprm_check", Doc: "the LSM check of the file an exec is about to run (resolved path, device, inode)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "resolved path of the file"},
			{Name: "filename", Type: TypeString, Doc: "path as given to exec"},
			{Name: "dev", Type: TypeUint32},
			{Name: "inode", Type: TypeUint64},
		},
	},
	{
		ID: IDSecurityKernelReadFile, Name: "security_kernel_read_file", Doc: "the kernel reads a file for itself: a module, firmware, a kexec image, a policy",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "type", Type: TypeString, Doc: "module, firmware, kexec-image, kexec-initramfs, security-policy, x509-certificate"},
			{Name: "dev", Type: TypeUint32},
			{Name: "inode", Type: TypeUint64},
		},
	},
}

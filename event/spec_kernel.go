package event

import "slices"

// Events of the kernel's own facilities: namespaces, process injection,
// bpf(), capabilities, cgroups, task exit, the scheduler, kexec
// (bpf/namespaces.bpf.c, kernel.bpf.c, sched.bpf.c). Their ids are 500-599; bpf/lib/event_ids.h is
// generated from them (go generate).
const (
	IDSwitchTaskNamespaces       ID = 500
	IDPtrace                     ID = 501
	IDProcessVMReadv             ID = 502
	IDProcessVMWritev            ID = 503
	IDSecurityBPF                ID = 504
	IDSecurityBPFMap             ID = 505
	IDCapCapable                 ID = 506
	IDCgroupMkdir                ID = 507
	IDCgroupRmdir                ID = 508
	IDCgroupAttachTask           ID = 509
	IDDoExit                     ID = 510
	IDSchedSwitch                ID = 511
	IDKexecLoad                  ID = 512
	IDKexecFileLoad              ID = 513
	IDSecurityKernelPostReadFile ID = 514
	IDModuleImageChunk           ID = 515
	IDModuleImageCaptured        ID = 516
)

// NamespaceKinds are the namespaces switch_task_namespaces compares, by their
// names in /proc/PID/ns, in the order of its old_/new_ arguments.
var NamespaceKinds = []string{"mnt", "uts", "ipc", "net", "pid_for_children", "cgroup", "time", "time_for_children", "user"}

func namespaceArgs() []Arg {
	args := []Arg{
		{Name: "syscall", Type: TypeString, Doc: "setns, unshare, clone, clone3, fork, vfork, execve, execveat, or empty: the syscall the switch happened in (see syscall_nr)"},
		{Name: "syscall_nr", Type: TypeInt32, Doc: "number of that syscall (x86_64), -1 in a kernel thread"},
		{Name: "flags", Type: TypeUint64, Doc: "unshare's flags, setns's nstype, clone's flags (CLONE_NEW*)"},
		{Name: "target_pid", Type: TypeUint32, Doc: "host pid of the other process: the one whose namespaces setns joined through a pidfd, the child of clone, the task a kernel-path switch moved; 0 when none or unknown (a /proc/PID/ns file does not name its process)"},
		{Name: "fd_kind", Type: TypeString, Doc: "setns: pidfd or nsfs (a namespace file), else empty"},
		{Name: "changed", Type: TypeStrArray, Doc: "namespaces whose inode changed, by /proc/PID/ns name"},
		{Name: "entered_host", Type: TypeStrArray, Doc: "namespaces of changed that are now the host's initial ones (those of the kernel's idle task): a way out of a container"},
	}
	for _, k := range NamespaceKinds {
		args = append(args,
			Arg{Name: "old_" + k, Type: TypeUint32, Doc: "inode of the " + k + " namespace before (as in /proc/PID/ns/" + k + ")"},
			Arg{Name: "new_" + k, Type: TypeUint32, Doc: "inode of the " + k + " namespace after"})
	}
	return args
}

var cgroupDirArgs = []Arg{
	{Name: "path", Type: TypeString, Doc: "path of the cgroup in its hierarchy (/system.slice/foo.service)"},
	{Name: "hierarchy_id", Type: TypeUint32, Doc: "hierarchy (0 is cgroup v2's unified one, cgroup v1 hierarchies count from 1)"},
	{Name: "level", Type: TypeUint32, Doc: "depth below the root"},
	{Name: "id", Type: TypeUint64, Doc: "cgroup id (what cgroup_id in the process context holds for cgroup v2)"},
}

var kernelSpecs = slices.Concat(facilitySpecs, captureSpecs)

var facilitySpecs = []Spec{
	{
		ID: IDSwitchTaskNamespaces, Name: "switch_task_namespaces",
		Doc:  "a task's namespaces changed or a setns/unshare asked for it: setns, unshare (every call, with its result), clone with CLONE_NEW*, and, where the kernel hook loads, calls of switch_task_namespaces outside setns and unshare (a kernel exploit's payload: switch_task_namespaces(task, init_nsproxy))",
		Args: namespaceArgs(),
	},
	{
		ID: IDPtrace, Name: "ptrace",
		Doc: "ptrace(2) requests that start tracing or change the tracee (TRACEME, ATTACH, SEIZE, POKE*, SET*REGS*, SETSIGINFO, ...); reads and resumes are not reported",
		Args: []Arg{
			{Name: "request", Type: TypeInt64},
			{Name: "request_name", Type: TypeString, Doc: "PTRACE_ATTACH, PTRACE_POKEDATA, ..."},
			{Name: "pid", Type: TypeInt32, Doc: "target thread as passed (caller's pid namespace)"},
			{Name: "addr", Type: TypeUint64},
			{Name: "data", Type: TypeUint64},
			{Name: "target_pid", Type: TypeUint32, Doc: "host pid of the tracee, when the call left it traced by the caller (absent otherwise)"},
			{Name: "target_comm", Type: TypeString},
			{Name: "target_exe", Type: TypeString},
			{Name: "target_is_child", Type: TypeBool, Doc: "the tracee is a child of the caller"},
		},
	},
	{
		ID: IDProcessVMReadv, Name: "process_vm_readv", Off: true,
		Doc:  "process_vm_readv(2): the caller reads another process's memory; off by default (profilers such as py-spy call it thousands of times a second)",
		Args: processVMArgs,
	},
	{
		ID: IDProcessVMWritev, Name: "process_vm_writev",
		Doc:  "process_vm_writev(2): the caller writes into another process's memory",
		Args: processVMArgs,
	},
	{
		ID: IDSecurityBPF, Name: "security_bpf",
		Doc: "a bpf(2) command: programs and maps created, loaded, attached, pinned, opened by id (lookups, updates and queries are not reported); return_value is the security hook's verdict with fexit (0: allowed), 0 with kprobe, the syscall's result with the fallback",
		Args: []Arg{
			{Name: "cmd", Type: TypeString, Doc: "BPF_PROG_LOAD, BPF_MAP_CREATE, ..."},
			{Name: "cmd_id", Type: TypeUint32},
			{Name: "prog_type", Type: TypeString, Doc: "BPF_PROG_LOAD: kprobe, tracing, lsm, raw_tracepoint, xdp, ... (bpftool's names)"},
			{Name: "prog_name", Type: TypeString, Doc: "BPF_PROG_LOAD: the program's name (16 bytes at most)"},
			{Name: "attach_type", Type: TypeString, Doc: "BPF_PROG_LOAD's expected attach type (absent when not given), BPF_PROG_ATTACH's or BPF_LINK_CREATE's attach type (trace_fentry, lsm_mac, ...)"},
			{Name: "insn_cnt", Type: TypeUint32, Doc: "BPF_PROG_LOAD: instructions"},
			{Name: "map_type", Type: TypeString, Doc: "BPF_MAP_CREATE: hash, array, ringbuf, ..."},
			{Name: "map_name", Type: TypeString, Doc: "BPF_MAP_CREATE: the map's name"},
			{Name: "tracepoint", Type: TypeString, Doc: "BPF_RAW_TRACEPOINT_OPEN: the raw tracepoint"},
			{Name: "id", Type: TypeUint32, Doc: "*_GET_FD_BY_ID: the object's id"},
			{Name: "pathname", Type: TypeString, Doc: "BPF_OBJ_PIN, BPF_OBJ_GET: the pin's path"},
		},
	},
	{
		ID: IDSecurityBPFMap, Name: "security_bpf_map",
		Doc: "a process gets a descriptor of a BPF map: by creating it, by its id, from a pin",
		Args: []Arg{
			{Name: "map_id", Type: TypeUint32},
			{Name: "map_name", Type: TypeString},
			{Name: "map_type", Type: TypeString},
			{Name: "fmode", Type: TypeUint32, Doc: "1 read, 2 write, 3 both"},
		},
	},
	{
		ID: IDCapCapable, Name: "cap_capable", Off: true,
		Doc: "a capability check (return_value 0: granted, -1 EPERM: refused); off by default: every privileged operation of every process passes here",
		Args: []Arg{
			{Name: "cap", Type: TypeInt32},
			{Name: "cap_name", Type: TypeString, Doc: "CAP_SYS_ADMIN, ..."},
			{Name: "audit", Type: TypeBool, Doc: "the check is audited (not CAP_OPT_NOAUDIT); absent where the hook does not say (the tracepoint)"},
			{Name: "user_ns", Type: TypeUint32, Doc: "inode of the user namespace the capability is checked in"},
			{Name: "user_ns_level", Type: TypeUint32, Doc: "its depth: 0 is the host's"},
		},
	},
	{ID: IDCgroupMkdir, Name: "cgroup_mkdir", Doc: "a cgroup was created", Args: cgroupDirArgs},
	{ID: IDCgroupRmdir, Name: "cgroup_rmdir", Doc: "a cgroup was removed", Args: cgroupDirArgs},
	{
		ID: IDCgroupAttachTask, Name: "cgroup_attach_task", Doc: "a task was moved into a cgroup (container start, systemd units)",
		Args: append(append([]Arg{}, cgroupDirArgs...),
			Arg{Name: "pid", Type: TypeUint32, Doc: "host id of the task moved (its thread id when one thread is moved)"},
			Arg{Name: "comm", Type: TypeString, Doc: "its comm"},
			Arg{Name: "threadgroup", Type: TypeBool, Doc: "the whole process moved (absent on the tracepoint fallback)"},
		),
	},
	{
		ID: IDDoExit, Name: "do_exit", Off: true,
		Doc: "a thread exits, with the code passed to do_exit; off by default: sched_process_exit reports every exit already",
		Args: []Arg{
			{Name: "exit_code", Type: TypeInt64, Doc: "status<<8 for exit(status), the signal number (and 0x80 for a core dump) for a death by signal"},
			{Name: "group_dead", Type: TypeBool, Doc: "the last thread of the process"},
		},
	},
	{
		ID: IDSchedSwitch, Name: "sched_switch", Off: true,
		Doc: "a CPU switches from one task to another; off by default (thousands a second per CPU); the process context is prev's; switches to and from the sensor itself are not reported",
		Args: []Arg{
			{Name: "preempt", Type: TypeBool, Doc: "prev was preempted (still runnable)"},
			{Name: "prev_pid", Type: TypeUint32, Doc: "host pid (tgid) of the task leaving the CPU"},
			{Name: "prev_tid", Type: TypeUint32},
			{Name: "prev_comm", Type: TypeString},
			{Name: "prev_state", Type: TypeUint64, Doc: "its state (1 interruptible sleep, 2 uninterruptible, 0 running, ...)"},
			{Name: "next_pid", Type: TypeUint32, Doc: "host pid (tgid) of the task taking the CPU"},
			{Name: "next_tid", Type: TypeUint32},
			{Name: "next_comm", Type: TypeString},
		},
	},
	{
		ID: IDKexecLoad, Name: "kexec_load", Doc: "kexec_load(2): a new kernel image is loaded from memory, to be booted without firmware (attempted, successful or not)",
		Args: []Arg{
			{Name: "entry", Type: TypeUint64},
			{Name: "nr_segments", Type: TypeUint64},
			{Name: "flags", Type: TypeUint64, Doc: "KEXEC_ON_CRASH (1), KEXEC_PRESERVE_CONTEXT (2), ... and the architecture in the high 16 bits"},
		},
	},
	{
		ID: IDKexecFileLoad, Name: "kexec_file_load", Doc: "kexec_file_load(2): a new kernel image is loaded from a file (attempted, successful or not)",
		Args: []Arg{
			{Name: "kernel_fd", Type: TypeInt32},
			{Name: "kernel_path", Type: TypeString, Doc: "the file behind kernel_fd"},
			{Name: "initrd_fd", Type: TypeInt32},
			{Name: "initrd_path", Type: TypeString, Doc: "the file behind initrd_fd (absent without one)"},
			{Name: "cmdline", Type: TypeString},
			{Name: "flags", Type: TypeUint64, Doc: "KEXEC_FILE_UNLOAD (1), KEXEC_FILE_ON_CRASH (2), KEXEC_FILE_NO_INITRD (4), ..."},
		},
	},
}

var captureSpecs = []Spec{
	{
		ID: IDSecurityKernelPostReadFile, Name: "security_kernel_post_read_file",
		Doc: "the kernel has read a whole file for itself (a module, a kexec image, firmware, a policy): the file and how many bytes it read; the fallback sees only finit_module and kexec_file_load calls that succeeded",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "type", Type: TypeString, Doc: "module, firmware, kexec-image, kexec-initramfs, security-policy, x509-certificate"},
			{Name: "size", Type: TypeUint64, Doc: "bytes read (the fallback: the file's size)"},
		},
	},
	{
		ID: IDModuleImageChunk, Name: "module_image_chunk", Off: true,
		Doc: "internal: one piece of a kernel module's bytes; on only with a capture directory (sensor Config.CaptureDir), which turns the pieces into module_image_captured and never publishes them",
		Args: []Arg{
			{Name: "capture_id", Type: TypeUint64},
			{Name: "offset", Type: TypeUint64},
			{Name: "total", Type: TypeUint64},
			{Name: "data", Type: TypeBytes},
			{Name: "source", Type: TypeString, Doc: "first piece only: init_module or security_kernel_post_read_file"},
			{Name: "pathname", Type: TypeString, Doc: "first piece only: the module's file, absent for init_module"},
		},
	},
	{
		ID: IDModuleImageCaptured, Name: "module_image_captured", Off: true,
		Doc: "the bytes of a kernel module being loaded were kept as a file named by their sha256 in the sensor's capture directory; on only with a capture directory; complete is false when pieces were lost (the ring buffer was full)",
		// Made by the sensor from module_image_chunk records: it needs
		// their programs and no others.
		Args: []Arg{
			{Name: "sha256", Type: TypeString, Doc: "hex digest of the image (empty when incomplete)"},
			{Name: "size", Type: TypeUint64, Doc: "size of the image"},
			{Name: "received", Type: TypeUint64, Doc: "bytes that reached the sensor"},
			{Name: "complete", Type: TypeBool},
			{Name: "source", Type: TypeString, Doc: "init_module (the caller's buffer) or security_kernel_post_read_file (the file finit_module loads)"},
			{Name: "pathname", Type: TypeString, Doc: "the module's file (absent for init_module)"},
			{Name: "file", Type: TypeString, Doc: "where the sensor keeps the image (absent when incomplete)"},
		},
	},
}

var processVMArgs = []Arg{
	{Name: "pid", Type: TypeInt32, Doc: "the other process as passed (caller's pid namespace)"},
	{Name: "local_iovcnt", Type: TypeUint64},
	{Name: "remote_iovcnt", Type: TypeUint64},
	{Name: "remote_addr", Type: TypeUint64, Doc: "where the first remote iovec points in the other process"},
	{Name: "remote_len", Type: TypeUint64, Doc: "its length"},
	{Name: "flags", Type: TypeUint64},
}

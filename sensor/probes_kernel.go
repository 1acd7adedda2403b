package sensor

// Probes of the events of the kernel's own facilities (bpf/kernel.bpf.c), keyed by event id (see probes.go).

import "github.com/vigil-sec/vigil/event"

// namespaceSyscalls is the syscall layer of switch_task_namespaces, part of
// every probe: setns and unshare compared at exit, clone's child compared with
// its parent at fork.
func namespaceSyscalls(fork string) []Program {
	return []Program{
		{Name: "sys_enter_namespaces", Syscalls: []string{"setns", "unshare"}},
		{Name: "sys_exit_namespaces", Syscalls: []string{"setns", "unshare"}},
		{Name: fork},
	}
}

func syscallExit(prog string, syscalls ...string) []Program {
	return []Program{{Name: "sys_enter_save", Syscalls: syscalls}, {Name: prog, Syscalls: syscalls}}
}

var bpfSyscallFallback = Probe{Name: "raw_tracepoint/sys_exit (bpf)", Fallback: true, Programs: syscallExit("sys_exit_bpf", "bpf")}

func cgroupProbes(name string) []Probe {
	return []Probe{
		{Name: "tp_btf/" + name, Programs: []Program{{Name: "tp_btf_" + name}}},
		{Name: "tracepoint/cgroup/" + name, Fallback: true, Programs: []Program{{Name: "tracepoint_" + name}}},
	}
}

// Module image capture: the programs that see a module's bytes. init_module's
// buffer is read at its syscall exit in every probe; finit_module's file only
// from the kernel hook of security_kernel_post_read_file.
var (
	initModuleExit = syscallExit("sys_exit_module", "init_module")
	captureProbes  = []Probe{
		{Name: "fentry/security_kernel_post_read_file + raw_tracepoint/sys_exit (init_module)", Programs: append([]Program{{Name: "fentry_security_kernel_post_read_file"}}, initModuleExit...)},
		{Name: "kprobe/security_kernel_post_read_file + raw_tracepoint/sys_exit (init_module)", Programs: append([]Program{{Name: "kprobe_security_kernel_post_read_file"}}, initModuleExit...)},
		{Name: "raw_tracepoint/sys_exit (init_module only)", Fallback: true, Programs: initModuleExit},
	}
)

var kernelProbes = map[event.ID][]Probe{
	event.IDSwitchTaskNamespaces: {
		{Name: "fentry/switch_task_namespaces", Programs: append([]Program{{Name: "fentry_switch_task_namespaces"}}, namespaceSyscalls("tp_btf_sched_process_fork_ns")...)},
		{Name: "kprobe/switch_task_namespaces", Programs: append([]Program{{Name: "kprobe_switch_task_namespaces"}}, namespaceSyscalls("tp_btf_sched_process_fork_ns")...)},
		{Name: "raw_tracepoint/sys_exit setns, unshare + tp_btf/sched_process_fork", Fallback: true, Programs: namespaceSyscalls("tp_btf_sched_process_fork_ns")},
		{Name: "raw_tracepoint/sys_exit setns, unshare + raw_tracepoint/sched_process_fork", Fallback: true, Programs: namespaceSyscalls("raw_tp_sched_process_fork_ns")},
	},
	event.IDPtrace:          {{Name: "raw_tracepoint/sys_exit", Programs: syscallExit("sys_exit_ptrace", "ptrace")}},
	event.IDProcessVMReadv:  {{Name: "raw_tracepoint/sys_exit", Programs: syscallExit("sys_exit_process_vm", "process_vm_readv")}},
	event.IDProcessVMWritev: {{Name: "raw_tracepoint/sys_exit", Programs: syscallExit("sys_exit_process_vm", "process_vm_writev")}},
	event.IDSecurityBPF: {
		{Name: "fexit/security_bpf", Programs: []Program{{Name: "fexit_security_bpf"}}},
		{Name: "kprobe/security_bpf", Programs: []Program{{Name: "kprobe_security_bpf"}}},
		bpfSyscallFallback,
	},
	event.IDSecurityBPFMap: {
		{Name: "fentry/security_bpf_map", Programs: []Program{{Name: "fentry_security_bpf_map"}}},
		{Name: "kprobe/security_bpf_map", Programs: []Program{{Name: "kprobe_security_bpf_map"}}},
		bpfSyscallFallback,
	},
	event.IDCapCapable: {
		{Name: "fexit/cap_capable", Programs: []Program{{Name: "fexit_cap_capable"}}},
		{Name: "tp_btf/cap_capable", Fallback: true, Programs: []Program{{Name: "tp_btf_cap_capable"}}},
	},
	event.IDCgroupMkdir:      cgroupProbes("cgroup_mkdir"),
	event.IDCgroupRmdir:      cgroupProbes("cgroup_rmdir"),
	event.IDCgroupAttachTask: cgroupProbes("cgroup_attach_task"),
	event.IDDoExit: {
		{Name: "fentry/do_exit", Programs: []Program{{Name: "fentry_do_exit"}}},
		{Name: "kprobe/do_exit", Programs: []Program{{Name: "kprobe_do_exit"}}},
		{Name: "tp_btf/sched_process_exit (exit_code)", Fallback: true, Programs: []Program{{Name: "tp_btf_sched_process_exit_code"}}},
		{Name: "raw_tracepoint/sched_process_exit (exit_code)", Fallback: true, Programs: []Program{{Name: "raw_tp_sched_process_exit_code"}}},
	},
	event.IDSchedSwitch: {
		{Name: "tp_btf/sched_switch", Programs: []Program{{Name: "tp_btf_sched_switch"}}},
		{Name: "raw_tracepoint/sched_switch", Fallback: true, Programs: []Program{{Name: "raw_tp_sched_switch"}}},
	},
	event.IDKexecLoad:     {{Name: "raw_tracepoint/sys_exit", Programs: syscallExit("sys_exit_kexec", "kexec_load")}},
	event.IDKexecFileLoad: {{Name: "raw_tracepoint/sys_exit", Programs: syscallExit("sys_exit_kexec", "kexec_file_load")}},
	event.IDSecurityKernelPostReadFile: {
		{Name: "fentry/security_kernel_post_read_file", Programs: []Program{{Name: "fentry_security_kernel_post_read_file"}}},
		{Name: "kprobe/security_kernel_post_read_file", Programs: []Program{{Name: "kprobe_security_kernel_post_read_file"}}},
		{
			Name: "raw_tracepoint/sys_exit (finit_module, kexec_file_load that succeeded)", Fallback: true,
			Programs: append(syscallExit("sys_exit_module", "finit_module"), syscallExit("sys_exit_kexec", "kexec_file_load")...),
		},
	},
	event.IDModuleImageChunk:    captureProbes,
	event.IDModuleImageCaptured: {{Name: "sensor (module_image_chunk reassembled)"}},
}

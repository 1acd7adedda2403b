package sensor

// Probes of the process, credential and module events (bpf/process.bpf.c, creds.bpf.c, module.bpf.c), keyed by event id (see probes.go).

import "github.com/vigil-sec/vigil/event"

var setidSyscalls = []string{"setuid", "setreuid", "setresuid", "setgid", "setregid", "setresgid", "setfsuid", "setfsgid", "capset"}

// execEntries look at the caller's argv at execve and execveat entry:
// sched_process_exec's argc is 0 when it was empty, although Linux 5.18 and
// later run the program with {""}.
var execEntries = []Program{
	{Name: "sys_enter_execve", Syscalls: []string{"execve"}},
	{Name: "sys_enter_execveat", Syscalls: []string{"execveat"}},
}

var execProbes = []Probe{
	{Name: "tp_btf/sched_process_exec", Programs: append([]Program{{Name: "tp_btf_sched_process_exec"}}, execEntries...)},
	{Name: "raw_tracepoint/sched_process_exec", Programs: append([]Program{{Name: "raw_tp_sched_process_exec"}}, execEntries...)},
}

// execFailProbe feeds execve or execveat: the entry saves the arguments,
// the exit reports the exec when it failed (a successful one is
// sched_process_exec).
func execFailProbe(syscall string) []Probe {
	return []Probe{{
		Name: "raw_tracepoint/sys_exit (" + syscall + " that failed)",
		Programs: []Program{
			{Name: "sys_enter_" + syscall, Syscalls: []string{syscall}},
			{Name: "sys_exit_exec", Syscalls: []string{syscall}},
		},
	}}
}

var processProbes = map[event.ID][]Probe{
	event.IDExecve:      execFailProbe("execve"),
	event.IDExecveat:    execFailProbe("execveat"),
	event.IDInitModule:  syscallProbe("sys_exit_module", "init_module"),
	event.IDFinitModule: syscallProbe("sys_exit_module", "finit_module"),
	event.IDMemfdCreate: syscallProbe("sys_exit_memfd_create", "memfd_create"),
	event.IDSetuid:      syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetreuid:    syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetresuid:   syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetgid:      syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetregid:    syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetresgid:   syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetfsuid:    syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSetfsgid:    syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDCapset:      syscallProbe("sys_exit_setid", setidSyscalls...),
	event.IDSchedProcessFork: {
		{Name: "tp_btf/sched_process_fork", Programs: []Program{{Name: "tp_btf_sched_process_fork"}}},
		{Name: "raw_tracepoint/sched_process_fork", Programs: []Program{{Name: "raw_tp_sched_process_fork"}}},
	},
	event.IDSchedProcessExec: execProbes,
	event.IDSchedProcessExit: {
		{Name: "tp_btf/sched_process_exit", Programs: []Program{{Name: "tp_btf_sched_process_exit"}}},
		{Name: "raw_tracepoint/sched_process_exit", Programs: []Program{{Name: "raw_tp_sched_process_exit"}}},
	},
	event.IDCommitCreds: {
		{Name: "fentry/commit_creds", Programs: []Program{{Name: "fentry_commit_creds"}}},
		{Name: "kprobe/commit_creds", Programs: []Program{{Name: "kprobe_commit_creds"}}},
		{
			Name:     "raw_tracepoint/sys_exit+sched_process_exec (credential compare)",
			Fallback: true,
			Programs: []Program{
				{Name: "sys_enter_save", Syscalls: setidSyscalls},
				{Name: "sys_exit_setid", Syscalls: setidSyscalls},
				{Name: "sys_enter_execve", Syscalls: []string{"execve"}},
				{Name: "sys_enter_execveat", Syscalls: []string{"execveat"}},
			},
		},
	},
	event.IDSecurityBprmCheck: {
		{Name: "fentry/security_bprm_check", Programs: []Program{{Name: "fentry_security_bprm_check"}}},
		{Name: "kprobe/security_bprm_check", Programs: []Program{{Name: "kprobe_security_bprm_check"}}},
		{Name: "sched_process_exec (binprm of the exec)", Fallback: true, Programs: []Program{{Name: "tp_btf_sched_process_exec"}}},
		{Name: "raw_tracepoint/sched_process_exec (binprm of the exec)", Fallback: true, Programs: []Program{{Name: "raw_tp_sched_process_exec"}}},
	},
	event.IDSecurityKernelReadFile: {
		{Name: "fentry/security_kernel_read_file", Programs: []Program{{Name: "fentry_security_kernel_read_file"}}},
		{Name: "kprobe/security_kernel_read_file", Programs: []Program{{Name: "kprobe_security_kernel_read_file"}}},
		{
			Name: "raw_tracepoint/sys_exit (finit_module's file)", Fallback: true,
			Programs: []Program{{Name: "sys_enter_save", Syscalls: []string{"finit_module"}}, {Name: "sys_exit_module", Syscalls: []string{"finit_module"}}},
		},
	},
}

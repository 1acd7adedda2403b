package load

// syscallEventNames gives the trace event name (syscalls/sys_enter_<name>)
// of the syscalls whose kernel implementation is defined under another name
// than the syscall table's (SYSCALL_DEFINE(sendfile64, ...) serves x86_64's
// sendfile): the kernel names a syscall's trace events after its definition.
var syscallEventNames = map[string]string{
	"sendfile": "sendfile64",
	"umount2":  "umount",
}

// syscallEvent names the trace event of a syscall in one direction
// ("sys_enter" or "sys_exit"): sys_exit_sendfile64 for sendfile.
func syscallEvent(dir, syscall string) string {
	if n, ok := syscallEventNames[syscall]; ok {
		syscall = n
	}
	return dir + "_" + syscall
}

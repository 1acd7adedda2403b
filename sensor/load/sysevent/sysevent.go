// Package sysevent names the trace events of syscalls (syscalls/sys_enter_<name>
// and sys_exit_<name>), for the loader, which attaches syscall handlers to
// them, and for internal/genevents, which writes them into probe names.
package sysevent

// renamed gives the trace event name of the syscalls whose kernel
// implementation is defined under another name than the syscall table's
// (SYSCALL_DEFINE(sendfile64, ...) serves x86_64's sendfile): the kernel
// names a syscall's trace events after its definition.
var renamed = map[string]string{
	"sendfile": "sendfile64",
	"umount2":  "umount",
}

// Name is the name a syscall has in its trace events: sendfile64 for
// sendfile, most syscalls their own.
func Name(syscall string) string {
	if n, ok := renamed[syscall]; ok {
		return n
	}
	return syscall
}

// Event names the trace event of a syscall in one direction ("sys_enter" or
// "sys_exit"): sys_exit_sendfile64 for sendfile.
func Event(dir, syscall string) string { return dir + "_" + Name(syscall) }

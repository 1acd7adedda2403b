package event

import "sort"

// rareEvents may take the critical lane (the sensor's critical ring buffer,
// its priority publishing, the engines' priority consumer) when a signature
// of high severity selects them. Hot events (every open, exec, fork,
// socket call) never do, even when such a signature selects them: in the
// critical lane they would crowd out the rare ones it exists for.
var rareEvents = map[string]bool{
	"init_module": true, "finit_module": true, "security_kernel_read_file": true,
	"security_kernel_post_read_file": true, "module_image_captured": true,
	"kexec_load": true, "kexec_file_load": true,
	"security_bpf": true, "security_bpf_map": true,
	"commit_creds": true, "setuid": true, "setreuid": true, "setresuid": true, "setgid": true,
	"setregid": true, "setresgid": true, "setfsuid": true, "setfsgid": true, "capset": true,
	"ptrace": true, "process_vm_writev": true, "process_vm_readv": true,
	"switch_task_namespaces": true, "security_sb_mount": true, "security_inode_mknod": true,
}

// Rare reports whether the event named name is rare enough to take the
// critical lane.
func Rare(name string) bool { return rareEvents[name] }

// RareEvents returns, sorted, every event rare enough for the critical
// lane. Engines give all of them a lane whatever the signatures: one fixed
// set, so that every engine of a group declares the same lane.
func RareEvents() []string {
	out := make([]string, 0, len(rareEvents))
	for name := range rareEvents {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

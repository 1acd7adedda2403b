package sensor

// Probes of the file events (bpf/file.bpf.c), keyed by event id (see probes.go).

import "github.com/vigil-sec/vigil/event"

var (
	openSyscalls     = []string{"open", "openat", "openat2", "creat"}
	unlinkSyscalls   = []string{"unlink", "unlinkat", "rmdir"}
	renameSyscalls   = []string{"rename", "renameat", "renameat2"}
	symlinkSyscalls  = []string{"symlink", "symlinkat"}
	linkSyscalls     = []string{"link", "linkat"}
	mprotectSyscalls = []string{"mprotect", "pkey_mprotect"}
	writeSyscalls    = []string{"write", "pwrite64", "writev", "pwritev", "pwritev2"}
	mknodSyscalls    = []string{"mknod", "mknodat"}
	chmodSyscalls    = []string{"chmod", "fchmod", "fchmodat", "fchmodat2"}
	truncateSyscalls = []string{"truncate", "ftruncate"}
	setxattrSyscalls = []string{"setxattr", "lsetxattr", "fsetxattr", "setxattrat"}
	utimesSyscalls   = []string{"utimensat", "futimesat", "utimes", "utime"}
)

// hookProbes is the usual probe list of a file event: the kernel function
// through fentry, else kprobe (each with the same extra programs, such as
// a syscall handler that reports what the hook cannot see), else the
// fallback programs.
func hookProbes(hooks []string, extra []Program, fallbackName string, fallback ...Program) []Probe {
	var out []Probe
	for _, kind := range []string{"fentry", "kprobe"} {
		pb := Probe{Name: kind + "/" + hooks[0]}
		for i, h := range hooks {
			if i > 0 {
				pb.Name += "+" + h
			}
			pb.Programs = append(pb.Programs, Program{Name: kind + "_" + h})
		}
		pb.Programs = append(pb.Programs, extra...)
		out = append(out, pb)
	}
	return append(out, Probe{Name: fallbackName, Fallback: true, Programs: fallback})
}

func sysExit(prog string, syscalls []string) Program {
	return Program{Name: prog, Syscalls: syscalls}
}

var (
	openExit      = sysExit("sys_exit_open", openSyscalls)
	mprotectEnter = Program{Name: "sys_enter_mprotect", Syscalls: mprotectSyscalls}
	mmapExit      = sysExit("sys_exit_mmap", []string{"mmap"})
	writeEnter    = Program{Name: "sys_enter_write", Syscalls: writeSyscalls}
)

var fileProbes = map[event.ID][]Probe{
	event.IDSecurityFileOpen: hookProbes([]string{"security_file_open"}, []Program{openExit},
		"raw_tracepoint/sys_exit (open, openat, openat2, creat)", openExit),
	// the fallback takes dev and inode from ext4's unlink tracepoint
	// (unlink.bpf.c) where the kernel has it, else marks them unreadable
	event.IDSecurityInodeUnlink: append(hookProbes([]string{"security_path_unlink", "security_path_rmdir"}, nil,
		"raw_tracepoint/sys_exit (unlink, unlinkat, rmdir)+tp_btf/ext4_unlink_enter", sysExit("sys_exit_unlink", unlinkSyscalls), Program{Name: "tp_btf_ext4_unlink_enter"}),
		Probe{Name: "raw_tracepoint/sys_exit (unlink, unlinkat, rmdir)+raw_tracepoint/ext4_unlink_enter", Fallback: true,
			Programs: []Program{sysExit("sys_exit_unlink", unlinkSyscalls), {Name: "raw_tp_ext4_unlink_enter"}}},
		Probe{Name: "raw_tracepoint/sys_exit (unlink, unlinkat, rmdir)", Fallback: true, Programs: []Program{sysExit("sys_exit_unlink", unlinkSyscalls)}}),
	event.IDSecurityInodeRename: hookProbes([]string{"security_path_rename"}, nil,
		"raw_tracepoint/sys_exit (rename, renameat, renameat2)", sysExit("sys_exit_rename", renameSyscalls)),
	event.IDSecurityInodeSymlink: hookProbes([]string{"security_path_symlink"}, nil,
		"raw_tracepoint/sys_exit (symlink, symlinkat)", sysExit("sys_exit_symlink", symlinkSyscalls)),
	event.IDSecurityInodeLink: hookProbes([]string{"security_path_link"}, nil,
		"raw_tracepoint/sys_exit (link, linkat)", sysExit("sys_exit_link", linkSyscalls)),
	event.IDSecurityFileMprotect: hookProbes([]string{"security_file_mprotect"}, nil,
		"raw_tracepoint/sys_enter (mprotect, pkey_mprotect)", mprotectEnter),
	event.IDMemProtAlert: {
		{Name: "fentry/security_file_mprotect+security_mmap_file", Programs: []Program{{Name: "fentry_security_file_mprotect"}, {Name: "fentry_security_mmap_file"}}},
		{Name: "kprobe/security_file_mprotect+security_mmap_file", Programs: []Program{{Name: "kprobe_security_file_mprotect"}, {Name: "kprobe_security_mmap_file"}}},
		{Name: "raw_tracepoint/sys_enter (mprotect, pkey_mprotect)+sys_exit (mmap)", Fallback: true, Programs: []Program{mprotectEnter, mmapExit}},
	},
	event.IDSecurityMmapFile: hookProbes([]string{"security_mmap_file"}, nil, "raw_tracepoint/sys_exit (mmap)", mmapExit),
	event.IDMagicWrite: {
		{Name: "fentry/vfs_write+vfs_writev", Programs: []Program{{Name: "fentry_vfs_write"}, {Name: "fentry_vfs_writev"}}},
		{Name: "kprobe/vfs_write+vfs_writev", Programs: []Program{{Name: "kprobe_vfs_write"}, {Name: "kprobe_vfs_writev"}}},
		{Name: "raw_tracepoint/sys_enter (write, pwrite64, writev, pwritev, pwritev2)", Fallback: true, Programs: []Program{writeEnter}},
	},
	event.IDVfsWrite:           hookProbes([]string{"vfs_write"}, nil, "raw_tracepoint/sys_enter (write, pwrite64)", writeEnter),
	event.IDVfsWritev:          hookProbes([]string{"vfs_writev"}, nil, "raw_tracepoint/sys_enter (writev, pwritev, pwritev2)", writeEnter),
	event.IDSecuritySbMount:    hookProbes([]string{"security_sb_mount"}, nil, "raw_tracepoint/sys_exit (mount)", sysExit("sys_exit_mount", []string{"mount"})),
	event.IDSecuritySbUmount:   hookProbes([]string{"security_sb_umount"}, nil, "raw_tracepoint/sys_exit (umount2)", sysExit("sys_exit_umount", []string{"umount2"})),
	event.IDSecurityInodeMknod: hookProbes([]string{"security_path_mknod"}, nil, "raw_tracepoint/sys_exit (mknod, mknodat)", sysExit("sys_exit_mknod", mknodSyscalls)),
	event.IDSecurityPathChmod:  hookProbes([]string{"security_path_chmod"}, nil, "raw_tracepoint/sys_exit (chmod, fchmod, fchmodat, fchmodat2)", sysExit("sys_exit_chmod", chmodSyscalls)),
	// vfs_utimes has no mount and is not on every path (utime): the
	// syscalls are the probe.
	event.IDUtimensat: {{Name: "raw_tracepoint/sys_exit (utimensat, futimesat, utimes, utime)", Programs: []Program{sysExit("sys_exit_utimes", utimesSyscalls)}}},
	event.IDSetxattr:  {{Name: "raw_tracepoint/sys_exit (setxattr, lsetxattr, fsetxattr, setxattrat)", Programs: []Program{sysExit("sys_exit_setxattr", setxattrSyscalls)}}},
	event.IDDoTruncate: hookProbes([]string{"do_truncate", "security_path_truncate"}, nil,
		"raw_tracepoint/sys_exit (truncate, ftruncate, and O_TRUNC opens)", sysExit("sys_exit_truncate", truncateSyscalls), openExit),
}

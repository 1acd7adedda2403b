package event

// Events of the files: opens, writes, links, mounts, memory mappings (bpf/file_*.bpf.c).
// Their ids are 300-399; bpf/lib/event_ids.h is generated from them (go generate).
const (
	IDSecurityFileOpen     ID = 300
	IDSecurityInodeUnlink  ID = 301
	IDSecurityInodeRename  ID = 302
	IDSecurityInodeSymlink ID = 303
	IDSecurityInodeLink    ID = 304
	IDSecurityFileMprotect ID = 305
	IDMemProtAlert         ID = 306
	IDSecurityMmapFile     ID = 307
	IDMagicWrite           ID = 308
	IDVfsWrite             ID = 309
	IDVfsWritev            ID = 310
	IDSecuritySbMount      ID = 311
	IDSecuritySbUmount     ID = 312
	IDSecurityInodeMknod   ID = 313
	IDSecurityPathChmod    ID = 314
	IDDoTruncate           ID = 315
	IDSetxattr             ID = 316
	IDUtimensat            ID = 317
)

const syscallDoc = "the syscall seen by the fallback probe (absent from the kernel hook)"

var fileSpecs = []Spec{
	{
		ID: IDSecurityFileOpen, Name: "security_file_open",
		Doc: "a file is opened (the LSM check of an open that passed the permission checks); opens refused with EACCES or EPERM are reported from the syscall exit, with the path as given",
		// A refused open never reaches the hook: the syscall exit reports
		// refusals alongside it.
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "resolved path of the opened file; for a refused open, the path given, made absolute against the directory fd or working directory"},
			{Name: "flags", Type: TypeUint32, Doc: "open flags (O_WRONLY 01, O_RDWR 02, O_CREAT 0100, O_TRUNC 01000, ...; O_LARGEFILE is always set)"},
			{Name: "mode", Type: TypeUint32, Doc: "the inode's mode: file type and permission bits (0 when the open was refused)"},
			{Name: "dev", Type: TypeUint32, Doc: "device of the file system (stat(2) encoding)"},
			{Name: "inode", Type: TypeUint64},
			{Name: "fs_type", Type: TypeString, Doc: "file system type (ext4, tmpfs, proc, ...)"},
			{Name: "created", Type: TypeBool, Doc: "this open created the file"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityInodeUnlink, Name: "security_inode_unlink",
		Doc: "a directory entry is removed (unlink, or rmdir when dir is true); fed by the LSM path hooks, which carry the mount so the path is complete",
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "path of the removed entry (the fallback makes a relative path absolute against the directory fd or working directory)"},
			{Name: "inode", Type: TypeUint64, Doc: "inode of the removed entry; the fallback (the entry is gone at syscall exit) takes it from ext4's unlink tracepoint, and marks it unreadable on other file systems and for rmdir"},
			{Name: "dev", Type: TypeUint32, Doc: "device of the file system; from the fallback, as inode"},
			{Name: "dir", Type: TypeBool, Doc: "a directory was removed (rmdir, unlinkat with AT_REMOVEDIR)"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityInodeRename, Name: "security_inode_rename",
		Doc: "a file is renamed or moved (rename, renameat, renameat2)",
		Args: []Arg{
			{Name: "old_path", Type: TypeString},
			{Name: "new_path", Type: TypeString},
			{Name: "flags", Type: TypeUint32, Doc: "renameat2 flags (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4)"},
			{Name: "inode", Type: TypeUint64, Doc: "inode of the renamed file; 0 from the fallback"},
			{Name: "dev", Type: TypeUint32, Doc: "0 from the fallback"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityInodeSymlink, Name: "security_inode_symlink",
		Doc: "a symbolic link is created",
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "path of the new link"},
			{Name: "target", Type: TypeString, Doc: "what the link points to, as written"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityInodeLink, Name: "security_inode_link",
		Doc: "a hard link is created",
		Args: []Arg{
			{Name: "old_path", Type: TypeString, Doc: "the existing file"},
			{Name: "new_path", Type: TypeString, Doc: "the new name"},
			{Name: "inode", Type: TypeUint64, Doc: "0 from the fallback"},
			{Name: "dev", Type: TypeUint32, Doc: "0 from the fallback"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityFileMprotect, Name: "security_file_mprotect",
		Doc: "the protection of a mapping changes (mprotect, pkey_mprotect) and executable memory is involved: the new protection or the mapping is executable (other changes are frequent and not reported)",
		Args: []Arg{
			{Name: "start", Type: TypeUint64, Doc: "start of the range (the syscall's)"},
			{Name: "len", Type: TypeUint64},
			{Name: "prot", Type: TypeUint32, Doc: "requested protection (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4)"},
			{Name: "vm_flags", Type: TypeUint64, Doc: "the mapping's flags before the change (VM_READ 1, VM_WRITE 2, VM_EXEC 4, VM_SHARED 8, ...); the hook runs once per mapping in the range, the fallback looks at the mapping at start"},
			{Name: "pathname", Type: TypeString, Doc: "the mapped file, \"\" for anonymous memory"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDMemProtAlert, Name: "mem_prot_alert",
		Doc: "memory becomes writable and executable at once, or executable after having been writable: code written at run time",
		Args: []Arg{
			{Name: "alert", Type: TypeString, Doc: "mmap_wx: a new mapping is writable and executable; mprotect_wx: a mapping is made writable and executable; mprotect_x_after_w: a writable mapping is made executable"},
			{Name: "start", Type: TypeUint64},
			{Name: "len", Type: TypeUint64},
			{Name: "prot", Type: TypeUint32, Doc: "the requested protection"},
			{Name: "vm_flags", Type: TypeUint64, Doc: "the mapping's flags before the change (0 for mmap)"},
			{Name: "pathname", Type: TypeString, Doc: "the mapped file, \"\" for anonymous memory"},
		},
	},
	{
		ID: IDSecurityMmapFile, Name: "security_mmap_file",
		Doc: "an executable mapping is asked for with mmap(2) (non-executable ones are too frequent to report; the kernel's own mappings of an exec are left to the exec event)",
		Args: []Arg{
			{Name: "addr", Type: TypeUint64, Doc: "address asked for (0: the kernel chooses); the fallback's return value is the mapped address"},
			{Name: "len", Type: TypeUint64},
			{Name: "prot", Type: TypeUint32, Doc: "PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4"},
			{Name: "flags", Type: TypeUint32, Doc: "MAP_SHARED 1, MAP_PRIVATE 2, MAP_FIXED 0x10, MAP_ANONYMOUS 0x20, ..."},
			{Name: "pathname", Type: TypeString, Doc: "the mapped file, \"\" for anonymous memory"},
			{Name: "dev", Type: TypeUint32},
			{Name: "inode", Type: TypeUint64},
		},
	},
	{
		ID: IDMagicWrite, Name: "magic_write",
		Doc: "the first bytes written at offset 0 of a regular file (they say what the file is: an ELF header, a #! line)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "bytes", Type: TypeBytes, Doc: "up to the first 20 bytes of the write (the first iovec's, for a vectored write)"},
			{Name: "dev", Type: TypeUint32},
			{Name: "inode", Type: TypeUint64},
		},
	},
	{
		ID: IDVfsWrite, Name: "vfs_write", Off: true,
		Doc: "a write (write, pwrite64) to any file, pipe or socket (off by default: very frequent)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "fd", Type: TypeInt32, Doc: "-1 for a write the kernel made for itself"},
			{Name: "count", Type: TypeUint64, Doc: "bytes asked to be written"},
			{Name: "pos", Type: TypeInt64, Doc: "file position the write starts at"},
		},
	},
	{
		ID: IDVfsWritev, Name: "vfs_writev", Off: true,
		Doc: "a vectored write (writev, pwritev, pwritev2) (off by default: frequent)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "fd", Type: TypeInt32, Doc: "-1 for a write the kernel made for itself"},
			{Name: "vlen", Type: TypeUint64, Doc: "number of iovecs"},
			{Name: "pos", Type: TypeInt64, Doc: "file position the write starts at"},
		},
	},
	{
		ID: IDSecuritySbMount, Name: "security_sb_mount",
		Doc: "a file system is mounted, bound, moved or remounted with mount(2) (attempts refused for lack of privilege included; the fsopen/fsmount/move_mount API is not covered)",
		Args: []Arg{
			{Name: "dev_name", Type: TypeString, Doc: "source: a device, a directory for bind mounts, or a name (\"proc\", \"none\")"},
			{Name: "path", Type: TypeString, Doc: "mount point"},
			{Name: "fs_type", Type: TypeString, Doc: "file system type, \"\" for bind, move and remount"},
			{Name: "flags", Type: TypeUint64, Doc: "MS_RDONLY 1, MS_NOSUID 2, MS_REMOUNT 0x20, MS_BIND 0x1000, MS_MOVE 0x2000, ..."},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecuritySbUmount, Name: "security_sb_umount",
		Doc: "a file system is unmounted",
		Args: []Arg{
			{Name: "path", Type: TypeString, Doc: "mount point"},
			{Name: "flags", Type: TypeInt32, Doc: "MNT_FORCE 1, MNT_DETACH 2, MNT_EXPIRE 4, UMOUNT_NOFOLLOW 8"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityInodeMknod, Name: "security_inode_mknod",
		Doc: "a device node or FIFO is created (mknod, mknodat); regular files and unix sockets are not reported",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "mode", Type: TypeUint32, Doc: "file type and permission bits (S_IFCHR 020000, S_IFBLK 060000, S_IFIFO 010000)"},
			{Name: "dev", Type: TypeUint32, Doc: "device number (stat(2) encoding: major is (dev >> 8) & 0xfff)"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDSecurityPathChmod, Name: "security_path_chmod",
		Doc: "a file's permission bits are changed (chmod, fchmod, fchmodat, fchmodat2)",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "mode", Type: TypeUint32, Doc: "the new permission bits (S_ISUID 04000, S_ISGID 02000, S_ISVTX 01000, rwx)"},
			{Name: "old_mode", Type: TypeUint32, Doc: "file type and permission bits before the change; 0 from the fallback (it sees the call after the change)"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
			{Name: "setuid", Type: TypeBool, Doc: "the new mode has the set-user-id bit"},
			{Name: "setgid", Type: TypeBool, Doc: "the new mode has the set-group-id bit"},
		},
	},
	{
		ID: IDSetxattr, Name: "setxattr",
		Doc: "an extended attribute of the security.* namespace is set (setxattr, lsetxattr, fsetxattr, setxattrat): file capabilities, SELinux and Smack labels, IMA and EVM hashes; security.capability is decoded",
		// No kernel function on every path has the file's mount (the LSM
		// hook and vfs_setxattr get a bare dentry): the syscalls are the probe.
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "the file, made absolute against the directory fd or working directory (fsetxattr: the fd's resolved path)"},
			{Name: "name", Type: TypeString, Doc: "attribute name, e.g. security.capability, security.selinux"},
			{Name: "value", Type: TypeBytes, Doc: "the value's first 64 bytes"},
			{Name: "size", Type: TypeUint32, Doc: "the value's size"},
			{Name: "flags", Type: TypeUint32, Doc: "XATTR_CREATE 1, XATTR_REPLACE 2"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
			{Name: "cap_permitted", Type: TypeUint64, Doc: "security.capability only: the permitted set the file grants (bit n is capability n: cap_setuid 7, cap_net_raw 13, cap_sys_admin 21, ...)"},
			{Name: "cap_inheritable", Type: TypeUint64, Doc: "security.capability only: the inheritable set"},
			{Name: "cap_effective", Type: TypeBool, Doc: "security.capability only: the permitted set is raised into the effective set at exec (the +e of setcap)"},
			{Name: "cap_version", Type: TypeUint32, Doc: "security.capability only: VFS_CAP_REVISION 1, 2 or 3 (3 carries a user namespace's root uid)"},
			{Name: "cap_rootid", Type: TypeUint32, Doc: "security.capability version 3 only: the root uid of the user namespace the capabilities hold in"},
		},
	},
	{
		ID: IDUtimensat, Name: "utimensat",
		Doc: "a file's access or modification time is set to a value the caller chose (utimensat, futimens, utimes, futimesat, utime): what touch -d/-r and timestomping tools do; setting them to now is not reported",
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "the file, made absolute against the directory fd or working directory (futimens: the fd's resolved path)"},
			{Name: "atime", Type: TypeInt64, Doc: "the access time set, seconds since the epoch; absent when left alone or set to now"},
			{Name: "mtime", Type: TypeInt64, Doc: "the modification time set, seconds since the epoch; absent when left alone or set to now"},
			{Name: "flags", Type: TypeUint32, Doc: "utimensat flags: AT_SYMLINK_NOFOLLOW 0x100, AT_EMPTY_PATH 0x1000"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc},
		},
	},
	{
		ID: IDDoTruncate, Name: "do_truncate",
		Doc: "an existing file is truncated: truncate, ftruncate, or an open with O_TRUNC",
		Args: []Arg{
			{Name: "pathname", Type: TypeString},
			{Name: "length", Type: TypeInt64, Doc: "the new size (0 for O_TRUNC)"},
			{Name: "syscall", Type: TypeString, Doc: syscallDoc + "; an O_TRUNC open names the open syscall"},
		},
	},
}

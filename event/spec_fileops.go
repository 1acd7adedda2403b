package event

// Events of the file family that other write paths and APIs feed: data copied
// inside the kernel (bpf/copy.bpf.c), the new mount API (bpf/mountapi.bpf.c)
// and io_uring requests (bpf/iouring.bpf.c). Their ids continue the file
// family's (300-399).
const (
	IDFileCopy         ID = 318
	IDFsopen           ID = 319
	IDFsconfig         ID = 320
	IDFsmount          ID = 321
	IDMoveMount        ID = 322
	IDOpenTree         ID = 323
	IDIoUringSubmitReq ID = 324
)

const mountAPIDoc = " (new mount API, Linux 5.2+; recorded at the syscall's exit, the return value is the new descriptor or the error)"

var fileOpsSpecs = []Spec{
	{
		ID: IDFileCopy, Name: "file_copy",
		Doc: "the kernel copies data into a regular file on a process's behalf, without the bytes passing through its memory: copy_file_range (what cp uses), sendfile, splice, or a reflink (the FICLONE and FICLONERANGE ioctls); recorded at the syscall's exit when it succeeded, the return value is the number of bytes (0 for a reflink)",
		Args: []Arg{
			{Name: "src_path", Type: TypeString, Doc: `resolved path of the source (a pipe is "pipe:[<inode>]")`},
			{Name: "src_dev", Type: TypeUint32, Doc: "device of the source's file system (stat(2) encoding)"},
			{Name: "src_inode", Type: TypeUint64},
			{Name: "pathname", Type: TypeString, Doc: "resolved path of the destination file"},
			{Name: "dev", Type: TypeUint32, Doc: "device of the destination's file system"},
			{Name: "inode", Type: TypeUint64, Doc: "the destination's inode"},
			{Name: "mode", Type: TypeUint32, Doc: "the destination inode's mode: file type and permission bits"},
			{Name: "offset", Type: TypeInt64, Doc: "where in the destination the copied bytes start (-1 when unknown)"},
			{Name: "bytes", Type: TypeInt64, Doc: "bytes copied (a whole-file reflink: the file's size)"},
			{Name: "syscall", Type: TypeString, Doc: "copy_file_range, sendfile, splice, ioctl_ficlone or ioctl_ficlonerange"},
		},
	},
	{
		ID: IDFsopen, Name: "fsopen",
		Doc: "a file system context is created for a file system type" + mountAPIDoc,
		Args: []Arg{
			{Name: "fs_type", Type: TypeString, Doc: "file system type asked for (ext4, overlay, proc, ...)"},
			{Name: "flags", Type: TypeUint32, Doc: "FSOPEN_CLOEXEC 1"},
		},
	},
	{
		ID: IDFsconfig, Name: "fsconfig",
		Doc: "a parameter of a file system context is set, or the superblock is created (cmd 6, FSCONFIG_CMD_CREATE)" + mountAPIDoc,
		Args: []Arg{
			{Name: "fd", Type: TypeInt32, Doc: "the context's descriptor (from fsopen or fspick)"},
			{Name: "cmd", Type: TypeString, Doc: "FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, FSCONFIG_SET_BINARY, FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_FD, FSCONFIG_CMD_CREATE, FSCONFIG_CMD_RECONFIGURE, FSCONFIG_CMD_CREATE_EXCL"},
			{Name: "key", Type: TypeString, Doc: `parameter name ("source", "lowerdir", "ro", ...); absent for the commands`},
			{Name: "value", Type: TypeString, Doc: "the value of FSCONFIG_SET_STRING and the path of FSCONFIG_SET_PATH(_EMPTY); absent otherwise"},
			{Name: "aux", Type: TypeInt32, Doc: "FSCONFIG_SET_FD: the descriptor; FSCONFIG_SET_PATH: the directory fd; FSCONFIG_SET_BINARY: the size"},
			{Name: "fs_type", Type: TypeString, Doc: "file system type of the context"},
		},
	},
	{
		ID: IDFsmount, Name: "fsmount",
		Doc: "a file system context becomes a mount, not yet attached anywhere" + mountAPIDoc,
		Args: []Arg{
			{Name: "fd", Type: TypeInt32, Doc: "the context's descriptor"},
			{Name: "flags", Type: TypeUint32, Doc: "FSMOUNT_CLOEXEC 1"},
			{Name: "attr_flags", Type: TypeUint32, Doc: "MOUNT_ATTR_RDONLY 1, MOUNT_ATTR_NOSUID 2, MOUNT_ATTR_NODEV 4, MOUNT_ATTR_NOEXEC 8, ..."},
			{Name: "fs_type", Type: TypeString, Doc: "file system type of the context"},
		},
	},
	{
		ID: IDMoveMount, Name: "move_mount",
		Doc: "a mount is attached to (or moved within) the directory tree: the step of the new mount API that makes a mount visible" + mountAPIDoc,
		Args: []Arg{
			{Name: "from_path", Type: TypeString, Doc: "the mount moved, resolved after the move: for the descriptor of a detached mount (from fsmount or open_tree, MOVE_MOUNT_F_EMPTY_PATH) where it is now attached"},
			{Name: "pathname", Type: TypeString, Doc: "where it is attached, made absolute against the directory fd or working directory"},
			{Name: "fs_type", Type: TypeString, Doc: "file system type of the mount moved; only for a detached mount's descriptor"},
			{Name: "source", Type: TypeString, Doc: "the mount's source (device name, or what fsconfig's \"source\" said; \"none\" when not given); only for a detached mount's descriptor"},
			{Name: "flags", Type: TypeUint32, Doc: "MOVE_MOUNT_F_SYMLINKS 1, MOVE_MOUNT_F_AUTOMOUNTS 2, MOVE_MOUNT_F_EMPTY_PATH 4, MOVE_MOUNT_T_* 0x10-0x40, MOVE_MOUNT_SET_GROUP 0x100, MOVE_MOUNT_BENEATH 0x200"},
		},
	},
	{
		ID: IDOpenTree, Name: "open_tree",
		Doc: "a mount, or a copy of a mount tree (OPEN_TREE_CLONE, what a bind mount is made of), is opened as a descriptor" + mountAPIDoc,
		Args: []Arg{
			{Name: "pathname", Type: TypeString, Doc: "the tree, made absolute against the directory fd or working directory"},
			{Name: "flags", Type: TypeUint32, Doc: "OPEN_TREE_CLONE 1, OPEN_TREE_CLOEXEC 0x80000, AT_RECURSIVE 0x8000, AT_EMPTY_PATH 0x1000, ..."},
			{Name: "fs_type", Type: TypeString, Doc: "file system type of the tree opened"},
		},
	},
	{
		ID: IDIoUringSubmitReq, Name: "io_uring_submit_req",
		Doc: "a request is submitted to an io_uring: file, xattr and socket operations done without their syscalls. Reported operations: OPENAT, OPENAT2, WRITE, WRITEV, WRITE_FIXED (writes at offset 0 of a regular file only, as magic_write), CONNECT, SETXATTR, FSETXATTR, UNLINKAT, RENAMEAT, LINKAT, SYMLINKAT, SOCKET, SPLICE, FTRUNCATE; others are too frequent or harmless. Recorded at submission (tracepoint io_uring:io_uring_submit_req): there is no result yet",
		Args: []Arg{
			{Name: "op", Type: TypeString, Doc: "IORING_OP_ name without its prefix: OPENAT, WRITE, CONNECT, SETXATTR, ..."},
			{Name: "opcode", Type: TypeUint32, Doc: "the opcode's number"},
			{Name: "fd", Type: TypeInt32, Doc: "the request's descriptor (the directory fd for OPENAT, UNLINKAT, RENAMEAT, LINKAT, SYMLINKAT: -100 is AT_FDCWD); an index into the ring's registered files when fixed_file; absent for SETXATTR and SOCKET"},
			{Name: "fixed_file", Type: TypeBool, Doc: "fd is a registered-file index: its file is not resolved (pathname is unreadable for fd operations)"},
			{Name: "pathname", Type: TypeString, Doc: "OPENAT, OPENAT2, SETXATTR, UNLINKAT, RENAMEAT (old), LINKAT (old), SYMLINKAT (new): the path given, made absolute against fd or the working directory; fd operations (WRITE, FSETXATTR, SPLICE's destination, FTRUNCATE): the file's resolved path"},
			{Name: "new_path", Type: TypeString, Doc: "RENAMEAT and LINKAT: the new name; SYMLINKAT: the link's target, as given"},
			{Name: "flags", Type: TypeUint32, Doc: "OPENAT, OPENAT2: open flags; SETXATTR, FSETXATTR: XATTR_CREATE 1, XATTR_REPLACE 2; UNLINKAT: AT_REMOVEDIR 0x200; RENAMEAT: renameat2 flags"},
			{Name: "mode", Type: TypeUint32, Doc: "OPENAT, OPENAT2: the mode a created file gets"},
			{Name: "offset", Type: TypeInt64, Doc: "writes: the file offset (-1: the current position)"},
			{Name: "len", Type: TypeUint64, Doc: "writes: bytes asked to be written; SETXATTR: the value's size"},
			{Name: "bytes", Type: TypeBytes, Doc: "writes: the first 64 bytes of the data (WRITEV: of its first buffer)"},
			{Name: "name", Type: TypeString, Doc: "SETXATTR, FSETXATTR: the attribute's name"},
			{Name: "family", Type: TypeString, Doc: "CONNECT, SOCKET: AF_INET, AF_INET6, AF_UNIX, ... (AF_<number> for others)"},
			{Name: "remote_addr", Type: TypeString, Doc: `CONNECT: the address connected to ("10.0.0.1", "::1", an AF_UNIX path)`},
			{Name: "remote_port", Type: TypeUint32, Doc: "CONNECT: the port"},
			{Name: "sq_thread", Type: TypeBool, Doc: "submitted by the ring's kernel polling thread (IORING_SETUP_SQPOLL) rather than io_uring_enter"},
		},
	},
}

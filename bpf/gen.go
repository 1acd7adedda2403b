package bpf

// One object per hook family, each of a few hundred lines; shared logic lives
// in lib/*.h. The loader (sensor) creates each map once, by name, for all
// objects. -type exports the types shared with Go so that the Go side uses
// (and tests check) the C definition.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 -type record_header -type event_id -type arg_type -type event_mode Syscalls syscalls.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 Process process.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 Creds creds.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 Module module.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 FileOpen file_open.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 FilePath file_path.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 FileMem file_mem.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 FileWrite file_write.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 FileMeta file_meta.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 NetSock net_sock.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 NetFlow net_flow.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 -type endpoint -type endpoint_val -type record_header Tc tc.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 Namespaces namespaces.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 Kernel kernel.bpf.c -- -I./include -I.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 Sched sched.bpf.c -- -I./include -I.

package load

// The syscall number tables of the BPF side (bpf/lib/syscall_nr.h) and of the
// loader (syscalls_amd64.go) come from one source.
//go:generate go run ./internal/gensyscalls

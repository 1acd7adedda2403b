// Package load loads the BPF objects of package bpf and attaches, for every
// event, the first probe the running kernel accepts (probes_gen.go, from the
// probe declarations of bpf/*.bpf.c): programs attached by their section,
// syscall handlers on the trace events of their syscalls, classifiers on every
// interface (tc.go). It creates each map once, by name, for all objects, and
// hands the sensor the ones it reads (Map). The Loader's owner closes it.
package load

package bpf

// One object per hook family (bpf/<family>.bpf.c), each of a few hundred
// lines; shared logic lives in lib/*.h. The loader (package sensor) creates
// each map once, by name, for all objects. The go:generate lines that build
// the objects, and the list Objects reads, are in objects_gen.go, which
// internal/genevents writes from the list of .bpf.c files: go generate
// ./event/ before ./bpf/... (make generate does both).

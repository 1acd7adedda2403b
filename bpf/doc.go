// Package bpf holds vigil's BPF programs: the C sources (one file per hook
// family, shared logic in lib/, the record layout defined once in
// lib/record.h) and the bpf2go output generated from them (*_bpfel.go and .o),
// committed so that a plain `go build` needs no clang.
//
// Run `make generate` after changing any .c or .h file.
//
// Loading, attaching and closing are the sensor's job (package sensor); this
// package only embeds the objects and exposes their specs.
package bpf

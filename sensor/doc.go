// Package sensor turns kernel activity into vigil events.
//
// New loads the BPF objects of package bpf and attaches for every event the
// first probe the running kernel accepts (package load: falling back from
// fentry/kprobe to the syscall layer, by the probe table generated from the
// PROBE declarations of bpf/*.bpf.c), and seeds the process table (package
// proc) from /proc. Run reads the ring buffer, decodes each record through the table of
// package event, enriches it with process context (exe, argv, ancestry,
// container) and hands it to a callback; Publisher puts events on NATS.
//
// Close detaches every program and frees the maps; the caller that made a
// Sensor closes it. Malformed records are counted in Stats and logged, never
// fatal; records the kernel could not queue are counted per event and CPU.
package sensor

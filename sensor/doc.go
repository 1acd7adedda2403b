// Package sensor turns kernel activity into vigil events.
//
// New loads the BPF objects of package bpf, attaches for every event the first
// probe the running kernel accepts (falling back from fentry/kprobe to the
// syscall layer, see the probe table generated from the PROBE declarations of bpf/*.bpf.c into probes_gen.go), and seeds the process table from
// /proc. Run reads the ring buffer, decodes each record through the table of
// package event, enriches it with process context (exe, argv, ancestry,
// container) and hands it to a callback; Publisher puts events on NATS.
//
// Close detaches every program and frees the maps; the caller that made a
// Sensor closes it. Malformed records are counted in Stats and logged, never
// fatal; records the kernel could not queue are counted per event and CPU.
package sensor

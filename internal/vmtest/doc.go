// Package vmtest runs the sensor's privileged tests on stock distribution
// kernels under qemu: `make vmtest` (vmtest.sh) fetches the kernels pinned in
// kernels.txt, builds an initramfs whose /init (cmd/vminit) runs the test
// binaries, boots each kernel and judges its serial log (cmd/vmtool).
//
// The package itself holds only a smoke test, TestProbeKinds, that proves the
// VM can do what the sensor relies on: for every kind of BPF program the sensor
// attaches (kprobe, kretprobe, fentry, fexit, lsm, tp_btf, raw tracepoint,
// tracepoint) it loads a tiny program written with cilium/ebpf's asm package,
// attaches it to a real kernel function or tracepoint, triggers it and checks
// that it ran. See README.md.
package vmtest

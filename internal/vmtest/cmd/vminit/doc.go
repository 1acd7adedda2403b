// Command vminit is /init of the vmtest initramfs: the first and only
// process the kernel starts inside the qemu VM.
//
// It mounts the pseudo file systems that BPF programs and the sensor need
// (proc, sysfs, devtmpfs, tmpfs on /tmp, tracefs, debugfs, bpffs, securityfs,
// cgroup2), brings the loopback interface up, then runs every test binary
// found as /tests/<name>/<name>.test, one after the other, as child processes.
// Its own arguments (the kernel command line after "--", e.g. -test.v
// -test.run=Foo) are passed to each of them, and so is its environment (the
// kernel turns unknown name=value parameters into init's environment).
//
// The tests run as children, never in PID 1 itself, because cilium/ebpf's
// package initialisers touch /proc before any code of ours could mount it.
//
// When they are done, vminit prints one verdict line,
//
//	vmtest: VERDICT PASS
//	vmtest: VERDICT FAIL sensor.test=exit 1
//
// and ends the VM through qemu's isa-debug-exit device at I/O port 0xf4, so
// qemu's exit status carries the verdict: 1 for pass, 3 for failing tests,
// 5 when there was nothing to run. The port is written with ioperm and an OUTB
// instruction because the cloud kernels have no /dev/port. Without that device
// the VM just powers off.
package main

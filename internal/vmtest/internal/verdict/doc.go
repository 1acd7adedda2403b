// Package verdict reads the serial console log of one vmtest VM and decides
// whether the kernel passed: qemu's exit status (set by the guest through
// isa-debug-exit), the guest's verdict line, the go test results it printed
// and any sign of kernel trouble (panic, Oops, BUG, WARNING, soft lockup,
// RCU stall) must all agree. On failure it names the failing tests with the
// lines they logged, so a broken probe is named together with the kernel.
package verdict

package main

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// outb writes one byte to an I/O port (outb_amd64.s).
//
//go:noescape
func outb(port uint16, value uint8)

// debugExit writes code to qemu's isa-debug-exit port, which ends qemu with
// status (code<<1)|1. If the device is absent the write does nothing.
func debugExit(port uint16, code uint8) error {
	// ioperm grants the calling thread access to the port (needs
	// CAP_SYS_RAWIO): the goroutine must not move to another thread before
	// the write, or the write faults (seen: SIGSEGV in outb, init killed).
	runtime.LockOSThread()
	if err := unix.Ioperm(int(port), 1, 1); err != nil {
		return err
	}
	outb(port, code)
	return nil
}

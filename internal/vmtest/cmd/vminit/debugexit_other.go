//go:build !amd64

package main

import "errors"

// debugExit is only implemented for x86-64, the architecture vmtest boots.
func debugExit(port uint16, code uint8) error {
	return errors.New("isa-debug-exit needs an x86 I/O port write")
}

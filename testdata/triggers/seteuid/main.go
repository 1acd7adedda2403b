// Command seteuid does what package managers' download helpers do when run
// by root (apt's methods become _apt): it sets its effective uid to an
// unprivileged user and back, real and saved uid staying 0. Nothing is
// gained: root had it all along.
//
//	seteuid UID
//
// It prints one JSON line with its pid.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seteuid UID")
		os.Exit(2)
	}
	uid, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "seteuid:", err)
		os.Exit(2)
	}
	// every thread of the process, as glibc's seteuid does
	if err := syscall.Setresuid(-1, uid, -1); err != nil {
		fmt.Fprintln(os.Stderr, "seteuid: dropping:", err)
		os.Exit(1)
	}
	if err := syscall.Setresuid(-1, 0, -1); err != nil {
		fmt.Fprintln(os.Stderr, "seteuid: back to root:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"pid": os.Getpid()})
}

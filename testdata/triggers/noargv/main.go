// Command noargv executes a program with an empty argument list (argc 0),
// the way PwnKit (CVE-2021-4034) starts pkexec.
//
//	noargv PROGRAM
//
// It prints one JSON line with its pid (which the executed program keeps)
// and the program, then replaces itself with PROGRAM, started with no
// argv at all. Linux 5.18 and later put an empty string in the new
// program's argv; the execve call itself still passes none.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: noargv PROGRAM")
		os.Exit(2)
	}
	prog := os.Args[1]
	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"pid": os.Getpid(), "program": prog}); err != nil {
		os.Exit(1)
	}
	// an empty, not nil, argv: syscall.Exec passes a pointer to a lone NULL
	err := syscall.Exec(prog, []string{}, os.Environ())
	fmt.Fprintln(os.Stderr, "noargv: exec:", err)
	os.Exit(1)
}

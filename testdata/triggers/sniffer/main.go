// Command sniffer opens the sockets a network sniffer or a passive
// backdoor opens: a packet socket for every protocol (AF_PACKET, SOCK_RAW,
// ETH_P_ALL) with a classic BPF filter attached, as BPFDoor waits for its
// magic packet (this filter accepts nothing, so no traffic is read), and a
// raw TCP socket (AF_INET, SOCK_RAW, IPPROTO_TCP), as scanners and raw
// listeners do. Both are closed at once.
//
// It prints one JSON line with its pid, its executable and what each call
// returned, and exits.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid    int    `json:"pid"`
	Exe    string `json:"exe"`
	Packet string `json:"packet"` // "ok" or the errno's name
	Filter string `json:"filter"`
	RawTCP string `json:"raw_tcp"`
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	if errno, ok := err.(unix.Errno); ok {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// htons: socket(2) takes the packet socket's protocol in network order
func htons(v uint16) uint16 { return v<<8 | v>>8 }

func main() {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	r.Packet = result(err)
	if err == nil {
		// one instruction: return 0 (take no byte of any packet)
		prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
		r.Filter = result(unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog))
		unix.Close(fd)
	}
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP)
	r.RawTCP = result(err)
	if err == nil {
		unix.Close(fd)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if r.Packet != "ok" || r.RawTCP != "ok" {
		os.Exit(1)
	}
}

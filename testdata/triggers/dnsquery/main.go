// Command dnsquery sends one DNS query over UDP, the way stub resolvers do
// (a connected socket, one datagram), and waits a moment for the answer.
// With -answer it first starts its own responder on the server address,
// which answers any question with one A (or AAAA) record for that address;
// without it nothing needs to listen: the query is what is being watched.
//
// -unconnected sends from a socket that is never connected (sendto), as
// musl's resolver and dnspython do; -port binds that socket to a given
// local port instead of one the kernel picks. -tcp asks over TCP instead (RFC 1035
// 4.2.2: each message after its 2-byte length), as resolvers do for long
// answers and DNS tunnels do to carry more; the responder then listens on
// TCP.
//
// Usage: dnsquery [-server 127.0.0.1:53] [-answer IP] [-id N] [-unconnected [-port N]] [-tcp] NAME
//
// It prints one JSON line: its pid, the name, the message id, the local
// port it sent from and what came back.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

type report struct {
	Pid       int      `json:"pid"`
	Exe       string   `json:"exe"`
	Name      string   `json:"name"`
	ID        int      `json:"id"`
	Server    string   `json:"server"`
	LocalPort int      `json:"local_port"`
	Answered  bool     `json:"answered"`
	Answers   []string `json:"answers,omitempty"`
}

func main() {
	server := flag.String("server", "127.0.0.1:53", "where to send the query (UDP)")
	answer := flag.String("answer", "", "answer the query ourselves with this address (A or AAAA)")
	id := flag.Int("id", os.Getpid()&0xffff, "DNS message id")
	unconnected := flag.Bool("unconnected", false, "send with sendto from a socket that is never connected")
	overTCP := flag.Bool("tcp", false, "ask over TCP")
	flag.IntVar(&localPort, "port", 0, "with -unconnected: the local port to send from")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: dnsquery [-server ADDR] [-answer IP] [-id N] NAME")
		os.Exit(2)
	}
	do := run
	if *overTCP {
		do = func(server, answer string, id uint16, _ bool, name string) error {
			return runTCP(server, answer, id, name)
		}
	}
	if err := do(*server, *answer, uint16(*id), *unconnected, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "dnsquery:", err)
		os.Exit(1)
	}
}

// localPort is -port.
var localPort int

func run(server, answer string, id uint16, unconnected bool, name string) error {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Name: name, ID: int(id), Server: server}
	if answer != "" {
		ip := net.ParseIP(answer)
		if ip == nil {
			return fmt.Errorf("-answer %q is not an address", answer)
		}
		pc, err := net.ListenPacket("udp", server)
		if err != nil {
			return fmt.Errorf("responder: %w", err)
		}
		defer pc.Close()
		go respond(pc, ip)
	}

	q, err := query(id, name)
	if err != nil {
		return err
	}
	buf := make([]byte, 512)
	if unconnected {
		to, err := net.ResolveUDPAddr("udp", server)
		if err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", localPort))
		if err != nil {
			return err
		}
		defer pc.Close()
		r.LocalPort = pc.LocalAddr().(*net.UDPAddr).Port
		if _, err := pc.WriteTo(q, to); err != nil {
			return fmt.Errorf("sending the query: %w", err)
		}
		pc.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err := pc.ReadFrom(buf); err == nil {
			r.Answered = true
			r.Answers = answers(buf[:n])
		}
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	c, err := net.Dial("udp", server)
	if err != nil {
		return err
	}
	defer c.Close()
	r.LocalPort = c.LocalAddr().(*net.UDPAddr).Port
	if _, err := c.Write(q); err != nil {
		return fmt.Errorf("sending the query: %w", err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := c.Read(buf); err == nil {
		r.Answered = true
		r.Answers = answers(buf[:n])
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// query builds a standard query (recursion desired) for name, type A.
func query(id uint16, name string) ([]byte, error) {
	msg := binary.BigEndian.AppendUint16(nil, id)
	msg = append(msg, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if len(label) == 0 || len(label) > 63 {
			return nil, fmt.Errorf("label %q of %s: a label is 1 to 63 bytes", label, name)
		}
		msg = append(msg, byte(len(label)))
		msg = append(msg, label...)
	}
	return append(msg, 0, 0, 1, 0, 1), nil
}

// runTCP asks over TCP: one write of the length and the query, one answer
// read back the same way.
func runTCP(server, answer string, id uint16, name string) error {
	exe, _ := os.Executable()
	r := report{Pid: os.Getpid(), Exe: exe, Name: name, ID: int(id), Server: server}
	if answer != "" {
		ip := net.ParseIP(answer)
		if ip == nil {
			return fmt.Errorf("-answer %q is not an address", answer)
		}
		l, err := net.Listen("tcp", server)
		if err != nil {
			return fmt.Errorf("responder: %w", err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(2 * time.Second))
					m, err := readTCPMessage(c)
					if err != nil {
						return
					}
					if resp, err := answerFor(m, ip); err == nil {
						c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
					}
				}()
			}
		}()
	}
	q, err := query(id, name)
	if err != nil {
		return err
	}
	c, err := net.Dial("tcp", server)
	if err != nil {
		return err
	}
	defer c.Close()
	r.LocalPort = c.LocalAddr().(*net.TCPAddr).Port
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)); err != nil {
		return fmt.Errorf("sending the query: %w", err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	if m, err := readTCPMessage(c); err == nil {
		r.Answered = true
		r.Answers = answers(m)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func readTCPMessage(c net.Conn) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return nil, err
	}
	m := make([]byte, binary.BigEndian.Uint16(n[:]))
	_, err := io.ReadFull(c, m)
	return m, err
}

// respond answers every query on pc with one record for ip.
func respond(pc net.PacketConn, ip net.IP) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, err := answerFor(buf[:n], ip); err == nil {
			pc.WriteTo(resp, from)
		}
	}
}

// answerFor is the response to query m: one record for ip.
func answerFor(m []byte, ip net.IP) ([]byte, error) {
	end, err := questionEnd(m)
	if err != nil {
		return nil, err
	}
	resp := append([]byte{}, m[:end]...)
	resp[2], resp[3] = 0x81, 0x80 // response, recursion desired and available, NOERROR
	binary.BigEndian.PutUint16(resp[6:], 1)
	typ, data := uint16(1), []byte(ip.To4())
	if data == nil {
		typ, data = 28, ip.To16()
	}
	resp = append(resp, 0xc0, 12) // the question's name
	resp = binary.BigEndian.AppendUint16(resp, typ)
	resp = append(resp, 0, 1, 0, 0, 0, 60)
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(data)))
	resp = append(resp, data...)
	return resp, nil
}

// questionEnd is the offset just past the first question.
func questionEnd(m []byte) (int, error) {
	i := 12
	for i < len(m) && m[i] != 0 {
		i += int(m[i]) + 1
	}
	if i+5 > len(m) {
		return 0, errors.New("short question")
	}
	return i + 5, nil
}

// answers returns the A and AAAA addresses of a response.
func answers(m []byte) []string {
	end, err := questionEnd(m)
	if err != nil || len(m) < 12 {
		return nil
	}
	var out []string
	i := end
	for n := binary.BigEndian.Uint16(m[6:]); n > 0 && i+12 <= len(m); n-- {
		i += 2 // a pointer to the question's name, as our responder writes
		typ, rdlen := binary.BigEndian.Uint16(m[i:]), int(binary.BigEndian.Uint16(m[i+8:]))
		i += 10
		if i+rdlen > len(m) {
			break
		}
		if (typ == 1 && rdlen == 4) || (typ == 28 && rdlen == 16) {
			out = append(out, net.IP(m[i:i+rdlen]).String())
		}
		i += rdlen
	}
	return out
}

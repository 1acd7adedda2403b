// Command pingpong makes the scheduler hand one CPU back and forth between
// two processes: it pins itself to one CPU, starts a copy of itself (pinned
// there too, as affinity is inherited) and the two pass a byte through two
// pipes a thousand times, each blocking in read (an interruptible sleep)
// until the other writes.
//
// It prints one JSON line: its pid and the partner's.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

const rounds = 1000

type report struct {
	Pid        int `json:"pid"`
	PartnerPid int `json:"partner_pid"`
	CPU        int `json:"cpu"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "partner" {
		// fd 3 reads from the first process, fd 4 writes to it
		in, out := os.NewFile(3, "in"), os.NewFile(4, "out")
		b := make([]byte, 1)
		for i := 0; i < rounds; i++ {
			if _, err := in.Read(b); err != nil {
				os.Exit(1)
			}
			out.Write(b)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pingpong:", err)
		os.Exit(1)
	}
}

func run() error {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return err
	}
	cpu := -1
	for i := 0; i < 1024 && cpu < 0; i++ {
		if set.IsSet(i) {
			cpu = i
		}
	}
	set.Zero()
	set.Set(cpu)
	// every thread of this Go process: the runtime's too
	for _, tid := range threads() {
		unix.SchedSetaffinity(tid, &set)
	}
	toR, toW, err := os.Pipe()
	if err != nil {
		return err
	}
	fromR, fromW, err := os.Pipe()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	p := exec.Command(self, "partner")
	p.ExtraFiles = []*os.File{toR, fromW}
	if err := p.Start(); err != nil {
		return err
	}
	toR.Close()
	fromW.Close()
	b := []byte{'x'}
	for i := 0; i < rounds; i++ {
		if _, err := toW.Write(b); err != nil {
			return err
		}
		if _, err := fromR.Read(b); err != nil {
			return err
		}
	}
	toW.Close()
	if err := p.Wait(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(report{Pid: os.Getpid(), PartnerPid: p.Process.Pid, CPU: cpu})
}

func threads() []int {
	ents, _ := os.ReadDir("/proc/self/task")
	var out []int
	for _, e := range ents {
		var tid int
		if _, err := fmt.Sscan(e.Name(), &tid); err == nil {
			out = append(out, tid)
		}
	}
	return out
}

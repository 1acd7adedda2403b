// Command ptraceinject injects into a process the two ways malware does,
// with a child it starts as the victim: it attaches with PTRACE_ATTACH,
// writes a word into the victim's memory with PTRACE_POKEDATA, sets its
// registers (to what they were) with PTRACE_SETREGSET and detaches; then it
// writes into the victim's memory again with process_vm_writev. The victim is
// this program run as "ptraceinject victim": it waits for both words to
// appear in its variables and exits 0 when they do. The program is not
// position independent, so the variables sit at the same addresses in both
// processes.
//
// It prints one JSON line: its pid, the victim's pid, the addresses written,
// the result of each step and whether the victim saw both words.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	pokeWord = 0x7669676c_706f6b65 // "vigl" "poke"
	vmWord   = 0x7669676c_766d7772 // "vigl" "vmwr"
)

// The victim's variables: written from outside, read with atomics so the
// compiler keeps reading memory.
var poked, vmWritten uint64

// ptrace requests must come from the thread that attached.
func init() { runtime.LockOSThread() }

type report struct {
	Pid        int               `json:"pid"`
	VictimPid  int               `json:"victim_pid"`
	PokeAddr   uint64            `json:"poke_addr"`
	VMAddr     uint64            `json:"vm_addr"`
	Steps      map[string]string `json:"steps"`
	VictimSeen bool              `json:"victim_saw_both"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "victim" {
		victim()
		return
	}
	r, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ptraceinject:", err)
	}
	json.NewEncoder(os.Stdout).Encode(r)
	if err != nil {
		os.Exit(1)
	}
}

// victim waits for both words, then for its stdin to close (the injector
// reads its memory back first), and exits 0; 3 if the words never came.
func victim() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if atomic.LoadUint64(&poked) == pokeWord && atomic.LoadUint64(&vmWritten) == vmWord {
			io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}
		time.Sleep(5 * time.Millisecond)
	}
	os.Exit(3)
}

func step(r *report, name string, err error) error {
	if err != nil {
		r.Steps[name] = err.Error()
		return fmt.Errorf("%s: %w", name, err)
	}
	r.Steps[name] = "ok"
	return nil
}

func run() (*report, error) {
	r := &report{Pid: os.Getpid(), Steps: map[string]string{},
		PokeAddr: uint64(uintptr(unsafe.Pointer(&poked))), VMAddr: uint64(uintptr(unsafe.Pointer(&vmWritten)))}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	v := exec.Command(self, "victim")
	stdin, err := v.StdinPipe()
	if err != nil {
		return r, err
	}
	if err := v.Start(); err != nil {
		return r, err
	}
	pid := v.Process.Pid
	r.VictimPid = pid
	defer func() {
		stdin.Close()
		err := v.Wait()
		r.VictimSeen = err == nil
	}()
	// let the victim start its loop
	time.Sleep(100 * time.Millisecond)

	if err := step(r, "attach", syscall.PtraceAttach(pid)); err != nil {
		v.Process.Kill()
		return r, err
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		v.Process.Kill()
		return r, step(r, "wait", err)
	}
	word := make([]byte, 8)
	binary.LittleEndian.PutUint64(word, pokeWord)
	_, err = syscall.PtracePokeData(pid, uintptr(r.PokeAddr), word)
	step(r, "pokedata", err)
	var regs syscall.PtraceRegs
	if err := step(r, "getregs", syscall.PtraceGetRegs(pid, &regs)); err == nil {
		step(r, "setregs", syscall.PtraceSetRegs(pid, &regs))
	}
	step(r, "detach", syscall.PtraceDetach(pid))
	// PTRACE_ATTACH stopped the whole victim with SIGSTOP: let it go on
	syscall.Kill(pid, syscall.SIGCONT)

	binary.LittleEndian.PutUint64(word, vmWord)
	local := []unix.Iovec{{Base: &word[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: uintptr(r.VMAddr), Len: 8}}
	_, err = unix.ProcessVMWritev(pid, local, remote, 0)
	step(r, "process_vm_writev", err)
	back := make([]byte, 8)
	_, err = unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &back[0], Len: 8}}, remote, 0)
	step(r, "process_vm_readv", err)
	return r, nil
}

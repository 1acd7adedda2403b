// Command credops walks one thread through every credential syscall with
// values no other program uses, the way a privilege-dropping daemon does,
// so that a test can check each argument the sensor reports against what
// was asked. Needs root. On its main thread, in this order:
//
//	capset      effective = SETUID|SETGID|SETPCAP|SYS_ADMIN, permitted kept,
//	            inheritable = NET_BIND_SERVICE, header pid = its own tid
//	setresgid   4001 4002 4003
//	setregid    4004 4005
//	setgid      4006
//	setfsgid    4007
//	setresuid   5001 0 5003
//	setreuid    5004 0
//	setfsuid    5005
//	setuid      5006 (the last: it gives up every capability)
//
// It prints one JSON line: its pid and tid, the effective and permitted
// capability sets it started with, and the sets it asked capset for.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Credentials are per thread: everything happens on the main thread, with
// raw syscalls (Go's syscall.Setuid changes every thread).
func init() { runtime.LockOSThread() }

type report struct {
	Pid               int    `json:"pid"`
	Tid               int    `json:"tid"`
	StartEffective    uint64 `json:"start_effective"`
	StartPermitted    uint64 `json:"start_permitted"`
	CapsetEffective   uint64 `json:"capset_effective"`
	CapsetInheritable uint64 `json:"capset_inheritable"`
}

func caps() (eff, perm, inh uint64, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, 0, err
	}
	join := func(lo, hi uint32) uint64 { return uint64(lo) | uint64(hi)<<32 }
	return join(data[0].Effective, data[1].Effective), join(data[0].Permitted, data[1].Permitted),
		join(data[0].Inheritable, data[1].Inheritable), nil
}

func run() (*report, error) {
	r := &report{Pid: os.Getpid(), Tid: unix.Gettid()}
	eff, perm, _, err := caps()
	if err != nil {
		return r, fmt.Errorf("capget: %w", err)
	}
	r.StartEffective, r.StartPermitted = eff, perm
	bit := func(c int) uint64 { return 1 << uint(c) }
	r.CapsetEffective = bit(unix.CAP_SETUID) | bit(unix.CAP_SETGID) | bit(unix.CAP_SETPCAP) | bit(unix.CAP_SYS_ADMIN)
	r.CapsetInheritable = bit(unix.CAP_NET_BIND_SERVICE)
	if r.CapsetEffective&perm != r.CapsetEffective {
		return r, fmt.Errorf("permitted set %#x lacks %#x: run as root", perm, r.CapsetEffective)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3, Pid: int32(r.Tid)}
	data := [2]unix.CapUserData{
		{Effective: uint32(r.CapsetEffective), Permitted: uint32(perm), Inheritable: uint32(r.CapsetInheritable)},
		{Effective: uint32(r.CapsetEffective >> 32), Permitted: uint32(perm >> 32), Inheritable: uint32(r.CapsetInheritable >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return r, fmt.Errorf("capset: %w", err)
	}
	steps := []struct {
		name string
		nr   uintptr
		args []uintptr
	}{
		{"setresgid", unix.SYS_SETRESGID, []uintptr{4001, 4002, 4003}},
		{"setregid", unix.SYS_SETREGID, []uintptr{4004, 4005}},
		{"setgid", unix.SYS_SETGID, []uintptr{4006}},
		{"setfsgid", unix.SYS_SETFSGID, []uintptr{4007}},
		{"setresuid", unix.SYS_SETRESUID, []uintptr{5001, 0, 5003}},
		{"setreuid", unix.SYS_SETREUID, []uintptr{5004, 0}},
		{"setfsuid", unix.SYS_SETFSUID, []uintptr{5005}},
		{"setuid", unix.SYS_SETUID, []uintptr{5006}},
	}
	for _, s := range steps {
		a := append(s.args, 0, 0, 0)
		// setfsuid and setfsgid return the old id, never an error
		if _, _, e := unix.RawSyscall(s.nr, a[0], a[1], a[2]); e != 0 && s.name != "setfsgid" && s.name != "setfsuid" {
			return r, fmt.Errorf("%s: %w", s.name, e)
		}
	}
	return r, nil
}

func main() {
	r, err := run()
	json.NewEncoder(os.Stdout).Encode(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "credops:", err)
		os.Exit(1)
	}
}

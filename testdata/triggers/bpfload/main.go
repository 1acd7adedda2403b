// Command bpfload loads a BPF program and creates a map the way a BPF rootkit
// or any other BPF tool does, with the bpf syscall itself: a map (an array
// named vigil_trig_map) and a kprobe program (named vigil_trig_kp: "return
// 0"). It attaches nothing and closes both. Needs root (or CAP_BPF and
// CAP_PERFMON).
//
// It prints one JSON line: its pid, the names used and the result of each
// call.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

type report struct {
	Pid       int    `json:"pid"`
	MapName   string `json:"map_name"`
	MapCreate string `json:"map_create"`
	ProgName  string `json:"prog_name"`
	ProgType  string `json:"prog_type"`
	ProgLoad  string `json:"prog_load"`
	// requests the kernel refuses (a descriptor that is no BPF object, an
	// id nothing has), made for the arguments they carry
	PinPath    string `json:"pin_path"`
	Pin        string `json:"pin"`
	MapID      uint32 `json:"map_id"`
	MapGet     string `json:"map_get"`
	Tracepoint string `json:"tracepoint"`
	RawTPOpen  string `json:"raw_tp_open"`
	LinkCreate string `json:"link_create"`
}

// The leading fields of union bpf_attr for BPF_MAP_CREATE and BPF_PROG_LOAD
// (include/uapi/linux/bpf.h); the kernel takes a shorter attr as zero-filled.
type mapCreateAttr struct {
	MapType, KeySize, ValueSize, MaxEntries, MapFlags, InnerMapFd, NumaNode uint32
	MapName                                                                 [16]byte
}

type progLoadAttr struct {
	ProgType, InsnCnt               uint32
	Insns, License                  uint64
	LogLevel, LogSize               uint32
	LogBuf                          uint64
	KernVersion, ProgFlags          uint32
	ProgName                        [16]byte
	ProgIfindex, ExpectedAttachType uint32
}

// BPF_OBJ_PIN, BPF_MAP_GET_FD_BY_ID, BPF_RAW_TRACEPOINT_OPEN and
// BPF_LINK_CREATE's leading fields.
type objPinAttr struct {
	Pathname         uint64
	BpfFd, FileFlags uint32
}

type getByIDAttr struct{ ID, NextID, OpenFlags uint32 }

type rawTPOpenAttr struct {
	Name   uint64
	ProgFd uint32
}

type linkCreateAttr struct{ ProgFd, TargetFd, AttachType, Flags uint32 }

const (
	bpfMapCreate        = 0
	bpfProgLoad         = 5
	bpfObjPin           = 6
	bpfMapGetFdByID     = 14
	bpfRawTracepointOpn = 17
	bpfLinkCreate       = 28
	attachTraceFentry   = 24
	noFd                = 0xffffffff
	mapTypeArray        = 2
	progTypeKprobe      = 2
	insnMovR0Imm0       = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K, dst r0, imm 0
	insnExit            = 0x95 // BPF_JMP | BPF_EXIT
)

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func result(fd int, err error) string {
	if err != nil {
		return unix.ErrnoName(err.(unix.Errno))
	}
	unix.Close(fd)
	return "ok"
}

func main() {
	r := report{Pid: os.Getpid(), MapName: "vigil_trig_map", ProgName: "vigil_trig_kp", ProgType: "kprobe"}

	m := mapCreateAttr{MapType: mapTypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}
	copy(m.MapName[:], r.MapName)
	r.MapCreate = result(bpf(bpfMapCreate, unsafe.Pointer(&m), unsafe.Sizeof(m)))

	insns := []uint64{insnMovR0Imm0, insnExit}
	license := []byte("GPL\x00")
	p := progLoadAttr{ProgType: progTypeKprobe, InsnCnt: uint32(len(insns)),
		Insns: uint64(uintptr(unsafe.Pointer(&insns[0]))), License: uint64(uintptr(unsafe.Pointer(&license[0])))}
	copy(p.ProgName[:], r.ProgName)
	r.ProgLoad = result(bpf(bpfProgLoad, unsafe.Pointer(&p), unsafe.Sizeof(p)))

	r.PinPath = fmt.Sprintf("/sys/fs/bpf/vigil-trig-%d", r.Pid)
	path := append([]byte(r.PinPath), 0)
	pin := objPinAttr{Pathname: uint64(uintptr(unsafe.Pointer(&path[0]))), BpfFd: noFd}
	r.Pin = result(bpf(bpfObjPin, unsafe.Pointer(&pin), unsafe.Sizeof(pin)))

	r.MapID = 0x7ffffff0
	get := getByIDAttr{ID: r.MapID}
	r.MapGet = result(bpf(bpfMapGetFdByID, unsafe.Pointer(&get), unsafe.Sizeof(get)))

	r.Tracepoint = "sched_switch"
	name := append([]byte(r.Tracepoint), 0)
	tp := rawTPOpenAttr{Name: uint64(uintptr(unsafe.Pointer(&name[0]))), ProgFd: noFd}
	r.RawTPOpen = result(bpf(bpfRawTracepointOpn, unsafe.Pointer(&tp), unsafe.Sizeof(tp)))

	link := linkCreateAttr{ProgFd: noFd, AttachType: attachTraceFentry}
	r.LinkCreate = result(bpf(bpfLinkCreate, unsafe.Pointer(&link), unsafe.Sizeof(link)))
	runtime.KeepAlive(path)
	runtime.KeepAlive(name)

	json.NewEncoder(os.Stdout).Encode(r)
}

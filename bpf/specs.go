package bpf

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// RecordHeader is the context header every record starts with, as generated
// from struct record_header in lib/record.h.
type RecordHeader = SyscallsRecordHeader

// Object is one compiled hook family.
type Object struct {
	Name string
	Spec *ebpf.CollectionSpec
}

// Objects returns a fresh copy of every object's spec, in a stable order.
func Objects() ([]Object, error) {
	loaders := []struct {
		name string
		load func() (*ebpf.CollectionSpec, error)
	}{
		{"syscalls", LoadSyscalls},
		{"process", LoadProcess},
		{"creds", LoadCreds},
		{"module", LoadModule},
		{"file", LoadFile},
		{"net", LoadNet},
		{"kernel", LoadKernel},
		{"copy", LoadCopy},
		{"mountapi", LoadMountapi},
		{"iouring", LoadIouring},
		{"unlink", LoadUnlink},
	}
	out := make([]Object, 0, len(loaders))
	for _, l := range loaders {
		spec, err := l.load()
		if err != nil {
			return nil, fmt.Errorf("reading BPF object %s: %w", l.name, err)
		}
		out = append(out, Object{Name: l.name, Spec: spec})
	}
	return out, nil
}

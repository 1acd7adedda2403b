package bpf

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// RecordHeader is the context header every record starts with, as generated
// from struct record_header in lib/record.h.
type RecordHeader = SyscallsRecordHeader

// Types shared with the sensor, named apart from the object that happens to
// generate them (sensor/layout_test.go checks them against each object's BTF).
type (
	// OpenFilter is struct open_filter of lib/open_filter.h.
	OpenFilter = FileOpenOpenFilter
	// OpenFilterKey is struct open_filter_key of lib/open_filter.h.
	OpenFilterKey = FileOpenOpenFilterKey
	// Endpoint is struct endpoint of lib/net.h, the key of endpoint_owners.
	Endpoint = TcEndpoint
	// EndpointVal is struct endpoint_val of lib/net.h.
	EndpointVal = TcEndpointVal
)

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
		{"file_open", LoadFileOpen},
		{"file_path", LoadFilePath},
		{"file_mem", LoadFileMem},
		{"file_write", LoadFileWrite},
		{"file_meta", LoadFileMeta},
		{"net_sock", LoadNetSock},
		{"net_flow", LoadNetFlow},
		{"tc", LoadTc},
		{"namespaces", LoadNamespaces},
		{"kernel", LoadKernel},
		{"sched", LoadSched},
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

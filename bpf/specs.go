package bpf

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
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
	// SocketFilter is struct socket_filter of net_sock.bpf.c.
	SocketFilter = NetSockSocketFilter
)

// Object is one compiled hook family.
type Object struct {
	Name string
	Spec *ebpf.CollectionSpec
}

// Objects returns a fresh copy of every object's spec, in a stable order.
func Objects() ([]Object, error) {
	out := make([]Object, 0, len(objectLoaders))
	for _, l := range objectLoaders {
		spec, err := l.load()
		if err != nil {
			return nil, fmt.Errorf("reading BPF object %s: %w", l.name, err)
		}
		out = append(out, Object{Name: l.name, Spec: spec})
	}
	return out, nil
}

type objectLoader struct {
	name string
	load func() (*ebpf.CollectionSpec, error)
}

// EnumValues returns the values of a C enum (event_id, event_arg, arg_type,
// event_mode, ...) by name, from the BTF of the first object that has it:
// the enums are in the objects that export them to Go (bpf2go-types) and in
// those that use them. Tests check the Go side against it.
func EnumValues(name string) (map[string]uint64, error) {
	objs, err := Objects()
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		var e *btf.Enum
		if err := o.Spec.Types.TypeByName(name, &e); err != nil {
			continue
		}
		out := make(map[string]uint64, len(e.Values))
		for _, v := range e.Values {
			out[v.Name] = v.Value
		}
		return out, nil
	}
	return nil, fmt.Errorf("enum %s is in the BTF of no object", name)
}

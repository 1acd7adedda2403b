package event

// Events of the network: sockets, connections, DNS, packets (bpf/net.bpf.c).
// Their ids are 400-499; keep them in step with enum event_id in bpf/lib/record.h.
var netSpecs = []Spec{}

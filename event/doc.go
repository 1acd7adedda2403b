// Package event defines vigil's event: the one Go type every sensor record is
// decoded into, its JSON form (what Rego sees as input, what travels on NATS and
// what capture files hold), the table of every event the sensor can emit with
// its typed arguments, and the NATS subjects events and findings travel on.
//
// The package is pure Go and imports no BPF code, so the engine, the rule tools
// and replay build and run without cilium/ebpf or a kernel.
package event

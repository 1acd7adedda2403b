// Package event defines vigil's event: the one Go type every sensor record is
// decoded into, its JSON form (what Rego sees as input, what travels on NATS and
// what capture files hold), the table of every event the sensor can emit with
// its typed arguments, and the NATS subjects events and findings travel on.
//
// The table (spec_<family>.go) is the one source of the event format: the BPF
// side's event ids and argument indices (bpf/lib/event_ids.h) and the typed
// views of Event.Args (args_gen.go, SchedProcessExecArgs(ev.Args).Pathname())
// are generated from it by internal/genevents (go generate). How the sensor
// feeds each event on a kernel is not part of the contract: the probe tables
// live in package sensor.
//
// The package is pure Go and imports no BPF code, so the engine, the rule tools
// and replay build and run without cilium/ebpf or a kernel.
package event

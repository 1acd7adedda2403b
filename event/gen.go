package event

// The event table (spec_*.go) is the one source of the event format: the C
// header of event ids and argument indices (bpf/lib/event_ids.h) and the
// typed views of Event.Args (args_gen.go) are generated from it.
//go:generate go run ../internal/genevents

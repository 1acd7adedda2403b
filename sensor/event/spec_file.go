package event

// Events of the files: opens, writes, links, mounts, memory mappings (bpf/file.bpf.c).
// Their ids are 300-399; keep them in step with enum event_id in bpf/lib/record.h.
var fileSpecs = []Spec{}

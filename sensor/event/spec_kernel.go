package event

// Events of the the kernel's own facilities: namespaces, capabilities, cgroups, BPF, tracing (bpf/kernel.bpf.c).
// Their ids are 500-599; keep them in step with enum event_id in bpf/lib/record.h.
var kernelSpecs = []Spec{}

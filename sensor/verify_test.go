package sensor

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/vigil-sec/vigil/bpf"
)

// Every program of every object passes this kernel's verifier, those no
// probe attaches here too (a syscall this kernel was built without, a
// fallback behind a preferred hook): a change that breaks one shows here,
// not first on another kernel (make vmtest runs it on each of its kernels).
// fentry, fexit and LSM programs are left out where the kernel refuses them
// (EPERM) to this process, and tp_btf points the kernel does not have.
func TestSensorEveryProgramVerifies(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root: run as root (CI does)")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Fatal(err)
	}
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	loaded, refused := 0, 0
	for _, o := range objs {
		for name, ps := range o.Spec.Programs {
			spec := o.Spec.Copy()
			for other := range spec.Programs {
				if other != name {
					delete(spec.Programs, other)
				}
			}
			// maps small: only the verifier is asked
			for _, m := range spec.Maps {
				if m.Type == ebpf.RingBuf {
					m.MaxEntries = 4096
				} else if m.MaxEntries > 64 && m.Type != ebpf.PerCPUArray && m.Type != ebpf.Array {
					m.MaxEntries = 64
				}
			}
			coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogSizeStart: 1 << 20}})
			if err != nil {
				var ve *ebpf.VerifierError
				if errors.Is(err, os.ErrPermission) && !errors.As(err, &ve) && (ps.Type == ebpf.Tracing || ps.Type == ebpf.LSM || ps.Type == ebpf.Extension) {
					refused++
					continue
				}
				if errors.Is(err, ebpf.ErrNotSupported) && !errors.As(err, &ve) {
					// a tp_btf point this kernel does not have
					t.Logf("%s: program %s not loadable here: %v", o.Name, name, err)
					continue
				}
				t.Errorf("%s: program %s (%s): %v", o.Name, name, ps.Type, err)
				continue
			}
			coll.Close()
			loaded++
		}
	}
	t.Logf("%d programs verified, %d refused to this process (fentry/fexit/LSM)", loaded, refused)
	if loaded == 0 {
		t.Fatal("no program loaded")
	}
}

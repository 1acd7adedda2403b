package sensor

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
)

// The record layout is defined once, in bpf/lib/record.h. These tests read the
// BTF of the compiled objects and check the Go side against it.

func enumValues(t *testing.T, name string) map[string]uint64 {
	t.Helper()
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var e *btf.Enum
	if err := objs[0].Spec.Types.TypeByName(name, &e); err != nil {
		t.Fatalf("enum %s not in the BTF of %s: %v", name, objs[0].Name, err)
	}
	out := map[string]uint64{}
	for _, v := range e.Values {
		out[v.Name] = v.Value
	}
	return out
}

func TestEventIDsMatchC(t *testing.T) {
	c := enumValues(t, "event_id")
	for _, spec := range event.All() {
		name := "EVENT_" + strings.ToUpper(spec.Name)
		v, ok := c[name]
		if !ok {
			t.Errorf("event %s: no %s in enum event_id", spec.Name, name)
			continue
		}
		if event.ID(v) != spec.ID {
			t.Errorf("event %s: Go id %d, C %s = %d", spec.Name, spec.ID, name, v)
		}
	}
	for name, v := range c {
		if name == "EVENT_ID_MAX" {
			if v <= 200 {
				t.Errorf("EVENT_ID_MAX %d leaves no room", v)
			}
			continue
		}
		if _, ok := event.ByID(event.ID(v)); !ok {
			t.Errorf("C %s = %d has no entry in the Go event table", name, v)
		}
	}
}

func TestArgTypesMatchC(t *testing.T) {
	c := enumValues(t, "arg_type")
	want := map[string]uint64{
		"ARG_S32": uint64(event.TypeInt32), "ARG_U32": uint64(event.TypeUint32),
		"ARG_S64": uint64(event.TypeInt64), "ARG_U64": uint64(event.TypeUint64),
		"ARG_STR": uint64(event.TypeString), "ARG_STR_ARR": uint64(event.TypeStrArray),
		"ARG_BYTES": uint64(event.TypeBytes), "ARG_BOOL": uint64(event.TypeBool),
		"ARG_STR_LIST": wireStrList, "ARG_TRUNCATED": wireTruncated, "ARG_UNREADABLE": wireUnreadable,
	}
	for name, w := range want {
		if c[name] != w {
			t.Errorf("%s: C %d, Go %d", name, c[name], w)
		}
	}
	if len(c) != len(want) {
		t.Errorf("enum arg_type has %d values, Go knows %d", len(c), len(want))
	}
}

func TestEventModesMatchC(t *testing.T) {
	c := enumValues(t, "event_mode")
	for name, w := range map[string]uint32{"MODE_ANY": modeAny, "MODE_HOOK": modeHook, "MODE_FALLBACK": modeFallback, "MODE_OFF": modeOff} {
		if uint32(c[name]) != w {
			t.Errorf("%s: C %d, Go %d", name, c[name], w)
		}
	}
}

func TestHeaderSizeMatchesBTF(t *testing.T) {
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := objs[0].Spec.Types.TypeByName("record_header", &s); err != nil {
		t.Fatal(err)
	}
	if int(s.Size) != hdrSize {
		t.Fatalf("struct record_header is %d bytes in C, the decoder uses %d", s.Size, hdrSize)
	}
}

func TestEveryProbeProgramExists(t *testing.T) {
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, o := range objs {
		for name := range o.Spec.Programs {
			have[name] = true
		}
	}
	for _, spec := range event.All() {
		for _, pb := range spec.Probes {
			for _, pr := range pb.Programs {
				if !have[pr.Name] {
					t.Errorf("event %s, probe %s: no BPF program %s", spec.Name, pb.Name, pr.Name)
				}
				for _, sc := range pr.Syscalls {
					if _, ok := syscallNumbers[sc]; !ok {
						t.Errorf("event %s: program %s names unknown syscall %s", spec.Name, pr.Name, sc)
					}
				}
			}
		}
	}
}

package sensor

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
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

// TestArgIndicesMatchC reads enum event_arg (bpf/lib/event_ids.h, generated
// from the table) from the compiled object: every argument of the table has
// its ARG_<EVENT>_<ARG> at its wire index, and the enum has nothing else. It
// fails when the objects were not rebuilt after the table changed.
func TestArgIndicesMatchC(t *testing.T) {
	c := enumValues(t, "event_arg")
	seen := 0
	for _, spec := range event.All() {
		for i, a := range spec.Args {
			name := "ARG_" + strings.ToUpper(spec.Name) + "_" + strings.ToUpper(a.Name)
			v, ok := c[name]
			switch {
			case !ok:
				t.Errorf("event %s, argument %s: no %s in the objects' enum event_arg (run make generate)", spec.Name, a.Name, name)
			case v != uint64(i):
				t.Errorf("event %s, argument %s: index %d in the table, %s = %d in C", spec.Name, a.Name, i, name, v)
			default:
				seen++
			}
		}
	}
	if seen != len(c) {
		t.Errorf("enum event_arg has %d values, the table %d arguments", len(c), seen)
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

func TestEveryProbeIsOfAnEvent(t *testing.T) {
	for id := range probeTable {
		if _, ok := event.ByID(id); !ok {
			t.Errorf("the probe tables have probes for event id %d, which the event table does not have", id)
		}
	}
}

func TestEveryProbeProgramExists(t *testing.T) {
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]*ebpf.ProgramSpec{}
	for _, o := range objs {
		for name, ps := range o.Spec.Programs {
			have[name] = ps
		}
	}
	for _, spec := range event.All() {
		if len(EventProbes(spec.ID)) == 0 {
			t.Errorf("event %s (%d) has no probes: declare them beside its programs (PROBE, HOOK_PROBES, FALLBACK in bpf/*.bpf.c, see bpf/lib/probe.h) and run go generate ./event/", spec.Name, spec.ID)
		}
		for _, pb := range EventProbes(spec.ID) {
			for _, pr := range pb.Programs {
				ps := have[pr.Name]
				if ps == nil {
					t.Errorf("event %s, probe %s: no BPF program %s", spec.Name, pb.Name, pr.Name)
					continue
				}
				// a syscall program without slots would be attached to
				// every syscall's tracepoint instead of tail-called for its own
				tailCalled := ps.Type == ebpf.RawTracepoint && (ps.SectionName == "raw_tracepoint/sys_enter" || ps.SectionName == "raw_tracepoint/sys_exit") &&
					pr.Name != dispatchers["sys_enter_progs"] && pr.Name != dispatchers["sys_exit_progs"]
				if tailCalled && len(pr.Syscalls) == 0 {
					t.Errorf("event %s, probe %s: syscall program %s has no syscalls: declare SYSCALLS(%s, ...) or write %s(syscall, ...) in the probe", spec.Name, pb.Name, pr.Name, pr.Name, pr.Name)
				}
				if !tailCalled && len(pr.Syscalls) > 0 {
					t.Errorf("event %s, probe %s: program %s (section %s) is not tail-called from a syscall table, yet has syscalls %v", spec.Name, pb.Name, pr.Name, ps.SectionName, pr.Syscalls)
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

// TestSharedStructLayouts checks the Go types the sensor writes into or
// reads from BPF maps and records (generated by bpf2go) against the BTF of
// the objects: same size, every C member at the offset of the Go field in
// the same position.
func TestSharedStructLayouts(t *testing.T) {
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*btf.Spec{}
	for _, o := range objs {
		byName[o.Name] = o.Spec.Types
	}
	for _, c := range []struct {
		object, cType string
		goVal         any
	}{
		{"syscalls", "record_header", bpf.TcRecordHeader{}},
		{"tc", "endpoint", bpf.Endpoint{}},
		{"tc", "endpoint_val", bpf.EndpointVal{}},
		{"file_open", "open_filter", bpf.OpenFilter{}},
		{"file_open", "open_filter_key", bpf.OpenFilterKey{}},
		{"tc", "record_header", bpf.TcRecordHeader{}},
	} {
		var s *btf.Struct
		if err := byName[c.object].TypeByName(c.cType, &s); err != nil {
			t.Errorf("struct %s not in the BTF of %s: %v", c.cType, c.object, err)
			continue
		}
		gt := reflect.TypeOf(c.goVal)
		if gt.Size() != uintptr(s.Size) {
			t.Errorf("struct %s: %d bytes in C, %s is %d", c.cType, s.Size, gt, gt.Size())
		}
		var fields []reflect.StructField
		for i := range gt.NumField() {
			if f := gt.Field(i); f.Name != "_" {
				fields = append(fields, f)
			}
		}
		if len(fields) != len(s.Members) {
			t.Errorf("struct %s: %d members in C, %s has %d fields", c.cType, len(s.Members), gt, len(fields))
			continue
		}
		for i, m := range s.Members {
			if uintptr(m.Offset.Bytes()) != fields[i].Offset {
				t.Errorf("struct %s: member %s at %d in C, %s.%s at %d", c.cType, m.Name, m.Offset.Bytes(), gt, fields[i].Name, fields[i].Offset)
			}
		}
	}
}

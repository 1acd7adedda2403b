package sensor

import (
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load"
)

// The record layout is defined once, in bpf/lib/record.h. These tests read the
// BTF of the compiled objects and check the Go side against it.

func enumValues(t *testing.T, name string) map[string]uint64 {
	t.Helper()
	vals, err := bpf.EnumValues(name)
	if err != nil {
		t.Fatal(err)
	}
	return vals
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

func TestHeaderSizeMatchesBTF(t *testing.T) {
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	// the object that exports it to Go (bpf2go-types in syscalls.bpf.c)
	// has it in its BTF; so does every object whose programs emit records
	var s *btf.Struct
	for _, o := range objs {
		if o.Spec.Types.TypeByName("record_header", &s) == nil {
			break
		}
	}
	if s == nil {
		t.Fatal("struct record_header is in the BTF of no object")
	}
	if int(s.Size) != hdrSize {
		t.Fatalf("struct record_header is %d bytes in C, the decoder uses %d", s.Size, hdrSize)
	}
}

// Every HOOK of the BPF sources gives a pair, fentry_<fn> and kprobe_<fn>,
// from one body; the kprobe half is the only one a kernel without BPF
// trampolines runs, and make vmtest's kernels attach the fentry half. Both
// halves must pass the verifier: the kprobe half on every kernel (loading
// needs no kprobe support, only attaching does), the fentry half where the
// kernel lets tracing programs load (VIGIL_EXPECT_PROBES=preferred).
func TestSensorHookPairsVerify(t *testing.T) {
	needRoot(t)
	ld, err := load.New(zerolog.Nop(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	objs, err := bpf.Objects()
	if err != nil {
		t.Fatal(err)
	}
	preferred := os.Getenv("VIGIL_EXPECT_PROBES") == "preferred"
	pairs := 0
	for _, o := range objs {
		for name, ps := range o.Spec.Programs {
			fn, ok := strings.CutPrefix(name, "fentry_")
			if !ok || ps.SectionName != "fentry/"+fn {
				continue
			}
			kp := o.Spec.Programs["kprobe_"+fn]
			if kp == nil || kp.SectionName != "kprobe/"+fn {
				continue // an fentry without a kprobe twin is not a HOOK
			}
			pairs++
			if err := ld.Load("kprobe_" + fn); err != nil {
				t.Errorf("kprobe half of HOOK(%s): %v", fn, err)
			}
			err := ld.Load(name)
			switch {
			case err == nil:
			case preferred:
				t.Errorf("fentry half of HOOK(%s): %v", fn, err)
			default:
				t.Logf("fentry half of HOOK(%s) not loadable on this kernel: %v", fn, err)
			}
		}
	}
	if pairs < 30 {
		t.Errorf("found %d HOOK pairs in the objects, the sources have more than 30", pairs)
	}
}

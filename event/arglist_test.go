package event

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// argSamples are values of each argument type, odd ones included: the
// extremes of the integers, control bytes, invalid UTF-8, HTML characters
// and U+2028, nil and empty lists.
var argSamples = map[ArgType][]any{
	TypeInt32:    {int64(0), int64(-1), int64(math.MinInt32), int64(math.MaxInt32)},
	TypeInt64:    {int64(0), int64(math.MinInt64), int64(math.MaxInt64), int64(-22)},
	TypeUint32:   {uint64(0), uint64(255), uint64(256), uint64(math.MaxUint32)},
	TypeUint64:   {uint64(0), uint64(math.MaxUint64), uint64(1 << 63), uint64(0x8000)},
	TypeString:   {"", "/etc/passwd", "é漢字\U0001F600", "a\x00b\x01\x1f\x7f\n\t\r", "\xff\xfe bad", "<script>&\u2028\u2029\"\\"},
	TypeStrArray: {[]string(nil), []string{}, []string{"curl", "-fsSL", "..."}, []string{"", "\x00", "\xff", "<&>", "é"}},
	TypeBytes:    {[]byte{}, []byte{0x7f, 'E', 'L', 'F'}, []byte{0, 0xff, 0xfe, '\n'}},
	TypeBool:     {true, false},
}

// set puts v, of the Go type Args holds for t, in l at i.
func set(l *ArgList, i int, v any) {
	switch v := v.(type) {
	case int64:
		l.SetInt(i, v)
	case uint64:
		l.SetUint(i, v)
	case bool:
		l.SetBool(i, v)
	case string:
		l.SetString(i, v)
	case []string:
		l.SetStrings(i, v)
	case []byte:
		l.SetBytes(i, v)
	default:
		panic("no setter for a value of this type")
	}
}

// checkSame encodes one event's arguments three ways, which must agree:
// json.Marshal of the map (the reference), AppendJSON of the map (the
// encoder's precomputed key order) and AppendJSON of the list; ArgsMap
// must give back the map, and the JSON must not change once it did.
func checkSame(t *testing.T, mapped, listed *Event) {
	t.Helper()
	want, err := json.Marshal(mapped)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mapped.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: the map encoder differs from json.Marshal:\n got %s\nwant %s", mapped.Name, got, want)
	}
	if listed.Args != nil {
		t.Fatalf("%s: a listed event has an Args map before ArgsMap", listed.Name)
	}
	got, err = listed.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: the list encoder differs from json.Marshal of the map:\n got %s\nwant %s", mapped.Name, got, want)
	}
	if m := listed.ArgsMap(); !reflect.DeepEqual(m, mapped.Args) {
		t.Fatalf("%s: ArgsMap gives %#v, want %#v", mapped.Name, m, mapped.Args)
	}
	if got, _ = listed.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("%s: after ArgsMap:\n got %s\nwant %s", mapped.Name, got, want)
	}
}

func eventPair(s *Spec) (mapped, listed *Event) {
	mapped = &Event{Name: s.Name, ID: s.ID, Host: "h", Args: map[string]any{}}
	listed = &Event{Name: s.Name, ID: s.ID, Host: "h"}
	return mapped, listed
}

// Every event of the table, with every argument set to each of its sample
// values in turn (and some left out), encodes the same bytes from the list
// as from the map.
func TestArgListMatchesMap(t *testing.T) {
	for i := range specs {
		s := &specs[i]
		for round := 0; round < 6; round++ {
			mapped, listed := eventPair(s)
			l := listed.ListArgs()
			if l == nil {
				t.Fatalf("%s: ListArgs of an event of the table gave nil", s.Name)
			}
			for j, a := range s.Args {
				samples := argSamples[a.Type]
				if len(samples) == 0 {
					t.Fatalf("%s.%s: no samples of type %s", s.Name, a.Name, a.Type)
				}
				if (round+j)%5 == 4 {
					continue // absent
				}
				v := samples[(round+j)%len(samples)]
				mapped.Args[a.Name] = v
				set(l, j, v)
			}
			checkSame(t, mapped, listed)
		}
	}
}

// The map encoder falls back to sorting when a key is not an argument of
// the event, and an event unknown to the table cannot list its arguments.
func TestArgsMapOutsideTheTable(t *testing.T) {
	e := &Event{Name: "security_file_open", ID: IDSecurityFileOpen, Args: map[string]any{"pathname": "/x", "zz_extra": int64(1), "aa": "<"}}
	want, _ := json.Marshal(e)
	if got, err := e.AppendJSON(nil); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("extra keys:\n got %s\nwant %s (%v)", got, want, err)
	}
	e = &Event{Name: "security_file_open", ID: IDSecurityFileOpen + 1, Args: map[string]any{"pathname": "/x"}}
	want, _ = json.Marshal(e)
	if got, _ := e.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("name and id of different events:\n got %s\nwant %s", got, want)
	}
	if l := (&Event{Name: "nope", ID: IDLimit - 1}).ListArgs(); l != nil {
		t.Fatal("ListArgs of an id not in the table gave a list")
	}
	if l := (&Event{ID: IDLimit + 5}).ListArgs(); l != nil {
		t.Fatal("ListArgs of an id beyond IDLimit gave a list")
	}
	var empty Event
	if empty.ArgsMap() != nil {
		t.Fatal("ArgsMap of an event without arguments built a map")
	}
}

// The list encoder writes what json.Marshal writes of the map for any
// string, integer and list, in every event of the table.
func FuzzArgListJSON(f *testing.F) {
	f.Add("/etc/passwd", "a\x00b", int64(-1), uint64(math.MaxUint64), true)
	f.Add("\xff<\u2028>", "", int64(math.MinInt64), uint64(0), false)
	f.Fuzz(func(t *testing.T, s, list string, n int64, u uint64, b bool) {
		ss := strings.Split(list, "\x00")
		if list == "" {
			ss = nil
		}
		for i := range specs {
			sp := &specs[i]
			mapped, listed := eventPair(sp)
			l := listed.ListArgs()
			for j, a := range sp.Args {
				var v any
				switch a.Type {
				case TypeInt32, TypeInt64:
					v = n
				case TypeUint32, TypeUint64:
					v = u
				case TypeBool:
					v = b
				case TypeString:
					v = s
				case TypeStrArray:
					v = ss
				case TypeBytes:
					v = []byte(s)
				}
				mapped.Args[a.Name] = v
				set(l, j, v)
			}
			checkSame(t, mapped, listed)
		}
	})
}

// The accessors by index read and change an argument the same whether the
// arguments are listed or in Args, and MustArgIndex refuses an argument
// that is not in the table as asked.
func TestArgByIndex(t *testing.T) {
	env := MustArgIndex(IDSchedProcessExec, "env", TypeStrArray)
	path := MustArgIndex(IDSchedProcessExec, "pathname", TypeString)
	mapped, listed := eventPair(byID[IDSchedProcessExec])
	l := listed.ListArgs()
	mapped.Args["pathname"] = "/bin/x"
	l.SetString(path, "/bin/x")
	mapped.Args["env"] = []string{"A=1", "LD_PRELOAD=x"}
	l.SetStrings(env, []string{"A=1", "LD_PRELOAD=x"})
	for _, e := range []*Event{mapped, listed} {
		if s, ok := e.StringArg(path); !ok || s != "/bin/x" {
			t.Errorf("StringArg = %q, %v", s, ok)
		}
		if _, ok := e.StringArg(env); ok {
			t.Error("StringArg of a []string argument said it is there")
		}
		if _, ok := e.StringsArg(MustArgIndex(IDSchedProcessExec, "argv", TypeStrArray)); ok {
			t.Error("StringsArg of an absent argument said it is there")
		}
		if ss, ok := e.StringsArg(env); !ok || len(ss) != 2 {
			t.Errorf("StringsArg = %q, %v", ss, ok)
		}
		e.SetStringsArg(env, []string{"LD_PRELOAD=x"})
	}
	checkSame(t, mapped, listed)
	for _, e := range []*Event{mapped, listed} {
		e.DeleteArg(env)
		if _, ok := e.StringsArg(env); ok {
			t.Error("an argument deleted is still there")
		}
	}
	delete(mapped.Args, "env")
	if !reflect.DeepEqual(listed.ArgsMap(), mapped.Args) {
		t.Errorf("after DeleteArg: %v, want %v", listed.Args, mapped.Args)
	}
	for _, c := range []struct {
		name string
		t    ArgType
	}{{"pathname", TypeUint32}, {"no_such_argument", TypeString}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("MustArgIndex(%s, %s) did not panic", c.name, c.t)
				}
			}()
			MustArgIndex(IDSchedProcessExec, c.name, c.t)
		}()
	}
}

// Lists taken from a slab, across the end of its blocks, are each the
// event's own: filled one after the other, every event keeps its values.
func TestArgSlab(t *testing.T) {
	var slab ArgSlab
	type pair struct{ mapped, listed *Event }
	var pairs []pair
	for round := 0; round < 3*argSlabLen/4; round++ {
		s := &specs[round%len(specs)]
		mapped, listed := eventPair(s)
		l := listed.ListArgsFrom(&slab)
		if l == nil {
			t.Fatalf("%s: no list", s.Name)
		}
		for j, a := range s.Args {
			samples := argSamples[a.Type]
			v := samples[(round+j)%len(samples)]
			mapped.Args[a.Name] = v
			set(l, j, v)
		}
		pairs = append(pairs, pair{mapped, listed})
	}
	for _, p := range pairs {
		checkSame(t, p.mapped, p.listed)
	}
}

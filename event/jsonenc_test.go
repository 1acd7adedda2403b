package event

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func jsonSample() *Event {
	st := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	return &Event{
		Name: "sched_process_exec", ID: IDSchedProcessExec, Time: time.Date(2026, 12, 5, 17, 0, 0, 123456789, time.FixedZone("x", 3600)),
		Host: "h<&>", Probe: "tp_btf/sched_process_exec",
		Process: Process{Pid: 1, Tid: 2, Ppid: 3, HostPid: 4, HostTid: 5, HostPpid: 6, UID: 7, GID: 8, EUID: 9, EGID: 10,
			Comm: "a\"b\\c\n\t\x01\x7f", Exe: "/usr/bin/\u2028x\u2029", Argv: []string{"x", "", "\xff\xfe bad utf8 é"},
			CgroupID: 1 << 63, ContainerID: "abc", MntNS: 11, PidNS: 12, StartTime: &st,
			Ancestors: []Ancestor{{Pid: 1, HostPid: 2, Comm: "bash", Exe: "/bin/bash", Argv: []string{"-c", "x"}, UID: 0}, {Pid: 3, Comm: "init"}}},
		ReturnValue: -22,
		Args: map[string]any{"pathname": "/etc/<shadow>", "flags": uint64(0x8000), "neg": int64(-5), "ok": true, "argv": []string{"a", "b"},
			"empty": []string{}, "nilarr": []string(nil), "header": []byte{0x7f, 'E', 'L', 'F'}, "nilbytes": []byte(nil), "num": json.Number("12"),
			"other": map[string]any{"z": 1, "a": []any{"x", 2.5}}, "nothing": nil, "\u00e9key": "v"},
		Unreadable: []string{"env"},
	}
}

// AppendJSON writes the bytes json.Marshal writes, for every field and
// argument type, the escaping of strings included.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, e := range []*Event{jsonSample(), {}, {Name: "x", Args: map[string]any{}}} {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("AppendJSON differs from json.Marshal:\n got %s\nwant %s", got, want)
		}
	}
	bad := &Event{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Error("a time past year 9999 encoded without error")
	}
}

// Events that share their ancestors' list encode the same bytes as
// json.Marshal, the shared JSON made once; an event whose Ancestors were
// set anew after sharing is encoded from them, not from the stale copy.
func TestSharedAncestorsJSON(t *testing.T) {
	e := jsonSample()
	sh := NewSharedAncestors(e.Process.Ancestors)
	for _, list := range []*SharedAncestors{sh, NewSharedAncestors(nil)} {
		for range 2 {
			e.Process.ShareAncestors(list)
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("with shared ancestors %v:\n got %s\nwant %s", list.List(), got, want)
			}
		}
	}
	e.Process.ShareAncestors(sh)
	cp := *e
	cp.Process.Ancestors = []Ancestor{{Pid: 99, Comm: "other"}}
	want, _ := json.Marshal(&cp)
	if got, _ := cp.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("ancestors replaced after sharing:\n got %s\nwant %s", got, want)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\u2028\u2029", "\xff", "a\x00b", "\"\\", "é漢字\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := &Event{Name: s, Args: map[string]any{s: s, "l": []string{s}}, Process: Process{Comm: s}}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("string %q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func BenchmarkEventMarshal(b *testing.B) {
	e := jsonSample()
	delete(e.Args, "other")
	delete(e.Args, "num")
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := e.Marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Times are written as time.Time.MarshalJSON writes them, in every zone,
// with and without a fraction (trailing zeros cut), before 1970, one
// second after the other and back (the second kept from the last time
// written must not leak into the next).
func TestAppendJSONTimeMatches(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("ist", 5*3600+1800), time.FixedZone("pst", -8*3600), time.FixedZone("odd", -(3*3600 + 25*60 + 7))}
	base := time.Date(2026, 12, 6, 5, 36, 19, 0, time.UTC)
	var times []time.Time
	for _, ns := range []int64{0, 1, 10, 100_000, 123_456_789, 999_999_999, 1_000_000_000, 5_400_000_000, -1, -1_000_000_001} {
		for _, z := range zones {
			times = append(times, base.Add(time.Duration(ns)).In(z))
		}
	}
	for _, z := range zones {
		times = append(times, time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, z), time.Date(1, 1, 1, 0, 0, 0, 0, z),
			time.Date(9999, 12, 31, 23, 59, 59, 1, z), time.Unix(0, 0).In(z), time.Unix(1700000000, 500))
	}
	times = append(times, time.Time{}, time.Now(), time.Now().UTC())
	for round := 0; round < 2; round++ {
		for _, tm := range times {
			want, err := json.Marshal(tm)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendJSONTime(nil, tm)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%v: got %s (%v), want %s", tm, got, err, want)
			}
		}
	}
	for _, y := range []int{-1, 10000} {
		if _, err := appendJSONTime(nil, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
			t.Errorf("year %d written without an error", y)
		}
	}
}

func FuzzAppendJSONTime(f *testing.F) {
	f.Add(int64(1765000000), int64(123456789), int32(0))
	f.Add(int64(-1), int64(999999999), int32(-3600))
	f.Fuzz(func(t *testing.T, sec, ns int64, offset int32) {
		tm := time.Unix(sec, ns).In(time.FixedZone("z", int(offset%(24*3600))))
		want, werr := json.Marshal(tm)
		got, err := appendJSONTime(nil, tm)
		if (werr == nil) != (err == nil) || werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s (%v), want %s (%v)", tm, got, err, want, werr)
		}
	})
}

package sensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor/load"
	"github.com/vigil-sec/vigil/sensor/proc"
)

// recordBuilder writes records the way bpf/lib/event.h does, for tests.
type recordBuilder struct {
	buf    []byte
	argnum int
}

func newRecord(id event.ID, hostPid uint32, comm string) *recordBuilder {
	b := &recordBuilder{buf: make([]byte, hdrSize)}
	le := binary.LittleEndian
	le.PutUint64(b.buf[offTs:], 1000)
	le.PutUint32(b.buf[offEventID:], uint32(id))
	le.PutUint32(b.buf[offHostPid:], hostPid)
	le.PutUint32(b.buf[offHostTid:], hostPid)
	le.PutUint32(b.buf[offPid:], hostPid)
	le.PutUint32(b.buf[offTid:], hostPid)
	le.PutUint32(b.buf[offUID:], 1000)
	le.PutUint64(b.buf[offRetval:], uint64(^uint64(0))) // -1
	copy(b.buf[offComm:offComm+commLen], comm)
	return b
}

func (b *recordBuilder) arg(index int, wire byte, payload []byte) *recordBuilder {
	b.buf = append(b.buf, byte(index), wire)
	b.buf = append(b.buf, payload...)
	b.argnum++
	return b
}

func (b *recordBuilder) u32(index int, v uint32) *recordBuilder {
	return b.arg(index, byte(event.TypeUint32), binary.LittleEndian.AppendUint32(nil, v))
}

func (b *recordBuilder) s32(index int, v int32) *recordBuilder {
	return b.arg(index, byte(event.TypeInt32), binary.LittleEndian.AppendUint32(nil, uint32(v)))
}

func lenPrefixed(s string, nul bool) []byte {
	if nul {
		s += "\x00"
	}
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(s))), s...)
}

func (b *recordBuilder) str(index int, s string) *recordBuilder {
	return b.arg(index, byte(event.TypeString), lenPrefixed(s, true))
}

func (b *recordBuilder) strArr(index int, truncated bool, ss ...string) *recordBuilder {
	p := binary.LittleEndian.AppendUint16(nil, uint16(len(ss)))
	for _, s := range ss {
		p = append(p, lenPrefixed(s, true)...)
	}
	wire := byte(event.TypeStrArray)
	if truncated {
		wire |= wireTruncated
	}
	return b.arg(index, wire, p)
}

func (b *recordBuilder) bytes() []byte {
	b.buf[offArgnum] = byte(b.argnum)
	return b.buf
}

func TestDecodeExecve(t *testing.T) {
	raw := newRecord(event.IDExecve, 42, "bash").str(0, "/bin/ls").strArr(1, false, "ls", "-l", "/tmp").bytes()
	r, err := decodeRecord(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	ev := r.ev
	if ev.Name != "execve" || ev.Process.HostPid != 42 || ev.Process.Comm != "bash" || ev.Process.UID != 1000 || ev.ReturnValue != -1 {
		t.Fatalf("header decoded wrong: %+v", ev)
	}
	if got := ev.Args["pathname"]; got != "/bin/ls" {
		t.Errorf("pathname = %#v", got)
	}
	if got := ev.Args["argv"]; !reflect.DeepEqual(got, []string{"ls", "-l", "/tmp"}) {
		t.Errorf("argv = %#v", got)
	}
}

func TestDecodeTruncatedArgvHasMarker(t *testing.T) {
	raw := newRecord(event.IDExecve, 1, "x").str(0, "/bin/echo").strArr(1, true, "echo", "a").bytes()
	r, err := decodeRecord(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ev.Args["argv"]; !reflect.DeepEqual(got, []string{"echo", "a", "..."}) {
		t.Errorf("argv = %#v, want the truncation marker last", got)
	}
}

func TestDecodeStrList(t *testing.T) {
	list := "sh\x00-c\x00echo hi\x00"
	raw := newRecord(event.IDSchedProcessExec, 7, "sh").str(0, "/usr/bin/dash").arg(3, wireStrList, lenPrefixed(list, false)).bytes()
	r, err := decodeRecord(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ev.Args["argv"]; !reflect.DeepEqual(got, []string{"sh", "-c", "echo hi"}) {
		t.Errorf("argv = %#v", got)
	}
}

func TestDecodeSignedAndBool(t *testing.T) {
	raw := newRecord(event.IDSchedProcessExit, 9, "x").s32(0, -9).arg(1, byte(event.TypeBool), []byte{1}).bytes()
	r, err := decodeRecord(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.ev.Args["exit_code"] != int64(-9) || r.ev.Args["group_exit"] != true {
		t.Errorf("args = %#v", r.ev.Args)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := newRecord(event.IDExecve, 1, "x").str(0, "/bin/ls").strArr(1, false, "ls").bytes()
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, ErrShortRecord},
		{"short header", good[:hdrSize-1], ErrShortRecord},
		{"oversized", make([]byte, MaxRecord+1), ErrOversized},
		{"unknown event", newRecord(999, 1, "x").bytes(), ErrUnknownEvent},
		{"cut in an argument", good[:len(good)-3], ErrBadArgument},
		{"trailing bytes", append(bytes.Clone(good), 0xff), ErrBadArgument},
		{"index out of range", newRecord(event.IDSetuid, 1, "x").u32(5, 0).bytes(), ErrBadArgument},
		{"wrong wire type", newRecord(event.IDSetuid, 1, "x").str(0, "zero").bytes(), ErrBadArgument},
		{"huge length", newRecord(event.IDExecve, 1, "x").arg(0, byte(event.TypeString), binary.LittleEndian.AppendUint32(nil, 1<<30)).bytes(), ErrBadArgument},
		{"unknown wire type", newRecord(event.IDExecve, 1, "x").arg(0, 42, nil).bytes(), ErrBadArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeRecord(c.raw, false)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("err %T is not a *RecordError", err)
			}
		})
	}
}

func TestDecodeGarbageNeverPanics(t *testing.T) {
	seed := newRecord(event.IDExecve, 1, "x").str(0, "/bin/ls").strArr(1, false, "ls", "-la").bytes()
	for i := 0; i < len(seed); i++ {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			raw := bytes.Clone(seed)
			raw[i] = v
			decodeRecord(raw, false) // must not panic
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(newRecord(event.IDExecve, 1, "x").str(0, "/bin/ls").strArr(1, false, "ls").bytes())
	f.Add(newRecord(event.IDSetuid, 1, "x").u32(0, 0).bytes())
	f.Add(newRecord(event.IDSecurityFileOpen, 1, "x").str(0, "/etc/\xff<\u2028>").u32(1, 0x8000).bytes())
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := decodeRecord(raw, false)
		if err == nil && r.ev == nil {
			t.Fatal("no error and no event")
		}
		sameLazy(t, raw, r, err)
	})
}

// sameLazy checks that decoding raw with lazy arguments gives what decoding
// it into the map (r, err) gave: the same error, the same JSON, and ArgsMap
// the same map.
func sameLazy(t *testing.T, raw []byte, r record, err error) {
	t.Helper()
	lr, lerr := decodeRecord(raw, true)
	if (err == nil) != (lerr == nil) || err != nil && err.Error() != lerr.Error() {
		t.Fatalf("map decoding: %v; lazy decoding: %v", err, lerr)
	}
	if err != nil {
		return
	}
	want, err := json.Marshal(r.ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := lr.ev.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("lazy decoding encodes\n %s\nmap decoding\n %s", got, want)
	}
	if m := lr.ev.ArgsMap(); !reflect.DeepEqual(m, r.ev.Args) {
		t.Fatalf("lazy decoding's ArgsMap %#v, map decoding's Args %#v", m, r.ev.Args)
	}
}

// Decoding a record's arguments into a list (Config.LazyArgs) encodes the
// same JSON as decoding them into the map, for records of every wire type,
// odd strings, truncated and unreadable arguments included.
func TestDecodeLazyMatchesMap(t *testing.T) {
	u64 := func(b *recordBuilder, i int, v uint64) *recordBuilder {
		return b.arg(i, byte(event.TypeUint64), binary.LittleEndian.AppendUint64(nil, v))
	}
	s64 := func(b *recordBuilder, i int, v int64) *recordBuilder {
		return b.arg(i, byte(event.TypeInt64), binary.LittleEndian.AppendUint64(nil, uint64(v)))
	}
	raws := pipelineRecords()
	raws = append(raws,
		newRecord(event.IDSecurityFileOpen, 7, "x").str(0, "é漢字\U0001F600\x01\x1f\x7f\xff<&>\u2028").u32(1, 0xffffffff).u32(2, 0).bytes(),
		u64(newRecord(event.IDSecurityFileOpen, 7, "x").arg(0, byte(event.TypeString)|wireUnreadable, lenPrefixed("", false)), 4, 1<<63).bytes(),
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/sh").strArr(1, true, "sh", "-c", "\"quoted\"\n", "").bytes(),
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/sh").strArr(1, false).bytes(),
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/sh").arg(1, wireStrList, lenPrefixed("a\x00\xffb\x00\x00", false)).bytes(),
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/sh").arg(1, wireStrList, lenPrefixed("", false)).bytes(),
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/sh").arg(1, wireStrList|wireTruncated, lenPrefixed("", false)).bytes(),
		newRecord(event.IDSetuid, 7, "x").u32(0, 0).bytes(),
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/ls").str(0, "/bin/again").bytes(), // an index twice: the last wins
		newRecord(event.IDExecve, 7, "x").str(0, "/bin/ls").str(9, "bad index").bytes(),
	)
	for _, spec := range event.All() {
		// every argument of every event, by its own wire type
		b := newRecord(spec.ID, 9, "all")
		for i, a := range spec.Args {
			switch a.Type {
			case event.TypeInt32:
				b.s32(i, math.MinInt32)
			case event.TypeUint32:
				b.u32(i, math.MaxUint32)
			case event.TypeInt64:
				s64(b, i, math.MinInt64)
			case event.TypeUint64:
				u64(b, i, math.MaxUint64)
			case event.TypeString:
				b.str(i, "s\x00after nul")
			case event.TypeStrArray:
				b.strArr(i, i%2 == 0, "a", "\xff")
			case event.TypeBytes:
				b.arg(i, byte(event.TypeBytes), lenPrefixed("\x00\x7fELF", false))
			case event.TypeBool:
				b.arg(i, byte(event.TypeBool), []byte{2})
			}
		}
		raws = append(raws, b.bytes())
	}
	for _, raw := range raws {
		r, err := decodeRecord(raw, false)
		sameLazy(t, raw, r, err)
	}
}

func TestSensorCountsMalformedRecords(t *testing.T) {
	s := &Sensor{procs: proc.New(proc.Config{Root: t.TempDir()}), errKinds: map[string]uint64{}, ld: &load.Loader{}}
	if ev := s.handle([]byte{1, 2, 3}); ev != nil {
		t.Fatal("garbage decoded to an event")
	}
	if ev := s.handle(newRecord(event.IDSetuid, 5, "x").u32(0, 0).bytes()); ev == nil || ev.Args["uid"] != uint64(0) {
		t.Fatalf("a good record after garbage was not decoded: %+v", ev)
	}
	if s.records.Load() != 2 || s.decodeErrs.Load() != 1 || s.errKinds[ErrShortRecord.Error()] != 1 {
		t.Fatalf("records=%d decode errors=%d kinds=%v", s.records.Load(), s.decodeErrs.Load(), s.errKinds)
	}
}

// An argument the BPF side could not read carries the unreadable flag and an
// empty payload: the event leaves it out and names it, so that no rule takes
// an unread argv for an empty one.
func TestDecodeUnreadable(t *testing.T) {
	raw := newRecord(event.IDExecve, 42, "spawner").
		arg(0, byte(event.TypeString)|wireUnreadable, lenPrefixed("", false)).
		arg(1, byte(event.TypeStrArray)|wireUnreadable, binary.LittleEndian.AppendUint16(nil, 0)).
		bytes()
	r, err := decodeRecord(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ev.Args) != 0 {
		t.Errorf("unreadable arguments reported as values: %v", r.ev.Args)
	}
	if want := []string{"pathname", "argv"}; !reflect.DeepEqual(r.ev.Unreadable, want) {
		t.Errorf("unreadable = %q, want %q", r.ev.Unreadable, want)
	}
	// a readable empty argv (argc 0) stays a value
	raw = newRecord(event.IDExecve, 42, "noargv").str(0, "/bin/true").strArr(1, false).bytes()
	if r, err = decodeRecord(raw, false); err != nil {
		t.Fatal(err)
	}
	if argv, ok := r.ev.Args["argv"].([]string); !ok || len(argv) != 0 || len(r.ev.Unreadable) != 0 {
		t.Errorf("empty argv decoded as %#v, unreadable %q", r.ev.Args["argv"], r.ev.Unreadable)
	}
}

// A sensor with lazy arguments (as `vigil sensor` runs) hands out events
// that encode the same JSON as one that decodes into Args, through the
// exec environment filter and the process table: opens, execs with an
// environment in each filter mode, the process's later events.
func TestHandleLazyMatchesMap(t *testing.T) {
	pid := uint32(os.Getpid())
	env := newRecord(event.IDSchedProcessExec, pid, "envexec").str(0, "/usr/bin/env").str(1, "env").
		strArr(3, false, "env", "é\x01").strArr(13, false, "PATH=/bin", "LD_PRELOAD=/tmp/x.so", "HOME=/root", "BASH_ENV=\xff").bytes()
	noEnv := newRecord(event.IDSchedProcessExec, pid, "noenv").str(0, "/bin/true").bytes()
	for _, mode := range []string{ExecEnvSecurity, ExecEnvAll, ExecEnvNone} {
		lazy, mapped := benchSensor(), benchSensor()
		mapped.cfg.LazyArgs = false
		lazy.cfg.ExecEnv, mapped.cfg.ExecEnv = mode, mode
		recs := append(pipelineRecords(), env, noEnv)
		recs = append(recs, pipelineRecords()...)
		for i, raw := range recs {
			le, me := lazy.handle(raw), mapped.handle(raw)
			if le == nil || me == nil {
				t.Fatalf("%s: record %d did not decode", mode, i)
			}
			if le.Args != nil && le.ID != event.IDSchedProcessFork {
				t.Errorf("%s: record %d (%s): lazy sensor built the Args map", mode, i, le.Name)
			}
			got, err := le.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(me)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: record %d:\nlazy %s\n map %s", mode, i, got, want)
			}
		}
		if a, b := lazy.procs.Stats(), mapped.procs.Stats(); a != b {
			t.Errorf("%s: process tables differ: %+v, %+v", mode, a, b)
		}
	}
}

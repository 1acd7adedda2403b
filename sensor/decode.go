package sensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/vigil-sec/vigil/bpf"
	"github.com/vigil-sec/vigil/event"
)

// Errors a record can fail to decode with; a RecordError wraps one of them.
var (
	ErrShortRecord  = errors.New("record shorter than its header")
	ErrOversized    = errors.New("record larger than the largest the kernel side writes")
	ErrUnknownEvent = errors.New("unknown event id")
	ErrBadArgument  = errors.New("malformed argument")
)

// MaxRecord is the largest record the BPF side writes (MAX_RECORD in
// bpf/lib/record.h; the layout test checks the two agree).
const MaxRecord = 1 << 15

// Wire types of enum arg_type (bpf/lib/record.h) that have no event.ArgType
// of their own.
const (
	wireStrList    = 9
	wireUnreadable = 0x40
	wireTruncated  = 0x80
)

// RecordError says what is wrong with a record and where.
type RecordError struct {
	Offset int      // byte offset in the record where decoding failed
	Event  event.ID // 0 when the header could not be read
	Err    error
}

func (e *RecordError) Error() string {
	if e.Event != 0 {
		return fmt.Sprintf("record at offset %d (event id %d): %v", e.Offset, e.Event, e.Err)
	}
	return fmt.Sprintf("record at offset %d: %v", e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Header field offsets, taken from the bpf2go type generated from
// struct record_header: the C definition is the only one.
var (
	hdrSize      = int(unsafe.Sizeof(bpf.RecordHeader{}))
	offTs        = int(unsafe.Offsetof(bpf.RecordHeader{}.Ts))
	offCgroup    = int(unsafe.Offsetof(bpf.RecordHeader{}.CgroupId))
	offRetval    = int(unsafe.Offsetof(bpf.RecordHeader{}.Retval))
	offStartTime = int(unsafe.Offsetof(bpf.RecordHeader{}.StartTime))
	offEventID   = int(unsafe.Offsetof(bpf.RecordHeader{}.EventId))
	offHostPid   = int(unsafe.Offsetof(bpf.RecordHeader{}.HostPid))
	offHostTid   = int(unsafe.Offsetof(bpf.RecordHeader{}.HostTid))
	offHostPpid  = int(unsafe.Offsetof(bpf.RecordHeader{}.HostPpid))
	offPid       = int(unsafe.Offsetof(bpf.RecordHeader{}.Pid))
	offTid       = int(unsafe.Offsetof(bpf.RecordHeader{}.Tid))
	offPpid      = int(unsafe.Offsetof(bpf.RecordHeader{}.Ppid))
	offUID       = int(unsafe.Offsetof(bpf.RecordHeader{}.Uid))
	offGID       = int(unsafe.Offsetof(bpf.RecordHeader{}.Gid))
	offEUID      = int(unsafe.Offsetof(bpf.RecordHeader{}.Euid))
	offEGID      = int(unsafe.Offsetof(bpf.RecordHeader{}.Egid))
	offMntNS     = int(unsafe.Offsetof(bpf.RecordHeader{}.MntNs))
	offPidNS     = int(unsafe.Offsetof(bpf.RecordHeader{}.PidNs))
	offComm      = int(unsafe.Offsetof(bpf.RecordHeader{}.Comm))
	offArgnum    = int(unsafe.Offsetof(bpf.RecordHeader{}.Argnum))
	commLen      = len(bpf.RecordHeader{}.Comm)
)

// record is a decoded record before enrichment: the event plus what only the
// kernel header carries.
type record struct {
	ev        *event.Event
	bootNs    uint64 // header ts, ns since boot
	startTime uint64 // process start, ns since boot
}

// decodeRecord decodes one raw ring-buffer record. It never panics: anything
// malformed comes back as a *RecordError naming the offset.
//
// With lazy, the arguments are listed in the event (event.Event.ListArgs)
// rather than put in its Args map, which ArgsMap builds when asked.
func decodeRecord(raw []byte, lazy bool) (record, error) {
	return (&decoder{plain: true}).decode(raw, lazy)
}

// decoder decodes records. The Sensor keeps one, used under its lock:
// its events, and their listed arguments, are carved from blocks of a few
// dozen (one allocation for many events; a block stays in memory while
// any event of it does), unless plain.
type decoder struct {
	plain  bool
	events []event.Event
	args   event.ArgSlab
}

// eventSlabLen is the events in a block (~22 KiB).
const eventSlabLen = 64

func (dc *decoder) newEvent() *event.Event {
	if dc.plain {
		return new(event.Event)
	}
	if len(dc.events) == 0 {
		dc.events = make([]event.Event, eventSlabLen)
	}
	ev := &dc.events[0]
	dc.events = dc.events[1:]
	return ev
}

func (dc *decoder) decode(raw []byte, lazy bool) (record, error) {
	le := binary.LittleEndian
	if len(raw) > MaxRecord {
		return record{}, &RecordError{Offset: MaxRecord, Err: fmt.Errorf("%w: %d bytes", ErrOversized, len(raw))}
	}
	if len(raw) < hdrSize {
		return record{}, &RecordError{Offset: len(raw), Err: fmt.Errorf("%w: %d of %d bytes", ErrShortRecord, len(raw), hdrSize)}
	}
	id := event.ID(le.Uint32(raw[offEventID:]))
	spec, ok := event.ByID(id)
	if !ok {
		return record{}, &RecordError{Offset: offEventID, Err: fmt.Errorf("%w %d", ErrUnknownEvent, id)}
	}
	comm := raw[offComm : offComm+commLen]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	ev := dc.newEvent()
	*ev = event.Event{
		Name:        spec.Name,
		ID:          id,
		ReturnValue: int64(le.Uint64(raw[offRetval:])),
		Process: event.Process{
			Pid:      le.Uint32(raw[offPid:]),
			Tid:      le.Uint32(raw[offTid:]),
			Ppid:     le.Uint32(raw[offPpid:]),
			HostPid:  le.Uint32(raw[offHostPid:]),
			HostTid:  le.Uint32(raw[offHostTid:]),
			HostPpid: le.Uint32(raw[offHostPpid:]),
			UID:      le.Uint32(raw[offUID:]),
			GID:      le.Uint32(raw[offGID:]),
			EUID:     le.Uint32(raw[offEUID:]),
			EGID:     le.Uint32(raw[offEGID:]),
			Comm:     string(comm),
			CgroupID: le.Uint64(raw[offCgroup:]),
			MntNS:    le.Uint32(raw[offMntNS:]),
			PidNS:    le.Uint32(raw[offPidNS:]),
		},
	}
	var list *event.ArgList
	switch {
	case lazy && !argsRead[id] && !dc.plain:
		list = ev.ListArgsFrom(&dc.args)
	case lazy && !argsRead[id]:
		list = ev.ListArgs()
	default:
		ev.Args = make(map[string]any, len(spec.Args))
	}
	rec := record{ev: ev, bootNs: le.Uint64(raw[offTs:]), startTime: le.Uint64(raw[offStartTime:])}

	d := argDecoder{raw: raw, off: hdrSize, spec: &spec, ev: ev}
	argnum := int(raw[offArgnum])
	for i := 0; i < argnum; i++ {
		if err := d.next(ev.Args, list); err != nil {
			return record{}, &RecordError{Offset: d.off, Event: id, Err: err}
		}
	}
	if d.off != len(raw) {
		return record{}, &RecordError{Offset: d.off, Event: id, Err: fmt.Errorf("%w: %d bytes after the last of %d arguments", ErrBadArgument, len(raw)-d.off, argnum)}
	}
	return rec, nil
}

// argsRead marks the events whose arguments the sensor reads as a map
// (the process table's typed views, module capture): their arguments go
// to Args even with lazy decoding, which would only build the map from
// the list a moment later. The readers call ArgsMap all the same; this
// only saves the list. sched_process_exec, the one with many arguments
// among them, is read by index instead (Event.StringArg) and stays listed.
var argsRead = func() (read [event.IDLimit]bool) {
	for _, id := range []event.ID{event.IDSchedProcessFork, event.IDCommitCreds,
		event.IDSchedProcessExit, event.IDModuleImageChunk} {
		read[id] = true
	}
	return read
}()

type argDecoder struct {
	raw  []byte
	off  int
	spec *event.Spec
	ev   *event.Event
}

// part names the bytes being read, for an error's message: built only
// then, not for every argument that decodes.
type part struct {
	name   string
	elem   int    // the element of a string array; -1: none
	suffix string // " length", " count"
}

func (p part) String() string {
	s := p.name
	if p.elem >= 0 {
		s += "[" + strconv.Itoa(p.elem) + "]"
	}
	return s + p.suffix
}

func named(name string) part { return part{name: name, elem: -1} }

func (d *argDecoder) take(n int, what part) ([]byte, error) {
	if n < 0 || d.off+n > len(d.raw) {
		return nil, fmt.Errorf("%w: %s needs %d bytes, %d left", ErrBadArgument, what, n, len(d.raw)-d.off)
	}
	b := d.raw[d.off : d.off+n]
	d.off += n
	return b, nil
}

// next decodes one argument into args or, when the event's arguments are
// listed (Config.LazyArgs), into list.
func (d *argDecoder) next(args map[string]any, list *event.ArgList) error {
	le := binary.LittleEndian
	hd, err := d.take(2, named("argument header"))
	if err != nil {
		return err
	}
	index, wire := int(hd[0]), hd[1]
	truncated := wire&wireTruncated != 0
	unreadable := wire&wireUnreadable != 0
	wire &^= wireTruncated | wireUnreadable
	if index >= len(d.spec.Args) {
		return fmt.Errorf("%w: index %d, %s has %d arguments", ErrBadArgument, index, d.spec.Name, len(d.spec.Args))
	}
	a := &d.spec.Args[index]
	if !wireFits(wire, a.Type) {
		return fmt.Errorf("%w: %s is %s, record says wire type %d", ErrBadArgument, a.Name, a.Type, wire)
	}
	// The value, by the Go type it has in Args: one of these.
	var (
		i    int64
		u    uint64
		bl   bool
		s    string
		ss   []string
		bs   []byte
		kind event.ArgType // TypeInt64, TypeUint64, TypeBool, TypeString, TypeStrArray, TypeBytes
	)
	switch event.ArgType(wire) {
	case event.TypeInt32:
		b, err := d.take(4, named(a.Name))
		if err != nil {
			return err
		}
		i, kind = int64(int32(le.Uint32(b))), event.TypeInt64
	case event.TypeUint32:
		b, err := d.take(4, named(a.Name))
		if err != nil {
			return err
		}
		u, kind = uint64(le.Uint32(b)), event.TypeUint64
	case event.TypeInt64:
		b, err := d.take(8, named(a.Name))
		if err != nil {
			return err
		}
		i, kind = int64(le.Uint64(b)), event.TypeInt64
	case event.TypeUint64:
		b, err := d.take(8, named(a.Name))
		if err != nil {
			return err
		}
		u, kind = le.Uint64(b), event.TypeUint64
	case event.TypeBool:
		b, err := d.take(1, named(a.Name))
		if err != nil {
			return err
		}
		bl, kind = b[0] != 0, event.TypeBool
	case event.TypeString, event.TypeBytes:
		b, err := d.lenPrefixed(named(a.Name))
		if err != nil {
			return err
		}
		if unreadable {
			break // the payload is empty and means nothing
		}
		if event.ArgType(wire) == event.TypeString {
			s, kind = cstring(b), event.TypeString
		} else {
			bs, kind = b, event.TypeBytes // copied when stored
		}
	case event.TypeStrArray:
		cb, err := d.take(2, part{name: a.Name, elem: -1, suffix: " count"})
		if err != nil {
			return err
		}
		n := int(le.Uint16(cb))
		if n > 4096 {
			return fmt.Errorf("%w: %s claims %d strings", ErrBadArgument, a.Name, n)
		}
		out := make([]string, 0, n+1)
		for j := 0; j < n; j++ {
			b, err := d.lenPrefixed(part{name: a.Name, elem: j})
			if err != nil {
				return err
			}
			out = append(out, cstring(b))
		}
		if truncated {
			out = append(out, "...")
		}
		ss, kind = out, event.TypeStrArray
	case wireStrList:
		b, err := d.lenPrefixed(named(a.Name))
		if err != nil {
			return err
		}
		b = bytes.TrimRight(b, "\x00")
		var out []string
		if len(b) > 0 {
			out = make([]string, 0, bytes.Count(b, []byte{0})+2)
			for len(b) > 0 {
				s, rest, _ := bytes.Cut(b, []byte{0})
				out, b = append(out, string(s)), rest
			}
		}
		if truncated {
			out = append(out, "...")
		}
		ss, kind = out, event.TypeStrArray
	default:
		return fmt.Errorf("%w: unknown wire type %d for %s", ErrBadArgument, wire, a.Name)
	}
	if unreadable {
		// the payload is empty and means nothing: the argument is unknown
		d.ev.Unreadable = append(d.ev.Unreadable, a.Name)
		return nil
	}
	if list != nil {
		switch kind {
		case event.TypeInt64:
			list.SetInt(index, i)
		case event.TypeUint64:
			list.SetUint(index, u)
		case event.TypeBool:
			list.SetBool(index, bl)
		case event.TypeString:
			list.SetString(index, s)
		case event.TypeStrArray:
			list.SetStrings(index, ss)
		case event.TypeBytes:
			list.SetBytes(index, bs)
		}
		return nil
	}
	switch kind {
	case event.TypeInt64:
		args[a.Name] = i
	case event.TypeUint64:
		args[a.Name] = u
	case event.TypeBool:
		args[a.Name] = bl
	case event.TypeString:
		args[a.Name] = s
	case event.TypeStrArray:
		args[a.Name] = ss
	case event.TypeBytes:
		args[a.Name] = bytes.Clone(bs)
	}
	return nil
}

func (d *argDecoder) lenPrefixed(what part) ([]byte, error) {
	w := what
	w.suffix = " length"
	lb, err := d.take(4, w)
	if err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(lb)
	if n > MaxRecord {
		return nil, fmt.Errorf("%w: %s length %d exceeds the largest record", ErrBadArgument, what, n)
	}
	return d.take(int(n), what)
}

// wireFits tells whether a record's wire type may carry an argument of type t.
func wireFits(wire uint8, t event.ArgType) bool {
	if event.ArgType(wire) == t {
		return true
	}
	return t == event.TypeStrArray && wire == wireStrList
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

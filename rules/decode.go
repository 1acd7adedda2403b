package rules

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/jsonscan"

	"github.com/vigil-sec/vigil/event"
)

// DecodeEvent parses one event in its JSON form, as event.Unmarshal does,
// without reflection: the producer's own layout (exact keys, each once,
// integers where integers go) is read by hand into an event.Event and its
// arguments normalised by the event table. Anything else (a key in
// another case, a duplicate, a float in an integer field, trailing data)
// goes to event.Unmarshal, whose result and errors are the reference:
// DecodeEvent returns exactly what it would (the engine's tests compare
// the two on every corpus, fixture, mutated and fuzzed event).
func DecodeEvent(data []byte) (*event.Event, error) {
	if ev, ok := decodeFast(data); ok {
		return ev, nil
	}
	return event.Unmarshal(data)
}

var errBail = errors.New("not the plain layout")

// decoder reads the plain layout; any surprise bails out. With validate
// it walks the same path and checks the same things but keeps no strings,
// argv or ancestors (ValidateEvent).
type decoder struct {
	data     []byte
	i        int
	validate bool
}

func decodeFast(data []byte) (*event.Event, bool) {
	ev := new(event.Event)
	if !decodePlain(data, ev, false) {
		return nil, false
	}
	return ev, true
}

// decodePlain is decodeFast into ev; with validate, ev's strings alias
// data and its argv and ancestors are left empty.
func decodePlain(data []byte, ev *event.Event, validate bool) bool {
	d := decoder{data: data, validate: validate}
	seen := 0
	err := d.object(func(key string) error {
		bit := 0
		switch key {
		case "name":
			bit = 1
			s, err := d.str()
			ev.Name = s
			return d.once(&seen, bit, err)
		case "id":
			bit = 2
			n, err := d.uint(32)
			ev.ID = event.ID(n)
			return d.once(&seen, bit, err)
		case "time":
			bit = 4
			t, err := d.time()
			ev.Time = t
			return d.once(&seen, bit, err)
		case "host":
			bit = 8
			s, err := d.str()
			ev.Host = s
			return d.once(&seen, bit, err)
		case "probe":
			bit = 16
			s, err := d.str()
			ev.Probe = s
			return d.once(&seen, bit, err)
		case "process":
			bit = 32
			return d.once(&seen, bit, d.process(&ev.Process))
		case "return_value":
			bit = 64
			n, err := d.int()
			ev.ReturnValue = n
			return d.once(&seen, bit, err)
		case "args":
			bit = 128
			if d.validate && ev.Name != "" {
				if spec, ok := event.Lookup(ev.Name); ok {
					// checked where they are, as Normalize would check
					// them once decoded: no map, no values
					return d.once(&seen, bit, d.validArgs(spec.Args))
				}
			}
			v, err := d.any()
			if err != nil {
				return err
			}
			switch m := v.(type) {
			case map[string]any:
				ev.Args = m
			case nil:
			default:
				return errBail
			}
			return d.once(&seen, bit, nil)
		case "unreadable":
			bit = 256
			a, err := d.strings()
			ev.Unreadable = a
			return d.once(&seen, bit, err)
		}
		return errBail
	})
	if err != nil || jsonscan.WS(data, d.i) != len(data) || ev.Name == "" {
		return false
	}
	return ev.Normalize() == nil
}

// once fails a key seen before (encoding/json's last-wins is left to it).
func (d *decoder) once(seen *int, bit int, err error) error {
	if err != nil {
		return err
	}
	if *seen&bit != 0 {
		return errBail
	}
	*seen |= bit
	return nil
}

func (d *decoder) ws() { d.i = jsonscan.WS(d.data, d.i) }

// object reads an object, calling f with the decoder at each value.
func (d *decoder) object(f func(key string) error) error {
	d.ws()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return errBail
	}
	d.i++
	d.ws()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.ws()
		key, ni, ok := readString(d.data, d.i)
		if !ok {
			return errBail
		}
		d.i = jsonscan.WS(d.data, ni)
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return errBail
		}
		d.i++
		d.ws()
		if err := f(key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.data) {
			return errBail
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errBail
		}
	}
}

func (d *decoder) array(f func() error) error {
	d.ws()
	if d.i >= len(d.data) || d.data[d.i] != '[' {
		return errBail
	}
	d.i++
	d.ws()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		d.ws()
		if err := f(); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.data) {
			return errBail
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return errBail
		}
	}
}

// str reads a string (null is left to encoding/json).
func (d *decoder) str() (string, error) {
	s, ni, ok := readString(d.data, d.i)
	if !ok {
		return "", errBail
	}
	d.i = ni
	if d.validate {
		return s, nil
	}
	// readString aliases plain strings into data: the event outlives it
	return string([]byte(s)), nil
}

func (d *decoder) number() (string, error) {
	b, err := d.numberBytes()
	return string(b), err
}

// numberBytes is number's text, aliasing data: parsed where it is read
// (strconv's functions keep no reference), nothing is allocated.
func (d *decoder) numberBytes() ([]byte, error) {
	end, ok := jsonscan.Value(d.data, d.i)
	if !ok {
		return nil, errBail
	}
	b := d.data[d.i:end]
	if !validNumber(string(b)) {
		return nil, errBail
	}
	d.i = end
	return b, nil
}

func (d *decoder) uint(bits int) (uint64, error) {
	b, err := d.numberBytes()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(b), 10, bits)
	if err != nil {
		return 0, errBail
	}
	return n, nil
}

func (d *decoder) int() (int64, error) {
	b, err := d.numberBytes()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, errBail
	}
	return n, nil
}

func (d *decoder) time() (time.Time, error) {
	end, ok := jsonscan.String(d.data, d.i)
	if !ok {
		return time.Time{}, errBail
	}
	var t time.Time
	if err := t.UnmarshalJSON(d.data[d.i:end]); err != nil {
		return time.Time{}, errBail
	}
	d.i = end
	return t, nil
}

func (d *decoder) strings() ([]string, error) {
	out := []string{}
	err := d.array(func() error {
		s, err := d.str()
		if !d.validate {
			out = append(out, s)
		}
		return err
	})
	return out, err
}

func (d *decoder) process(p *event.Process) error {
	seen := 0
	u32 := func(dst *uint32, bit int) error {
		n, err := d.uint(32)
		*dst = uint32(n)
		return d.once(&seen, bit, err)
	}
	return d.object(func(key string) error {
		switch key {
		case "pid":
			return u32(&p.Pid, 1<<0)
		case "tid":
			return u32(&p.Tid, 1<<1)
		case "ppid":
			return u32(&p.Ppid, 1<<2)
		case "host_pid":
			return u32(&p.HostPid, 1<<3)
		case "host_tid":
			return u32(&p.HostTid, 1<<4)
		case "host_ppid":
			return u32(&p.HostPpid, 1<<5)
		case "uid":
			return u32(&p.UID, 1<<6)
		case "gid":
			return u32(&p.GID, 1<<7)
		case "euid":
			return u32(&p.EUID, 1<<8)
		case "egid":
			return u32(&p.EGID, 1<<9)
		case "comm":
			s, err := d.str()
			p.Comm = s
			return d.once(&seen, 1<<10, err)
		case "exe":
			s, err := d.str()
			p.Exe = s
			return d.once(&seen, 1<<11, err)
		case "argv":
			a, err := d.strings()
			p.Argv = a
			return d.once(&seen, 1<<12, err)
		case "cgroup_id":
			n, err := d.uint(64)
			p.CgroupID = n
			return d.once(&seen, 1<<13, err)
		case "container_id":
			s, err := d.str()
			p.ContainerID = s
			return d.once(&seen, 1<<14, err)
		case "mnt_ns":
			return u32(&p.MntNS, 1<<15)
		case "pid_ns":
			return u32(&p.PidNS, 1<<16)
		case "start_time":
			if d.validate {
				_, err := d.time()
				return d.once(&seen, 1<<17, err)
			}
			t, err := d.time()
			p.StartTime = &t
			return d.once(&seen, 1<<17, err)
		case "ancestors":
			var anc []event.Ancestor
			err := d.array(func() error {
				var a event.Ancestor
				if err := d.ancestor(&a); err != nil {
					return err
				}
				if !d.validate {
					anc = append(anc, a)
				}
				return nil
			})
			if anc == nil && err == nil {
				anc = []event.Ancestor{}
			}
			p.Ancestors = anc
			return d.once(&seen, 1<<18, err)
		case "ctx":
			s, err := d.str()
			p.Ctx = s
			return d.once(&seen, 1<<19, err)
		}
		return errBail
	})
}

func (d *decoder) ancestor(a *event.Ancestor) error {
	seen := 0
	return d.object(func(key string) error {
		switch key {
		case "pid":
			n, err := d.uint(32)
			a.Pid = uint32(n)
			return d.once(&seen, 1, err)
		case "host_pid":
			n, err := d.uint(32)
			a.HostPid = uint32(n)
			return d.once(&seen, 2, err)
		case "comm":
			s, err := d.str()
			a.Comm = s
			return d.once(&seen, 4, err)
		case "exe":
			s, err := d.str()
			a.Exe = s
			return d.once(&seen, 8, err)
		case "argv":
			v, err := d.strings()
			a.Argv = v
			return d.once(&seen, 16, err)
		case "uid":
			n, err := d.uint(32)
			a.UID = uint32(n)
			return d.once(&seen, 32, err)
		}
		return errBail
	})
}

// validArgs checks an event's arguments in place: what decoding them
// (any) and event.Normalize would accept for an event whose arguments are
// specs, and anything else bails (the caller then decodes in full, whose
// verdict stands). Arguments the table does not know may hold any value.
func (d *decoder) validArgs(specs []event.Arg) error {
	if d.ws(); d.i < len(d.data) && d.data[d.i] == 'n' {
		_, err := d.any() // null: no arguments
		return err
	}
	var keys [24]string
	seen := keys[:0]
	return d.object(func(key string) error {
		if slices.Contains(seen, key) {
			return errBail
		}
		seen = append(seen, key)
		for i := range specs {
			if specs[i].Name == key {
				return d.validArg(specs[i].Type)
			}
		}
		_, err := d.any()
		return err
	})
}

// validArg checks one argument's value against its type as
// event.ArgType's normalisation of the decoded value would: each reader
// bails on a value of another kind.
func (d *decoder) validArg(t event.ArgType) error {
	var err error
	switch t {
	case event.TypeInt32, event.TypeInt64:
		_, err = d.int()
	case event.TypeUint32, event.TypeUint64:
		_, err = d.uint(64)
	case event.TypeString:
		_, err = d.str()
	case event.TypeBool:
		var v any
		if v, err = d.any(); err == nil {
			if _, ok := v.(bool); !ok {
				err = errBail
			}
		}
	case event.TypeStrArray:
		if d.ws(); d.i < len(d.data) && d.data[d.i] == 'n' {
			_, err = d.any() // null: no strings
		} else {
			_, err = d.strings()
		}
	case event.TypeBytes:
		err = d.base64()
	default:
		err = errBail
	}
	return err
}

// base64 checks a string holding standard base64, as the bytes argument
// of a decoded event is checked, without keeping what it decodes to.
func (d *decoder) base64() error {
	start := d.i
	s, err := d.str()
	if err != nil {
		return err
	}
	var buf [512]byte
	raw := d.data[start+1 : d.i-1] // s itself when it has no escapes
	if base64.StdEncoding.DecodedLen(len(s)) > len(buf) || len(raw) != len(s) {
		_, err = base64.StdEncoding.DecodeString(s)
	} else {
		_, err = base64.StdEncoding.Decode(buf[:], raw)
	}
	if err != nil {
		return errBail
	}
	return nil
}

// any reads a value as encoding/json with UseNumber reads it into an any.
func (d *decoder) any() (any, error) {
	d.ws()
	if d.i >= len(d.data) {
		return nil, errBail
	}
	switch c := d.data[d.i]; {
	case c == '"':
		return d.str()
	case c == '{':
		m := map[string]any{}
		err := d.object(func(key string) error {
			if _, dup := m[key]; dup {
				return errBail
			}
			v, err := d.any()
			// the key may alias data: copy it
			m[string([]byte(key))] = v
			return err
		})
		return m, err
	case c == '[':
		out := []any{}
		err := d.array(func() error {
			v, err := d.any()
			out = append(out, v)
			return err
		})
		return out, err
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(d.data)-d.i >= len(lit) && string(d.data[d.i:d.i+len(lit)]) == lit {
				d.i += len(lit)
				switch lit {
				case "true":
					return true, nil
				case "false":
					return false, nil
				}
				return nil, nil
			}
		}
		return nil, errBail
	}
	s, err := d.number()
	if err != nil {
		return nil, err
	}
	return json.Number(s), nil
}

// validNumber checks JSON's number grammar.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

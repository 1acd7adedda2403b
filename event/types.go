package event

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// ArgType is how an argument is encoded in a kernel record and typed in Go.
// The numbers are the wire values of enum arg_type in bpf/lib/record.h.
type ArgType uint8

const (
	TypeInt32    ArgType = 1 // s32 -> int64
	TypeUint32   ArgType = 2 // u32 -> uint64
	TypeInt64    ArgType = 3 // s64 -> int64
	TypeUint64   ArgType = 4 // u64 -> uint64
	TypeString   ArgType = 5 // [u32 len][bytes] (NUL dropped) -> string
	TypeStrArray ArgType = 6 // [u16 count]([u32 len][bytes])* -> []string
	TypeBytes    ArgType = 7 // [u32 len][bytes] -> []byte (base64 in JSON)
	TypeBool     ArgType = 8 // u8 -> bool
)

// ArgTruncated is or-ed into the wire type of a string or string array that
// did not fit the record; the decoder reports it as Truncated.
const ArgTruncated ArgType = 0x80

func (t ArgType) String() string {
	switch t {
	case TypeInt32:
		return "int32"
	case TypeUint32:
		return "uint32"
	case TypeInt64:
		return "int64"
	case TypeUint64:
		return "uint64"
	case TypeString:
		return "string"
	case TypeStrArray:
		return "string[]"
	case TypeBytes:
		return "bytes"
	case TypeBool:
		return "bool"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// normalize converts a value decoded from JSON to the Go type of t.
func (t ArgType) normalize(v any) (any, error) {
	switch t {
	case TypeInt32, TypeInt64:
		switch n := v.(type) {
		case int64:
			return n, nil
		case json.Number:
			return strconv.ParseInt(string(n), 10, 64)
		case float64:
			return int64(n), nil
		}
	case TypeUint32, TypeUint64:
		switch n := v.(type) {
		case uint64:
			return n, nil
		case json.Number:
			return strconv.ParseUint(string(n), 10, 64)
		case float64:
			if n >= 0 {
				return uint64(n), nil
			}
		}
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeStrArray:
		switch a := v.(type) {
		case []string:
			return a, nil
		case []any:
			out := make([]string, len(a))
			for i, x := range a {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("element %d is %T, want string", i, x)
				}
				out[i] = s
			}
			return out, nil
		case nil:
			return []string(nil), nil
		}
	case TypeBytes:
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return base64.StdEncoding.DecodeString(b)
		}
	case TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("value %v (%T) is not of type %s", v, v, t)
}

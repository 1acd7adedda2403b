package rules

import (
	"reflect"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/vigil-sec/vigil/event"
)

// inputSchema is the JSON schema of the input document, derived from the
// event.Event type (its JSON field names) and from the event table (the
// arguments of every event). The compiler type checks rules against it, so
// that input.args.pathnme or input.proces.pid is an error at load time,
// with the nearest valid name, rather than a rule that never fires.
func inputSchema() map[string]any {
	args := map[string]any{}
	for _, spec := range event.All() {
		for _, a := range spec.Args {
			t := argSchema(a.Type)
			if prev, ok := args[a.Name]; ok && !reflect.DeepEqual(prev, t) {
				// One name, two types in two events: either is fine.
				t = map[string]any{"anyOf": []any{prev, t}}
			}
			args[a.Name] = t
		}
	}
	return typeSchema(reflect.TypeFor[event.Event](), map[string]any{"args": objectSchema(args)})
}

var timeType = reflect.TypeFor[time.Time]()

// typeSchema describes a Go type by its JSON form. override replaces the
// schema of named fields of a struct.
func typeSchema(t reflect.Type, override map[string]any) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if s, ok := override[name]; ok {
				props[name] = s
				continue
			}
			props[name] = typeSchema(f.Type, nil)
		}
		return objectSchema(props)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string"} // []byte is base64
		}
		return map[string]any{"type": "array", "items": typeSchema(t.Elem(), nil)}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{} // anything
}

func objectSchema(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func argSchema(t event.ArgType) map[string]any {
	switch t {
	case event.TypeInt32, event.TypeUint32, event.TypeInt64, event.TypeUint64:
		return map[string]any{"type": "integer"}
	case event.TypeStrArray:
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	case event.TypeBool:
		return map[string]any{"type": "boolean"}
	}
	return map[string]any{"type": "string"} // strings, and bytes in base64
}

// schemaSet holds the input schema for the compiler.
func schemaSet() *ast.SchemaSet {
	ss := ast.NewSchemaSet()
	ss.Put(ast.SchemaRootRef, inputSchema())
	return ss
}

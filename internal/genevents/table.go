package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// table is the event table with the names the generated code uses.
type table struct {
	events []tevent // by id
	byC    map[string]*tevent
}

type tevent struct {
	spec  event.Spec
	goID  string // the Go constant of its id: IDSchedProcessExec
	goArg string // the typed view: SchedProcessExecArgs
	cID   string // EVENT_SCHED_PROCESS_EXEC
	args  []targ
}

type targ struct {
	event.Arg
	index  int
	cName  string // ARG_SCHED_PROCESS_EXEC_PATHNAME
	method string // Pathname
}

// loadTable reads the event table, and from the Go sources of the event
// folder the names of the id constants (IDSchedProcessExec = 101), which
// name the typed views so that both read alike.
func loadTable(dir string) (*table, error) {
	consts, err := idConstants(dir)
	if err != nil {
		return nil, err
	}
	specs := event.All()
	sort.Slice(specs, func(i, j int) bool { return specs[i].ID < specs[j].ID })
	t := &table{byC: map[string]*tevent{}}
	for _, s := range specs {
		if s.ID >= event.IDLimit {
			return nil, fmt.Errorf("event %s: id %d is not below event.IDLimit (%d)", s.Name, s.ID, event.IDLimit)
		}
		goID, ok := consts[s.ID]
		if !ok {
			return nil, fmt.Errorf("event %s: no constant ID... = %d in %s", s.Name, s.ID, dir)
		}
		e := tevent{spec: s, goID: goID, goArg: strings.TrimPrefix(goID, "ID") + "Args", cID: "EVENT_" + strings.ToUpper(s.Name)}
		methods := map[string]string{}
		for i, a := range s.Args {
			ta := targ{Arg: a, index: i, cName: "ARG_" + strings.ToUpper(s.Name) + "_" + strings.ToUpper(a.Name), method: camel(a.Name)}
			for _, m := range []string{ta.method, "Set" + ta.method} {
				if prev, dup := methods[m]; dup {
					return nil, fmt.Errorf("event %s: arguments %s and %s both make the method %s", s.Name, prev, a.Name, m)
				}
				methods[m] = a.Name
			}
			if _, ok := goType[a.Type]; !ok {
				return nil, fmt.Errorf("event %s, argument %s: no Go type for %s", s.Name, a.Name, a.Type)
			}
			e.args = append(e.args, ta)
		}
		t.events = append(t.events, e)
	}
	for i := range t.events {
		e := &t.events[i]
		t.byC[e.cID] = e
	}
	return t, nil
}

// idConstants maps event ids to the names of their constants in the event
// package's sources.
func idConstants(dir string) (map[event.ID]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[event.ID]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				id, ok := vs.Type.(*ast.Ident)
				if !ok || id.Name != "ID" || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "ID") {
					continue
				}
				lit, ok := vs.Values[0].(*ast.BasicLit)
				if !ok {
					continue
				}
				n, err := strconv.ParseUint(lit.Value, 0, 32)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", fset.Position(lit.Pos()), vs.Names[0].Name, err)
				}
				if prev, dup := out[event.ID(n)]; dup {
					return nil, fmt.Errorf("%s: %s and %s are both %d", fset.Position(lit.Pos()), prev, vs.Names[0].Name, n)
				}
				out[event.ID(n)] = vs.Names[0].Name
			}
		}
	}
	return out, nil
}

// initialisms are written in capitals in Go names, as the id constants do.
var initialisms = map[string]string{
	"id": "ID", "uid": "UID", "gid": "GID", "euid": "EUID", "egid": "EGID", "suid": "SUID", "sgid": "SGID",
	"fsuid": "FSUID", "fsgid": "FSGID", "ruid": "RUID", "rgid": "RGID", "ip": "IP", "dns": "DNS", "tcp": "TCP",
	"udp": "UDP", "bpf": "BPF", "vm": "VM", "tty": "TTY", "ns": "NS", "nr": "NR", "sha256": "SHA256", "ttl": "TTL",
}

// camel turns an argument name into a Go method name: child_ns_pid ->
// ChildNSPid.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part == "" {
			continue
		}
		if up, ok := initialisms[part]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// goType is the Go type an accessor returns per argument type, and the type
// the decoded value has in Event.Args.
var goType = map[event.ArgType]struct{ ret, stored string }{
	event.TypeInt32:    {"int32", "int64"},
	event.TypeInt64:    {"int64", "int64"},
	event.TypeUint32:   {"uint32", "uint64"},
	event.TypeUint64:   {"uint64", "uint64"},
	event.TypeString:   {"string", "string"},
	event.TypeStrArray: {"[]string", "[]string"},
	event.TypeBytes:    {"[]byte", "[]byte"},
	event.TypeBool:     {"bool", "bool"},
}

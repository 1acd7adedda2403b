package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/sensor/load/sysevent"
)

// The probe declarations of the BPF sources (bpf/lib/probe.h): PROBE,
// FALLBACK, HOOK_PROBES and SYSCALLS, read from bpf/*.bpf.c into the
// sensor's probe table, so that the programs of an event and the way the
// sensor attaches them are written in one place.

const probesPath = "sensor/load/probes_gen.go"

type cProbe struct {
	name     string
	fallback bool
	programs []cProgram
}

type cProgram struct {
	name     string
	syscalls []string // nil: those of its SYSCALLS declaration, if any
}

type probeDecls struct {
	byEvent  map[string][]cProbe // by C id (EVENT_...)
	fileOf   map[string]string   // the file that declares an event's probes
	syscalls map[string][]string // SYSCALLS, by program
	handlers map[string]string   // syscall handlers: sys_enter or sys_exit, by program
}

var declRE = regexp.MustCompile(`\b(PROBE|FALLBACK|HOOK_PROBES|SYSCALLS)\s*\(`)

// handlerRE finds the syscall handlers: tracepoint programs whose section
// names a direction, not a trace event (the loader attaches them to the
// trace event of each of their syscalls).
var handlerRE = regexp.MustCompile(`SEC\("tracepoint/syscalls/(sys_enter|sys_exit)"\)\s*(?:/\*[^*]*\*/\s*)?int\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

// syscallsWordRE finds the word "syscalls" in a probe's name, which stands
// for the trace events its syscall handlers are attached to.
var syscallsWordRE = regexp.MustCompile(`(^|[ +])syscalls($|[ +(])`)

// readProbes reads the declarations of every bpf/*.bpf.c.
func readProbes(t *table, root string) (*probeDecls, error) {
	files, err := filepath.Glob(filepath.Join(root, "bpf", "*.bpf.c"))
	if err != nil {
		return nil, err
	}
	d := &probeDecls{byEvent: map[string][]cProbe{}, fileOf: map[string]string{}, syscalls: map[string][]string{}, handlers: map[string]string{}}
	declaredAt := map[string]string{} // probes, by C id then index: where, for errors
	sysFile := map[string]string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := filepath.ToSlash(rel(root, f))
		masked := maskComments(src)
		for _, m := range handlerRE.FindAllSubmatch(src, -1) {
			d.handlers[string(m[2])] = string(m[1])
		}
		for _, m := range declRE.FindAllSubmatchIndex(masked, -1) {
			kind := string(masked[m[2]:m[3]])
			at := fmt.Sprintf("%s:%d", name, lineOf(src, m[0]))
			if m[0] > 0 && !isLineStart(masked, m[0]) {
				continue // a use inside other code (none today), not a declaration
			}
			args, ok := splitArgs(src, masked, m[1])
			if !ok {
				return nil, fmt.Errorf("%s: %s( without its closing parenthesis", at, kind)
			}
			if kind == "SYSCALLS" {
				if len(args) < 2 {
					return nil, fmt.Errorf("%s: SYSCALLS(program, syscall, ...) needs a program and a syscall", at)
				}
				if prev, dup := sysFile[args[0]]; dup {
					return nil, fmt.Errorf("%s: SYSCALLS of %s already declared at %s", at, args[0], prev)
				}
				sysFile[args[0]] = at
				d.syscalls[args[0]] = args[1:]
				continue
			}
			if len(args) < 2 {
				return nil, fmt.Errorf("%s: %s needs an event and a probe", at, kind)
			}
			ev := "EVENT_" + args[0]
			if t.byC[ev] == nil {
				return nil, fmt.Errorf("%s: %s of %s: no such event in the table", at, kind, args[0])
			}
			if prev, ok := d.fileOf[ev]; ok && prev != name {
				return nil, fmt.Errorf("%s: probes of %s are declared in %s too: keep an event's probes in one file, in order of preference", at, args[0], prev)
			}
			d.fileOf[ev] = name
			var progs []cProgram
			for _, a := range args[2:] {
				p, err := parseProgram(a)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", at, err)
				}
				progs = append(progs, p)
			}
			switch kind {
			case "HOOK_PROBES":
				var hooks []string
				for _, h := range strings.Split(args[1], "+") {
					h = strings.TrimSpace(h)
					if !isIdent(h) {
						return nil, fmt.Errorf("%s: HOOK_PROBES: %q is not a kernel function name", at, h)
					}
					hooks = append(hooks, h)
				}
				for _, kind := range []string{"fentry", "kprobe"} {
					pb := cProbe{name: kind + "/" + strings.Join(hooks, "+")}
					for _, h := range hooks {
						pb.programs = append(pb.programs, cProgram{name: kind + "_" + h})
					}
					pb.programs = append(pb.programs, progs...)
					d.byEvent[ev] = append(d.byEvent[ev], pb)
				}
			default:
				pname, err := strconv.Unquote(args[1])
				if err != nil {
					return nil, fmt.Errorf("%s: %s: the probe's name must be a string literal, got %s", at, kind, args[1])
				}
				declaredAt[fmt.Sprintf("%s/%d", ev, len(d.byEvent[ev]))] = at
				d.byEvent[ev] = append(d.byEvent[ev], cProbe{name: pname, fallback: kind == "FALLBACK", programs: progs})
			}
		}
	}
	for ev, pbs := range d.byEvent {
		for i := range pbs {
			at := declaredAt[fmt.Sprintf("%s/%d", ev, i)]
			if strings.Contains(pbs[i].name, "raw_tracepoint/sys_enter") || strings.Contains(pbs[i].name, "raw_tracepoint/sys_exit") {
				for _, p := range pbs[i].programs {
					if d.handlers[p.name] != "" {
						return nil, fmt.Errorf("%s: probe name %q: syscall handler %s hangs on its syscalls' trace events, not on raw_tracepoint/sys_enter or sys_exit; write the word syscalls for them", at, pbs[i].name, p.name)
					}
				}
			}
			if !syscallsWordRE.MatchString(pbs[i].name) {
				continue
			}
			tps := d.syscallEvents(pbs[i].programs)
			if tps == "" {
				return nil, fmt.Errorf("%s: probe %q says syscalls, but none of its programs is a syscall handler (SEC(\"tracepoint/syscalls/sys_enter\") or sys_exit)", at, pbs[i].name)
			}
			pbs[i].name = syscallsWordRE.ReplaceAllString(pbs[i].name, "${1}"+tps+"${2}")
		}
	}
	return d, nil
}

// syscallEvents names the syscall trace events the handlers among progs are
// attached to, as "tracepoint/syscalls/sys_enter_bind+sys_exit_{bind,listen}"
// (sys_{enter,exit}_x when both directions have the same syscalls); "" when
// no program is a handler.
func (d *probeDecls) syscallEvents(progs []cProgram) string {
	sets := map[string][]string{}
	seen := map[string]bool{}
	for _, p := range progs {
		dir := d.handlers[p.name]
		if dir == "" {
			continue
		}
		for _, sc := range d.syscallsOf(p) {
			sc = sysevent.Name(sc)
			if !seen[dir+" "+sc] {
				seen[dir+" "+sc] = true
				sets[dir] = append(sets[dir], sc)
			}
		}
	}
	list := func(s []string) string {
		if len(s) == 1 {
			return s[0]
		}
		return "{" + strings.Join(s, ",") + "}"
	}
	enter, exit := sets["sys_enter"], sets["sys_exit"]
	switch {
	case len(enter) == 0 && len(exit) == 0:
		return ""
	case slices.Equal(enter, exit):
		return "tracepoint/syscalls/sys_{enter,exit}_" + list(enter)
	case len(exit) == 0:
		return "tracepoint/syscalls/sys_enter_" + list(enter)
	case len(enter) == 0:
		return "tracepoint/syscalls/sys_exit_" + list(exit)
	}
	return "tracepoint/syscalls/sys_enter_" + list(enter) + "+sys_exit_" + list(exit)
}

func isLineStart(b []byte, at int) bool {
	for i := at - 1; i >= 0; i-- {
		switch b[i] {
		case '\n':
			return true
		case ' ', '\t':
			continue
		default:
			return false
		}
	}
	return true
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func isIdent(s string) bool { return identRE.MatchString(s) }

// parseProgram reads "name" or "name(syscall, ...)".
func parseProgram(a string) (cProgram, error) {
	name, rest, paren := strings.Cut(a, "(")
	name = strings.TrimSpace(name)
	if !isIdent(name) {
		return cProgram{}, fmt.Errorf("%q is not a program name", a)
	}
	p := cProgram{name: name}
	if !paren {
		return p, nil
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasSuffix(rest, ")") {
		return cProgram{}, fmt.Errorf("%q: the syscall list has no closing parenthesis", a)
	}
	p.syscalls = []string{}
	for _, s := range strings.Split(strings.TrimSuffix(rest, ")"), ",") {
		s = strings.TrimSpace(s)
		if !isIdent(s) {
			return cProgram{}, fmt.Errorf("%q: %q is not a syscall name", a, s)
		}
		p.syscalls = append(p.syscalls, s)
	}
	return p, nil
}

// splitArgs splits the arguments of a macro call whose '(' ends at open, at
// the commas outside parentheses; masked has comments and literals blanked,
// src gives the text.
func splitArgs(src, masked []byte, open int) ([]string, bool) {
	depth, from := 0, open
	var out []string
	for i := open; i < len(masked); i++ {
		switch masked[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				out = append(out, strings.TrimSpace(string(src[from:i])))
				return out, true
			}
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(string(src[from:i])))
				from = i + 1
			}
		}
	}
	return nil, false
}

// renderProbes writes the sensor's probe table.
func renderProbes(t *table, d *probeDecls) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`// Code generated by internal/genevents from the probe declarations
// (PROBE, FALLBACK, HOOK_PROBES, SYSCALLS; see bpf/lib/probe.h) in
// bpf/*.bpf.c; DO NOT EDIT. Change the declarations and run
// go generate ./event/ (make generate).

package load

import "github.com/vigil-sec/vigil/event"

// probeTable holds every event's probes in order of preference; the loader
// attaches the first the running kernel accepts.
var probeTable = map[event.ID][]Probe{
`)
	for _, e := range t.events {
		pbs := d.byEvent[e.cID]
		if len(pbs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\tevent.%s: { // %s\n", e.goID, d.fileOf[e.cID])
		for _, pb := range pbs {
			fmt.Fprintf(&b, "\t\t{Name: %q", pb.name)
			if pb.fallback {
				b.WriteString(", Fallback: true")
			}
			if len(pb.programs) > 0 {
				b.WriteString(", Programs: []Program{")
				for i, p := range pb.programs {
					if i > 0 {
						b.WriteString(", ")
					}
					sc := d.syscallsOf(p)
					fmt.Fprintf(&b, "{Name: %q", p.name)
					if len(sc) > 0 {
						b.WriteString(", Syscalls: []string{")
						for j, s := range sc {
							if j > 0 {
								b.WriteString(", ")
							}
							fmt.Fprintf(&b, "%q", s)
						}
						b.WriteString("}")
					}
					b.WriteString("}")
				}
				b.WriteString("}")
			}
			b.WriteString("},\n")
		}
		b.WriteString("\t},\n")
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w", probesPath, err)
	}
	return out, nil
}

// syscallsOf gives a program's slots in a probe: those written in the
// probe, where a name with a SYSCALLS declaration stands for its syscalls
// (sys_enter_save(sys_exit_setid): the entry of every syscall the exit
// handles), else those of its own SYSCALLS declaration.
func (d *probeDecls) syscallsOf(p cProgram) []string {
	if p.syscalls == nil {
		return d.syscalls[p.name]
	}
	var out []string
	for _, s := range p.syscalls {
		if of, ok := d.syscalls[s]; ok {
			out = append(out, of...)
			continue
		}
		out = append(out, s)
	}
	return out
}

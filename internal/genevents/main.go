// Command genevents writes, from the event table of package event (the one
// source of the event format), the files that would otherwise be kept in step
// with it by hand:
//
//   - bpf/lib/event_ids.h: enum event_id (every event's stable id) and enum
//     event_arg (per event, the wire index of each argument, named
//     ARG_<EVENT>_<ARGUMENT>), which the BPF programs pass to save_*();
//   - event/args_gen.go: per event a typed view of Event.Args
//     (event.SchedProcessExecArgs(ev.Args).Pathname());
//   - sensor/probes_gen.go: the sensor's probe table (which programs feed
//     each event, in order of preference), from the PROBE, FALLBACK,
//     HOOK_PROBES and SYSCALLS declarations beside the programs in
//     bpf/*.bpf.c (see bpf/lib/probe.h and probes.go).
//
// go generate runs it from the event folder (event/gen.go); `make generate`
// runs it before bpf2go. Tests in this package fail when the committed files
// differ from what the table gives, and when a BPF source passes a literal
// number as an argument index.
//
// With -rewrite-c it instead replaces the literal argument indices of
// save_*() calls in bpf/*.c and bpf/lib/*.h by those names (see rewrite.go):
//
//	go run ./internal/genevents -rewrite-c
//
// It is safe to run again: names are left alone, and every literal it
// replaces is checked against the table (the argument must exist and the
// save_* helper must write its type).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	rewrite := flag.Bool("rewrite-c", false, "replace literal argument indices in bpf/*.c and bpf/lib/*.h by ARG_<EVENT>_<ARG> names")
	flag.Parse()
	if err := run(*rewrite); err != nil {
		fmt.Fprintln(os.Stderr, "genevents:", err)
		os.Exit(1)
	}
}

func run(rewrite bool) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	t, err := loadTable(filepath.Join(root, "event"))
	if err != nil {
		return err
	}
	if rewrite {
		files, err := bpfSources(root)
		if err != nil {
			return err
		}
		var errs []error
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			out, n, err := rewriteC(t, filepath.ToSlash(rel(root, f)), src)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if n > 0 {
				if err := os.WriteFile(f, out, 0o644); err != nil {
					return err
				}
				fmt.Printf("%s: %d argument indices named\n", rel(root, f), n)
			}
		}
		return errors.Join(errs...)
	}
	outs, err := render(t, root)
	if err != nil {
		return err
	}
	for _, o := range outs {
		p := filepath.Join(root, o.path)
		old, _ := os.ReadFile(p)
		if bytes.Equal(old, o.data) {
			continue
		}
		if err := os.WriteFile(p, o.data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s\n", o.path)
	}
	return nil
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}

// moduleRoot is the folder of go.mod, found upwards from the working
// directory (go generate runs in event/, go run from anywhere in the module).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// bpfSources are the BPF C files whose save_*() calls name argument indices.
func bpfSources(root string) ([]string, error) {
	var out []string
	for _, pat := range []string{"bpf/*.c", "bpf/lib/*.h"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no BPF sources under %s/bpf", root)
	}
	return out, nil
}

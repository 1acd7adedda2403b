// Command objdiff compares the BPF programs of two builds of the objects
// instruction by instruction (ignoring BTF, line info and symbol metadata), to
// show that a source change meant to be behaviour-neutral (naming argument
// indices, moving code) compiles to the same programs:
//
//	mkdir /tmp/old && for f in bpf/*.o; do git show HEAD:$f > /tmp/old/$(basename $f); done
//	make generate
//	go run ./internal/objdiff /tmp/old bpf/*.o
//
// With -union it compares the programs of all old objects with those of all
// new ones by program name, whichever object holds them, to show that moving
// programs between objects (splitting a family's file) changed none:
//
//	go run ./internal/objdiff -union /tmp/old bpf/*.o
//
// It exits 1 when a program differs, is missing or is new.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

func main() {
	union := flag.Bool("union", false, "compare the programs of every object in OLD_DIR with those of every NEW.o, by name")
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: objdiff [-union] OLD_DIR NEW.o...")
		os.Exit(2)
	}
	if *union {
		n, err := compareUnion(args[0], args[1:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "objdiff:", err)
			os.Exit(2)
		}
		if n > 0 {
			os.Exit(1)
		}
		return
	}
	differ := 0
	for _, f := range args[1:] {
		n, err := compare(filepath.Join(args[0], filepath.Base(f)), f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "objdiff:", err)
			os.Exit(2)
		}
		differ += n
	}
	if differ > 0 {
		os.Exit(1)
	}
}

func compare(oldPath, newPath string) (int, error) {
	a, err := ebpf.LoadCollectionSpec(oldPath)
	if err != nil {
		return 0, err
	}
	b, err := ebpf.LoadCollectionSpec(newPath)
	if err != nil {
		return 0, err
	}
	return diff(newPath, programsOf(a), programsOf(b)), nil
}

// prog is a program with the object it came from, whose data sections its
// loads of constants point into.
type prog struct {
	spec *ebpf.ProgramSpec
	coll *ebpf.CollectionSpec
}

func programsOf(c *ebpf.CollectionSpec) map[string]prog {
	out := map[string]prog{}
	for n, ps := range c.Programs {
		out[n] = prog{ps, c}
	}
	return out
}

// compareUnion merges the programs of the objects on each side; a program
// name found in two objects of one side is an error.
func compareUnion(oldDir string, newPaths []string) (int, error) {
	oldPaths, err := filepath.Glob(filepath.Join(oldDir, "*.o"))
	if err != nil {
		return 0, err
	}
	a, err := merge(oldPaths)
	if err != nil {
		return 0, err
	}
	b, err := merge(newPaths)
	if err != nil {
		return 0, err
	}
	return diff("all objects", a, b), nil
}

func merge(paths []string) (map[string]prog, error) {
	out := map[string]prog{}
	from := map[string]string{}
	for _, p := range paths {
		s, err := ebpf.LoadCollectionSpec(p)
		if err != nil {
			return nil, err
		}
		for n, ps := range s.Programs {
			if prev, ok := from[n]; ok {
				return nil, fmt.Errorf("program %s is in both %s and %s", n, prev, p)
			}
			out[n], from[n] = prog{ps, s}, p
		}
	}
	return out, nil
}

func diff(newPath string, a, b map[string]prog) int {
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	differ := 0
	for _, name := range sorted {
		xa, xb := a[name], b[name]
		pa, pb := xa.spec, xb.spec
		switch {
		case pa == nil:
			fmt.Printf("%s: %s is new\n", newPath, name)
			differ++
		case pb == nil:
			fmt.Printf("%s: %s is gone\n", newPath, name)
			differ++
		case len(pa.Instructions) != len(pb.Instructions):
			fmt.Printf("%s: %s has %d instructions, was %d\n", newPath, name, len(pb.Instructions), len(pa.Instructions))
			differ++
		default:
			for i := range pa.Instructions {
				x, y := pa.Instructions[i], pb.Instructions[i]
				if x.OpCode != y.OpCode || x.Dst != y.Dst || x.Src != y.Src || x.Offset != y.Offset ||
					(x.Constant != y.Constant && !sameConstant(xa.coll, x, xb.coll, y)) {
					fmt.Printf("%s: %s differs at instruction %d: %v, was %v\n", newPath, name, i, y, x)
					differ++
					break
				}
			}
		}
	}
	fmt.Printf("%s: %d programs, %d differ\n", newPath, len(sorted), differ)
	return differ
}

// sameConstant tells whether two loads of an address in a read-only data
// section (a string literal, a constant table) load the same bytes: where a
// constant sits in .rodata depends on what else the object holds.
func sameConstant(ca *ebpf.CollectionSpec, x asm.Instruction, cb *ebpf.CollectionSpec, y asm.Instruction) bool {
	if !x.IsLoadFromMap() || !y.IsLoadFromMap() || x.Src != asm.PseudoMapValue {
		return false
	}
	bx, okx := constantAt(ca, x)
	by, oky := constantAt(cb, y)
	return okx && oky && bytes.Equal(bx, by)
}

// constantAt returns the bytes from the load's offset to the end of the
// NUL-terminated string there, or 64 bytes at most.
func constantAt(c *ebpf.CollectionSpec, ins asm.Instruction) ([]byte, bool) {
	ref := ins.Reference()
	m := c.Maps[ref]
	if !strings.HasPrefix(ref, ".rodata") || m == nil || len(m.Contents) != 1 {
		return nil, false
	}
	data, ok := m.Contents[0].Value.([]byte)
	off := int(uint32(uint64(ins.Constant) >> 32))
	if !ok || off >= len(data) {
		return nil, false
	}
	data = data[off:min(len(data), off+64)]
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i+1]
	}
	return data, true
}

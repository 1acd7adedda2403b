// Command objdiff compares the BPF programs of two builds of the objects
// instruction by instruction (ignoring BTF, line info and symbol metadata), to
// show that a source change meant to be behaviour-neutral (naming argument
// indices, moving code) compiles to the same programs:
//
//	mkdir /tmp/old && for f in bpf/*.o; do git show HEAD:$f > /tmp/old/$(basename $f); done
//	make generate
//	go run ./internal/objdiff /tmp/old bpf/*.o
//
// It exits 1 when a program differs, is missing or is new.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/cilium/ebpf"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: objdiff OLD_DIR NEW.o...")
		os.Exit(2)
	}
	differ := 0
	for _, f := range os.Args[2:] {
		n, err := compare(filepath.Join(os.Args[1], filepath.Base(f)), f)
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
	names := map[string]bool{}
	for n := range a.Programs {
		names[n] = true
	}
	for n := range b.Programs {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	differ := 0
	for _, name := range sorted {
		pa, pb := a.Programs[name], b.Programs[name]
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
				if x.OpCode != y.OpCode || x.Dst != y.Dst || x.Src != y.Src || x.Offset != y.Offset || x.Constant != y.Constant {
					fmt.Printf("%s: %s differs at instruction %d: %v, was %v\n", newPath, name, i, y, x)
					differ++
					break
				}
			}
		}
	}
	fmt.Printf("%s: %d programs, %d differ\n", newPath, len(sorted), differ)
	return differ, nil
}

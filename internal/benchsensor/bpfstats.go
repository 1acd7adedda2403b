package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// progStat is what the kernel counts for one BPF program while run-time
// statistics are on (BPF_ENABLE_STATS, kernel.bpf_stats_enabled).
type progStat struct {
	name     string
	runs, ns uint64
}

// vigilProgs reads the run counts and times of the BPF programs process pid
// holds, by program id, from the fdinfo of its bpf-prog descriptors.
func vigilProgs(pid int) (map[uint32]progStat, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[uint32]progStat{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || target != "anon_inode:bpf-prog" {
			continue
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		var id uint32
		var st progStat
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			switch k {
			case "prog_id":
				id = uint32(n)
			case "run_time_ns":
				st.ns = n
			case "run_cnt":
				st.runs = n
			}
		}
		f.Close()
		if id == 0 {
			continue
		}
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
			if info, err := p.Info(); err == nil {
				st.name = info.Name
			}
			p.Close()
		}
		out[id] = st
	}
	return out, nil
}

// progCost is one program's share of a workload: runs and ns per operation.
type progCost struct {
	name     string
	runs, ns float64 // per operation
	nsPerRun float64
}

// bpfCosts runs work (ops operations) with BPF run-time statistics on and
// returns what each of vigil's programs (process pid) ran in it, per
// operation, costliest first. Other tenants' syscalls during the work count
// too: the figures are an upper bound on a shared machine.
func bpfCosts(pid, ops int, work func()) ([]progCost, error) {
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enabling BPF run-time statistics: %w", err)
	}
	defer stats.(io.Closer).Close()
	before, err := vigilProgs(pid)
	if err != nil {
		return nil, err
	}
	work()
	after, err := vigilProgs(pid)
	if err != nil {
		return nil, err
	}
	var out []progCost
	for id, a := range after {
		b := before[id]
		if a.runs <= b.runs {
			continue
		}
		runs, ns := float64(a.runs-b.runs), float64(a.ns-b.ns)
		out = append(out, progCost{name: a.name, runs: runs / float64(ops), ns: ns / float64(ops), nsPerRun: ns / runs})
	}
	slices.SortFunc(out, func(x, y progCost) int {
		switch {
		case x.ns > y.ns:
			return -1
		case x.ns < y.ns:
			return 1
		}
		return strings.Compare(x.name, y.name)
	})
	return out, nil
}

func printCosts(w io.Writer, title string, costs []progCost) {
	var total float64
	for _, c := range costs {
		total += c.ns
	}
	fmt.Fprintf(w, "  BPF programs per %s (run-time stats on): %.0f ns in all\n", title, total)
	for _, c := range costs {
		fmt.Fprintf(w, "    %-30s %7.2f runs %8.1f ns  (%6.1f ns/run)\n", c.name, c.runs, c.ns, c.nsPerRun)
	}
}

package sensor

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

type zzStat struct {
	name     string
	runs, ns uint64
}

func zzProgs(t *testing.T) map[uint32]zzStat {
	pid := os.Getpid()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	out := map[uint32]zzStat{}
	for _, e := range ents {
		tg, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || tg != "anon_inode:bpf-prog" {
			continue
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		var id uint32
		var st zzStat
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
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
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
			if info, err := p.Info(); err == nil {
				st.name = info.Name
			}
			p.Close()
		}
		out[id] = st
	}
	return out
}

func zzReport(t *testing.T, what string, ops int, a, b map[uint32]zzStat) {
	type row struct {
		name          string
		runs, ns, per float64
	}
	var rows []row
	var total float64
	for id, x := range b {
		y := a[id]
		if x.runs <= y.runs {
			continue
		}
		r := row{x.name, float64(x.runs-y.runs) / float64(ops), float64(x.ns-y.ns) / float64(ops), float64(x.ns-y.ns) / float64(x.runs-y.runs)}
		total += r.ns
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ns > rows[j].ns })
	fmt.Printf("== %s: %.0f ns per op\n", what, total)
	for _, r := range rows {
		fmt.Printf("   %-32s %7.2f runs %9.1f ns (%7.1f ns/run)\n", r.name, r.runs, r.ns, r.per)
	}
}

func TestZZCost(t *testing.T) {
	needRoot(t)
	trig := triggers(t)
	shipped, _ := shippedInterest(t)
	ls := ownSensor(t, Config{Interest: &shipped})
	_ = ls
	st, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 100000
	for r := 0; r < 2; r++ {
		a := zzProgs(t)
		if out, err := exec.Command(filepath.Join(trig, "openloop"), "-n", strconv.Itoa(n)).CombinedOutput(); err != nil {
			t.Fatal(err, string(out))
		}
		b := zzProgs(t)
		zzReport(t, "open+close (openloop)", n, a, b)
	}
	m := 500
	for r := 0; r < 2; r++ {
		a := zzProgs(t)
		if out, err := exec.Command("sh", "-c", "for i in $(seq "+strconv.Itoa(m)+"); do /bin/true; done").CombinedOutput(); err != nil {
			t.Fatal(err, string(out))
		}
		b := zzProgs(t)
		zzReport(t, "fork+exec (sh loop)", m, a, b)
	}
}

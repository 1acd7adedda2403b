package sensor

import (
	"github.com/vigil-sec/vigil/sensor/load"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// hookedEvents are the events with a probe on a kernel function (fentry,
// fexit, kprobe, kretprobe), and those of them with a kprobe variant.
func hookedEvents() (hooked, withKprobe []event.Spec) {
	for _, spec := range event.All() {
		var hook, kp bool
		for _, pb := range load.EventProbes(spec.ID) {
			hook = hook || pb.Trampoline() || pb.Kprobe()
			kp = kp || pb.Kprobe()
		}
		if hook {
			hooked = append(hooked, spec)
		}
		if kp {
			withKprobe = append(withKprobe, spec)
		}
	}
	return hooked, withKprobe
}

// Every event that has a kernel-function probe fires on this kernel through
// the probe the sensor attached: one sensor with every event on (and module
// capture), the triggers doing one of each thing, and each such event seen
// at least once with its probe named on it. In make vmtest's kprobe run
// (VIGIL_PROBE_TIER=kprobe) every event with a kprobe variant must have
// attached it and fired through it, so that a kernel without trampolines is
// not the kprobe programs' first run; with VIGIL_EXPECT_PROBES=preferred,
// the preferred probe. Elsewhere (this development kernel refuses both) the
// fallbacks feed them: they are listed, and tested by the per-event tests.
func TestSensorHookProbesFire(t *testing.T) {
	needRoot(t)
	ls := ownSensor(t, Config{Enable: event.Names(), CaptureDir: t.TempDir()})
	hooked, withKprobe := hookedEvents()
	if len(withKprobe) < 20 {
		t.Fatalf("only %d events have a kprobe variant: the probe tables lost some", len(withKprobe))
	}
	kprobeTier := testTier() == load.TierKprobe
	expect := os.Getenv("VIGIL_EXPECT_PROBES")

	// what each event is fed by here, and what it must be fed by
	want := map[string]string{}
	for _, spec := range hooked {
		st := probeOf(ls, spec.Name)
		var kp, first string
		for _, pb := range load.EventProbes(spec.ID) {
			if first == "" {
				first = pb.Name
			}
			if kp == "" && pb.Kprobe() {
				kp = pb.Name
			}
		}
		switch {
		case kprobeTier && kp != "":
			if st.Probe != kp {
				t.Errorf("kprobe tier on %s: %s attached %q, want its kprobe variant %q (%v)", kernelRelease(), spec.Name, st.Probe, kp, st.Err)
				continue
			}
		case expect == "preferred":
			if st.Probe != first {
				t.Errorf("kernel %s: %s attached %q, want the preferred %q (%v)", kernelRelease(), spec.Name, st.Probe, first, st.Err)
				continue
			}
		case st.Probe == "":
			switch {
			case kprobeTier && kp == "":
				// no kprobe variant, and its other probes do not load
				// here (cap_capable: fexit, or the capability
				// tracepoint, which 6.1 lacks)
				t.Logf("kprobe tier on %s: %s has no kprobe variant and nothing else attached: %v", kernelRelease(), spec.Name, st.Err)
			case absentSyscalls(spec) != "":
				t.Logf("kernel %s: %s attached nothing: this kernel has no syscall %s: %v", kernelRelease(), spec.Name, absentSyscalls(spec), st.Err)
			case !hooksOnly(spec):
				t.Errorf("kernel %s: %s attached nothing: %v", kernelRelease(), spec.Name, st.Err)
			default:
				t.Logf("kernel %s: %s has kernel-function probes only, none of which loads here: %v", kernelRelease(), spec.Name, st.Err)
			}
			continue
		}
		if st.Fallback {
			// the syscall layer's twins are other tests' business, and
			// some see only what succeeded (post_read_file)
			t.Logf("kernel %s: %s is on its fallback %q", kernelRelease(), spec.Name, st.Probe)
			continue
		}
		want[spec.Name] = st.Probe
	}

	dir := triggers(t)
	work := t.TempDir()
	sub := func(name string) string {
		d := filepath.Join(work, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, args := range [][]string{
		{"fsops", sub("fsops")},                      // rename, link, symlink, unlink, rmdir, chmod, truncate, mknod, mount, umount, opens
		{"elfdrop", "-via", "write", sub("write")},   // magic_write, vfs_write
		{"elfdrop", "-via", "writev", sub("writev")}, // vfs_writev
		{"wxmem"},            // mprotect, W+X, mmap of a file
		{"netsock"},          // socket create, bind, listen, connect, accept; TCP connect; UDP send, disconnect, close
		{"bpfload"},          // security_bpf, security_bpf_map
		{"kmod"},             // kernel_read_file, post_read_file, the module image
		{"capcheck"},         // switch_task_namespaces (unshare)
		{"seteuid", "65534"}, // commit_creds
		{"execfail", sub("execfail"), "/bin/true"}, // security_bprm_check, do_exit
	} {
		cmd := exec.Command(filepath.Join(dir, args[0]), args[1:]...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("%s: %v (its events may still be there): %s", args[0], err, strings.TrimSpace(string(out)))
		}
	}

	// each wanted event at least once, through the probe it attached
	seen := map[string]string{}
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < len(want) && time.Now().Before(deadline) {
		for _, ev := range ls.snapshot() {
			if p, ok := want[ev.Name]; ok && ev.Probe == p {
				seen[ev.Name] = ev.Probe
			}
			// module_image_chunk records are never published: the image
			// they make is, and one read from a file came from the hook
			if p, ok := want["module_image_chunk"]; ok && ev.Name == "module_image_captured" && ev.Args["source"] == "security_kernel_post_read_file" {
				seen["module_image_chunk"] = p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	var missing []string
	for name, p := range want {
		if _, ok := seen[name]; !ok {
			missing = append(missing, name+" ("+p+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("kernel %s, tier %q: %d of %d events with a kernel-function probe never fired through it: %s",
			kernelRelease(), testTier(), len(missing), len(want), strings.Join(missing, ", "))
	}
	nkp := 0
	for _, spec := range withKprobe {
		if p, ok := seen[spec.Name]; ok && strings.HasPrefix(p, "k") {
			nkp++
		}
	}
	if kprobeTier && nkp != len(withKprobe) {
		t.Errorf("kprobe tier: %d of %d events with a kprobe variant fired through it", nkp, len(withKprobe))
	}
	t.Logf("kernel %s, tier %q: %d of %d hooked events fired through their probe, %d through a kprobe (of %d with one)",
		kernelRelease(), testTier(), len(seen), len(hooked), nkp, len(withKprobe))
}

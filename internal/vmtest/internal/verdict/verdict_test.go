package verdict

import (
	"os"
	"strings"
	"testing"
)

func read(t *testing.T, name string) *Log {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(b)
}

func TestParseFailingRun(t *testing.T) {
	l := read(t, "fail.log")
	if l.Release != "6.1.0-56-cloud-amd64" || l.BootSeconds != 2.41 || l.DoneSeconds != 7.9 {
		t.Errorf("release %q boot %v done %v", l.Release, l.BootSeconds, l.DoneSeconds)
	}
	failed := l.Failed()
	if len(failed) != 1 {
		t.Fatalf("failed = %+v, want only the leaf subtest", failed)
	}
	f := failed[0]
	if f.Binary != "sensor.test" || f.Name != "TestPrivilegedProbes/security_file_open" {
		t.Errorf("failed test = %s %s", f.Binary, f.Name)
	}
	if len(f.Output) != 1 || !strings.Contains(f.Output[0], "want the preferred fentry/security_file_open") {
		t.Errorf("failed test output = %q", f.Output)
	}
	if got := l.Count("PASS"); got != 3 {
		t.Errorf("PASS count = %d, want 3", got)
	}
	if sk := l.Skipped(); len(sk) != 1 || !strings.Contains(sk[0], "kmod: sensor_test.go:45: no module here") {
		t.Errorf("skipped = %q", sk)
	}
	why := l.Decide(Run{Status: 3})
	if len(why) != 2 || !strings.Contains(why[1], "verdict: FAIL sensor.test=exit 1") {
		t.Errorf("reasons = %q", why)
	}
}

func pass() string {
	return strings.Join([]string{
		"vmtest: init started: kernel 6.12.95+deb12-cloud-amd64 uptime 2.80s",
		"vmtest: RUN vmtest.test -test.v",
		"=== RUN   TestProbeKinds",
		"--- PASS: TestProbeKinds (1.00s)",
		"PASS",
		"vmtest: DONE vmtest.test exit 0 in 1.10s",
		"vmtest: VERDICT PASS",
		"vmtest: finished at uptime 4.00s",
	}, "\r\n")
}

func TestDecidePass(t *testing.T) {
	l := Parse([]byte(pass()))
	if why := l.Decide(Run{Status: 1}); len(why) != 0 {
		t.Errorf("clean run failed: %q", why)
	}
}

func TestDecideCatchesEachProblem(t *testing.T) {
	cases := []struct {
		name string
		log  string
		run  Run
		want string
	}{
		{"timeout", pass(), Run{TimedOut: true, Timeout: 240}, "timeout"},
		{"poweroff without debug exit", pass(), Run{Status: 0}, "exited 0"},
		{"kernel oops after PASS", strings.Replace(pass(), "PASS\r\n", "PASS\r\n[    3.1] BUG: kernel NULL pointer dereference, address: 0000000000000008\r\n", 1), Run{Status: 1}, "kernel trouble: [    3.1] BUG: kernel NULL"},
		{"soft lockup", pass() + "\r\n[ 30.2] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sensor.test:99]", Run{Status: 1}, "soft lockup"},
		{"never reached init", "[    0.0] Linux version 6.1\r\n[    1.0] Kernel panic - not syncing: VFS", Run{Status: 0}, "never started /init"},
		{"no verdict", "vmtest: init started: kernel 6.1 uptime 2.0s\r\n=== RUN   TestX", Run{Status: 0}, "no verdict line"},
		{"no tests matched", strings.Replace(strings.Replace(pass(), "=== RUN   TestProbeKinds\r\n", "", 1), "--- PASS: TestProbeKinds (1.00s)\r\n", "testing: warning: no tests to run\r\n", 1), Run{Status: 1}, "no test ran"},
		{"panic", strings.Replace(pass(), "PASS\r\n", "panic: test timed out after 3m0s\r\n\trunning tests:\r\n\t\tTestProbeKinds (3m0s)\r\n", 1), Run{Status: 1}, "panicked: vmtest.test: panic: test timed out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why := Parse([]byte(c.log)).Decide(c.run)
			if !strings.Contains(strings.Join(why, "\n"), c.want) {
				t.Errorf("reasons %q do not mention %q", why, c.want)
			}
		})
	}
}

func TestPanicKeepsRunningTests(t *testing.T) {
	l := Parse([]byte("vmtest: RUN sensor.test\npanic: test timed out after 3m0s\n\trunning tests:\n\t\tTestSensorExec (3m0s)\n\ngoroutine 1 [running]:\n"))
	if len(l.Panics) != 1 || !strings.Contains(l.Panics[0], "TestSensorExec (3m0s)") || strings.Contains(l.Panics[0], "goroutine") {
		t.Errorf("panics = %q", l.Panics)
	}
}

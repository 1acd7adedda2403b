package rules

import "testing"

// TestValidFastTakesThePlainLayout: ValidateEvent walks events as vigil
// writes them without falling back to DecodeEvent, and without allocating
// for their strings, argv and ancestors; the odd layouts fall back.
func TestValidFastTakesThePlainLayout(t *testing.T) {
	plain := []byte(`{"name":"execve","id":100,"time":"2025-03-02T10:00:00.123456789Z","host":"h","probe":"p","process":{"pid":1,"tid":1,"ppid":0,"host_pid":1,"host_tid":1,"host_ppid":0,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"sh","exe":"/bin/sh","argv":["sh","-c","x"],"cgroup_id":1,"mnt_ns":2,"pid_ns":3,"start_time":"2025-03-02T09:00:00Z","ancestors":[{"pid":1,"host_pid":1,"comm":"init","argv":["/sbin/init"],"uid":0}]},"return_value":0,"args":{"pathname":"/bin/sh","argv":["sh"],"env":[]}}`)
	if !validFast(plain) {
		t.Errorf("the plain layout fell back")
	}
	dec := testing.AllocsPerRun(100, func() { decodeFast(plain) })
	val := testing.AllocsPerRun(100, func() { validFast(plain) })
	if val >= dec {
		t.Errorf("validating allocates %v times, decoding %v", val, dec)
	}
	t.Logf("allocations: decode %v, validate %v", dec, val)
	for _, odd := range []string{
		`{"NAME":"execve"}`,
		`{"name":"execve","name":"execve"}`,
		`{"name":"execve","return_value":1.0}`,
		`{"name":"execve"} x`,
		`{"name":"execve","process":null}`,
		`{"name":""}`,
		`{"name":"execve","process":{"start_time":"yesterday"}}`,
	} {
		if validFast([]byte(odd)) {
			t.Errorf("%s: validated without falling back", odd)
		}
	}
}

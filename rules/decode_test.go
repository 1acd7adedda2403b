package rules

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestDecodeFastTakesThePlainLayout: events as vigil writes them take the
// reflection-free path; the others fall back.
func TestDecodeFastTakesThePlainLayout(t *testing.T) {
	plain := `{"name":"execve","id":100,"time":"2025-03-02T10:00:00.123456789Z","host":"h","probe":"p","process":{"pid":1,"tid":1,"ppid":0,"host_pid":1,"host_tid":1,"host_ppid":0,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"sh","exe":"/bin/sh","argv":["sh","-c","x"],"cgroup_id":1,"mnt_ns":2,"pid_ns":3,"start_time":"2025-03-02T09:00:00Z","ancestors":[{"pid":1,"host_pid":1,"comm":"init","argv":["/sbin/init"],"uid":0}]},"return_value":0,"args":{"pathname":"/bin/sh","argv":["sh"],"env":[]}}`
	if _, ok := decodeFast([]byte(plain)); !ok {
		t.Errorf("the plain layout fell back")
	}
	// a sensor sending contexts by reference adds the context's key
	withCtx := strings.Replace(plain, `}]},"return_value"`, `}],"ctx":"9f1c0e4d2a7b3c51"},"return_value"`, 1)
	if ev, ok := decodeFast([]byte(withCtx)); !ok || ev.Process.Ctx != "9f1c0e4d2a7b3c51" {
		t.Errorf("the plain layout with a process ctx fell back (or lost it)")
	}
	if !validFast([]byte(withCtx)) {
		t.Errorf("the plain layout with a process ctx is not valid on the fast path")
	}
	for _, odd := range []string{
		`{"NAME":"execve"}`,                    // another case: encoding/json's business
		`{"name":"execve","name":"execve"}`,    // duplicate
		`{"name":"execve","return_value":1.0}`, // a float in an integer
		`{"name":"execve"} x`,                  // trailing data
		`{"name":"execve","process":null}`,
		`{"name":""}`,
	} {
		if _, ok := decodeFast([]byte(odd)); ok {
			t.Errorf("%s: decoded without falling back", odd)
		}
	}
}

// Events with unreadable arguments and events that carry their process
// context by reference (lean, or full with its key) are vigil's own
// layout too: they decode without reflection, to what event.Unmarshal
// gives.
func TestDecodeFastTakesUnreadableAndContextKeys(t *testing.T) {
	for _, data := range []string{
		`{"name":"security_inode_unlink","id":301,"time":"2026-12-06T02:29:25.985825299Z","host":"vm","process":{"pid":5,"tid":6,"ppid":1,"host_pid":5,"host_tid":6,"host_ppid":1,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"go","cgroup_id":1,"mnt_ns":2,"pid_ns":3},"return_value":0,"args":{"dir":true,"pathname":"/tmp/x","syscall":"unlinkat"},"unreadable":["dev","inode"]}`,
		`{"name":"security_file_open","id":300,"time":"2026-12-06T02:29:25Z","host":"vm","process":{"tid":6,"host_tid":6,"ctx":"9f1c0e4d2a7b3c51"},"return_value":3,"args":{"pathname":"/etc/passwd","flags":0}}`,
		`{"name":"security_file_open","id":300,"time":"2026-12-06T02:29:25Z","host":"vm","process":{"pid":5,"tid":6,"ppid":1,"host_pid":5,"host_tid":6,"host_ppid":1,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"go","cgroup_id":1,"mnt_ns":2,"pid_ns":3,"ctx":"9f1c0e4d2a7b3c51"},"return_value":3,"args":{"pathname":"/etc/passwd","flags":0},"unreadable":[]}`,
	} {
		fast, ok := decodeFast([]byte(data))
		if !ok {
			t.Errorf("fell back: %s", data)
			continue
		}
		if !validFast([]byte(data)) {
			t.Errorf("validation fell back: %s", data)
		}
		slow, err := event.Unmarshal([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("decoded differently:\nfast %+v\nslow %+v", fast, slow)
		}
	}
}

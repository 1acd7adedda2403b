package sensor

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

func TestFilterExecEnv(t *testing.T) {
	env := []string{"PATH=/usr/bin", "LD_PRELOAD=/tmp/x.so", "AWS_SECRET_ACCESS_KEY=hunter2", "HISTFILE=/dev/null", "GLIBC_TUNABLES=glibc.malloc.check=3", "LDX=1", "=odd", "NOEQUALS"}
	for _, tc := range []struct {
		mode string
		want []string
	}{
		{"", []string{"LD_PRELOAD=/tmp/x.so", "HISTFILE=/dev/null", "GLIBC_TUNABLES=glibc.malloc.check=3"}},
		{ExecEnvSecurity, []string{"LD_PRELOAD=/tmp/x.so", "HISTFILE=/dev/null", "GLIBC_TUNABLES=glibc.malloc.check=3"}},
		{ExecEnvAll, env},
	} {
		ev := &event.Event{ID: event.IDSchedProcessExec, Args: map[string]any{"env": slices.Clone(env)}}
		filterExecEnv(ev, tc.mode)
		if got := ev.Args["env"].([]string); !slices.Equal(got, tc.want) {
			t.Errorf("mode %q: env = %q, want %q", tc.mode, got, tc.want)
		}
	}
	ev := &event.Event{ID: event.IDSchedProcessExec, Args: map[string]any{"env": env}}
	filterExecEnv(ev, ExecEnvNone)
	if _, ok := ev.Args["env"]; ok {
		t.Errorf("mode none kept env: %v", ev.Args)
	}
	// other events are left alone
	other := &event.Event{ID: event.IDExecve, Args: map[string]any{"env": slices.Clone(env)}}
	filterExecEnv(other, ExecEnvSecurity)
	if !slices.Equal(other.Args["env"].([]string), env) {
		t.Errorf("execve's args changed: %v", other.Args)
	}
	if err := checkExecEnv("some"); err == nil {
		t.Error("exec env mode \"some\" accepted")
	}
}

// An exec carries the loader variables of the new program's environment, not
// the others, and what its stdin and stdout are.
func TestSensorExecEnvAndStdio(t *testing.T) {
	ls := startSensor(t)
	cmd := exec.Command("/bin/true", "vigil-env-test")
	cmd.Env = append(os.Environ(), "LD_PRELOAD=/nonexistent/vigil.so", "VIGIL_SECRET=hunter2")
	if _, err := cmd.Output(); err != nil { // Output: stdout is a pipe
		t.Fatal(err)
	}
	ev := ls.waitFor(t, "exec of /bin/true vigil-env-test", func(ev *event.Event) bool {
		a, _ := ev.Args["argv"].([]string)
		return ev.Name == "sched_process_exec" && ev.Process.HostPid == uint32(cmd.Process.Pid) && slices.Contains(a, "vigil-env-test")
	})
	env, _ := ev.Args["env"].([]string)
	if !slices.Contains(env, "LD_PRELOAD=/nonexistent/vigil.so") {
		t.Errorf("env %q lacks LD_PRELOAD", env)
	}
	for _, kv := range env {
		if kv == "VIGIL_SECRET=hunter2" {
			t.Errorf("env %q keeps a variable the default mode drops", env)
		}
	}
	if ev.Args["stdout_type"] != "pipe" {
		t.Errorf("stdout_type = %v, want pipe", ev.Args["stdout_type"])
	}
	if ev.Args["stdin_type"] != "chr" { // exec.Cmd gives /dev/null
		t.Errorf("stdin_type = %v, want chr (/dev/null)", ev.Args["stdin_type"])
	}
}

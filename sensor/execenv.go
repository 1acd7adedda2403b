package sensor

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// How much of a program's environment sched_process_exec events keep. The
// kernel side always reads the whole area (one copy); what leaves the sensor
// is chosen here, because environments carry secrets (tokens, passwords) that
// have no business on a message bus by default.
const (
	ExecEnvSecurity = "security" // the variables below (the default)
	ExecEnvAll      = "all"      // every variable
	ExecEnvNone     = "none"     // no env argument at all
)

// securityEnvPrefixes are variables that change how a program loads code,
// where its shell history goes or which startup files run: what LD_PRELOAD
// injection, history evasion and glibc loader exploits (GCONV_PATH for
// pkexec, GLIBC_TUNABLES) set.
var securityEnvPrefixes = []string{"LD_"}

var securityEnvNames = map[string]bool{
	"HISTFILE": true, "HISTFILESIZE": true, "HISTSIZE": true, "HISTCONTROL": true, "HISTIGNORE": true,
	"BASH_ENV": true, "ENV": true, "PROMPT_COMMAND": true,
	"GCONV_PATH": true, "GLIBC_TUNABLES": true, "LOCPATH": true,
	"PYTHONPATH": true, "PYTHONSTARTUP": true, "PERL5LIB": true, "PERL5OPT": true,
	"RUBYLIB": true, "RUBYOPT": true, "NODE_OPTIONS": true,
	"JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true,
}

func checkExecEnv(mode string) error {
	switch mode {
	case "", ExecEnvSecurity, ExecEnvAll, ExecEnvNone:
		return nil
	}
	return fmt.Errorf("exec environment %q: want %s, %s or %s", mode, ExecEnvSecurity, ExecEnvAll, ExecEnvNone)
}

// filterExecEnv applies the configured mode to an exec event's env argument.
func filterExecEnv(ev *event.Event, mode string) {
	if ev.ID != event.IDSchedProcessExec {
		return
	}
	env, ok := ev.StringsArg(execEnvArg)
	if !ok {
		return
	}
	switch mode {
	case ExecEnvAll:
		return
	case ExecEnvNone:
		ev.DeleteArg(execEnvArg)
		return
	}
	kept := env[:0]
	for _, kv := range env {
		if keepEnvVar(kv) {
			kept = append(kept, kv)
		}
	}
	ev.SetStringsArg(execEnvArg, kept)
}

// execEnvArg is the index of sched_process_exec's env: read by index, the
// arguments need no map (Config.LazyArgs).
var execEnvArg = event.MustArgIndex(event.IDSchedProcessExec, "env", event.TypeStrArray)

func keepEnvVar(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	if securityEnvNames[name] {
		return true
	}
	for _, p := range securityEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// A #! script dropped into a scratch folder and run: the exec loads the
// interpreter, and the script itself is what executable-dropped must judge.
// A source tree unpacked into a scratch folder that runs its configure
// (which writes config.status and runs it) and a Python virtual environment
// made in a scratch folder whose pip is run must stay quiet.
func init() {
	scenarios = append(scenarios,
		scenario{"script written into a scratch folder by a shell and run", scenarioScriptDropped},
		scenario{"source tree unpacked into a scratch folder runs its configure", scenarioConfigureRun},
		scenario{"Python virtual environment made in a scratch folder runs its pip", scenarioVenvPip},
	)
}

// scenarioScriptDropped: a shell writes a script (printf, as echo or a
// here-document would), makes it executable, and it is run by its path,
// once as update.sh and once as a hidden file.
func scenarioScriptDropped(t *testing.T, env *e2eEnv) []expectation {
	sh := resolved(t, "sh")
	dir := t.TempDir()
	var expect []expectation
	for _, name := range []string{"update.sh", ".update"} {
		script := filepath.Join(dir, name)
		write := exec.Command(sh, "-c", `printf '#!/bin/sh\nexit 0\n' > "$0" && chmod 755 "$0"`, script)
		if out, err := write.CombinedOutput(); err != nil {
			t.Fatalf("writing %s: %v: %s", script, err, out)
		}
		writer := uint64(write.Process.Pid)
		pid := runQuiet(t, exec.Command(script))
		expect = append(expect, expectation{what: "a script written by " + comm(sh) + " into " + script + " and run", sigID: "executable-dropped", pid: pid,
			exe: isExe(sh), exeDoc: sh, comm: comm(name), event: "sched_process_exec",
			also: func(ev *event.Event) bool {
				return ev.Args["script_pathname"] == script && ev.Args["script_writer_pid"] == writer && ev.Args["script_writer_comm"] == comm(sh)
			}})
	}
	return expect
}

// scenarioConfigureRun: a release tarball of a source tree unpacked into a
// scratch folder; its configure writes config.status and runs it, the way
// autoconf's does.
func scenarioConfigureRun(t *testing.T, env *e2eEnv) []expectation {
	src := t.TempDir()
	configure := "#!/bin/sh\nprintf '#!/bin/sh\\necho configured\\n' > config.status\nchmod +x config.status\nexec ./config.status\n"
	if err := os.WriteFile(filepath.Join(src, "configure"), []byte(configure), 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "pkg-1.0.tar.gz")
	runBenign(t, env, "tar", "-czf", archive, "-C", src, ".")
	tree := t.TempDir()
	runBenign(t, env, "tar", "-xzf", archive, "-C", tree)
	run := exec.Command("./configure")
	run.Dir = tree
	if out, err := run.CombinedOutput(); err != nil || string(out) != "configured\n" {
		t.Fatalf("./configure: %v: %q", err, out)
	}
	env.benign = append(env.benign, uint32(run.Process.Pid))
	return nil
}

// scenarioVenvPip: python3 -m venv in a scratch folder (ensurepip writes
// bin/pip, a script whose #! line names the environment's python), then
// bin/pip run by its path.
func scenarioVenvPip(t *testing.T, env *e2eEnv) []expectation {
	venv := filepath.Join(t.TempDir(), "venv")
	runBenign(t, env, resolved(t, "python3"), "-m", "venv", venv)
	runBenign(t, env, filepath.Join(venv, "bin", "pip"), "--version")
	return nil
}

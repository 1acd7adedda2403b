package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Everyday administration that must stay quiet with the shipped signatures:
// a package built, installed (dpkg, then apt-get from the local file, no
// network), run and purged; programs put in place by install(1) and run;
// an archive holding programs unpacked into a scratch folder. (Programs that
// fork and exec literal arguments, fexecve, a clone full of BPF objects,
// useradd/userdel and a Go build run in place are in e2e_fidelity_test.go.)
func init() {
	scenarios = append(scenarios,
		scenario{"package built, installed with dpkg and apt-get, run and purged", scenarioPackageManager},
		scenario{"programs put in place by install(1) and run", scenarioInstallRun},
		scenario{"archive with programs unpacked into a scratch folder", scenarioUnpackPrograms},
	)
}

// benignStepTimeout bounds each command of these scenarios.
const benignStepTimeout = 2 * time.Minute

// runBenign runs one command of a benign workload, bounded in time, and
// returns its pid; a failure ends the test with the command's output.
func runBenign(t *testing.T, env *e2eEnv, name string, args ...string) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), benignStepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil {
		env.benign = append(env.benign, uint32(cmd.Process.Pid))
	}
	if err != nil {
		t.Fatalf("%s %s: %v (within %s)\n%s", name, strings.Join(args, " "), err, benignStepTimeout, out)
	}
	return uint32(cmd.Process.Pid)
}

const benignPkg = "vigil-e2e-benign"

// scenarioPackageManager: a package with a program, a wrapper script and
// maintainer scripts that run the program, built with dpkg-deb, installed
// with dpkg -i, run, reinstalled with apt-get from the local file (apt's
// methods drop to _apt and back, no network is needed), and purged.
func scenarioPackageManager(t *testing.T, env *e2eEnv) []expectation {
	for _, tool := range []string{"dpkg-deb", "dpkg", "apt-get"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("package managers at work: %s is needed on this Debian-style machine: %v", tool, err)
		}
	}
	root := filepath.Join(t.TempDir(), "pkg")
	lib := filepath.Join(root, "usr/local/lib", benignPkg)
	bin := filepath.Join(root, "usr/local/bin")
	for _, d := range []string{filepath.Join(root, "DEBIAN"), lib, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, resolved(t, "true"), filepath.Join(lib, "helper"), 0o755)
	files := map[string]string{
		"DEBIAN/control": "Package: " + benignPkg + "\nVersion: 1.0\nArchitecture: all\nMaintainer: vigil <vigil@example.invalid>\n" +
			"Description: vigil end-to-end test package\n A helper and a wrapper, installed and removed by the test.\n",
		"DEBIAN/postinst":            "#!/bin/sh\nset -e\n/usr/local/lib/" + benignPkg + "/helper --configure \"$@\"\n",
		"DEBIAN/prerm":               "#!/bin/sh\nset -e\n/usr/local/lib/" + benignPkg + "/helper --remove \"$@\"\n",
		"usr/local/bin/" + benignPkg: "#!/bin/sh\nexec /usr/local/lib/" + benignPkg + "/helper \"$@\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "DEBIAN/control"), 0o644); err != nil {
		t.Fatal(err)
	}
	// readable by _apt: apt's methods read the file as that user
	deb := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d.deb", benignPkg, os.Getpid()))
	t.Cleanup(func() { os.Remove(deb) })
	runBenign(t, env, "dpkg-deb", "--root-owner-group", "--build", root, deb)
	if err := os.Chmod(deb, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("dpkg", "--purge", benignPkg).Run() // after a failure halfway
	})
	lock := []string{"-o", "DPkg::Lock::Timeout=60"}
	runBenign(t, env, "dpkg", "-i", deb)
	runBenign(t, env, "/usr/local/bin/"+benignPkg, "--version")
	runBenign(t, env, "apt-get", append(lock, "install", "-y", "-q", "--reinstall", deb)...)
	runBenign(t, env, "dpkg", "--purge", benignPkg)
	if _, err := os.Stat("/usr/local/bin/" + benignPkg); !os.IsNotExist(err) {
		t.Errorf("package managers at work: /usr/local/bin/%s is still there after the purge (%v)", benignPkg, err)
	}
	return nil
}

// scenarioInstallRun: install(1) puts programs in place the way make install
// and build scripts do, into a scratch folder, and they are run there.
func scenarioInstallRun(t *testing.T, env *e2eEnv) []expectation {
	dir := t.TempDir()
	tool := filepath.Join(dir, "bin", "tool")
	runBenign(t, env, "install", "-D", "-m755", resolved(t, "true"), tool)
	runBenign(t, env, tool, "--help")
	again := filepath.Join(dir, "tool2")
	runBenign(t, env, "install", "-m", "0755", resolved(t, "true"), again)
	runBenign(t, env, again)
	return nil
}

// scenarioUnpackPrograms: a tar archive holding an ELF program and a script
// (a release tarball) unpacked into a scratch folder. Nothing is run.
func scenarioUnpackPrograms(t *testing.T, env *e2eEnv) []expectation {
	src := t.TempDir()
	if err := os.Mkdir(filepath.Join(src, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, resolved(t, "true"), filepath.Join(src, "bin", "tool"), 0o755)
	if err := os.WriteFile(filepath.Join(src, "bin", "run.sh"), []byte("#!/bin/sh\nexec \"$(dirname \"$0\")/tool\" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "release.tar.gz")
	runBenign(t, env, "tar", "-czf", archive, "-C", src, ".")
	runBenign(t, env, "tar", "-xzf", archive, "-C", t.TempDir())
	runBenign(t, env, "tar", "-xf", archive, "-C", t.TempDir())
	return nil
}

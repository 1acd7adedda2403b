package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// The file family's behaviours: a credential file read, a persistence file
// written, an executable dropped in /tmp, a program deleting itself, shell
// history sent to /dev/null, a set-user-id bit set, writable memory made
// executable.
func init() {
	scenarios = append(scenarios,
		scenario{"credential file read", scenarioShadowRead},
		scenario{"persistence file written", scenarioPersistenceWrite},
		scenario{"executable dropped in /tmp", scenarioELFDrop},
		scenario{"executable written into a memfd", scenarioMemfdWrite},
		scenario{"self-deleting program", scenarioSelfDelete},
		scenario{"history and set-user-id tampering", scenarioFsops},
		scenario{"writable memory made executable", scenarioWXMemory},
		scenario{"root-worthy file capabilities set", scenarioSetcap},
		scenario{"cloud credentials harvested", scenarioCloudCredentials},
		scenario{"library planted among the system's", scenarioSystemLibrary},
		scenario{"private key made readable by every user", scenarioKeyReadable},
		scenario{"a root certificate copied into the trusted authorities", scenarioRootCertificate},
	)
	benignWorkloads = append(benignWorkloads,
		[]string{"cat", "/etc/passwd"},
		// reading /etc/hostname and listing persistence folders, where
		// they exist
		[]string{"sh", "-c", "cat /etc/hostname; ls -l /etc/cron.d /etc/systemd/system; true"},
		// a text file in /tmp, written and removed
		[]string{"sh", "-c", `f=/tmp/vigil-benign-$$; echo hello > "$f"; chmod 0755 "$f"; rm "$f"`},
		// a file named like a private key, and a script, opened up in a
		// scratch folder
		[]string{"sh", "-c", `d=$(mktemp -d); touch "$d/id_rsa" "$d/run.sh"; chmod 0644 "$d/id_rsa"; chmod 0777 "$d/run.sh"; rm -rf "$d"`},
		// a harmless file capability, as ping gets (where setcap is installed)
		[]string{"sh", "-c", `f=/tmp/vigil-benign-cap-$$; echo hello > "$f"; ! command -v setcap >/dev/null || setcap cap_net_raw+ep "$f"; rm "$f"`},
	)
}

type triggerReport struct {
	Pid  uint32 `json:"pid"`
	Exe  string `json:"exe"`
	Path string `json:"path"`
	File string `json:"file"`
}

func argIs(name, want string) func(*event.Event) bool {
	return func(ev *event.Event) bool { return ev.Args[name] == want }
}

// scenarioShadowRead: root reads /etc/shadow with a program that is not part
// of the authentication stack.
func scenarioShadowRead(t *testing.T, env *e2eEnv) []expectation {
	var r triggerReport
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "openfile"), "/etc/shadow"), &r)
	return []expectation{{what: "/etc/shadow read by root", sigID: "credential-file-access", pid: r.Pid,
		exe: isExe(r.Exe), exeDoc: r.Exe, comm: "openfile", event: "security_file_open", also: argIs("pathname", "/etc/shadow")}}
}

// scenarioPersistenceWrite: a file created in a persistence location: cron's
// /etc/cron.d where it exists. It holds a comment only, and is removed at
// once.
func scenarioPersistenceWrite(t *testing.T, env *e2eEnv) []expectation {
	var dir string
	for _, d := range []string{"/etc/cron.d", "/etc/profile.d", "/etc/systemd/system"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Fatal("none of /etc/cron.d, /etc/profile.d, /etc/systemd/system exists to write a persistence file into")
	}
	file := filepath.Join(dir, "vigil-e2e-test")
	t.Cleanup(func() { os.Remove(file) })
	var r triggerReport
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "openfile"), "-create", "-write", "-remove",
		"-content", "# written and removed by vigil's end-to-end test\n", file), &r)
	return []expectation{{what: "file created in " + dir, sigID: "persistence-file-write", pid: r.Pid,
		exe: isExe(r.Exe), exeDoc: r.Exe, comm: "openfile", event: "security_file_open", also: argIs("pathname", file)}}
}

// scenarioELFDrop: a copy of an ELF program written into /tmp.
func scenarioELFDrop(t *testing.T, env *e2eEnv) []expectation {
	var r triggerReport
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "elfdrop"), "/tmp"), &r)
	return []expectation{{what: "ELF written to " + r.File, sigID: "executable-dropped", pid: r.Pid,
		exe: isExe(r.Exe), exeDoc: r.Exe, comm: "elfdrop", event: "magic_write", also: argIs("pathname", r.File)}}
}

// scenarioMemfdWrite: /bin/true copied into a memfd (and run from there).
func scenarioMemfdWrite(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid   uint32 `json:"pid"`
		Memfd string `json:"memfd"`
	}
	trig := filepath.Join(env.triggers, "memfdexec")
	runTrigger(t, exec.Command(trig, "/bin/true"), &r)
	return []expectation{{what: "ELF written into memfd " + r.Memfd, sigID: "executable-dropped", pid: r.Pid,
		exe: isExe(trig), exeDoc: trig, comm: "memfdexec", event: "magic_write",
		also: func(ev *event.Event) bool {
			p, _ := ev.Args["pathname"].(string)
			return strings.HasPrefix(p, "/memfd:"+r.Memfd)
		}}}
}

// scenarioSelfDelete: a program copies itself to /tmp, runs the copy, and the
// copy deletes its own file.
func scenarioSelfDelete(t *testing.T, env *e2eEnv) []expectation {
	var r triggerReport
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "selfdelete"), "/tmp"), &r)
	comm := filepath.Base(r.Exe)
	comm = comm[:min(len(comm), 15)]
	return []expectation{
		{what: "program deleting its own file " + r.Exe, sigID: "self-deleting-program", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: comm, event: "security_inode_unlink", also: argIs("pathname", r.Exe)},
		// the copy is written by the first program, before the exec
		{what: "copy of the program dropped in /tmp", sigID: "executable-dropped", pid: r.Pid,
			exe: isExe(filepath.Join(env.triggers, "selfdelete")), exeDoc: "the selfdelete trigger", comm: "selfdelete", event: "magic_write", also: argIs("pathname", r.Exe)},
	}
}

// scenarioFsops: in a scratch directory, a shell history linked to /dev/null
// and a file made set-user-id (among other file system operations).
func scenarioFsops(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid     uint32 `json:"pid"`
		Exe     string `json:"exe"`
		Renamed string `json:"renamed"`
		Symlink string `json:"symlink"`
		Error   string `json:"error"`
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "fsops"), dir), &r)
	if r.Error != "" {
		t.Fatalf("fsops: %s", r.Error)
	}
	return []expectation{
		{what: ".bash_history linked to /dev/null", sigID: "log-tampering", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "fsops", event: "security_inode_symlink", also: argIs("pathname", r.Symlink)},
		{what: "chmod 04755", sigID: "setuid-bit-set", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "fsops", event: "security_path_chmod", also: argIs("pathname", r.Renamed)},
	}
}

// scenarioKeyReadable: an SSH host key (one made for the test, removed
// after it) given mode 0644 by chmod.
func scenarioKeyReadable(t *testing.T, _ *e2eEnv) []expectation {
	ensureDir(t, "/etc/ssh")
	key := fmt.Sprintf("/etc/ssh/ssh_host_vigile2e%d_key", os.Getpid())
	if err := os.WriteFile(key, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(key) })
	chmod := resolved(t, "chmod")
	cmd := exec.Command(chmod, "0644", key)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chmod: %v: %s", err, out)
	}
	return []expectation{{what: "chmod 0644 of an SSH host key", sigID: "sensitive-file-permissions", pid: uint32(cmd.Process.Pid),
		exe: isExe(chmod), exeDoc: chmod, comm: "chmod", event: "security_path_chmod", also: argIs("pathname", key)}}
}

// ensureDir makes the system folder dir where the machine has none,
// removed again when the test ends.
func ensureDir(t *testing.T, dir string) {
	if _, err := os.Stat(dir); err == nil {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
}

// scenarioRootCertificate: cp puts a certificate (a throwaway file, removed
// after) into the folder of authorities update-ca-certificates trusts.
func scenarioRootCertificate(t *testing.T, _ *e2eEnv) []expectation {
	const dir = "/usr/local/share/ca-certificates"
	ensureDir(t, dir)
	src := filepath.Join(t.TempDir(), "corp-root.crt")
	if err := os.WriteFile(src, []byte("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, fmt.Sprintf("vigile2e%d.crt", os.Getpid()))
	t.Cleanup(func() { os.Remove(dst) })
	cp := resolved(t, "cp")
	cmd := exec.Command(cp, src, dst)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return []expectation{{what: "a certificate copied into " + dir, sigID: "root-certificate-installed", pid: uint32(cmd.Process.Pid),
		exe: isExe(cp), exeDoc: cp, comm: "cp", event: "security_file_open", also: argIs("pathname", dst)}}
}

// scenarioWXMemory: anonymous memory written and made executable, and a
// mapping asked for writable and executable.
func scenarioWXMemory(t *testing.T, env *e2eEnv) []expectation {
	var r triggerReport
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "wxmem")), &r)
	var out []expectation
	for _, alert := range []string{"mprotect_x_after_w", "mmap_wx", "mprotect_wx"} {
		out = append(out, expectation{what: "mem_prot_alert " + alert, sigID: "wx-memory", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "wxmem", event: "mem_prot_alert", also: argIs("alert", alert)})
	}
	return out
}

// scenarioSetcap: three files given cap_setuid (and cap_net_raw) as setcap
// +ep does, by path and by descriptor, and one for a user namespace's root.
func scenarioSetcap(t *testing.T, env *e2eEnv) []expectation {
	var r struct {
		Pid    uint32 `json:"pid"`
		Exe    string `json:"exe"`
		ByPath string `json:"by_path"`
		ByFd   string `json:"by_fd"`
		V3     string `json:"v3"`
	}
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "setcap"), t.TempDir()), &r)
	var out []expectation
	for _, p := range []string{r.ByPath, r.ByFd, r.V3} {
		out = append(out, expectation{what: "cap_setuid given to " + p, sigID: "file-capabilities-set", pid: r.Pid,
			exe: isExe(r.Exe), exeDoc: r.Exe, comm: "setcap", event: "setxattr", also: argIs("pathname", p)})
	}
	return out
}

// scenarioCloudCredentials: cat reads an AWS credentials file in a home
// folder made for the test (and removed after it). The same file read by
// the AWS CLI would be its normal use; a generic file tool is harvesting.
func scenarioCloudCredentials(t *testing.T, _ *e2eEnv) []expectation {
	home, err := os.MkdirTemp("/home", "vigil-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	creds := filepath.Join(home, ".aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(creds), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = AKIAVIGILE2ETEST0000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cat := resolved(t, "cat")
	cmd := exec.Command(cat, creds)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return []expectation{{what: "cat of ~/.aws/credentials", sigID: "credential-file-access", pid: uint32(cmd.Process.Pid),
		exe: isExe(cat), exeDoc: cat, comm: "cat", event: "security_file_open", also: argIs("pathname", creds)}}
}

// scenarioSystemLibrary: a file created in /usr/lib, as a planted library
// is, and removed at once.
func scenarioSystemLibrary(t *testing.T, env *e2eEnv) []expectation {
	file := fmt.Sprintf("/usr/lib/libvigil-e2e-%d.so.1", os.Getpid())
	t.Cleanup(func() { os.Remove(file) })
	var r triggerReport
	runTrigger(t, exec.Command(filepath.Join(env.triggers, "openfile"), "-create", "-write", "-remove",
		"-content", "not a library: written and removed by vigil's end-to-end test\n", file), &r)
	return []expectation{{what: "library created in /usr/lib", sigID: "system-binary-modified", pid: r.Pid,
		exe: isExe(r.Exe), exeDoc: r.Exe, comm: "openfile", event: "security_file_open", also: argIs("pathname", file)}}
}

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	testsDir    = "/tests"
	triggersDir = "/triggers"
	// debugExitPort is the iobase of "-device isa-debug-exit,iobase=0xf4,iosize=0x04".
	debugExitPort = 0xf4
)

// Exit codes written to isa-debug-exit; qemu exits with (code<<1)|1.
const (
	codePass    = 0
	codeFail    = 1
	codeNoTests = 2
)

type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

var mounts = []mount{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	// No nosuid on /tmp: tests may copy a binary there and make it setuid.
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NODEV, "mode=1777"},
	{"tracefs", "/sys/kernel/tracing", "tracefs", 0, ""},
	{"debugfs", "/sys/kernel/debug", "debugfs", 0, ""},
	{"bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"},
	{"securityfs", "/sys/kernel/security", "securityfs", 0, ""},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "nsdelegate"},
}

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "vminit: this is the /init of the vmtest VM; it must run as PID 1 inside the VM")
		os.Exit(2)
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			logf("mkdir %s: %v", m.target, err)
		}
		if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil && !errors.Is(err, unix.EBUSY) {
			logf("mount %s on %s: %v", m.fstype, m.target, err)
		}
	}
	reopenConsole()
	if err := loopbackUp(); err != nil {
		logf("bringing lo up: %v", err)
	}
	banner()

	code := run(os.Args[1:])
	finish(code)
}

func logf(format string, args ...any) {
	fmt.Printf("vmtest: "+format+"\n", args...)
}

// reopenConsole gives init a stdout when the initramfs lacked /dev/console
// (then the kernel starts init without open descriptors); devtmpfs has it.
func reopenConsole() {
	if _, err := unix.FcntlInt(1, unix.F_GETFD, 0); err == nil {
		return
	}
	fd, err := unix.Open("/dev/console", unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return
	}
	for i := 0; i < 3; i++ {
		unix.Dup2(fd, i)
	}
	if fd > 2 {
		unix.Close(fd)
	}
}

func uptime() string {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func banner() {
	var u unix.Utsname
	release := "?"
	if err := unix.Uname(&u); err == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	// The host reads "init started" and "uptime" back for the boot time.
	logf("init started: kernel %s uptime %ss", release, uptime())
	if b, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		logf("active LSMs: %s", b)
	}
	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		logf("cmdline: %s", strings.TrimSpace(string(b)))
	}
}

// testBinaries lists /tests/<name>/<name>.test in name order.
func testBinaries() []string {
	bins, _ := filepath.Glob(filepath.Join(testsDir, "*", "*.test"))
	sort.Strings(bins)
	return bins
}

func childEnv() []string {
	env := os.Environ()
	set := map[string]bool{}
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok {
			set[k] = true
		}
	}
	for _, kv := range []string{
		"PATH=/bin:/sbin:/usr/bin:/usr/sbin",
		"HOME=/root",
		"TMPDIR=/tmp",
		"VIGIL_TRIGGERS_DIR=" + triggersDir,
		"VMTEST=1",
	} {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			env = append(env, kv)
		}
	}
	return env
}

// run runs every test binary with args and returns the exit code for qemu.
func run(args []string) int {
	bins := testBinaries()
	if len(bins) == 0 {
		logf("VERDICT FAIL no test binaries under %s", testsDir)
		return codeNoTests
	}
	env := childEnv()
	var failed []string
	for _, bin := range bins {
		name := filepath.Base(bin)
		logf("RUN %s %s", name, strings.Join(args, " "))
		start := time.Now()
		cmd := exec.Command(bin, args...)
		cmd.Dir = filepath.Dir(bin)
		cmd.Env = env
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stdout
		err := cmd.Run()
		status := "exit 0"
		if err != nil {
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee) && ee.ExitCode() >= 0:
				status = fmt.Sprintf("exit %d", ee.ExitCode())
			case errors.As(err, &ee):
				status = "killed: " + ee.ProcessState.String() // a signal, never a pass
			default:
				status = "not started: " + err.Error()
			}
			failed = append(failed, name+"="+status)
		}
		logf("DONE %s %s in %.2fs", name, status, time.Since(start).Seconds())
	}
	if len(failed) > 0 {
		logf("VERDICT FAIL %s", strings.Join(failed, ", "))
		return codeFail
	}
	logf("VERDICT PASS")
	return codePass
}

// finish makes sure the console has sent everything, tells qemu the result
// through isa-debug-exit and powers off. PID 1 must never return: the kernel
// would panic.
func finish(code int) {
	logf("finished at uptime %ss", uptime())
	unix.Sync()
	// TCSBRK with a non-zero argument is tcdrain(): wait until the serial
	// port has sent the output, or qemu may exit before the verdict is out.
	unix.IoctlSetInt(1, unix.TCSBRK, 1)
	if err := debugExit(debugExitPort, uint8(code)); err != nil {
		logf("isa-debug-exit: %v", err)
	}
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		logf("power off: %v", err)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// loopbackUp sets IFF_UP on lo; nothing else configures networking here.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

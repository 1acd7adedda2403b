package engine

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// genEvents returns n synthetic events with the mix of a busy Linux host:
// mostly process lifecycle (fork, exec, exit), some credential changes, rare
// module loads, and a sprinkling of suspicious ones (memfd and /dev/shm
// execs, uid raised to root) so that signatures do fire. Deterministic for a
// seed. Ancestor chains and argv are shared between events, as a process
// table would share them.
func genEvents(n int, seed uint64) []*event.Event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)
	chains := [][]event.Ancestor{
		{{Pid: 812, HostPid: 812, Comm: "nginx", Exe: "/usr/sbin/nginx", UID: 33}, {Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd"}},
		{{Pid: 1500, HostPid: 1500, Comm: "bash", Exe: "/usr/bin/bash", Argv: []string{"-bash"}, UID: 1000}, {Pid: 1400, HostPid: 1400, Comm: "sshd", Exe: "/usr/sbin/sshd"}, {Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd"}},
		{{Pid: 2200, HostPid: 2200, Comm: "make", Exe: "/usr/bin/make", UID: 1000}, {Pid: 1500, HostPid: 1500, Comm: "bash", Exe: "/usr/bin/bash", UID: 1000}, {Pid: 1, HostPid: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd"}},
		{{Pid: 1, HostPid: 1, Comm: "containerd-shim", Exe: "/usr/bin/containerd-shim-runc-v2"}},
	}
	progs := []struct {
		path string
		argv []string
	}{
		{"/usr/bin/ls", []string{"ls", "-la", "/var/log"}},
		{"/usr/bin/cat", []string{"cat", "/etc/os-release"}},
		{"/usr/bin/gcc", []string{"gcc", "-O2", "-c", "main.c", "-o", "main.o"}},
		{"/usr/bin/git", []string{"git", "status", "--porcelain"}},
		{"/usr/bin/python3.12", []string{"python3", "-m", "pytest", "-q"}},
		{"/usr/bin/dash", []string{"sh", "-c", "uname -a | tee /tmp/u"}},
		{"/tmp/build/configure", []string{"./configure", "--prefix=/usr"}},
	}
	opens := []string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/ld.so.cache", "/proc/self/status", "/etc/os-release",
		"/etc/passwd", "/usr/share/locale/locale.alias", "/home/dev/src/main.c", "/var/lib/dpkg/status",
	}
	out := make([]*event.Event, n)
	for i := range out {
		pid := uint32(2000 + r.IntN(30000))
		uid := uint32(1000)
		if r.IntN(4) == 0 {
			uid = 0
		}
		prog := progs[r.IntN(len(progs))]
		ev := &event.Event{
			Time: base.Add(time.Duration(i) * 37 * time.Microsecond),
			Host: "bench-host",
			Process: event.Process{
				Pid: pid, Tid: pid, Ppid: pid - 1, HostPid: pid, HostTid: pid, HostPpid: pid - 1,
				UID: uid, GID: uid, EUID: uid, EGID: uid,
				Comm: prog.argv[0], Exe: prog.path, Argv: prog.argv,
				CgroupID: 4242, MntNS: 4026531841, PidNS: 4026531836,
				Ancestors: chains[r.IntN(len(chains))],
			},
		}
		switch k := r.IntN(1000); {
		case k < 250:
			ev.Name = "sched_process_fork"
			ev.Args = map[string]any{
				"parent_pid": uint64(pid), "parent_tid": uint64(pid), "child_pid": uint64(pid + 1),
				"child_tid": uint64(pid + 1), "child_ns_pid": uint64(pid + 1), "thread": r.IntN(3) == 0,
				"start_time": uint64(i) * 1000,
			}
		case k < 500:
			ev.Name = "sched_process_exit"
			ev.Args = map[string]any{"exit_code": int64(0), "group_exit": true}
		case k < 650:
			// the hottest event of a real host: shared libraries, /proc,
			// configuration, now and then a credential file
			ev.Name = "security_file_open"
			path := opens[r.IntN(len(opens))]
			if r.IntN(500) == 0 {
				path = "/etc/shadow"
			}
			ev.Args = map[string]any{
				"pathname": path, "flags": uint64(0o2000000), "mode": uint64(0), "dev": uint64(2049),
				"inode": uint64(r.IntN(1 << 20)), "fs_type": "ext4", "created": false, "syscall": "openat",
			}
		case k < 750:
			ev.Name = "execve"
			ev.Args = map[string]any{"pathname": prog.path, "argv": prog.argv}
		case k < 850:
			ev.Name = "sched_process_exec"
			path, memfd, deleted, fstype := prog.path, false, false, "ext4"
			switch s := r.IntN(200); {
			case s == 0:
				path, memfd, deleted, fstype = "/memfd:x (deleted)", true, true, "tmpfs"
			case s == 1:
				path, fstype = "/dev/shm/.x/miner", "tmpfs"
			case s < 40:
				fstype = "tmpfs" // /tmp on tmpfs: must not fire
			}
			ev.Args = map[string]any{
				"pathname": path, "filename": prog.path, "interpreter": "", "argv": prog.argv,
				"dev": uint64(2049), "inode": uint64(r.IntN(1 << 20)), "mode": uint64(0o100755),
				"memfd": memfd, "deleted": deleted, "fs_type": fstype, "stdin_type": "pipe",
				"old_pid": uint64(pid), "setuid": false,
			}
		case k < 900:
			names := []string{"setuid", "setresuid", "setgid", "setresgid", "setfsuid", "setfsgid"}
			ev.Name = names[r.IntN(len(names))]
			ev.Args = map[string]any{}
			spec, _ := event.Lookup(ev.Name)
			for _, a := range spec.Args {
				ev.Args[a.Name] = uint64(uid)
			}
		case k < 960:
			ev.Name = "commit_creds"
			newUID := uid
			if r.IntN(20) == 0 {
				newUID = 0
			}
			ev.Args = map[string]any{
				"old_uid": uint64(uid), "old_gid": uint64(uid), "old_euid": uint64(uid), "old_egid": uint64(uid),
				"old_suid": uint64(uid), "old_sgid": uint64(uid), "old_fsuid": uint64(uid), "old_fsgid": uint64(uid),
				"old_cap_effective": uint64(0),
				"new_uid":           uint64(newUID), "new_gid": uint64(uid), "new_euid": uint64(newUID), "new_egid": uint64(uid),
				"new_suid": uint64(newUID), "new_sgid": uint64(uid), "new_fsuid": uint64(newUID), "new_fsgid": uint64(uid),
				"new_cap_effective": uint64(0x1ffffffffff), "syscall": "setuid",
			}
		case k < 980:
			ev.Name = "memfd_create"
			ev.Args = map[string]any{"name": "jit-cache", "flags": uint64(1)}
		case k < 990:
			ev.Name = "capset"
			ev.Args = map[string]any{"pid": int64(0), "effective": uint64(0), "permitted": uint64(0), "inheritable": uint64(0)}
		default:
			if r.IntN(2) == 0 {
				ev.Name = "finit_module"
				ev.Args = map[string]any{"fd": int64(3), "pathname": fmt.Sprintf("/lib/modules/m%d.ko", r.IntN(50)), "param_values": "", "flags": int64(0)}
			} else {
				ev.Name = "init_module"
				ev.Args = map[string]any{"len": uint64(40960), "param_values": ""}
			}
			ev.ReturnValue = -1
		}
		spec, _ := event.Lookup(ev.Name)
		ev.ID = spec.ID
		out[i] = ev
	}
	return out
}

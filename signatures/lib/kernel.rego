# Helpers of the kernel-facilities signatures (namespaces, ptrace and
# process_vm_*, bpf(), kexec): the programs that use those facilities for a
# living, and a guard against programs that merely borrow such a name.
package vigil.lib

# world_writable_dirs are where anyone can drop a program. A "gdb" or a
# "bpftool" running from one of them is not the system's: the exclusions
# below do not apply to it.
world_writable_dirs := ["/tmp", "/var/tmp", "/dev/shm", "/run/shm"]

# installed_as(p, names) is true when the process p (input.process or an
# ancestor) is named one of names and its program does not lie in a
# world-writable directory, false otherwise. A process whose exe is unknown
# is judged by its name alone.
default installed_as(_, _) := false

installed_as(p, names) if {
	is_process_named(p, names)
	not under(object.get(p, "exe", ""), world_writable_dirs)
}

# host_pid_ns is the inode of the initial pid namespace, fixed by the kernel
# (PROC_PID_INIT_INO) since Linux 3.8: a process whose pid namespace is
# another runs in a container or a sandbox.
host_pid_ns := 4026531836

# debuggers are tracers that attach to processes and write into them as
# their job: breakpoints, register changes, injected calls. criu injects a
# parasite to checkpoint a process; proot rewrites syscalls with ptrace.
debuggers := {
	"gdb", "gdbserver", "gdb-multiarch", "lldb", "lldb-server", "dlv", "rr",
	"strace", "ltrace", "vgdb", "edb", "r2", "radare2", "criu", "proot",
}

# stack_samplers attach to running processes to read their stacks, without
# writing: profilers and crash reporters.
stack_samplers := {
	"py-spy", "rbspy", "eu-stack", "pstack", "gcore", "createdump",
	"dotnet-dump", "dotnet-trace", "crashpad_handler", "chrome_crashpad", "chrome_crashpad_handler",
}

# hpc_launchers start MPI programs whose ranks copy buffers into each other
# with process_vm_writev (cross-memory attach) as a matter of course.
hpc_launchers := {"mpirun", "mpiexec", "orterun", "orted", "prte", "prted", "prterun", "hydra_pmi_proxy", "srun", "slurmstepd"}

# bpf_agents load tracing, LSM and network BPF programs as their job:
# observability and security agents, network data planes, BPF tooling and
# systemd (RestrictFileSystems= is a BPF LSM program).
bpf_agents := {
	"bpftool", "bpftrace", "bpfman", "tracee", "tracee-ebpf", "falco", "sysdig",
	"tetragon", "cilium-agent", "cilium", "hubble", "calico-node", "calico-felix",
	"katran", "pixie", "pem", "parca-agent", "pyroscope", "system-probe",
	"security-agent", "falcon-sensor", "kepler", "retina-agent", "ig",
	"gadgettracermanager", "kubectl-gadget", "netdata", "ebpf.plugin", "ebpf_exporter",
	"suricata", "perf", "bpftune", "vigil", "systemd", "aws-network-policy-agent",
}

# bcc_tool is true when the process runs one of bcc's Python tools
# (/usr/share/bcc/tools/..., Debian's /usr/sbin/*-bpfcc), false otherwise.
default bcc_tool := false

bcc_tool if {
	some a in object.get(input.process, "argv", [])
	startswith(a, "/usr/share/bcc/")
}

bcc_tool if {
	some a in object.get(input.process, "argv", [])
	endswith(a, "-bpfcc")
}

# userns_sandboxes create user namespaces for unprivileged users on
# purpose: browser and desktop sandboxes, rootless container runtimes.
userns_sandboxes := {
	"chrome", "chromium", "chromium-browser", "chrome-sandbox", "msedge", "brave", "opera", "vivaldi",
	"firefox", "firefox-esr", "thunderbird", "electron", "code", "slack", "discord", "teams", "signal-desktop",
	"bwrap", "flatpak", "flatpak-portal", "pressure-vessel-wrap", "steam", "snap-confine",
	"podman", "buildah", "crun", "runc", "conmon", "rootlesskit", "slirp4netns", "pasta",
	"dockerd-rootless", "containerd-rootless", "buildkitd", "systemd-nspawn", "lxc-start", "lxc-usernsexec",
	"nsjail", "minijail0", "runsc", "toolbox", "distrobox",
}

# kdump_tools load the crash kernel at boot (kexec -p under a kdump service).
kdump_tools := {"kdump", "kdumpctl", "kdump-config", "kdump-tools", "kdump-lib"}

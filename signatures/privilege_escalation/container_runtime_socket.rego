# Container runtime socket: a process connects to the control socket of a
# container runtime (Docker, containerd, CRI-O, Podman, BuildKit, LXD).
#
# Whoever can talk to that socket commands the runtime, and the runtime
# runs as root on the host: one API call starts a privileged container with
# the host's root file system mounted (T1611), or deploys an attacker's
# image (T1610). Containers are given /var/run/docker.sock for CI jobs,
# dashboards and log shippers, under any path they like, so the socket is
# recognised by its file name wherever it lies.
#
# From inside a container every connect counts, whatever the program:
# the socket should not be reachable from there, and where it is on
# purpose (Docker-in-Docker, CI runners, Portainer, Traefik's docker
# provider) the finding says so once per connection. On the host the
# runtimes, their own command-line tools and the Kubernetes node
# components talk to these sockets all day; they are left out when they
# run from where they are installed. Anything else on the host (a script
# using a Docker SDK, curl --unix-socket, a program in /tmp) is reported.
# Refused attempts count too: a user outside the docker group gets EACCES.
#
# kubelet's own sockets (pod-resources, device-plugins) are not included:
# they do not hand out the host, and their legitimate clients (device
# plugins, GPU exporters) run in containers. Neither is a runtime's TCP
# listener (2375/2376): this signature looks at AF_UNIX only.
package vigil.signatures.container_runtime_socket

import data.vigil.lib

metadata := {
	"id": "container-runtime-socket",
	"name": "Container runtime socket connected to",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process inside a container, or a program on the host that is not a container runtime or one of its tools, connected (or tried to connect) to a container runtime's control socket (docker.sock, containerd.sock, crio.sock, podman.sock, buildkitd.sock, LXD's unix.socket, ...): whoever holds it can start a privileged container and take the host.",
	"tactics": ["TA0004", "TA0002", "TA0005"],
	"techniques": ["T1611", "T1610"],
	"tags": ["container", "escape", "docker", "socket"],
	"events": ["security_socket_connect"],
}

# runtime_sockets maps a control socket's file name to its runtime.
runtime_sockets := {
	# /run/docker.sock, rootless $XDG_RUNTIME_DIR/docker.sock, Docker
	# Desktop's ~/.docker/desktop/docker.sock
	"docker.sock": "docker",
	# /run/containerd/containerd.sock (k3s and microk8s keep theirs
	# elsewhere under the same name), and the ttrpc API beside it that
	# shims and `containerd publish` use
	"containerd.sock": "containerd",
	"containerd.sock.ttrpc": "containerd",
	"crio.sock": "cri-o",
	# rootful /run/podman/podman.sock, rootless under $XDG_RUNTIME_DIR
	"podman.sock": "podman",
	"cri-dockerd.sock": "cri-dockerd",
	# kubelet's built-in Docker shim, before Kubernetes 1.24
	"dockershim.sock": "dockershim",
	"buildkitd.sock": "buildkit",
}

socket := input.args.remote_addr

runtime := runtime_sockets[lib.basename(socket)]

# LXD and Incus name theirs unix.socket, a name too common to go by
# alone: their folder tells (/var/snap/lxd/common/lxd, /var/lib/incus).
runtime := "lxd" if endswith(socket, "/lxd/unix.socket")

runtime := "incus" if endswith(socket, "/incus/unix.socket")

# The runtimes, their command-line clients, the Kubernetes node agents
# and the service manager that starts them.
runtime_clients := {
	"docker", "dockerd", "docker-compose", "containerd", "ctr", "nerdctl",
	"crictl", "kubelet", "kubeadm", "podman", "podman-remote", "conmon",
	"crio", "cri-dockerd", "buildkitd", "buildctl", "runc", "crun", "systemd",
	"k3s", "rke2", "kubelite", "lxc", "lxd", "incus", "incusd",
}

# Where runtimes are installed outside the distribution's folders: by
# their release tarballs and install scripts (/usr/local), as snaps
# (docker, lxd, microk8s), and the binaries k3s and RKE2 unpack for
# themselves. All of them are writable by root only.
runtime_dirs := [
	"/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/local/libexec",
	"/snap", "/var/lib/rancher/k3s/data", "/var/lib/rancher/rke2/data",
]

# docker runs its plugins (compose, buildx, scan, ...) from these folders.
cli_plugin_dirs := [
	"/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins",
	"/usr/local/libexec/docker/cli-plugins", "/usr/local/lib/docker/cli-plugins",
]

exe := object.get(input.process, "exe", "")

known_client if lib.is_system_program(input.process, runtime_clients)

known_client if {
	lib.under(exe, runtime_dirs)
	lib.is_process_named(input.process, runtime_clients)
}

# every containerd shim, whatever runtime it drives (runc-v2, kata-v2,
# runsc-v1, ...): its comm is cut to "containerd-shim", its file name is not
known_client if {
	lib.under(exe, array.concat(lib.system_program_dirs, runtime_dirs))
	some name in lib.process_names(input.process)
	startswith(name, "containerd-shim")
}

known_client if lib.under(exe, cli_plugin_dirs)

container_id := object.get(input.process, "container_id", "")

in_container := container_id != ""

suspicious if in_container

suspicious if not known_client

# the kernel hook reports 0 (it runs before the connect), the syscall
# fallback 0 or -errno: ENOENT, ECONNREFUSED, EACCES outside the group
return_value := object.get(input, "return_value", 0)

finding contains {
	"socket": socket,
	"runtime": runtime,
	"in_container": in_container,
	"container_id": container_id,
	"succeeded": return_value >= 0,
	"return_value": return_value,
	"exe": exe,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	input.args.family == "AF_UNIX"
	runtime
	suspicious
}

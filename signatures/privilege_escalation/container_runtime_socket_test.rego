package vigil.signatures.container_runtime_socket

connect(proc, path, ret) := {
	"name": "security_socket_connect",
	"return_value": ret,
	"process": proc,
	"args": {
		"family": "AF_UNIX", "type": "SOCK_STREAM", "protocol": 0,
		"local_addr": "", "local_port": 0, "remote_addr": path, "remote_port": 0, "fd": 3,
	},
}

cid := "9f3b2c1d0e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c"

containerd_shim := {"pid": 2100, "comm": "containerd-shim", "exe": "/usr/bin/containerd-shim-runc-v2"}

# a process in a container, started by the container's shell
contained(comm, exe) := {
	"pid": 42, "host_pid": 31337, "comm": comm, "exe": exe, "uid": 0, "container_id": cid,
	"ancestors": [{"pid": 1, "host_pid": 31290, "comm": "sh", "exe": "/bin/sh"}],
}

host(comm, exe) := {
	"pid": 5100, "host_pid": 5100, "comm": comm, "exe": exe, "uid": 1000,
	"ancestors": [{"pid": 5000, "comm": "bash", "exe": "/usr/bin/bash"}],
}

test_curl_in_a_container_fires if {
	some f in finding with input as connect(contained("curl", "/usr/bin/curl"), "/var/run/docker.sock", 0)
	f.socket == "/var/run/docker.sock"
	f.runtime == "docker"
	f.in_container
	f.container_id == cid
	f.succeeded
	f.exe == "/usr/bin/curl"
	f.ancestry == ["sh(1)"]
}

test_socket_mounted_anywhere_fires if {
	some f in finding with input as connect(contained("python3", "/usr/local/bin/python3.12"), "/host/run/docker.sock", 0)
	f.runtime == "docker"
	count(finding) == 1 with input as connect(contained("app", "/app/app"), "docker.sock", 0) # relative to its cwd
}

test_runtime_clients_in_a_container_fire if {
	some f in finding with input as connect(contained("docker", "/usr/bin/docker"), "/var/run/docker.sock", 0)
	f.in_container
	count(finding) == 1 with input as connect(contained("crictl", "/usr/local/bin/crictl"), "/run/containerd/containerd.sock", 0)
}

test_every_runtime_is_named if {
	p := host("x", "/tmp/x")
	every path, name in {
		"/run/containerd/containerd.sock": "containerd",
		"/run/containerd/containerd.sock.ttrpc": "containerd",
		"/run/k3s/containerd/containerd.sock": "containerd",
		"/var/run/crio/crio.sock": "cri-o",
		"/run/user/1000/podman/podman.sock": "podman",
		"/run/cri-dockerd.sock": "cri-dockerd",
		"/var/run/dockershim.sock": "dockershim",
		"/run/buildkit/buildkitd.sock": "buildkit",
		"/var/snap/lxd/common/lxd/unix.socket": "lxd",
		"/var/lib/incus/unix.socket": "incus",
	} {
		some f in finding with input as connect(p, path, 0)
		f.runtime == name
		not f.in_container
	}
}

test_unknown_program_on_the_host_fires if {
	some f in finding with input as connect(host("exploit", "/tmp/.x/exploit"), "/run/docker.sock", 0)
	not f.in_container
	f.container_id == ""
	f.uid == 1000
}

test_sdk_script_on_the_host_fires if {
	count(finding) == 1 with input as connect(host("deploy.py", "/usr/bin/python3.11"), "/run/docker.sock", 0)
}

test_refused_attempt_fires_as_not_succeeded if {
	some f in finding with input as connect(host("socat", "/usr/bin/socat"), "/run/docker.sock", -13)
	not f.succeeded
	f.return_value == -13
}

test_runtime_clients_on_the_host_are_quiet if {
	every p in [
		host("docker", "/usr/bin/docker"),
		host("dockerd", "/usr/sbin/dockerd"),
		host("kubelet", "/usr/bin/kubelet"),
		host("crictl", "/usr/local/bin/crictl"),
		host("docker", "/snap/docker/2915/bin/docker"),
		host("docker-compose", "/usr/libexec/docker/cli-plugins/docker-compose"),
		host("docker-buildx", "/usr/lib/docker/cli-plugins/docker-buildx"),
		containerd_shim,
		{"pid": 2200, "comm": "containerd-shim", "exe": "/var/lib/rancher/k3s/data/4a1b2c/bin/containerd-shim-runc-v2"},
		{"pid": 1, "comm": "systemd", "exe": "/usr/lib/systemd/systemd"},
	] {
		count(finding) == 0 with input as connect(p, "/run/containerd/containerd.sock", 0)
	}
}

test_client_names_outside_install_dirs_fire if {
	count(finding) == 1 with input as connect(host("docker", "/tmp/docker"), "/run/docker.sock", 0)
	count(finding) == 1 with input as connect(host("containerd-shim", "/dev/shm/containerd-shim"), "/run/containerd/containerd.sock", 0)
	count(finding) == 1 with input as connect(host("docker-compose", "/home/ann/.docker/cli-plugins/docker-compose"), "/run/docker.sock", 0)
}

test_other_unix_sockets_are_quiet if {
	p := contained("php-fpm", "/usr/sbin/php-fpm8.2")
	every path in [
		"/run/mysqld/mysqld.sock", "/var/run/docker.sock.bak", "/run/mydocker.sock", "/run/unix.socket",
		"/var/lib/kubelet/pod-resources/kubelet.sock", "@/containerd-shim/k8s.io/abc/shim.sock",
	] {
		count(finding) == 0 with input as connect(p, path, 0)
	}
}

test_inet_connect_is_quiet if {
	ev := json.patch(connect(contained("curl", "/usr/bin/curl"), "10.0.0.1", 0), [
		{"op": "replace", "path": "/args/family", "value": "AF_INET"},
		{"op": "replace", "path": "/args/remote_port", "value": 2375},
	])
	count(finding) == 0 with input as ev
}

test_missing_process_fields_still_fire if {
	some f in finding with input as connect({"pid": 9}, "/run/docker.sock", 0)
	f.exe == ""
	f.uid == -1
	f.ancestry == []
	count(finding) == 1 with input as {"name": "security_socket_connect", "process": {}, "args": {"family": "AF_UNIX", "remote_addr": "/run/docker.sock"}}
}

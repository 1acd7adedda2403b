package vigil.signatures.credential_file_access

open_of(path, flags, ret, proc) := {
	"name": "security_file_open",
	"return_value": ret,
	"process": proc,
	"args": {"pathname": path, "flags": flags, "syscall": "openat"},
}

cat := {"pid": 4100, "comm": "cat", "exe": "/usr/bin/cat", "uid": 0, "ancestors": [{"pid": 4000, "comm": "bash", "exe": "/usr/bin/bash"}]}

read_only := 32768 # O_RDONLY | O_LARGEFILE

test_root_reading_shadow_fires if {
	some f in finding with input as open_of("/etc/shadow", read_only, 3, cat)
	f.kind == "password_hashes"
	f.technique == "T1003.008"
	f.succeeded
	f.ancestry == ["bash(4000)"]
}

test_refused_attempt_fires_as_not_succeeded if {
	nobody := object.union(cat, {"uid": 65534})
	some f in finding with input as open_of("/etc/shadow", read_only, -13, nobody)
	not f.succeeded
	f.return_value == -13
	f.uid == 65534
}

test_backup_and_gshadow_and_opasswd_fire if {
	every p in ["/etc/shadow-", "/etc/gshadow", "/etc/security/opasswd", "/etc/tcb/ann/shadow"] {
		count(finding) == 1 with input as open_of(p, read_only, 3, cat)
	}
}

test_ssh_keys_fire if {
	some f in finding with input as open_of("/etc/ssh/ssh_host_ed25519_key", read_only, 3, cat)
	f.kind == "ssh_host_key"
	f.technique == "T1552.004"
	some g in finding with input as open_of("/home/ann/.ssh/id_rsa", read_only, 3, cat)
	g.kind == "ssh_private_key"
	count(finding) == 1 with input as open_of("/root/.ssh/id_ed25519_sk", 2, 3, cat) # O_RDWR reads too
}

test_public_keys_are_quiet if {
	count(finding) == 0 with input as open_of("/etc/ssh/ssh_host_ed25519_key.pub", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/home/ann/.ssh/id_rsa.pub", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/home/ann/.ssh/known_hosts", read_only, 3, cat)
}

test_ordinary_files_are_quiet if {
	count(finding) == 0 with input as open_of("/etc/passwd", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/etc/hostname", read_only, 3, cat)
	count(finding) == 0 with input as open_of("/etc/shadowsocks.json", read_only, 3, cat)
}

test_write_only_open_is_not_a_read if {
	count(finding) == 0 with input as open_of("/etc/shadow", 1 + 64 + 512, 3, cat)
}

test_authentication_stack_is_quiet if {
	every p in [
		{"comm": "unix_chkpwd", "exe": "/usr/sbin/unix_chkpwd"},
		{"comm": "sshd", "exe": "/usr/sbin/sshd"},
		{"comm": "sudo", "exe": "/usr/bin/sudo"},
		{"comm": "passwd", "exe": "/usr/bin/passwd"},
		{"comm": "useradd", "exe": "/usr/sbin/useradd"},
	] {
		count(finding) == 0 with input as open_of("/etc/shadow", read_only, 3, p)
	}
	count(finding) == 0 with input as open_of("/etc/ssh/ssh_host_rsa_key", read_only, 3, {"comm": "sshd", "exe": "/usr/sbin/sshd"})
	count(finding) == 0 with input as open_of("/home/ann/.ssh/id_ed25519", read_only, 3, {"comm": "ssh", "exe": "/usr/bin/ssh"})
}

test_impostor_named_like_the_stack_fires if {
	# the name is borrowed, the program does not live in a system directory
	count(finding) == 1 with input as open_of("/etc/shadow", read_only, 3, {"comm": "sshd", "exe": "/tmp/.x/sshd"})
	# ssh tools are trusted with keys, not with password hashes
	count(finding) == 1 with input as open_of("/etc/shadow", read_only, 3, {"comm": "ssh", "exe": "/usr/bin/ssh"})
}

test_package_upgrade_is_quiet if {
	postinst := {"comm": "ssh-keygen-wrap", "exe": "/usr/bin/dash", "ancestors": [{"pid": 700, "comm": "dpkg", "exe": "/usr/bin/dpkg"}]}
	count(finding) == 0 with input as open_of("/etc/ssh/ssh_host_rsa_key", read_only, 3, postinst)
}

test_missing_return_value_counts_as_success if {
	some f in finding with input as {"name": "security_file_open", "process": cat, "args": {"pathname": "/etc/shadow", "flags": 0}}
	f.succeeded
}

read_by(path, comm, exe) := {
	"name": "security_file_open",
	"process": {"pid": 6100, "host_pid": 6100, "uid": 1000, "comm": comm, "exe": exe},
	"return_value": 3,
	"args": {"pathname": path, "flags": 32768},
}

test_cloud_credentials_read_by_a_harvesting_tool if {
	some f in finding with input as read_by("/home/ann/.aws/credentials", "cat", "/usr/bin/cat")
	f.kind == "cloud_credentials"
	f.technique == "T1552.001"
	some g in finding with input as read_by("/root/.kube/config", "tar", "/usr/bin/tar")
	g.kind == "cloud_credentials"
	some h in finding with input as read_by("/home/ann/.docker/config.json", "curl", "/usr/bin/curl")
	h.pathname == "/home/ann/.docker/config.json"
}

test_cloud_credentials_read_by_a_dropped_program if {
	some f in finding with input as read_by("/home/ann/.config/gcloud/application_default_credentials.json", "kworker", "/dev/shm/.x/kworker")
	f.kind == "cloud_credentials"
	count(finding) == 1 with input as read_by("/root/.git-credentials", "x", "/memfd:x (deleted)")
}

test_cloud_credentials_read_by_their_tools_are_quiet if {
	count(finding) == 0 with input as read_by("/home/ann/.aws/credentials", "aws", "/usr/local/aws-cli/v2/current/dist/aws")
	count(finding) == 0 with input as read_by("/home/ann/.kube/config", "kubectl", "/usr/local/bin/kubectl")
	count(finding) == 0 with input as read_by("/home/ann/.aws/credentials", "python3", "/usr/bin/python3.11")
	count(finding) == 0 with input as read_by("/home/ann/.netrc", "git-remote-http", "/usr/lib/git-core/git-remote-http")
}

test_shell_history_read if {
	some f in finding with input as read_by("/root/.bash_history", "grep", "/usr/bin/grep")
	f.kind == "shell_history"
	f.technique == "T1552.003"
	count(finding) == 0 with input as read_by("/root/.bash_history", "bash", "/usr/bin/bash")
	count(finding) == 0 with input as read_by("/home/ann/.zsh_history", "zsh", "/usr/bin/zsh")
}

test_other_home_files_are_quiet if {
	count(finding) == 0 with input as read_by("/home/ann/notes.txt", "cat", "/usr/bin/cat")
	count(finding) == 0 with input as read_by("/home/ann/.aws/credentials.bak/x", "cat", "/usr/bin/cat")
	count(finding) == 0 with input as read_by("/home/ann/project/.bash_history", "cat", "/usr/bin/cat")
}

test_kubernetes_keys if {
	some f in finding with input as read_by("/etc/kubernetes/pki/ca.key", "cat", "/usr/bin/cat")
	f.kind == "kubernetes_key"
	f.technique == "T1552.004"
	count(finding) == 1 with input as read_by("/etc/kubernetes/admin.conf", "python3", "/tmp/.s/python3")
	count(finding) == 1 with input as read_by("/var/lib/kubelet/pki/kubelet-client-current.pem", "tar", "/usr/bin/tar")
	count(finding) == 0 with input as read_by("/etc/kubernetes/pki/apiserver.key", "kube-apiserver", "/usr/local/bin/kube-apiserver")
	count(finding) == 0 with input as read_by("/etc/kubernetes/admin.conf", "kubectl", "/usr/bin/kubectl")
	count(finding) == 0 with input as read_by("/etc/kubernetes/pki/ca.crt", "cat", "/usr/bin/cat")
	count(finding) == 0 with input as read_by("/etc/kubernetes/manifests/etcd.yaml", "cat", "/usr/bin/cat")
}

test_service_account_token_read_by_a_harvesting_tool if {
	some f in finding with input as read_by("/run/secrets/kubernetes.io/serviceaccount/..2026_12_06_10_11_12.123456789/token", "cat", "/usr/bin/cat")
	f.kind == "service_account_token"
	f.technique == "T1528"
	some g in finding with input as read_by("/var/run/secrets/kubernetes.io/serviceaccount/token", "curl", "/usr/bin/curl")
	g.kind == "service_account_token"
	some h in finding with input as read_by("/var/run/secrets/eks.amazonaws.com/serviceaccount/token", "x", "/tmp/x")
	h.kind == "service_account_token"
	some k in finding with input as read_by("/var/run/secrets/azure/tokens/azure-identity-token", "base64", "/usr/bin/base64")
	k.kind == "service_account_token"
}

test_service_account_token_read_by_the_application_is_quiet if {
	count(finding) == 0 with input as read_by("/var/run/secrets/kubernetes.io/serviceaccount/..2026_12_06_10_11_12.123456789/token", "controller", "/usr/local/bin/controller")
	count(finding) == 0 with input as read_by("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "cat", "/usr/bin/cat")
	count(finding) == 0 with input as read_by("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "cat", "/usr/bin/cat")
}

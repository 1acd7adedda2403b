# Credential file access: a file that holds password hashes or private keys
# is opened for reading by a program that is not part of the system's
# authentication stack.
#
# /etc/shadow and /etc/gshadow hold the password hashes (with their "-"
# backups), /etc/security/opasswd the old ones pam_pwhistory keeps; SSH host
# keys and users' SSH private keys let an intruder impersonate the host or
# move on to other hosts. Reading them is what credential dumping does
# (T1003.008, T1552.004). Refused attempts count too: a non-root process
# probing /etc/shadow gets EACCES, and the sensor reports the refusal.
#
# Kubernetes private keys (/etc/kubernetes/pki, the kubelet's client
# certificate, admin.conf) are the cluster's own credentials: only its
# components read them.
#
# Cloud and developer credentials in home folders (AWS, Google Cloud, Azure,
# kubeconfig, Docker registry logins, git and netrc passwords, database
# password files) and shell and client histories (T1552.001, T1552.003)
# are read all day by the tools they belong to, and by every SDK: for them
# the rule looks at the reader instead, and fires on the generic file and
# transfer tools a harvesting script uses (cat, grep, tar, curl, base64,
# ...) and on programs running from a temporary folder or from memory.
package vigil.signatures.credential_file_access

import data.vigil.lib

metadata := {
	"id": "credential-file-access",
	"name": "Credential file read",
	"version": "1.0.0",
	"severity": "high",
	"description": "A password hash file (/etc/shadow, /etc/gshadow, /etc/security/opasswd) or an SSH private key was opened for reading, or the attempt was refused, by a program outside the authentication stack; or cloud and developer credentials (AWS, gcloud, Azure, kubeconfig, Docker, git, netrc, pgpass), a pod's service account token or a shell history were read by a generic file or transfer tool (cat, grep, tar, curl, ...) or a program running from a temporary folder or from memory.",
	"tactics": ["TA0006"],
	"techniques": ["T1003.008", "T1552.004", "T1552.001", "T1552.003", "T1528"],
	"tags": ["credentials", "shadow", "ssh", "file"],
	"events": ["security_file_open"],
}

password_files := {
	"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
	"/etc/security/opasswd",
}

# The authentication stack reads the hashes to check a password (directly
# when it runs as root, through unix_chkpwd otherwise), the account tools
# rewrite them, the name services and identity daemons serve them. Matched
# by name and only when installed in a system directory.
auth_programs := {
	"login", "sshd", "sshd-session", "sshd-auth", "sudo", "sudoedit", "su", "runuser",
	"doas", "pkexec", "polkitd", "polkit-agent-helper-1", "unix_chkpwd", "unix2_chkpwd",
	"passwd", "chpasswd", "chage", "chfn", "chsh", "expiry", "gpasswd", "newgrp", "sg",
	"useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "newusers",
	"adduser", "deluser", "addgroup", "delgroup", "pwck", "grpck", "vipw", "vigr",
	"pwconv", "pwunconv", "grpconv", "grpunconv", "cppw", "cpgr", "shadowconfig",
	"faillock", "systemd", "systemd-logind", "systemd-homed", "systemd-userdbd",
	"systemd-sysusers", "nscd", "sssd", "sssd_be", "sssd_nss", "sssd_pam", "winbindd",
	"cron", "crond", "atd", "gdm-session-worker", "gdm-session-wor", "lightdm", "sddm-helper",
	"xrdp-sesman", "vsftpd", "proftpd", "dovecot", "auth", "saslauthd", "cockpit-session",
	"screen", "xscreensaver-auth",
	# file integrity monitors and scanners hash or scan every file
	"aide", "tripwire", "samhain", "osqueryd", "wazuh-syscheckd", "ossec-syscheckd",
	"clamd", "clamscan", "rkhunter",
}

# SSH keys are read by the SSH tools themselves: the server its host keys,
# the client, agent and key tools the user's keys (git, rsync, scp... run
# ssh, which is the reader).
ssh_programs := {
	"sshd", "sshd-session", "sshd-auth", "sshd-keygen", "ssh-keygen", "ssh-keysign",
	"ssh", "scp", "sftp", "ssh-add", "ssh-agent", "ssh-keyscan", "autossh",
}

# Every open of the host comes here: the rules below test the path with
# plain string built-ins first and leave the rest for the few candidates.
path := input.args.pathname

# the one test most opens (libraries, /proc, /sys, /dev) stop at: direct
# references and one built-in each
candidate if startswith(input.args.pathname, "/etc/")

candidate if contains(input.args.pathname, "/.ssh/")

candidate if startswith(input.args.pathname, "/root/")

candidate if startswith(input.args.pathname, "/home/")

kind := "password_hashes" if path in password_files

# tcb keeps one shadow file per user: /etc/tcb/<user>/shadow
kind := "password_hashes" if startswith(path, "/etc/tcb/")

# ssh_host_ed25519_key and friends; the .pub files beside them are public
kind := "ssh_host_key" if {
	startswith(path, "/etc/ssh/ssh_host_")
	endswith(path, "_key")
}

# ~/.ssh/id_rsa, id_ed25519, id_ecdsa_sk, ... without .pub
kind := "ssh_private_key" if {
	contains(path, "/.ssh/id_")
	not endswith(path, ".pub")
	regex.match(`^\.ssh/id_[a-z0-9_]+$`, lib.home_relative(path))
}

# Kubernetes: the cluster's private keys, and the kubeconfigs that embed a
# client key (admin.conf is the cluster-admin identity)
kind := "kubernetes_key" if {
	startswith(path, "/etc/kubernetes/pki/")
	endswith(path, ".key")
}

kind := "kubernetes_key" if {
	startswith(path, "/var/lib/kubelet/pki/")
	regex.match(`\.(key|pem)$`, path)
}

kind := "kubernetes_key" if path in {
	"/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf",
	"/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf",
	"/etc/kubernetes/kubelet.conf",
}

kubernetes_programs := {
	"kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy",
	"etcd", "kubeadm", "kubectl", "k3s", "rke2", "kubelite",
}

candidate if startswith(input.args.pathname, "/var/lib/kubelet/pki/")

# A pod's service account token, mounted into every container that has
# one (a timestamped folder behind the token link): the pod's identity
# towards the API server. Its Kubernetes client reads it; cat, curl or a
# dropped program reading it is stealing it (T1528).
candidate if startswith(input.args.pathname, "/var/run/secrets/")

candidate if startswith(input.args.pathname, "/run/secrets/")

kind := "service_account_token" if {
	regex.match(`^(/var)?/run/secrets/((kubernetes\.io|eks\.amazonaws\.com)/serviceaccount/(\.\.[^/]+/)?token|azure/tokens/(\.\.[^/]+/)?azure-identity-token)$`, path)
}

# ~/.aws/credentials and the like, by their place in a home folder
secret_files := {
	".aws/credentials": "cloud_credentials",
	".aws/config": "cloud_credentials",
	".config/gcloud/credentials.db": "cloud_credentials",
	".config/gcloud/access_tokens.db": "cloud_credentials",
	".config/gcloud/application_default_credentials.json": "cloud_credentials",
	".azure/accessTokens.json": "cloud_credentials",
	".azure/msal_token_cache.json": "cloud_credentials",
	".azure/msal_token_cache.bin": "cloud_credentials",
	".kube/config": "cloud_credentials",
	".docker/config.json": "cloud_credentials",
	".git-credentials": "cloud_credentials",
	".netrc": "cloud_credentials",
	".pgpass": "cloud_credentials",
	".my.cnf": "cloud_credentials",
	".bash_history": "shell_history",
	".zsh_history": "shell_history",
	".sh_history": "shell_history",
	".history": "shell_history",
	".ash_history": "shell_history",
	".mysql_history": "shell_history",
	".psql_history": "shell_history",
	".python_history": "shell_history",
}

# (a string test first: the regular expression of home_relative runs only
# for paths in a home folder)
kind := secret_files[home] if {
	in_home
	home := lib.home_relative(path)
}

in_home if startswith(path, "/root/")

in_home if startswith(path, "/home/")

# The generic tools a harvesting script reads, packs and sends files with.
harvest_tools := {
	"cat", "tac", "nl", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "rg", "ag",
	"strings", "xxd", "od", "hexdump", "base64", "base32", "basenc", "tar", "zip", "7z", "7za",
	"gzip", "bzip2", "xz", "zstd", "cp", "dd", "scp", "rsync", "curl", "wget", "nc", "ncat",
	"netcat", "socat", "awk", "gawk", "mawk", "sed", "openssl", "gpg",
}

harvester if lib.is_process_named(input.process, harvest_tools)

harvester if lib.under(object.get(input.process, "exe", ""), lib.world_writable_dirs)

harvester if startswith(object.get(input.process, "exe", ""), "/memfd:")

harvester if endswith(object.get(input.process, "exe", ""), " (deleted)")

# the kernel hook reports 0, the syscall fallback the fd or -errno
return_value := object.get(input, "return_value", 0)

technique := {
	"password_hashes": "T1003.008", "ssh_host_key": "T1552.004", "ssh_private_key": "T1552.004",
	"cloud_credentials": "T1552.001", "shell_history": "T1552.003",
	"kubernetes_key": "T1552.004", "service_account_token": "T1528",
}

trusted if {
	kind == "password_hashes"
	lib.is_system_program(input.process, auth_programs)
}

trusted if {
	kind in {"ssh_host_key", "ssh_private_key"}
	lib.is_system_program(input.process, ssh_programs)
}

# the control plane's components run from /usr/bin, /usr/local/bin or a
# container image: named, and not from a world-writable folder
trusted if {
	kind == "kubernetes_key"
	lib.installed_as(input.process, kubernetes_programs)
}

trusted if {
	kind in {"cloud_credentials", "shell_history", "service_account_token"}
	not harvester
}

# Package upgrades rewrite host keys and run account tools.
trusted if lib.from_package_manager

finding contains {
	"pathname": path,
	"kind": kind,
	"technique": technique[kind],
	"succeeded": return_value >= 0,
	"return_value": return_value,
	"flags": lib.arg("flags", 0),
	"exe": object.get(input.process, "exe", ""),
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	candidate
	kind
	lib.opens_for_reading(lib.arg("flags", 0))
	not trusted
}

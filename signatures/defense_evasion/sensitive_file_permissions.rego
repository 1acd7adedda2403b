# Permissions of a sensitive file loosened: chmod makes a file that decides
# who may log in, run as root, or what runs at boot writable by every user
# (o+w: /etc/passwd, /etc/shadow, sudoers, cron, PAM, systemd units, the
# dynamic loader's configuration, root's SSH folder, the system's program
# and library folders, /etc itself), or a secret readable by every user
# (o+r: /etc/shadow and gshadow, SSH host and user private keys).
#
# Either hands root, now or later, to any local account: an intruder leaves
# it behind as a way back in, or a careless `chmod -R 777` does the same.
# Ordinary administration sets 0644, 0600, 0755 on these files, which
# gives nothing to others. Package managers, container image tools and
# systemd-tmpfiles (which applies modes from tmpfiles.d) are left out.
package vigil.signatures.sensitive_file_permissions

import data.vigil.lib

metadata := {
	"id": "sensitive-file-permissions",
	"name": "Permissions of a sensitive file loosened",
	"version": "1.0.0",
	"severity": "high",
	"description": "chmod made an account, privilege, boot or loader configuration file, root's SSH folder or a system program or library folder writable by every user, or a password hash or private key file readable by every user.",
	"tactics": ["TA0005", "TA0004"],
	"techniques": ["T1222.002", "T1548"],
	"tags": ["permissions", "chmod", "file"],
	"events": ["security_path_chmod"],
}

s_iwoth := 2 # 0002

s_iroth := 4 # 0004

# files (and folders, with what is in them) that every user must not write
writable_files := {
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers",
	"/etc/crontab", "/etc/anacrontab", "/etc/ld.so.preload", "/etc/ld.so.conf",
	"/etc/environment", "/etc/profile", "/etc/bash.bashrc", "/etc/zsh/zshenv",
	"/etc/pam.conf", "/etc/rc.local", "/etc/inittab", "/etc/hosts", "/etc/resolv.conf",
	"/etc/login.defs", "/etc/securetty", "/etc/doas.conf", "/etc/polkit-1",
	"/root/.bashrc", "/root/.profile", "/root/.bash_profile", "/root/.bash_login", "/root/.zshrc",
}

writable_dirs := [
	"/etc/sudoers.d", "/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly",
	"/etc/cron.monthly", "/var/spool/cron", "/etc/pam.d", "/etc/security", "/etc/systemd",
	"/lib/systemd", "/usr/lib/systemd", "/etc/init.d", "/etc/profile.d", "/etc/ld.so.conf.d",
	"/etc/modprobe.d", "/etc/modules-load.d", "/etc/ssh", "/root/.ssh", "/etc/udev",
	"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin",
	"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/libexec", "/boot",
]

# folders whose own mode matters (anyone could add a file to them)
writable_roots := {"/", "/etc", "/usr", "/var", "/var/log", "/usr/local", "/root"}

# files every user must not read
secret_files := {"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers"}

path := input.args.pathname

loosened contains "world-writable" if {
	bits.and(input.args.mode, s_iwoth) != 0
	sensitive_to_write
}

loosened contains "world-readable" if {
	bits.and(input.args.mode, s_iroth) != 0
	secret
}

sensitive_to_write if path in writable_files

sensitive_to_write if path in writable_roots

sensitive_to_write if path in writable_dirs

sensitive_to_write if lib.under(path, writable_dirs)

secret if path in secret_files

# SSH private keys: the host's, and any user's (not the .pub halves)
secret if regex.match(`^/etc/ssh/ssh_host_[a-z0-9]+_key$`, path)

secret if regex.match(`^/(root|home/[^/]+)/\.ssh/id_[a-z0-9_]+$`, path)

finding contains {
	"pathname": path,
	"loosened": sort(loosened),
	"mode": sprintf("%04o", [bits.and(input.args.mode, 4095)]),
	"uid": object.get(input.process, "uid", -1),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(loosened) > 0
	object.get(input, "return_value", 0) >= 0
	not lib.from_file_installer
}

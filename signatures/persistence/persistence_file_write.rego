# Persistence file write: a file is written, created, renamed, linked or
# symlinked into a place the system reads to run something later or to let
# someone in: cron, systemd units and generators, XDG autostart, rc scripts,
# shell start-up files, motd, network and SSH login scripts, SSH
# authorized_keys and sshd's configuration, the
# dynamic loader's preload list, sudoers, PAM's configuration and modules,
# udev rules, package manager hooks, kernel module configuration, the
# account databases.
#
# One signature for the class, with the technique of each place in the
# finding: an intruder's every way of staying on the host ends as a file in
# one of them, whatever tool wrote it (an editor, echo >>, sed -i, cp, mv,
# crontab). Package managers (and their maintainer scripts) are left out:
# installing software writes all of these. The tools that only enable what
# exists (systemctl, update-rc.d) and the account tools that own the account
# databases are left out for their own files.
package vigil.signatures.persistence_file_write

import data.vigil.lib

metadata := {
	"id": "persistence-file-write",
	"name": "Persistence location written",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A file was written, created, renamed, linked or symlinked into a location that makes the system run code or admit a login later: cron, systemd units, XDG autostart, rc scripts, systemd generators, shell start-up files and bash completions, login, network and SSH login scripts (sshrc, ~/.ssh/rc), SSH authorized_keys, sshd_config, /etc/ld.so.preload, sudoers, PAM configuration and modules, udev rules, package manager hooks, kernel module load lists and modprobe.d, or the account databases (outside the account tools).",
	"tactics": ["TA0003", "TA0004"],
	"techniques": ["T1053.003", "T1053.002", "T1543.002", "T1547.013", "T1037.004", "T1546.004", "T1098.004", "T1574.006", "T1548.003", "T1136.001", "T1556.003", "T1546.017", "T1037", "T1546.016", "T1547.006"],
	"tags": ["persistence", "file", "cron", "systemd", "ssh"],
	"events": ["security_file_open", "security_inode_rename", "security_inode_link", "security_inode_symlink"],
}

# ---- what was written, and how ----

written := lib.file_written

path := written.path

# ---- where: one location per path ----
#
# Every write-open of the host comes here: a map lookup and a list of
# prefixes tested with startswith, no regular expression on the common path.

exact_locations := {
	"/etc/crontab": "cron",
	"/etc/anacrontab": "cron",
	"/etc/modules": "kernel_module_config",
	"/etc/rc.local": "rc_script",
	"/etc/rc.d/rc.local": "rc_script",
	"/etc/profile": "shell_profile",
	"/etc/bash.bashrc": "shell_profile",
	"/etc/bashrc": "shell_profile",
	"/etc/zshrc": "shell_profile",
	"/etc/zprofile": "shell_profile",
	"/etc/zshenv": "shell_profile",
	"/etc/environment": "shell_profile",
	"/etc/ld.so.preload": "ld_preload",
	"/etc/ld.so.conf": "ld_preload",
	"/etc/sudoers": "sudoers",
	# sshd runs sshrc at every login; sshd_config names the key files and
	# may run a program of its own to find keys (AuthorizedKeysCommand)
	"/etc/ssh/sshrc": "login_script",
	"/etc/ssh/sshd_config": "sshd_config",
	"/etc/passwd": "account_database",
	"/etc/shadow": "account_database",
	"/etc/group": "account_database",
	"/etc/gshadow": "account_database",
}

# disjoint: a path starts with one of them at most
prefix_locations := [
	["/etc/cron.d/", "cron"], ["/etc/cron.hourly/", "cron"], ["/etc/cron.daily/", "cron"],
	["/etc/cron.weekly/", "cron"], ["/etc/cron.monthly/", "cron"], ["/etc/cron.yearly/", "cron"],
	["/var/spool/cron/crontabs/", "cron"], ["/var/spool/cron/atjobs/", "at"], ["/var/spool/at/", "at"],
	["/etc/systemd/system/", "systemd_unit"], ["/etc/systemd/user/", "systemd_unit"],
	["/lib/systemd/system/", "systemd_unit"], ["/usr/lib/systemd/system/", "systemd_unit"],
	["/lib/systemd/user/", "systemd_unit"], ["/usr/lib/systemd/user/", "systemd_unit"],
	["/run/systemd/system/", "systemd_unit"], ["/etc/xdg/autostart/", "xdg_autostart"],
	["/etc/init.d/", "rc_script"], ["/etc/rc0.d/", "rc_script"], ["/etc/rc1.d/", "rc_script"],
	["/etc/rc2.d/", "rc_script"], ["/etc/rc3.d/", "rc_script"], ["/etc/rc4.d/", "rc_script"],
	["/etc/rc5.d/", "rc_script"], ["/etc/rc6.d/", "rc_script"], ["/etc/rcS.d/", "rc_script"],
	["/etc/profile.d/", "shell_profile"], ["/etc/zsh/", "shell_profile"],
	# every interactive bash sources them
	["/etc/bash_completion.d/", "shell_profile"],
	["/etc/ssh/sshd_config.d/", "sshd_config"],
	# a system-wide AuthorizedKeysFile
	["/etc/ssh/authorized_keys", "ssh_authorized_keys"],
	["/etc/ld.so.conf.d/", "ld_preload"], ["/etc/sudoers.d/", "sudoers"],
	# systemd runs generators early at boot and on every daemon-reload
	["/etc/systemd/system-generators/", "systemd_unit"], ["/lib/systemd/system-generators/", "systemd_unit"],
	["/usr/lib/systemd/system-generators/", "systemd_unit"],
	# PAM: its configuration, and the modules it loads into every login
	["/etc/pam.d/", "pam"], ["/lib/security/", "pam"], ["/usr/lib/security/", "pam"],
	["/lib64/security/", "pam"], ["/usr/lib64/security/", "pam"],
	["/lib/x86_64-linux-gnu/security/", "pam"], ["/usr/lib/x86_64-linux-gnu/security/", "pam"],
	["/lib/aarch64-linux-gnu/security/", "pam"], ["/usr/lib/aarch64-linux-gnu/security/", "pam"],
	# udev rules RUN+= a program, as root, on device events
	["/etc/udev/rules.d/", "udev_rule"], ["/lib/udev/rules.d/", "udev_rule"], ["/usr/lib/udev/rules.d/", "udev_rule"],
	# scripts run at every login (motd) or network change
	["/etc/update-motd.d/", "login_script"], ["/etc/NetworkManager/dispatcher.d/", "login_script"],
	# package manager hooks run on every install or update
	["/etc/apt/apt.conf.d/", "package_hook"], ["/etc/yum/pluginconf.d/", "package_hook"],
	["/etc/dnf/plugins/", "package_hook"],
	# modules loaded at boot; modprobe.d "install" lines run any command
	["/etc/modules-load.d/", "kernel_module_config"], ["/etc/modprobe.d/", "kernel_module_config"],
	["/usr/lib/modules-load.d/", "kernel_module_config"], ["/usr/lib/modprobe.d/", "kernel_module_config"],
	["/lib/modules-load.d/", "kernel_module_config"], ["/lib/modprobe.d/", "kernel_module_config"],
]

home_locations := {
	".bashrc": "shell_profile", ".bash_profile": "shell_profile", ".bash_login": "shell_profile",
	".bash_logout": "shell_profile", ".profile": "shell_profile", ".zshrc": "shell_profile",
	".zprofile": "shell_profile", ".zshenv": "shell_profile", ".zlogin": "shell_profile",
	".zlogout": "shell_profile", ".config/fish/config.fish": "shell_profile",
	".ssh/authorized_keys": "ssh_authorized_keys", ".ssh/authorized_keys2": "ssh_authorized_keys",
	# run by sshd at each of the user's logins
	".ssh/rc": "login_script",
}

home_prefix_locations := [
	[".config/systemd/user/", "systemd_unit"], [".local/share/systemd/user/", "systemd_unit"],
	[".config/autostart/", "xdg_autostart"],
]

location := exact_locations[path]

location := loc if {
	some [prefix, loc] in prefix_locations
	startswith(path, prefix)
}

# RHEL keeps user crontabs directly in /var/spool/cron
location := "cron" if {
	startswith(path, "/var/spool/cron/")
	not contains(substring(path, 16, -1), "/")
}

location := home_locations[home] if in_home

location := loc if {
	in_home
	some [prefix, loc] in home_prefix_locations
	startswith(home, prefix)
}

in_home if startswith(path, "/root/")

in_home if startswith(path, "/home/")

home := lib.home_relative(path)

technique := {
	"cron": "T1053.003",
	"at": "T1053.002",
	"systemd_unit": "T1543.002",
	"xdg_autostart": "T1547.013",
	"rc_script": "T1037.004",
	"shell_profile": "T1546.004",
	"ssh_authorized_keys": "T1098.004",
	"sshd_config": "T1098.004",
	"ld_preload": "T1574.006",
	"sudoers": "T1548.003",
	"account_database": "T1136.001",
	"pam": "T1556.003",
	"udev_rule": "T1546.017",
	"login_script": "T1037",
	"package_hook": "T1546.016",
	"kernel_module_config": "T1547.006",
}

# ---- who may ----

# systemd writes transient units, generator output and the links of units it
# is asked to enable; systemctl enables and edits units that exist.
owners["systemd_unit"] := {"systemd", "systemctl", "systemd-run"}

# update-rc.d, insserv and chkconfig link existing init scripts into rc?.d
owners["rc_script"] := {"update-rc.d", "insserv", "chkconfig", "systemd-sysv-install"}

# the distributions' PAM profile tools rewrite /etc/pam.d
owners["pam"] := {"pam-auth-update", "authselect", "authconfig"}

# atd runs and removes the jobs at queued
owners["at"] := {"atd"}

# cloud-init sets what the platform asks of sshd (password logins, ...)
owners["sshd_config"] := {"cloud-init"}

# cloud and guest agents install the keys the platform was given
owners["ssh_authorized_keys"] := {"cloud-init", "google_guest_agent", "google_guest_ag", "google_accounts_daemon", "waagent", "oslogin_cache_refresh"}

# the shadow suite and its wrappers own the account databases
owners["account_database"] := {
	"useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "newusers",
	"passwd", "chpasswd", "chgpasswd", "chage", "chfn", "chsh", "gpasswd", "vipw", "vigr",
	"pwconv", "pwunconv", "grpconv", "grpunconv", "cppw", "cpgr", "adduser", "deluser",
	"addgroup", "delgroup", "update-passwd", "systemd-sysusers", "pwck", "grpck",
}

# new accounts get their shell start-up files from /etc/skel
owners["shell_profile"] := {"useradd", "adduser", "mkhomedir_helper", "systemd-homed"}

allowed if lib.is_system_program(input.process, owners[location])

allowed if lib.from_package_manager

finding contains {
	"pathname": path,
	"location": location,
	"technique": technique[location],
	"operation": written.operation,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	written
	location
	not allowed
}

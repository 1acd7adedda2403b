# Persistence file write: a file is written, created, renamed, linked or
# symlinked into a place the system reads to run something later or to let
# someone in: cron, systemd units, XDG autostart, rc scripts, shell start-up
# files, SSH authorized_keys, the dynamic loader's preload list, sudoers, the
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
	"description": "A file was written, created, renamed, linked or symlinked into a location that makes the system run code or admit a login later: cron, systemd units, XDG autostart, rc scripts, shell start-up files, SSH authorized_keys, /etc/ld.so.preload, sudoers, or the account databases (outside the account tools).",
	"tactics": ["TA0003", "TA0004"],
	"techniques": ["T1053.003", "T1053.002", "T1543.002", "T1547.013", "T1037.004", "T1546.004", "T1098.004", "T1574.006", "T1548.003", "T1136.001"],
	"tags": ["persistence", "file", "cron", "systemd", "ssh"],
	"events": ["security_file_open", "security_inode_rename", "security_inode_link", "security_inode_symlink"],
}

# ---- what was written, and how ----

written := {"path": input.args.pathname, "operation": op} if {
	input.name == "security_file_open"
	lib.opens_for_writing(lib.arg("flags", 0))
	# a refused open wrote nothing (the kernel hook reports 0)
	object.get(input, "return_value", 0) >= 0
	op := open_operation
}

open_operation := "create" if input.args.created == true

else := "write"

written := {"path": input.args.new_path, "operation": "rename"} if {
	input.name == "security_inode_rename"
	object.get(input, "return_value", 0) >= 0
}

written := {"path": input.args.new_path, "operation": "link"} if {
	input.name == "security_inode_link"
	object.get(input, "return_value", 0) >= 0
}

written := {"path": input.args.pathname, "operation": "symlink"} if {
	input.name == "security_inode_symlink"
	object.get(input, "return_value", 0) >= 0
}

path := written.path

home := lib.home_relative(path)

# ---- where: one location per path ----

location := "cron" if path == "/etc/crontab"

location := "cron" if lib.under(path, ["/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly", "/etc/cron.yearly", "/var/spool/cron/crontabs"])

# RHEL keeps user crontabs directly in /var/spool/cron
location := "cron" if regex.match(`^/var/spool/cron/[^/]+$`, path)

location := "at" if lib.under(path, ["/var/spool/cron/atjobs", "/var/spool/at"])

location := "systemd_unit" if lib.under(path, [
	"/etc/systemd/system", "/etc/systemd/user", "/lib/systemd/system", "/usr/lib/systemd/system",
	"/lib/systemd/user", "/usr/lib/systemd/user", "/run/systemd/system",
])

location := "systemd_unit" if regex.match(`^(\.config/systemd/user|\.local/share/systemd/user)/`, home)

location := "xdg_autostart" if lib.under(path, ["/etc/xdg/autostart"])

location := "xdg_autostart" if startswith(home, ".config/autostart/")

location := "rc_script" if path in {"/etc/rc.local", "/etc/rc.d/rc.local"}

location := "rc_script" if lib.under(path, ["/etc/init.d"])

location := "rc_script" if regex.match(`^/etc/rc[0-6S]\.d/`, path)

location := "shell_profile" if path in {"/etc/profile", "/etc/bash.bashrc", "/etc/bashrc", "/etc/zshrc", "/etc/zprofile", "/etc/zshenv", "/etc/environment"}

location := "shell_profile" if lib.under(path, ["/etc/profile.d", "/etc/zsh"])

location := "shell_profile" if home in {
	".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
	".zshrc", ".zprofile", ".zshenv", ".zlogin", ".zlogout", ".config/fish/config.fish",
}

location := "ssh_authorized_keys" if home in {".ssh/authorized_keys", ".ssh/authorized_keys2"}

# a system-wide AuthorizedKeysFile
location := "ssh_authorized_keys" if startswith(path, "/etc/ssh/authorized_keys")

location := "ld_preload" if path in {"/etc/ld.so.preload", "/etc/ld.so.conf"}

location := "ld_preload" if lib.under(path, ["/etc/ld.so.conf.d"])

location := "sudoers" if path == "/etc/sudoers"

location := "sudoers" if lib.under(path, ["/etc/sudoers.d"])

location := "account_database" if path in {"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"}

technique := {
	"cron": "T1053.003",
	"at": "T1053.002",
	"systemd_unit": "T1543.002",
	"xdg_autostart": "T1547.013",
	"rc_script": "T1037.004",
	"shell_profile": "T1546.004",
	"ssh_authorized_keys": "T1098.004",
	"ld_preload": "T1574.006",
	"sudoers": "T1548.003",
	"account_database": "T1136.001",
}

# ---- who may ----

# systemd writes transient units, generator output and the links of units it
# is asked to enable; systemctl enables and edits units that exist.
owners["systemd_unit"] := {"systemd", "systemctl", "systemd-run"}

# update-rc.d, insserv and chkconfig link existing init scripts into rc?.d
owners["rc_script"] := {"update-rc.d", "insserv", "chkconfig", "systemd-sysv-install"}

# atd runs and removes the jobs at queued
owners["at"] := {"atd"}

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
	location
	not allowed
}

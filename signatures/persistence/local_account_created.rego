# Local account created: useradd, adduser or newusers makes an account that
# can log in.
#
# A new local account is one of the simplest ways back into a host
# (T1136.001): an intruder with root adds a user with a shell, often with
# its password hash given right on the command line, and later logs in
# through SSH or su like anyone else. Accounts giving root's powers (uid 0,
# sudo or docker groups) are privileged-account-change's; this signature
# reports every other account created with a login shell.
#
# What keeps it quiet:
#   - service accounts: a system account (-r, --system) without a shell
#     given, or any account whose shell is nologin, false or sync;
#   - accounts made by the system's own machinery: package managers and
#     their maintainer scripts, systemd-sysusers, cloud-init, configuration
#     management (Ansible, Puppet, Chef, Salt), installers, and image
#     builders (a RUN useradd in a container build), each installed in a
#     system directory.
package vigil.signatures.local_account_created

import data.vigil.lib

metadata := {
	"id": "local-account-created",
	"name": "Local account created",
	"version": "1.0.0",
	"severity": "medium",
	"description": "useradd, adduser or newusers created a local account that can log in (a shell other than nologin or false), outside package installs, systemd-sysusers, cloud-init, configuration management and image builds; a password hash given on the command line is reported too. Service accounts without a login shell are left out.",
	"tactics": ["TA0003"],
	"techniques": ["T1136.001"],
	"tags": ["account", "persistence"],
	"events": ["sched_process_exec"],
}

program := lib.exec_program

args := array.slice(input.args.argv, lib.exec_args_from, count(input.args.argv))

# useradd's options that take a value
useradd_valued := {
	"-b", "--base-dir", "-c", "--comment", "-d", "--home-dir", "-e", "--expiredate",
	"-f", "--inactive", "-g", "--gid", "-G", "--groups", "-k", "--skel", "-K", "--key",
	"-p", "--password", "-s", "--shell", "-u", "--uid", "-Z", "--selinux-user",
	"-R", "--root", "-P", "--prefix", "--btrfs-subvolume-home",
}

# adduser's (Debian's and busybox's)
adduser_valued := {
	"--home", "--shell", "--uid", "--firstuid", "--lastuid", "--gid", "--ingroup",
	"--gecos", "--comment", "--conf", "--add-extra-groups", "--firstgid", "--lastgid",
	"-h", "-g", "-s", "-G", "-u", "-k",
}

no_login_shells := {"nologin", "false", "sync", "true"}

system_account if {
	some a in args
	a in {"-r", "--system", "-S"}
}

# -r among combined short flags (-rm, -mr)
system_account if {
	program == "useradd"
	some a in args
	regex.match(`^-[a-zA-Z]*r[a-zA-Z]*$`, a)
}

shells := lib.option_values(args, {"-s", "--shell"})

login_shell if {
	some shell in shells
	not lib.basename(shell) in no_login_shells
}

# no shell given: useradd's and adduser's default is a login shell, a
# system account's is nologin (adduser) or one nobody logs in with
login_shell if {
	count(shells) == 0
	not system_account
}

valued := useradd_valued if program == "useradd"

valued := adduser_valued if program == "adduser"

# busybox's adduser takes the user as its one operand: "adduser -D bob"
creation_operands := [args[i] | some i in sort(lib.operands(args, valued))]

# useradd USER; adduser USER (adduser USER GROUP adds to a group)
account := creation_operands[count(creation_operands) - 1] if {
	program == "useradd"
	count(creation_operands) > 0
	not "-D" in args
	not "--defaults" in args
}

account := creation_operands[0] if {
	program == "adduser"
	count(creation_operands) == 1
}

reasons contains "login-account" if {
	account
	login_shell
}

default account_name := ""

account_name := account

# a password hash given on the command line: the account can log in with
# a password at once
reasons contains "password-on-command-line" if {
	account
	some p in lib.option_values(args, {"-p", "--password"})
	not p in {"", "!", "*", "!!", "x"}
}

# newusers FILE creates accounts in batch, with their passwords
reasons contains "batch-accounts" if {
	program == "newusers"
}

makers := {
	"cloud-init", "systemd-sysusers", "ansible", "ansible-playbook", "ansible-pull",
	"puppet", "chef-client", "chef-solo", "cinc-client", "salt-minion", "salt-call",
	"anaconda", "subiquity", "curtin", "debootstrap", "mmdebstrap",
	"buildkitd", "buildkit-runc", "buildah", "kaniko", "executor",
}

# ansible's modules run as "python3 .../AnsiballZ_user.py"
from_configuration_tool if {
	some a in object.get(input.process, "ancestors", [])
	some w in object.get(a, "argv", [])
	contains(w, "AnsiballZ_")
}

finding contains {
	"reasons": sort(reasons),
	"account": account_name,
	"program": lib.exec_path,
	"command": lib.cmdline,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	program in {"useradd", "adduser", "newusers"}
	count(reasons) > 0
	not lib.from_package_manager
	not lib.from_system_program(makers)
	not from_configuration_tool
}

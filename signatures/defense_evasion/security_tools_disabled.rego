# A command that switches off a host's defences: stopping, disabling or
# masking the audit daemon, a mandatory access control system or a
# security agent; putting SELinux in permissive mode; unloading AppArmor;
# flushing the firewall or setting its policy to accept everything.
# Intruders do this before they go to work, and it is rare enough in
# normal operation to deserve a look every time.
package vigil.signatures.security_tools_disabled

import data.vigil.lib

metadata := {
	"id": "security-tools-disabled",
	"name": "Security tools or firewall disabled",
	"version": "1.0.0",
	"severity": "high",
	"description": "A command stopped or disabled a security service (auditd, AppArmor, SELinux enforcement, a detection agent) or flushed or opened the firewall.",
	"tactics": ["TA0005"],
	"techniques": ["T1562.001", "T1562.004", "T1562.012"],
	"tags": ["defense-evasion", "firewall", "audit"],
	"events": ["sched_process_exec"],
}

# Multi-call binaries (xtables-nft-multi behind iptables, busybox) act on
# the name they were called by: argv[0] counts as much as the file.
names contains lib.basename(lib.exec_path)

names contains lib.basename(input.args.argv[0])

named(set) if {
	some n in names
	n in set
}

argv := input.args.argv

# Services whose only job is defending or watching the host.
security_services := {
	"auditd", "apparmor", "firewalld", "ufw", "nftables", "iptables", "netfilter-persistent",
	"falco", "falco-modern-bpf", "falco-bpf", "tracee", "tetragon", "vigil", "osqueryd",
	"wazuh-agent", "ossec", "crowdstrike", "falcon-sensor", "sysdig", "aide", "fail2ban",
	"clamav-daemon", "clamav-freshclam", "rsyslog", "systemd-journald", "syslog-ng",
}

# "auditd.service" and "auditd" are the same unit.
unit_name(u) := trim_suffix(u, ".service")

service_args := [unit_name(a) | some a in array.slice(argv, 1, count(argv)); not startswith(a, "-")]

# systemctl stop|disable|mask|kill <unit>...
reasons contains sprintf("systemctl %s %s", [verb, svc]) if {
	named({"systemctl"})
	some verb in {"stop", "disable", "mask", "kill"}
	verb in service_args
	some svc in service_args
	svc in security_services
}

# service <name> stop, invoke-rc.d <name> stop
reasons contains sprintf("service %s stop", [argv[1]]) if {
	named({"service", "invoke-rc.d"})
	unit_name(argv[1]) in security_services
	argv[2] == "stop"
}

reasons contains "setenforce 0" if {
	named({"setenforce"})
	lower(argv[1]) in {"0", "permissive"}
}

reasons contains "apparmor unloaded" if apparmor_unload

apparmor_unload if named({"aa-teardown"})

apparmor_unload if {
	named({"apparmor_parser"})
	some a in argv
	a in {"-R", "--remove"}
}

reasons contains "auditctl -e 0" if {
	named({"auditctl"})
	some i, a in argv
	a == "-e"
	argv[i + 1] == "0"
}

reasons contains "auditctl -D" if {
	named({"auditctl"})
	"-D" in argv
}

# iptables -F, iptables -P INPUT ACCEPT, ip6tables --flush, nft flush ruleset
firewall_tools := {"iptables", "ip6tables", "iptables-legacy", "iptables-nft", "ip6tables-legacy", "ip6tables-nft", "xtables-legacy-multi", "xtables-nft-multi"}

reasons contains "firewall flushed" if {
	named(firewall_tools)
	some a in argv
	a in {"-F", "--flush", "-X", "--delete-chain"}
}

reasons contains "firewall policy accept" if {
	named(firewall_tools)
	some i, a in argv
	a in {"-P", "--policy"}
	upper(argv[i + 2]) == "ACCEPT"
}

reasons contains "nft flush ruleset" if {
	named({"nft"})
	regex.match(`\bflush\s+ruleset\b|\bdelete\s+table\b`, lib.cmdline)
}

reasons contains "ufw disable" if {
	named({"ufw"})
	"disable" in argv
}

# Every exec of the host comes here: one set lookup on the program's names
# decides for nearly all of them, before any argument is looked at.
all_tools := {
	"systemctl", "service", "invoke-rc.d", "setenforce", "aa-teardown", "apparmor_parser",
	"auditctl", "nft", "ufw",
} | firewall_tools

candidate if named(all_tools)

finding contains {
	"program": lib.exec_path,
	"actions": sort(reasons),
	"command": lib.cmdline,
	"ancestry": lib.ancestry,
} if {
	candidate
	count(reasons) > 0
}

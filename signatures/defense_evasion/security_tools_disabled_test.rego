package vigil.signatures.security_tools_disabled

run(path, argv) := {"name": "sched_process_exec", "process": {"pid": 12, "comm": "x"}, "args": {"pathname": path, "argv": argv}}

test_systemctl_stop_auditd if {
	some f in finding with input as run("/usr/bin/systemctl", ["systemctl", "stop", "auditd.service"])
	f.actions == ["systemctl stop auditd"]
}

test_systemctl_disable_now_several if {
	some f in finding with input as run("/usr/bin/systemctl", ["systemctl", "disable", "--now", "falco", "nginx"])
	f.actions == ["systemctl disable falco"]
}

test_service_stop if {
	some f in finding with input as run("/usr/sbin/service", ["service", "apparmor", "stop"])
	f.actions == ["service apparmor stop"]
}

test_setenforce if {
	some f in finding with input as run("/usr/sbin/setenforce", ["setenforce", "0"])
	f.actions == ["setenforce 0"]
}

test_auditctl_disable if {
	some f in finding with input as run("/usr/sbin/auditctl", ["auditctl", "-e", "0"])
	f.actions == ["auditctl -e 0"]
}

test_aa_teardown if {
	some f in finding with input as run("/usr/sbin/aa-teardown", ["aa-teardown"])
	f.actions == ["apparmor unloaded"]
}

test_iptables_flush_through_the_multi_call_binary if {
	some f in finding with input as run("/usr/sbin/xtables-nft-multi", ["iptables", "-F"])
	f.actions == ["firewall flushed"]
}

test_iptables_flush_by_name if {
	some f in finding with input as run("/usr/sbin/iptables", ["iptables", "-t", "filter", "--flush"])
	f.actions == ["firewall flushed"]
}

test_iptables_policy_accept if {
	some f in finding with input as run("/usr/sbin/iptables", ["iptables", "-P", "INPUT", "ACCEPT"])
	f.actions == ["firewall policy accept"]
}

test_nft_flush if {
	some f in finding with input as run("/usr/sbin/nft", ["nft", "flush", "ruleset"])
	f.actions == ["nft flush ruleset"]
}

test_ufw_disable if {
	some f in finding with input as run("/usr/sbin/ufw", ["ufw", "disable"])
	f.actions == ["ufw disable"]
}

test_restarting_a_service_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/systemctl", ["systemctl", "restart", "auditd"])
	count(finding) == 0 with input as run("/usr/bin/systemctl", ["systemctl", "stop", "nginx"])
	count(finding) == 0 with input as run("/usr/bin/systemctl", ["systemctl", "status", "auditd"])
}

test_listing_rules_is_quiet if {
	count(finding) == 0 with input as run("/usr/sbin/iptables", ["iptables", "-L", "-n"])
	count(finding) == 0 with input as run("/usr/sbin/iptables", ["iptables", "-P", "INPUT", "DROP"])
	count(finding) == 0 with input as run("/usr/sbin/setenforce", ["setenforce", "1"])
}

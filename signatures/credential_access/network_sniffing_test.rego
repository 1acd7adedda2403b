package vigil.signatures.network_sniffing

sock(family, type, protocol, exe, comm) := {
	"name": "security_socket_create",
	"process": {"pid": 5100, "host_pid": 5100, "comm": comm, "exe": exe, "argv": [comm]},
	"args": {"family": family, "type": type, "protocol": protocol, "kern": false},
}

eth_p_all := 768 # htons(ETH_P_ALL), as socket(2) takes it

test_tcpdump_capture if {
	some f in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/usr/bin/tcpdump", "tcpdump")
	f.reasons == ["packet-socket"]
	f.program == "/usr/bin/tcpdump"
	f.protocol == eth_p_all
}

test_cooked_packet_socket if {
	some f in finding with input as sock("AF_PACKET", "SOCK_DGRAM", eth_p_all, "/opt/agent/bin/collector", "collector")
	f.reasons == ["packet-socket"]
}

test_backdoor_from_shared_memory if {
	# BPFDoor: a deleted program in /dev/shm under a daemon's name
	some f in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/dev/shm/kdmtmpflush (deleted)", "dbus-daemon")
	f.reasons == ["packet-socket"]
}

test_raw_tcp_and_ip_sockets if {
	some f in finding with input as sock("AF_INET", "SOCK_RAW", 6, "/usr/bin/nmap", "nmap")
	f.reasons == ["raw-ip-socket"]
	some g in finding with input as sock("AF_INET6", "SOCK_RAW", 255, "/usr/bin/python3.12", "python3")
	g.reasons == ["raw-ip-socket"]
}

test_raw_icmp_outside_ping_tools if {
	some f in finding with input as sock("AF_INET", "SOCK_RAW", 1, "/tmp/.x/icmpsh", "icmpsh")
	f.reasons == ["raw-icmp-socket"]
}

test_ping_and_traceroute_are_quiet if {
	count(finding) == 0 with input as sock("AF_INET", "SOCK_RAW", 1, "/usr/bin/ping", "ping")
	count(finding) == 0 with input as sock("AF_INET6", "SOCK_RAW", 58, "/bin/ping6", "ping6")
	count(finding) == 0 with input as sock("AF_INET", "SOCK_RAW", 1, "/usr/bin/mtr-packet", "mtr-packet")
	count(finding) == 0 with input as sock("AF_INET", "SOCK_RAW", 1, "/bin/busybox", "ping")
	count(finding) == 0 with input as sock("AF_INET", "SOCK_RAW", 1, "/usr/local/bin/blackbox_exporter", "blackbox_export")
	count(finding) == 0 with input as sock("AF_INET6", "SOCK_RAW", 58, "/usr/lib/nagios/plugins/check_icmp", "check_icmp")
}

test_monitoring_probe_raw_packet_socket_is_reported if {
	# ICMP is what they are left out for
	some f in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/usr/bin/telegraf", "telegraf")
	f.reasons == ["packet-socket"]
}

test_ping_named_program_in_tmp_is_reported if {
	some f in finding with input as sock("AF_INET", "SOCK_RAW", 1, "/tmp/ping", "ping")
	f.reasons == ["raw-icmp-socket"]
}

test_ping_tool_raw_tcp_is_reported if {
	# ICMP is what they are left out for
	some f in finding with input as sock("AF_INET", "SOCK_RAW", 6, "/usr/bin/ping", "ping")
	f.reasons == ["raw-ip-socket"]
}

test_network_daemons_are_quiet if {
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/sbin/dhclient", "dhclient")
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_DGRAM", 8, "/usr/lib/systemd/systemd-networkd", "systemd-network")
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/usr/sbin/NetworkManager", "NetworkManager")
	count(finding) == 0 with input as sock("AF_INET", "SOCK_RAW", 112, "/usr/sbin/keepalived", "keepalived")
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/bin/busybox", "udhcpc")
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/usr/bin/suricata", "Suricata-Main")
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/opt/zeek/bin/zeek", "zeek")
}

test_daemon_name_does_not_cover_a_renamed_program if {
	# comm is the process's to set; the program decides
	some f in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/usr/local/bin/implant", "dhclient")
	f.reasons == ["packet-socket"]
	some g in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/var/tmp/dhclient", "dhclient")
	g.reasons == ["packet-socket"]
	some h in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/usr/sbin/dhclient (deleted)", "dhclient")
	h.reasons == ["packet-socket"]
}

test_unknown_program_judged_by_comm if {
	count(finding) == 0 with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "", "dhclient")
	some f in finding with input as sock("AF_PACKET", "SOCK_RAW", eth_p_all, "", "sniff")
	f.reasons == ["packet-socket"]
}

test_ordinary_sockets_are_quiet if {
	count(finding) == 0 with input as sock("AF_INET", "SOCK_STREAM", 6, "/usr/bin/curl", "curl")
	count(finding) == 0 with input as sock("AF_INET6", "SOCK_DGRAM", 17, "/tmp/x", "x")
	count(finding) == 0 with input as sock("AF_UNIX", "SOCK_STREAM", 0, "/tmp/x", "x")
	count(finding) == 0 with input as sock("AF_NETLINK", "SOCK_RAW", 0, "/tmp/x", "x")
	count(finding) == 0 with input as sock("AF_INET", "SOCK_DGRAM", 1, "/tmp/x", "x") # ICMP datagram: ping without privilege
}

test_kernel_sockets_are_quiet if {
	ev := sock("AF_PACKET", "SOCK_RAW", eth_p_all, "/tmp/x", "x")
	count(finding) == 0 with input as object.union(ev, {"args": object.union(ev.args, {"kern": true})})
}

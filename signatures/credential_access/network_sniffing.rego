# Network sniffing: a process opens a socket that sees raw traffic.
#
# A packet socket (AF_PACKET) receives every frame of an interface, other
# hosts' traffic on a shared segment included: it is how tcpdump, tshark
# and scapy capture, how an intruder collects credentials that cross the
# wire in clear text (T1040), and how passive backdoors such as BPFDoor
# wait for a magic packet without a listening port that netstat or ss
# would show (T1205.002: a socket filter on a packet socket). A raw IP
# socket for TCP, UDP or any protocol (SOCK_RAW) receives or forges
# packets of that protocol past the kernel's stack: scanners that send
# SYN probes (nmap), packet crafters, and backdoors listening for raw TCP
# or ICMP "knocks".
#
# Few programs need either on a server: DHCP clients and servers, the
# network managers that run them, routing, failover and discovery daemons
# (keepalived's VRRP, bird's OSPF, lldpd) and ping or traceroute for ICMP.
# Network intrusion detection and traffic monitors (Suricata, Snort, Zeek,
# Packetbeat) capture by design and are left out too.
# Those are left out when their program is installed, judged by its path,
# which a process cannot change, rather than by its comm, which it can;
# never when the program lies in a world-writable directory such as /tmp.
# Capture tools (tcpdump, tshark, dumpcap) are not left out: an
# administrator's capture and an intruder's look alike from here, and a
# capture of a host's traffic is worth a look either way.
package vigil.signatures.network_sniffing

import data.vigil.lib

metadata := {
	"id": "network-sniffing",
	"name": "Raw packet socket opened",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A process opened a packet socket (AF_PACKET) or a raw IP socket for a protocol other than ICMP: it can capture the traffic of the host's interfaces, forge packets, or wait for a magic packet as passive backdoors do. DHCP clients and servers, network managers, routing and failover daemons, network intrusion detection, and ping, traceroute or monitoring probes for ICMP are left out.",
	"tactics": ["TA0006", "TA0007", "TA0011"],
	"techniques": ["T1040", "T1205.002", "T1046"],
	"tags": ["network", "sniffing", "raw-socket", "backdoor"],
	"events": ["security_socket_create"],
}

# network daemons that open packet or raw sockets to do their job: DHCP,
# router advertisements, VRRP and other failover, routing protocols, link
# discovery, time over PTP
network_daemons := {
	"dhclient", "dhcpcd", "udhcpc", "udhcpd", "dhcpd", "dhcrelay", "dhcp6c",
	"kea-dhcp4", "kea-dhcp6", "dnsmasq", "NetworkManager", "nm-dhcp-helper",
	"systemd-networkd", "connmand", "wicked", "wickedd-dhcp4", "wickedd-dhcp6",
	"wpa_supplicant", "hostapd", "iwd", "radvd", "rdisc", "ndisc6", "rdisc6",
	"keepalived", "vrrpd", "ucarp", "heartbeat", "corosync",
	"bird", "bird6", "zebra", "ospfd", "ospf6d", "isisd", "ripd", "pimd",
	"lldpd", "ladvd", "ptp4l", "arping", "ifplugd", "cilium-agent", "calico-node",
	# network intrusion detection and traffic monitors installed as such
	"suricata", "snort", "zeek", "bro", "packetbeat", "ntopng",
	"arkime-capture", "moloch-capture",
}

# ping and traceroute, and monitoring probes that ping, send and read ICMP
# through a raw socket where the kernel's ICMP datagram sockets are not
# allowed to them
icmp_tools := {
	"ping", "ping4", "ping6", "fping", "fping6", "oping", "mtr", "mtr-packet",
	"traceroute", "traceroute6", "tracepath", "tracepath6", "arping",
	# monitoring agents and probes that ping hosts themselves
	"blackbox_exporter", "smokeping_prober", "ping_exporter", "check_icmp",
	"telegraf", "go.d.plugin",
}

icmp_protocols := {1, 58} # IPPROTO_ICMP, IPPROTO_ICMPV6

exe := object.get(input.process, "exe", "")

# program_in(names): the process runs an installed program named one of
# names; busybox's applets by their comm; by comm alone when the sensor
# knows no program
default program_in(_) := false

program_in(names) if {
	exe != ""
	not lib.under(exe, lib.world_writable_dirs)
	not endswith(exe, " (deleted)")
	name := lib.basename(exe)
	some n in {name, lib.unversioned(name)}
	n in names
}

program_in(names) if {
	lib.basename(exe) == "busybox"
	not lib.under(exe, lib.world_writable_dirs)
	input.process.comm in names
}

program_in(names) if {
	exe == ""
	input.process.comm in names
}

reasons contains "packet-socket" if input.args.family == "AF_PACKET"

reasons contains "raw-ip-socket" if {
	input.args.family in lib.inet_families
	input.args.type == "SOCK_RAW"
	not input.args.protocol in icmp_protocols
}

reasons contains "raw-icmp-socket" if {
	input.args.family in lib.inet_families
	input.args.type == "SOCK_RAW"
	input.args.protocol in icmp_protocols
	not program_in(icmp_tools)
}

finding contains {
	"reasons": sort(reasons),
	"family": input.args.family,
	"type": input.args.type,
	"protocol": input.args.protocol,
	"program": exe,
	"argv": object.get(input.process, "argv", []),
	"ancestry": lib.ancestry,
} if {
	not lib.arg("kern", false)
	count(reasons) > 0
	not program_in(network_daemons)
}

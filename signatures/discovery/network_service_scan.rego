# Network service scan: a port or host scanner starts.
#
# Before it moves on from a host, an intruder maps what the network around
# it offers: which hosts answer, which ports are open, which services and
# versions listen (T1046, and T1018 for finding hosts). That is the job of
# a handful of dedicated programs (nmap, masscan, zmap, rustscan, naabu,
# hping3, arp-scan, ...), which have little to do on a server otherwise,
# and of netcat in its scanning mode (-z) over a range or list of ports.
#
# netcat with -z on one port is left out: start-up scripts and containers
# wait for a database or a broker that way ("until nc -z db 5432"). Low
# severity: a hint to correlate with what the same session did, and an
# administrator's audit looks the same.
package vigil.signatures.network_service_scan

import data.vigil.lib

metadata := {
	"id": "network-service-scan",
	"name": "Network scanner started",
	"version": "1.0.0",
	"severity": "low",
	"description": "A port or host scanner was executed (nmap, masscan, zmap, rustscan, naabu, unicornscan, hping3, nping, arp-scan, netdiscover, ...), or netcat in scanning mode (-z) over a range or list of ports: discovery of the services and hosts around the machine. netcat -z on a single port (a script waiting for a service) is left out.",
	"tactics": ["TA0007"],
	"techniques": ["T1046", "T1018"],
	"tags": ["discovery", "scanner", "network"],
	"events": ["sched_process_exec"],
}

scanners := {
	"nmap", "masscan", "zmap", "rustscan", "naabu", "unicornscan", "hping", "hping2", "hping3",
	"nping", "arp-scan", "netdiscover", "zgrab", "zgrab2", "pnscan", "scanssh", "sx",
}

netcats := {"nc", "ncat", "netcat", "nc.openbsd", "nc.traditional"}

program := lib.exec_program

args := array.slice(input.args.argv, lib.exec_args_from, count(input.args.argv))

reasons contains "scanner" if program in scanners

reasons contains "scanner" if lib.unversioned(program) in scanners

# -z alone or among other single-letter flags (-zv, -vz, -nvz)
netcat_scan_flag if {
	some a in args
	regex.match(`^-[a-zA-Z]*z[a-zA-Z]*$`, a)
}

# the options of the netcats that take a value (-w 1, -p 4000, -s addr)
netcat_valued := {"-w", "-p", "-s", "-i", "-q", "-x", "-X", "-I", "-O", "-T", "-V", "-e", "-c", "-P", "-M", "-m", "-g", "-G"}

operands := [args[i] | some i in lib.operands(args, netcat_valued)]

# a range (1-1024, 20-25) or a list (22,80,443) of ports among the operands
port_range if {
	some a in operands
	regex.match(`^[0-9]+(-[0-9]+|(,[0-9]+(-[0-9]+)?)+)$`, a)
}

# several port operands after the host: nc -z host 22 80 443
port_range if {
	ports := [a | some a in operands; regex.match(`^[0-9]{1,5}$`, a)]
	count(ports) > 1
}

reasons contains "netcat-port-scan" if {
	program in netcats
	netcat_scan_flag
	port_range
}

finding contains {
	"reasons": sort(reasons),
	"program": lib.exec_path,
	"argv": input.args.argv,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
}

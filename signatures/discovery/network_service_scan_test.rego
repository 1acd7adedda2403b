package vigil.signatures.network_service_scan

exec(path, argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 6100, "host_pid": 6100, "comm": "x", "exe": path, "uid": 1000},
	"args": {"pathname": path, "filename": path, "argv": argv},
}

test_nmap if {
	some f in finding with input as exec("/usr/bin/nmap", ["nmap", "-sV", "-p-", "10.0.4.0/24"])
	f.reasons == ["scanner"]
	f.program == "/usr/bin/nmap"
}

test_scanners_from_anywhere if {
	some f in finding with input as exec("/tmp/masscan", ["./masscan", "10.0.0.0/8", "-p80,443", "--rate", "10000"])
	f.reasons == ["scanner"]
	some g in finding with input as exec("/home/u/go/bin/naabu", ["naabu", "-host", "10.0.4.7"])
	g.reasons == ["scanner"]
	some h in finding with input as exec("/usr/sbin/hping3", ["hping3", "-S", "-p", "++1", "10.0.4.7"])
	h.reasons == ["scanner"]
}

test_busybox_free_netcat_port_range if {
	some f in finding with input as exec("/usr/bin/nc.openbsd", ["nc", "-zv", "10.0.4.7", "1-1024"])
	f.reasons == ["netcat-port-scan"]
	some g in finding with input as exec("/usr/bin/ncat", ["ncat", "-z", "-v", "10.0.4.7", "22,80,443"])
	g.reasons == ["netcat-port-scan"]
	some h in finding with input as exec("/bin/nc.traditional", ["nc", "-nvz", "10.0.4.7", "22", "80", "443"])
	h.reasons == ["netcat-port-scan"]
}

test_netcat_waiting_for_one_port_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/nc.openbsd", ["nc", "-z", "db", "5432"])
	count(finding) == 0 with input as exec("/usr/bin/nc.openbsd", ["nc", "-z", "-w", "1", "db", "5432"])
	count(finding) == 0 with input as exec("/usr/bin/nc.openbsd", ["nc", "-vz", "localhost", "8080"])
}

test_netcat_without_scan_mode_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/nc.openbsd", ["nc", "10.0.4.7", "80"])
	count(finding) == 0 with input as exec("/usr/bin/nc.openbsd", ["nc", "-l", "-p", "8000", "1-100"])
}

test_ordinary_programs_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/curl", ["curl", "-z", "1-2", "http://x"])
	count(finding) == 0 with input as exec("/usr/bin/ping", ["ping", "-c", "1", "10.0.4.7"])
	count(finding) == 0 with input as exec("/usr/bin/ss", ["ss", "-tlnp"])
}

test_busybox_nc if {
	some f in finding with input as exec("/bin/busybox", ["nc", "-z", "10.0.4.7", "20-30"])
	f.reasons == ["netcat-port-scan"]
}

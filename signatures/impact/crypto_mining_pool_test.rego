package vigil.signatures.crypto_mining_pool

miner := {"pid": 8100, "comm": "kworkerds", "exe": "/tmp/.X11-unix/kworkerds", "argv": ["kworkerds", "-o", "stratum+tcp://203.0.113.50:80", "-u", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"]}

connect_ev(proc, addr, port) := {"name": "security_socket_connect", "process": proc, "args": {
	"family": "AF_INET", "type": "SOCK_STREAM", "protocol": 6,
	"local_addr": "10.0.0.5", "local_port": 0, "remote_addr": addr, "remote_port": port, "fd": 5,
}}

test_stratum_url_fires_even_on_port_80 if {
	some f in finding with input as connect_ev(miner, "203.0.113.50", 80)
	f.reasons == ["stratum-url"]
	f.destination == "203.0.113.50:80"
}

test_stratum_port_outside_fires if {
	proc := {"pid": 8200, "comm": "updater", "exe": "/var/tmp/updater"}
	some f in finding with input as connect_ev(proc, "198.51.100.20", 14444)
	f.reasons == ["stratum-port"]
}

test_both_reasons if {
	some f in finding with input as connect_ev(miner, "198.51.100.20", 3333)
	f.reasons == ["stratum-port", "stratum-url"]
}

test_stratum_port_on_an_internal_address_is_quiet if {
	proc := {"pid": 8300, "comm": "adb", "exe": "/usr/bin/adb"}
	count(finding) == 0 with input as connect_ev(proc, "192.168.1.30", 5555)
	count(finding) == 0 with input as connect_ev(proc, "127.0.0.1", 4444)
	count(finding) == 0 with input as connect_ev(proc, "::1", 3333)
}

test_other_ports_are_quiet if {
	proc := {"pid": 8400, "comm": "curl", "exe": "/usr/bin/curl"}
	count(finding) == 0 with input as connect_ev(proc, "198.51.100.20", 443)
}

test_unix_socket_is_quiet if {
	ev := json.patch(connect_ev(miner, "/run/x.sock", 0), [{"op": "replace", "path": "/args/family", "value": "AF_UNIX"}])
	count(finding) == 0 with input as ev
}

query(name, response) := {"name": "net_packet_dns", "process": {"pid": 8500, "comm": "xmrig", "exe": "/opt/xmrig"}, "args": {
	"direction": "egress", "qname": name, "qtype": "A", "response": response, "dport": 53,
}}

test_pool_lookup_fires if {
	some f in finding with input as query("gulf.moneroocean.stream", false)
	f.reasons == ["pool-domain"]
	f.destination == "gulf.moneroocean.stream"
}

test_pool_lookup_case_and_dot if {
	count(finding) == 1 with input as query("POOL.SupportXMR.com.", false)
}

test_xmrig_donation_pool_fires if {
	count(finding) == 1 with input as query("donate.v2.xmrig.com", false)
}

test_answer_is_not_a_second_finding if {
	count(finding) == 0 with input as query("pool.supportxmr.com", true)
}

test_lookalike_domain_is_quiet if {
	count(finding) == 0 with input as query("notsupportxmr.com", false)
	count(finding) == 0 with input as query("supportxmr.com.example.org", false)
}

package vigil.lib

test_is_inet_peer if {
	is_inet_peer({"family": "AF_INET", "remote_addr": "10.0.0.5", "remote_port": 4444})
	is_inet_peer({"family": "AF_INET6", "remote_addr": "2001:db8::5", "remote_port": 443})
	not is_inet_peer({"family": "AF_INET", "remote_addr": "0.0.0.0", "remote_port": 0})
	not is_inet_peer({"family": "AF_UNIX", "remote_addr": "/run/dbus/system_bus_socket", "remote_port": 0})
	not is_inet_peer({})
}

test_ipv4_of if {
	ipv4_of("10.1.2.3") == "10.1.2.3"
	ipv4_of("::ffff:192.0.2.7") == "192.0.2.7"
	not ipv4_of("2001:db8::1")
	not ipv4_of("/tmp/x.sock")
	not ipv4_of(7)
}

test_internal_addresses if {
	is_internal_addr("127.0.0.1")
	is_internal_addr("10.20.30.40")
	is_internal_addr("172.31.255.1")
	is_internal_addr("192.168.1.1")
	is_internal_addr("100.64.0.1")
	is_internal_addr("::ffff:192.168.0.1")
	is_internal_addr("::1")
	is_internal_addr("fd00:1::2")
	is_internal_addr("fe80::1")
	is_internal_addr("0.0.0.0")
}

test_public_addresses if {
	not is_internal_addr("8.8.8.8")
	not is_internal_addr("172.32.0.1")
	not is_internal_addr("2001:db8::1")
	not is_internal_addr("::ffff:1.2.3.4")
	not is_internal_addr("")
	not is_internal_addr("@abstract")
	not is_internal_addr("/run/x.sock")
}

test_loopback if {
	is_loopback_addr("127.0.0.1")
	is_loopback_addr("127.9.9.9")
	is_loopback_addr("::1")
	is_loopback_addr("::ffff:127.0.0.1")
	not is_loopback_addr("10.0.0.1")
	not is_loopback_addr("")
}

test_dns_labels if {
	dns_labels("WWW.Example.COM.") == ["www", "example", "com"]
	dns_labels(".") == []
}

test_dns_under if {
	dns_under("pool.supportxmr.com", {"supportxmr.com"})
	dns_under("SupportXMR.com.", {"supportxmr.com"})
	not dns_under("notsupportxmr.com", {"supportxmr.com"})
	not dns_under("supportxmr.com.evil.example", {"supportxmr.com"})
}

test_entropy if {
	entropy("") == 0
	entropy("aaaa") == 0
	entropy("ab") == 1
	# 16 distinct characters once each: 4 bits
	entropy("0123456789abcdef") == 4
	entropy("mail") == 2
	entropy(concat("", [x | some _ in numbers.range(1, 300); x := "a"])) == 0
}

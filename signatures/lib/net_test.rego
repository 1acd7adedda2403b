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

# entropy_by_comparison is entropy as first written: each character's
# count by comparing it with every character.
entropy_by_comparison(s) := h if {
	chars := split(s, "")
	n := count(chars)
	n > 0
	n <= 256
	counts := [c | some ch in {x | some x in chars}; c := count([1 | some y in chars; y == ch])]
	weighted := [w | some c in counts; w := c * log2_table[c]]
	h := log2_table[n] - (sum(weighted) / n)
}

test_entropy_counts_characters_as_comparison_does if {
	strs := [
		"a", "aab", "mail", "s4m6q3xfq4tyow4klkf77ymmzrzd5xe56e43frnlzqlqd7z7xhiofmxc72d4a3v",
		"9719e86ee58727875b8a5a8bffe18ccc723edc9df139b2c5abcc1701ff3fb9d", "aAaA--..__",
		"héllo-wörld-ñandú", "日本語のラベル日本", "\u0000x\u0000", "ve2bda5wczvzufr7lkhooubr4gck3zfot5apkd2u",
		concat("", [x | some i in numbers.range(1, 256); x := substring("abcdefghijklmnopqrstuvwxyz0123456789-", i % 37, 1)]),
	]
	every s in strs {
		entropy(s) == entropy_by_comparison(s)
	}
}

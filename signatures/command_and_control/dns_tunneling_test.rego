package vigil.signatures.dns_tunneling

b32 := "s4m6q3xfq4tyow4klkf77ymmzrzd5xe56e43frnlzqlqd7z7xhiofmxc72d4a3v"

b32_40 := "ve2bda5wczvzufr7lkhooubr4gck3zfot5apkd2u"

hex63 := "9719e86ee58727875b8a5a8bffe18ccc723edc9df139b2c5abcc1701ff3fb9d"

q(name) := {"name": "net_packet_dns", "process": {"pid": 9100, "comm": "svc", "exe": "/usr/local/bin/svc"}, "args": {
	"direction": "egress", "qname": name, "qtype": "TXT", "response": false, "daddr": "10.0.0.2", "dport": 53,
}}

test_iodine_like_label_fires if {
	some f in finding with input as q(concat(".", [b32, "t.example.net"]))
	"long-label" in f.reasons
	"random-label" in f.reasons
	f.longest_label == 63
	f.qtype == "TXT"
	f.resolver == "10.0.0.2:53"
}

test_dnscat_like_hex_fires_on_length if {
	some f in finding with input as q(concat(".", [hex63, "d2.example.net"]))
	f.reasons == ["long-label"]
}

test_base32_chunk_fires_on_randomness if {
	some f in finding with input as q(concat(".", [b32_40, "x.example.org"]))
	f.reasons == ["random-label"]
	f.entropy > 4.1
}

test_name_near_the_limit_fires if {
	name := concat(".", [substring(b32, 0, 45), substring(b32, 10, 45), substring(b32, 5, 45), substring(b32, 15, 45), "example.com"])
	some f in finding with input as q(name)
	"long-name" in f.reasons
}

test_many_labels_fire if {
	some f in finding with input as q("a1.b2.c3.d4.e5.f6.g7.h8.i9.j0.k1.example.com")
	f.reasons == ["many-labels"]
}

test_responses_are_quiet if {
	ev := json.patch(q(concat(".", [b32, "t.example.net"])), [{"op": "replace", "path": "/args/response", "value": true}])
	count(finding) == 0 with input as ev
}

test_cloud_names_are_quiet if {
	count(finding) == 0 with input as q("internal-my-application-lb-1234567890.us-east-1.elb.amazonaws.com")
	count(finding) == 0 with input as q("prod-eks-cluster-nodegroup-worker-abcdef123456.eu-west-1.compute.internal")
	count(finding) == 0 with input as q("8a1f2c3e-1234-5678-9abc-def012345678.privatelink.westeurope.azmk8s.io")
	count(finding) == 0 with input as q("a1b2c3d4e5f6g7h8i9j0.execute-api.us-east-1.amazonaws.com")
	count(finding) == 0 with input as q("3f2504e04f8911d39a0c0305e82c3301.s3.amazonaws.com")
	count(finding) == 0 with input as q("foo-bar-baz.default.svc.cluster.local")
}

test_long_word_label_is_quiet if {
	# long, but words and dashes: a host name, not data
	count(finding) == 0 with input as q("this-is-a-very-long-but-perfectly-ordinary-host-name-for-a-service.example.com")
}

test_reverse_lookups_are_quiet if {
	count(finding) == 0 with input as q("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa")
	count(finding) == 0 with input as q("4.3.2.1.in-addr.arpa")
}

test_dkim_and_reputation_lookups_are_quiet if {
	count(finding) == 0 with input as q(concat(".", [b32, "_domainkey.example.com"]))
	count(finding) == 0 with input as q(concat(".", [hex63, "malware.hash.cymru.com"]))
	count(finding) == 0 with input as q(concat(".", [b32, "avqs.mcafee.com"]))
}

# Boundaries of the reasons and of data_shaped, the tests on the name as
# looked up that come first: each must hold wherever a reason does.

b32_32 := "abcdefghijklmnopqrstuvwxyz234567"

hex52 := substring(concat("", [hex63, hex63]), 0, 52)

# n labels of two characters under example.com (n >= 2)
labels_of(n) := concat(".", array.concat([concat("", ["a", format_int(i % 10, 10)]) | some i in numbers.range(1, n - 2)], ["example", "com"]))

# an ordinary name of n characters (n >= 14): labels of words and dashes
# shorter than 32 characters, fewer than 12 of them, no digits
word_name(n) := concat("", [
	substring(concat("", [w | some _ in numbers.range(1, 8); w := "frontend-service-name-westeur."]), 0, n - 13),
	"z.example.com",
])

test_random_label_from_32_characters if {
	some f in finding with input as q(concat(".", [b32_32, "t.example.net"]))
	f.reasons == ["random-label"]
	f.longest_label == 32
	data_shaped with input as q(concat(".", [b32_32, "t.example.net"]))
}

test_31_character_label_is_quiet if {
	name := concat(".", [substring(b32_32, 1, 31), "t.example.net"])
	count(finding) == 0 with input as q(name)
	not data_shaped with input as q(name)
}

test_long_label_from_52_characters if {
	some f in finding with input as q(concat(".", [hex52, "d2.example.net"]))
	f.reasons == ["long-label"]
	count(finding) == 0 with input as q(concat(".", [substring(hex52, 0, 51), "d2.example.net"]))
}

test_encoded_label_in_upper_case_fires_the_same if {
	some f in finding with input as q(upper(concat(".", [b32, "t.example.net"])))
	f.reasons == ["long-label", "random-label"]
}

test_many_labels_from_twelve if {
	count(split(labels_of(12), ".")) == 12
	some f in finding with input as q(labels_of(12))
	f.reasons == ["many-labels"]
	f.labels == 12
	count(finding) == 0 with input as q(labels_of(11))
	not data_shaped with input as q(labels_of(11))
}

test_empty_labels_and_the_root_dot_do_not_count if {
	# eleven labels, written with doubled dots, a leading and a trailing dot
	name := concat("", [".", replace(labels_of(11), ".", ".."), "."])
	count(finding) == 0 with input as q(name)
	# twelve the same way
	some f in finding with input as q(concat("", [".", replace(labels_of(12), ".", ".."), "."]))
	f.reasons == ["many-labels"]
}

test_long_name_from_180_characters if {
	count(word_name(180)) == 180
	some f in finding with input as q(word_name(180))
	f.reasons == ["long-name"]
	count(finding) == 0 with input as q(word_name(179))
	not data_shaped with input as q(word_name(179))
}

test_root_dot_does_not_lengthen_the_name if {
	# 180 characters looked up, 179 without the root's dot
	name := concat("", [word_name(179), "."])
	count(name) == 180
	data_shaped with input as q(name)
	count(finding) == 0 with input as q(name)
}

test_ordinary_names_are_not_data_shaped if {
	not data_shaped with input as q("proxy.golang.org")
	not data_shaped with input as q("github.com.default.svc.cluster.local")
	not data_shaped with input as q("_ldap._tcp.dc._msdcs.corp.example.com")
	not data_shaped with input as q("e6858.dsce9.akamaiedge.net")
	not data_shaped with input as q("ip-10-0-12-34.eu-central-1.compute.internal")
}

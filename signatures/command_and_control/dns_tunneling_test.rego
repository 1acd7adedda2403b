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

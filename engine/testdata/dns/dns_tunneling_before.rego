# DNS tunnelling and exfiltration: data packed into the names a process
# looks up. Every resolver on the way forwards the query to the attacker's
# name server, so DNS gets out where nothing else may (iodine, dnscat2,
# DNSExfiltrator, Cobalt Strike's DNS beacon, ad-hoc exfiltration with dig).
#
# Encoded data makes names no host is called: a label near the 63-byte
# maximum with few dashes and digits in it (base32, hex, base64), a label
# of 32 bytes or more whose characters are as varied as encoded data
# (entropy above the 4 bits hex can reach), a name near the 253-byte
# maximum, or a dozen labels and more. Host names of cloud providers and
# Kubernetes are long too, but made of words and dashes; content hashes
# used as host names are hex and short. Left out: reverse lookups (in-addr.arpa and
# ip6.arpa are long by design), DKIM keys (_domainkey), and the
# reputation services that mail filters and antivirus engines query with
# hashed or encoded names.
package vigil.signatures.dns_tunneling

import data.vigil.lib

metadata := {
	"id": "dns-tunneling",
	"name": "DNS tunnelling or exfiltration",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process looked up a DNS name shaped like encoded data (a label near the 63-byte limit or of random-looking characters, a name near the 253-byte limit, a dozen labels and more): the usual form of command and control and data exfiltration over DNS.",
	"tactics": ["TA0011", "TA0010"],
	"techniques": ["T1071.004", "T1048.003"],
	"tags": ["network", "dns", "tunneling", "exfiltration"],
	"events": ["net_packet_dns"],
}

name := lib.dns_name(input.args.qname)

labels := lib.dns_labels(input.args.qname)

longest := max([count(l) | some l in labels])

longest_label := [l | some l in labels; count(l) == longest][0]

# Queried with hashed or encoded names by design.
reputation_services := {
	"spamhaus.org", "spamhaus.net", "spamcop.net", "surbl.org", "uribl.com", "sorbs.net",
	"barracudacentral.org", "mailspike.net", "dnswl.org", "abuseat.org", "senderbase.org",
	"spameatingmonkey.net", "cymru.com", "sophosxl.net", "avqs.mcafee.com", "avts.mcafee.com",
	"e5.sk", "trendmicro.com", "webroot.com", "bitdefender.net", "shadowserver.org",
}

excluded if endswith(name, ".in-addr.arpa")

excluded if endswith(name, ".ip6.arpa")

excluded if "_domainkey" in labels

excluded if lib.dns_under(name, reputation_services)

dashes(l) := count(indexof_n(l, "-"))

has_digit(l) if regex.match(`[0-9]`, l)

has_letter(l) if regex.match(`[a-z]`, l)

# base32, hex and base64 in a label: digits among the letters, hardly a dash
encoded(l) if {
	has_digit(l)
	has_letter(l)
	dashes(l) <= 3
}

reasons contains "long-label" if {
	some l in labels
	count(l) >= 52
	encoded(l)
}

reasons contains "random-label" if {
	some l in labels
	count(l) >= 32
	encoded(l)
	lib.entropy(l) > 4.1
}

reasons contains "long-name" if count(name) >= 180

reasons contains "many-labels" if count(labels) >= 12

finding contains {
	"reasons": sort(reasons),
	"qname": input.args.qname,
	"qtype": lib.arg("qtype", ""),
	"name_length": count(name),
	"labels": count(labels),
	"longest_label": longest,
	"entropy": round(lib.entropy(longest_label) * 100) / 100,
	"resolver": sprintf("%s:%d", [lib.arg("daddr", ""), lib.arg("dport", 0)]),
	"ancestry": lib.ancestry,
} if {
	input.args.response == false
	# the reasons first: they are rare, and the exclusions cost more
	count(reasons) > 0
	not excluded
}

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

labels := [l | some l in split(name, "."); l != ""] # lib.dns_labels, name computed once

longest := max([count(l) | some l in labels])

longest_label := [l | some l in labels; count(l) == longest][0]

# Every reason needs a label of 32 characters or more, a dozen labels or a
# name of 180 characters; ordinary names have none of them. These tests on
# the name as looked up hold whenever a reason does (lowering keeps the
# number of characters and the dots; the root's dot only shortens the
# name), cost one pass over it, and come first: most lookups stop here, and
# the engine reads them off the rule to keep the others out of Rego.
data_shaped if regex.match(`[^.]{32}`, input.args.qname)

data_shaped if regex.match(`^\.*(?:[^.]+\.+){11}[^.]`, input.args.qname)

data_shaped if regex.match(`^(?s).{180}`, input.args.qname)

# Queried with hashed or encoded names by design.
reputation_services := {
	"spamhaus.org", "spamhaus.net", "spamcop.net", "surbl.org", "uribl.com", "sorbs.net",
	"barracudacentral.org", "mailspike.net", "dnswl.org", "abuseat.org", "senderbase.org",
	"spameatingmonkey.net", "cymru.com", "sophosxl.net", "avqs.mcafee.com", "avts.mcafee.com",
	"e5.sk", "trendmicro.com", "webroot.com", "bitdefender.net", "shadowserver.org",
}

# reverse lookups: long by design (an IPv6 one has 34 labels), tested
# before the reasons
reverse_lookup if endswith(name, ".in-addr.arpa")

reverse_lookup if endswith(name, ".ip6.arpa")

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

# the labels the label reasons look at, each tested once
encoded_labels contains l if {
	some l in labels
	count(l) >= 32
	encoded(l)
}

reasons contains "long-label" if {
	some l in encoded_labels
	count(l) >= 52
}

reasons contains "random-label" if {
	some l in encoded_labels
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
	data_shaped
	not reverse_lookup
	# the reasons next: they are rare, and the other exclusions cost more
	count(reasons) > 0
	not excluded
}

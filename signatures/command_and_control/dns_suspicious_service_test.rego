package vigil.signatures.dns_suspicious_service

q(name, comm) := {"name": "net_packet_dns", "process": {"pid": 9600, "comm": comm, "exe": concat("/", ["/usr/bin", comm])}, "args": {
	"direction": "egress", "qname": name, "qtype": "A", "response": false, "dport": 53,
}}

test_duckdns_fires if {
	some f in finding with input as q("c2-home.duckdns.org", "curl")
	f.service == ["dynamic-dns"]
	f.qname == "c2-home.duckdns.org"
}

test_ngrok_fires if {
	some f in finding with input as q("0a1b-203-0-113-7.ngrok-free.app", "python3")
	f.service == ["tunnel"]
}

test_cloudflare_quick_tunnel_fires if {
	count(finding) == 1 with input as q("tender-river-42.trycloudflare.com", "sh")
}

test_paste_fires if {
	some f in finding with input as q("PASTEBIN.com.", "wget")
	f.service == ["paste"]
}

test_browser_is_quiet if {
	count(finding) == 0 with input as q("pastebin.com", "firefox")
}

test_response_is_quiet if {
	ev := json.patch(q("x.duckdns.org", "curl"), [{"op": "replace", "path": "/args/response", "value": true}])
	count(finding) == 0 with input as ev
}

test_ordinary_names_are_quiet if {
	count(finding) == 0 with input as q("deb.debian.org", "apt")
	count(finding) == 0 with input as q("notduckdns.org", "curl")
	count(finding) == 0 with input as q("duckdns.org.example.com", "curl")
}

# Lookups of dynamic-DNS, tunnel and paste services: names malware uses to
# find its controller (a dynamic-DNS name follows the attacker's changing
# address), to reach a host from outside through a tunnel broker (ngrok,
# Cloudflare quick tunnels), or to fetch its next stage or drop stolen data
# on a paste or file-drop site.
#
# Each also has legitimate users (a home server on DuckDNS, a developer
# sharing a local port with ngrok), hence medium severity and one finding
# per lookup with the kind of service, for a rule author to narrow by host.
# Only queries are reported (the response would repeat the lookup), and
# browsers are left out: on a workstation they visit such sites.
package vigil.signatures.dns_suspicious_service

import data.vigil.lib

metadata := {
	"id": "dns-suspicious-service",
	"name": "Lookup of a dynamic-DNS, tunnel or paste service",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A process looked up a name under a dynamic-DNS provider, a tunnelling service (ngrok, Cloudflare quick tunnels, localtunnel, ...) or a paste/file-drop site: common ways for malware to find its controller, expose a host or stage payloads.",
	"tactics": ["TA0011"],
	"techniques": ["T1568", "T1572", "T1102"],
	"tags": ["network", "dns", "dynamic-dns", "tunnel", "paste"],
	"events": ["net_packet_dns"],
}

# Domains under which anyone can get a name that follows their address.
dynamic_dns := {
	"duckdns.org", "ddns.net", "hopto.org", "zapto.org", "sytes.net", "no-ip.org", "no-ip.biz",
	"no-ip.info", "noip.me", "servehttp.com", "serveftp.com", "servebeer.com", "myftp.org",
	"myvnc.com", "redirectme.net", "bounceme.net", "ddnsking.com", "gotdns.ch", "hopto.me",
	"dynu.net", "dyndns.org", "dynalias.com", "homeip.net", "mooo.com", "chickenkiller.com",
	"crabdance.com", "strangled.net", "afraid.org", "dnsdynamic.org", "changeip.com",
	"3utilities.com", "kozow.com", "freeddns.org", "ddns.me", "dynv6.net", "duia.eu",
	"spdns.de", "ooguy.com", "publicvm.com",
}

# Brokers that publish a local port under their own name.
tunnels := {
	"ngrok.io", "ngrok.app", "ngrok-free.app", "ngrok-free.dev", "trycloudflare.com",
	"serveo.net", "serveousercontent.com", "loca.lt", "localtunnel.me", "pagekite.me",
	"portmap.io", "portmap.host", "telebit.io", "localhost.run", "lhr.life", "bore.pub",
	"playit.gg", "tunnelto.dev", "pinggy.io", "pinggy.link", "localxpose.io", "loclx.io",
}

# Anonymous paste and file-drop sites.
pastes := {
	"pastebin.com", "paste.ee", "ghostbin.co", "hastebin.com", "transfer.sh", "termbin.com",
	"0x0.st", "file.io", "anonfiles.com", "rentry.co", "dpaste.com", "dpaste.org",
	"paste.c-net.org", "controlc.com", "justpaste.it", "pastes.io", "temp.sh", "bashupload.com",
}

# Browsers visit these sites on workstations.
browsers := {"firefox", "firefox-esr", "chrome", "chromium", "chromium-browser", "brave", "opera", "vivaldi", "msedge"}

kinds contains "dynamic-dns" if lib.dns_under(input.args.qname, dynamic_dns)

kinds contains "tunnel" if lib.dns_under(input.args.qname, tunnels)

kinds contains "paste" if lib.dns_under(input.args.qname, pastes)

finding contains {
	"service": sort(kinds),
	"qname": input.args.qname,
	"qtype": lib.arg("qtype", ""),
	"program": object.get(input.process, "exe", object.get(input.process, "comm", "")),
	"ancestry": lib.ancestry,
} if {
	input.args.response == false
	count(kinds) > 0
	not lib.is_process_named(input.process, browsers)
}

# Crypto-mining pool: a process talks to a mining pool, the tell-tale of a
# miner dropped on a compromised host (xmrig and its forks, mostly Monero).
#
# Three ways to see it: the DNS name of a known pool is looked up (queries
# only: the answer would report the same lookup twice); a process whose
# command line carries a stratum URL connects anywhere (pool proxies run on
# internal addresses too); a TCP connection goes to a port pools listen on,
# at an address outside the site. The ports alone are the weakest sign
# (4444 and 5555 serve other things too), which is why connections to
# loopback, private and link-local addresses are left out of that one.
package vigil.signatures.crypto_mining_pool

import data.vigil.lib

metadata := {
	"id": "crypto-mining-pool",
	"name": "Connection to a crypto-mining pool",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process looked up the DNS name of a known mining pool, connected with a stratum URL on its command line, or opened a TCP connection to a stratum port at an outside address: a cryptocurrency miner is running.",
	"tactics": ["TA0040"],
	"techniques": ["T1496"],
	"tags": ["network", "cryptomining", "stratum"],
	"events": ["security_socket_connect", "net_packet_dns"],
}

# Ports mining pools (stratum) commonly listen on, TLS variants included.
stratum_ports := {3333, 3334, 4444, 5555, 6666, 7777, 10128, 14433, 14444, 20128, 45560, 45700}

# Pools and pool front doors by registered domain; subdomains match too.
# donate.v2.xmrig.com is xmrig's built-in developer fee pool.
pool_domains := {
	"minexmr.com", "supportxmr.com", "nanopool.org", "2miners.com", "f2pool.com",
	"ethermine.org", "hashvault.pro", "moneroocean.stream", "c3pool.com", "c3pool.org",
	"herominers.com", "minergate.com", "nicehash.com", "unmineable.com", "xmrpool.eu",
	"dwarfpool.com", "miningpoolhub.com", "slushpool.com", "braiins.com", "viabtc.com",
	"antpool.com", "poolin.com", "kryptex.network", "zpool.ca", "zergpool.com",
	"prohashing.com", "mining-dutch.nl", "p2pool.io", "monerohash.com", "woolypooly.com",
	"flexpool.io", "ezil.me", "hiveon.net", "emcd.io", "luckpool.net", "rplant.xyz",
	"xmrig.com", "moneropool.com", "xmrpool.net", "bohemianpool.com", "cryptonote.social",
	"hashcryptos.com", "minerrocket.com", "pool.hashvault.pro",
}

connect if {
	input.name == "security_socket_connect"
	input.args.family in lib.inet_families
}

reasons contains "pool-domain" if {
	input.name == "net_packet_dns"
	input.args.response == false
	lib.dns_under(input.args.qname, pool_domains)
}

reasons contains "stratum-url" if {
	connect
	some a in object.get(input.process, "argv", [])
	regex.match(`(?i)stratum[0-9]*\+(tcp|ssl|tls)://`, a)
}

reasons contains "stratum-port" if {
	connect
	input.args.type == "SOCK_STREAM"
	input.args.remote_port in stratum_ports
	not lib.is_internal_addr(input.args.remote_addr)
}

destination := input.args.qname if input.name == "net_packet_dns"

destination := sprintf("%s:%d", [input.args.remote_addr, input.args.remote_port]) if input.name == "security_socket_connect"

finding contains {
	"reasons": sort(reasons),
	"destination": destination,
	"program": object.get(input.process, "exe", object.get(input.process, "comm", "")),
	"argv": object.get(input.process, "argv", []),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
}

# Helpers of the network signatures (package vigil.lib, beside lib.rego):
# socket arguments, address classes, DNS names and their entropy, and the
# program families network detections look for. Pure functions of input.
package vigil.lib

# inet_families are the address families of IP sockets.
inet_families := {"AF_INET", "AF_INET6"}

# stdio_fds are standard input, output and error.
stdio_fds := {0, 1, 2}

# is_inet_peer(args) is true when the socket described by args (a socket
# event's or a dup event's arguments) is an IP socket with a remote end:
# a connected TCP or UDP socket. False otherwise.
default is_inet_peer(_) := false

is_inet_peer(args) if {
	args.family in inet_families
	object.get(args, "remote_port", 0) > 0
}

# ipv4_of(addr) is the dotted quad of an IPv4 address, also written
# v4-mapped (::ffff:10.0.0.1); undefined for anything else.
ipv4_of(addr) := addr if {
	is_string(addr)
	regex.match(`^[0-9]{1,3}(\.[0-9]{1,3}){3}$`, addr)
}

ipv4_of(addr) := v4 if {
	is_string(addr)
	startswith(addr, "::ffff:")
	v4 := substring(addr, 7, -1)
	regex.match(`^[0-9]{1,3}(\.[0-9]{1,3}){3}$`, v4)
}

# internal_v4 and internal_v6 are the ranges that do not leave a site:
# loopback, RFC 1918 and shared (CGNAT) space, link-local, unique local,
# the unspecified address.
internal_v4 := ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "0.0.0.0/8"]

internal_v6 := ["::1/128", "::/128", "fc00::/7", "fe80::/10"]

# is_internal_addr(addr) is true when addr (text, as the sensor writes it)
# is in one of those ranges, false otherwise (and for what is no address).
default is_internal_addr(_) := false

is_internal_addr(addr) if {
	v4 := ipv4_of(addr)
	some cidr in internal_v4
	net.cidr_contains(cidr, v4)
}

is_internal_addr(addr) if {
	not ipv4_of(addr)
	is_v6_text(addr)
	some cidr in internal_v6
	net.cidr_contains(cidr, addr)
}

# is_loopback_addr(addr) is true for 127.0.0.0/8 and ::1.
default is_loopback_addr(_) := false

is_loopback_addr(addr) if net.cidr_contains("127.0.0.0/8", ipv4_of(addr))

is_loopback_addr("::1")

is_v6_text(addr) if {
	is_string(addr)
	regex.match(`^[0-9a-f:]*:[0-9a-f:]*$`, addr)
}

# net_relays are the tools that connect a socket to a program's stdio.
net_relays := {"nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "telnet", "cryptcat", "pwncat", "rcat"}

# super_servers accept connections and hand them to a program as its stdio,
# by design: inetd and its successors, socket-activated services, sshd
# (which re-executes itself, or sshd-session, with the client's socket as
# stdin and stdout).
super_servers := {"inetd", "xinetd", "systemd", "tcpserver", "tcpsvd", "s6-tcpserver", "s6-tcpserver4", "s6-tcpserver6", "s6-tcpserverd", "sshd", "sshd-session", "sshd-auth", "dropbear"}

# dns_name(name) is a DNS name lowercased, without the root's dot.
dns_name(name) := trim_suffix(lower(name), ".")

# dns_labels(name) are the labels of a DNS name.
dns_labels(name) := [l | some l in split(dns_name(name), "."); l != ""]

# dns_under(name, domains) is true when name is one of domains (a set of
# lowercase names) or lies under one, false otherwise.
default dns_under(_, _) := false

dns_under(name, domains) if dns_name(name) in domains

dns_under(name, domains) if {
	n := dns_name(name)
	some d in domains
	endswith(n, concat("", [".", d]))
}

# log2_table[k] is log2(k) for k in 1..256 (index 0 is 0).
log2_table := [
	0, 0, 1, 1.585, 2, 2.3219, 2.585, 2.8074, 3, 3.1699, 3.3219, 3.4594, 3.585, 3.7004, 3.8074, 3.9069,
	4, 4.0875, 4.1699, 4.2479, 4.3219, 4.3923, 4.4594, 4.5236, 4.585, 4.6439, 4.7004, 4.7549, 4.8074, 4.858, 4.9069, 4.9542,
	5, 5.0444, 5.0875, 5.1293, 5.1699, 5.2095, 5.2479, 5.2854, 5.3219, 5.3576, 5.3923, 5.4263, 5.4594, 5.4919, 5.5236, 5.5546,
	5.585, 5.6147, 5.6439, 5.6724, 5.7004, 5.7279, 5.7549, 5.7814, 5.8074, 5.8329, 5.858, 5.8826, 5.9069, 5.9307, 5.9542, 5.9773,
	6, 6.0224, 6.0444, 6.0661, 6.0875, 6.1085, 6.1293, 6.1497, 6.1699, 6.1898, 6.2095, 6.2288, 6.2479, 6.2668, 6.2854, 6.3038,
	6.3219, 6.3399, 6.3576, 6.375, 6.3923, 6.4094, 6.4263, 6.4429, 6.4594, 6.4757, 6.4919, 6.5078, 6.5236, 6.5392, 6.5546, 6.5699,
	6.585, 6.5999, 6.6147, 6.6294, 6.6439, 6.6582, 6.6724, 6.6865, 6.7004, 6.7142, 6.7279, 6.7415, 6.7549, 6.7682, 6.7814, 6.7944,
	6.8074, 6.8202, 6.8329, 6.8455, 6.858, 6.8704, 6.8826, 6.8948, 6.9069, 6.9189, 6.9307, 6.9425, 6.9542, 6.9658, 6.9773, 6.9887,
	7, 7.0112, 7.0224, 7.0334, 7.0444, 7.0553, 7.0661, 7.0768, 7.0875, 7.098, 7.1085, 7.1189, 7.1293, 7.1396, 7.1497, 7.1599,
	7.1699, 7.1799, 7.1898, 7.1997, 7.2095, 7.2192, 7.2288, 7.2384, 7.2479, 7.2574, 7.2668, 7.2761, 7.2854, 7.2946, 7.3038, 7.3129,
	7.3219, 7.3309, 7.3399, 7.3487, 7.3576, 7.3663, 7.375, 7.3837, 7.3923, 7.4009, 7.4094, 7.4179, 7.4263, 7.4346, 7.4429, 7.4512,
	7.4594, 7.4676, 7.4757, 7.4838, 7.4919, 7.4998, 7.5078, 7.5157, 7.5236, 7.5314, 7.5392, 7.5469, 7.5546, 7.5622, 7.5699, 7.5774,
	7.585, 7.5925, 7.5999, 7.6073, 7.6147, 7.6221, 7.6294, 7.6366, 7.6439, 7.6511, 7.6582, 7.6653, 7.6724, 7.6795, 7.6865, 7.6935,
	7.7004, 7.7074, 7.7142, 7.7211, 7.7279, 7.7347, 7.7415, 7.7482, 7.7549, 7.7616, 7.7682, 7.7748, 7.7814, 7.7879, 7.7944, 7.8009,
	7.8074, 7.8138, 7.8202, 7.8265, 7.8329, 7.8392, 7.8455, 7.8517, 7.858, 7.8642, 7.8704, 7.8765, 7.8826, 7.8887, 7.8948, 7.9009,
	7.9069, 7.9129, 7.9189, 7.9248, 7.9307, 7.9366, 7.9425, 7.9484, 7.9542, 7.96, 7.9658, 7.9715, 7.9773, 7.983, 7.9887, 7.9944,
	8
]

# entropy(s) is the Shannon entropy of the characters of s, in bits per
# character (0 for "" and strings of more than 256 characters: DNS names
# are shorter). Hex-encoded data reaches 4, base32 about 5; host names
# made of words stay near 3. Each distinct character is counted by
# strings.count, one built-in call, not by a comprehension over every
# character (quadratic in Rego: milliseconds for a 63-byte label); the two
# agree on every string an event holds (valid UTF-8, as JSON carries).
default entropy(_) := 0

entropy(s) := h if {
	chars := split(s, "")
	n := count(chars)
	n > 0
	n <= 256
	weighted := [w | some ch in {x | some x in chars}; c := strings.count(s, ch); w := c * log2_table[c]]
	h := log2_table[n] - (sum(weighted) / n)
}

# Root certificate installed: a file is written into the system's store of
# trusted certificate authorities.
#
# A certificate authority the host trusts can vouch for any name: whoever
# holds its key can read and change the host's TLS traffic through a proxy
# (its package downloads, API calls, agent check-ins) without a warning,
# and sign code or updates that the host then accepts (T1553.004). The
# store is the anchors folder each distribution reads
# (/usr/local/share/ca-certificates, /etc/pki/ca-trust/source/anchors, ...),
# /etc/ca-certificates.conf that selects the bundled ones, and the bundles
# and hashed links built from them (/etc/ssl/certs, the ca-bundle files),
# which a program can also edit directly. A server's own certificate
# beside them (/etc/ssl/certs/www.crt, /etc/pki/tls/certs/www.crt) trusts
# nothing and is not reported.
#
# The tools that rebuild the bundles from the anchors (update-ca-certificates,
# update-ca-trust, p11-kit and trust, c_rehash) and what they run are left
# out, as are package managers: they write the store as their job. An
# administrator adding a company's authority by hand is reported, as an
# intruder adding theirs would be: the copy into the anchors folder, not the
# rebuild that follows.
package vigil.signatures.root_certificate_installed

import data.vigil.lib

metadata := {
	"id": "root-certificate-installed",
	"name": "Trusted root certificate installed",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A file was written, created, renamed, linked or symlinked into the system's trusted certificate authorities (the anchors folders, /etc/ca-certificates.conf, the CA bundles and /etc/ssl/certs) by something other than a package manager or the tools that rebuild the bundles: a new authority can intercept the host's TLS traffic and vouch for code.",
	"tactics": ["TA0005"],
	"techniques": ["T1553.004"],
	"tags": ["certificate", "tls", "trust", "file"],
	"events": ["security_file_open", "security_inode_rename", "security_inode_link", "security_inode_symlink"],
}

written := lib.file_written

path := written.path

# folders of anchors the trust tools build the bundles from, and the bundles
# and links they build
store_prefixes := [
	"/usr/local/share/ca-certificates/", # Debian, Ubuntu, Alpine
	"/usr/share/ca-certificates/",
	"/etc/pki/ca-trust/source/", # RHEL, Fedora (anchors/, blocklist/)
	"/usr/share/pki/ca-trust-source/",
	"/etc/pki/trust/anchors/", # SUSE
	"/etc/ca-certificates/trust-source/", # Arch
	"/etc/pki/ca-trust/extracted/",
]

# the bundles programs read, and Java's keystores of authorities
store_files := {
	"/etc/ca-certificates.conf",
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/ssl/cert.pem",
	"/etc/pki/tls/cert.pem",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/pki/tls/certs/ca-bundle.trust.crt",
	"/etc/ssl/certs/java/cacerts",
	"/etc/pki/java/cacerts",
}

in_store if path in store_files

in_store if {
	some prefix in store_prefixes
	startswith(path, prefix)
}

# /etc/ssl/certs also holds servers' own certificates, which trust nothing:
# what OpenSSL looks authorities up by there are links named by the
# subject's hash (5ad8a5d6.0)
in_store if {
	startswith(path, "/etc/ssl/certs/")
	regex.match(`^/etc/ssl/certs/[0-9a-f]{8}\.[0-9]+$`, path)
}

# the tools that turn the anchors into bundles and hashed links (and the
# hooks they run, e.g. Java's keystore); update-ca-certificates is a script,
# whose comm is cut to 15 characters
trust_tools := {
	"update-ca-certificates", "update-ca-certi", "update-ca-trust", "p11-kit", "trust",
	"c_rehash", "ca-certificates", "run-parts",
}

allowed if lib.from_package_manager

allowed if lib.from_system_program(trust_tools)

allowed if lib.is_system_program(input.process, lib.image_tools)

finding contains {
	"pathname": path,
	"operation": written.operation,
	"exe": object.get(input.process, "exe", ""),
	"argv": object.get(input.process, "argv", []),
	"ancestry": lib.ancestry,
} if {
	in_store
	not allowed
}

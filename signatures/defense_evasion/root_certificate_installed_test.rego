package vigil.signatures.root_certificate_installed

shell_ancestry := [
	{"pid": 2210, "host_pid": 2210, "comm": "bash", "exe": "/usr/bin/bash", "argv": ["-bash"]},
	{"pid": 2201, "host_pid": 2201, "comm": "sshd", "exe": "/usr/sbin/sshd", "argv": ["sshd: root@pts/0"]},
]

open_w(path, comm, exe, ancestors) := {
	"name": "security_file_open",
	"process": {"pid": 4100, "host_pid": 4100, "comm": comm, "exe": exe, "argv": [comm], "ancestors": ancestors},
	"return_value": 0,
	"args": {"pathname": path, "flags": 577, "created": true},
}

renamed(path, comm, exe, ancestors) := {
	"name": "security_inode_rename",
	"process": {"pid": 4100, "host_pid": 4100, "comm": comm, "exe": exe, "argv": [comm], "ancestors": ancestors},
	"return_value": 0,
	"args": {"old_path": "/tmp/ca.crt", "new_path": path},
}

test_anchor_copied_by_hand if {
	some f in finding with input as open_w("/usr/local/share/ca-certificates/corp-root.crt", "cp", "/usr/bin/cp", shell_ancestry)
	f.operation == "create"
	f.pathname == "/usr/local/share/ca-certificates/corp-root.crt"
}

test_anchor_moved_in_on_rhel if {
	some f in finding with input as renamed("/etc/pki/ca-trust/source/anchors/mitm.pem", "mv", "/usr/bin/mv", shell_ancestry)
	f.operation == "rename"
}

test_bundle_edited_directly if {
	some f in finding with input as open_w("/etc/ssl/certs/ca-certificates.crt", "python3", "/usr/bin/python3.11", shell_ancestry)
	f.pathname == "/etc/ssl/certs/ca-certificates.crt"
	some g in finding with input as open_w("/etc/pki/tls/certs/ca-bundle.crt", "tee", "/usr/bin/tee", shell_ancestry)
	g.operation == "create"
}

test_hashed_link_made if {
	ev := {
		"name": "security_inode_symlink",
		"process": {"pid": 4100, "host_pid": 4100, "comm": "ln", "exe": "/usr/bin/ln", "ancestors": shell_ancestry},
		"return_value": 0,
		"args": {"pathname": "/etc/ssl/certs/5ad8a5d6.0", "target": "/tmp/evil.pem"},
	}
	some f in finding with input as ev
	f.operation == "symlink"
}

test_java_keystore_import if {
	some f in finding with input as open_w("/etc/ssl/certs/java/cacerts", "java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", [{"pid": 2210, "comm": "keytool", "exe": "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool"}])
	f.pathname == "/etc/ssl/certs/java/cacerts"
}

test_server_certificates_are_quiet if {
	count(finding) == 0 with input as open_w("/etc/ssl/certs/www.example.com.crt", "cp", "/usr/bin/cp", shell_ancestry)
	count(finding) == 0 with input as open_w("/etc/pki/tls/certs/localhost.crt", "openssl", "/usr/bin/openssl", shell_ancestry)
	count(finding) == 0 with input as open_w("/etc/ssl/private/www.key", "cp", "/usr/bin/cp", shell_ancestry)
}

test_reads_are_quiet if {
	ev := open_w("/etc/ssl/certs/ca-certificates.crt", "curl", "/usr/bin/curl", shell_ancestry)
	count(finding) == 0 with input as object.union(ev, {"args": {"pathname": ev.args.pathname, "flags": 0}})
}

test_refused_write_is_quiet if {
	ev := open_w("/usr/local/share/ca-certificates/x.crt", "cp", "/usr/bin/cp", shell_ancestry)
	count(finding) == 0 with input as object.union(ev, {"return_value": -13})
}

test_rebuild_tools_are_quiet if {
	updater := [{"pid": 3001, "host_pid": 3001, "comm": "update-ca-certi", "exe": "/usr/bin/dash", "argv": ["/bin/sh", "/usr/sbin/update-ca-certificates"]}]
	count(finding) == 0 with input as open_w("/etc/ssl/certs/ca-certificates.crt", "cat", "/usr/bin/cat", updater)
	count(finding) == 0 with input as open_w("/etc/ssl/certs/5ad8a5d6.0", "ln", "/usr/bin/ln", updater)
	count(finding) == 0 with input as open_w("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "p11-kit", "/usr/bin/p11-kit", shell_ancestry)
	count(finding) == 0 with input as open_w("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "trust", "/usr/bin/trust", [{"pid": 3001, "comm": "update-ca-trust", "exe": "/usr/bin/bash"}])
}

test_package_manager_is_quiet if {
	dpkg := [{"pid": 3001, "host_pid": 3001, "comm": "dpkg", "exe": "/usr/bin/dpkg", "argv": ["dpkg", "--configure", "-a"]}]
	count(finding) == 0 with input as open_w("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", "dpkg", "/usr/bin/dpkg", [])
	count(finding) == 0 with input as open_w("/etc/ca-certificates.conf", "sed", "/usr/bin/sed", dpkg)
}

test_rebuild_tool_named_in_tmp_is_reported if {
	fake := [{"pid": 3001, "host_pid": 3001, "comm": "update-ca-certi", "exe": "/tmp/update-ca-certificates", "argv": ["/tmp/update-ca-certificates"]}]
	some f in finding with input as open_w("/usr/local/share/ca-certificates/x.crt", "cp", "/usr/bin/cp", fake)
	f.operation == "create"
}

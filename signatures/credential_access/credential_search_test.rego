package vigil.signatures.credential_search

exec(path, argv) := {
	"name": "sched_process_exec",
	"process": {"pid": 7100, "host_pid": 7100, "comm": "x", "exe": path, "uid": 33},
	"args": {"pathname": path, "filename": path, "argv": argv},
}

test_find_private_keys_from_root if {
	some f in finding with input as exec("/usr/bin/find", ["find", "/", "-name", "id_rsa*", "-type", "f"])
	f.reasons == ["key-file-search"]
	f.program == "/usr/bin/find"
	f.uid == 33
}

test_find_with_leading_options_and_several_patterns if {
	some f in finding with input as exec("/usr/bin/find", ["find", "-L", "/home", "/root", "(", "-iname", "*.kdbx", "-o", "-name", ".git-credentials", ")"])
	f.reasons == ["key-file-search"]
	some g in finding with input as exec("/usr/bin/find", ["find", "/var/www", "-name", ".env", "-print"])
	g.reasons == ["key-file-search"]
	some h in finding with input as exec("/usr/bin/find", ["find", "/", "-path", "*/.aws/credentials"])
	h.reasons == ["key-file-search"]
	some k in finding with input as exec("/usr/bin/find", ["find", "/opt", "/srv", "-name", "*.key", "-o", "-name", "*.ppk"])
	k.reasons == ["key-file-search"]
}

test_find_exec_grep_for_passwords if {
	some f in finding with input as exec("/usr/bin/find", ["find", "/etc", "-type", "f", "-exec", "grep", "-il", "password", "{}", ";"])
	f.reasons == ["secret-text-search"]
}

test_find_exec_grep_after_the_terminator_is_not_the_pattern if {
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/etc", "-exec", "grep", "-l", "Port", "{}", ";", "-newer", "/tmp/password-stamp"])
}

test_locate_and_fd if {
	some f in finding with input as exec("/usr/bin/plocate", ["locate", "-i", "id_ed25519"])
	f.reasons == ["key-file-search"]
	some g in finding with input as exec("/usr/bin/fdfind", ["fdfind", "-H", "-e", "pem", "wallet.dat", "/home"])
	g.reasons == ["key-file-search"]
}

test_busybox_find if {
	some f in finding with input as exec("/bin/busybox", ["busybox", "find", "/", "-name", "*.pfx"])
	f.reasons == ["key-file-search"]
}

test_recursive_grep_for_secrets if {
	some f in finding with input as exec("/usr/bin/grep", ["grep", "-rni", "password", "/var/www/html"])
	f.reasons == ["secret-text-search"]
	some g in finding with input as exec("/usr/bin/grep", ["grep", "-R", "-l", "-e", "BEGIN RSA PRIVATE KEY", "/home", "/root"])
	g.reasons == ["secret-text-search"]
	some h in finding with input as exec("/usr/bin/grep", ["grep", "--recursive", "--include=*.yml", "aws_secret_access_key", "/opt"])
	h.reasons == ["secret-text-search"]
	some k in finding with input as exec("/usr/bin/grep", ["grep", "-d", "recurse", "-Ei", "api_?key|token", "/srv"])
	k.reasons == ["secret-text-search"]
	some m in finding with input as exec("/usr/bin/grep", ["grep", "-r", "--regexp=AKIA[0-9A-Z]{16}", "/"])
	m.reasons == ["secret-text-search"]
}

test_ripgrep_and_friends_are_recursive if {
	some f in finding with input as exec("/usr/bin/rg", ["rg", "-i", "passw(or)?d\\s*=", "/etc", "/opt"])
	f.reasons == ["secret-text-search"]
	some g in finding with input as exec("/usr/bin/ag", ["ag", "secret_key", "/srv/app"])
	g.reasons == ["secret-text-search"]
}

test_developer_searches_in_the_working_tree_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "-rn", "password", "src/"])
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "-rn", "password", "."])
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "-r", "password"])
	count(finding) == 0 with input as exec("/usr/bin/rg", ["rg", "api_key"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", ".", "-name", "*.key"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "-name", "id_rsa"])
}

test_one_file_checks_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "-q", "^PasswordAuthentication", "/etc/ssh/sshd_config"])
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "-i", "password", "/etc/login.defs"])
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "passwd", "/etc/nsswitch.conf"])
}

test_own_ssh_folder_is_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/home/ana/.ssh", "-name", "id_*"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/root/.ssh", "-name", "id_rsa", "-newer", "/tmp/x"])
}

test_ordinary_searches_are_quiet if {
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "-L", "/usr/share/ca-certificates", "-type", "f", "-name", "*.crt"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/var/log", "-name", "*.gz", "-mtime", "+7", "-delete"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/etc/ssl/certs", "-type", "l", "!", "-exec", "test", "-e", "{}", ";", "-print"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/tmp", "-name", "keyboard*"])
	count(finding) == 0 with input as exec("/usr/bin/grep", ["grep", "-rl", "TODO", "/srv/app"])
	count(finding) == 0 with input as exec("/usr/bin/locate", ["locate", "libssl.so"])
	count(finding) == 0 with input as exec("/usr/bin/find", ["find", "/usr/lib", "-name", "*.keytab.example"])
}

package vigil.signatures.crypto_miner

run(path, comm, argv) := {"name": "sched_process_exec", "process": {"pid": 21, "comm": comm}, "args": {"pathname": path, "argv": argv}}

test_stratum_url if {
	some f in finding with input as run("/tmp/.x/updater", "updater", ["updater", "-o", "stratum+tcp://pool.example.org:3333", "-u", "4Abc"])
	f.reasons == ["stratum-url"]
	f.pools == ["stratum+tcp://pool.example.org:3333"]
}

test_xmrig_by_name_and_options if {
	some f in finding with input as run("/opt/xmrig/xmrig", "xmrig", ["xmrig", "--donate-level=1", "-o", "pool:443", "--tls"])
	f.reasons == ["miner-name", "miner-options"]
}

test_renamed_binary_with_options if {
	some f in finding with input as run("/var/tmp/systemd-helper", "systemd-helper", ["systemd-helper", "--randomx-1gb-pages", "--coin=monero"])
	f.reasons == ["miner-options"]
}

test_ordinary_program_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/curl", "curl", ["curl", "-o", "out", "https://example.org/stratum"])
}

test_algo_option_of_other_tools_is_quiet if {
	count(finding) == 0 with input as run("/usr/bin/ssh-keygen", "ssh-keygen", ["ssh-keygen", "--algo=ed25519"])
}

# A cryptocurrency miner started: a stratum pool URL on its command line,
# the option set of the common miners (XMRig and its forks), or the name of a
# well-known miner. Cryptojacking is the commonest payload of opportunistic
# intrusions into servers and containers.
package vigil.signatures.crypto_miner

import data.vigil.lib

metadata := {
	"id": "crypto-miner-exec",
	"name": "Cryptocurrency miner started",
	"version": "1.0.0",
	"severity": "high",
	"description": "A program was started with a mining pool (stratum) URL, with mining options (XMRig's --donate-level, --randomx, ...), or under the name of a well-known miner.",
	"tactics": ["TA0040"],
	"techniques": ["T1496"],
	"tags": ["cryptomining", "cryptojacking", "xmrig"],
	"events": ["sched_process_exec"],
}

miner_names := {
	"xmrig", "xmr-stak", "xmr-stak-cpu", "minerd", "cpuminer", "cpuminer-multi", "cgminer",
	"bfgminer", "ethminer", "nbminer", "t-rex", "lolminer", "phoenixminer", "nanominer",
	"gminer", "srbminer-multi", "teamredminer", "kawpowminer", "xmrig-notls", "cryptonight",
}

reasons contains "stratum-url" if regex.match(`(?i)stratum[0-9]?\+(tcp|ssl|tls)://`, lib.cmdline)

reasons contains "miner-options" if {
	some a in input.args.argv
	regex.match(`^--(donate-level|randomx-mode|randomx-1gb-pages|cpu-max-threads-hint|coin|algo=(rx|cn|kawpow|ethash))`, a)
}

reasons contains "miner-name" if lib.basename(lib.exec_path) in miner_names

reasons contains "miner-name" if lower(input.process.comm) in miner_names

pools := regex.find_n(`(?i)stratum[0-9]?\+(tcp|ssl|tls)://[^\s'"]+`, lib.cmdline, 3)

# Every exec of the host comes here: cheap tests first.
candidate if regex.match(`(?i)stratum|--(donate-level|randomx|cpu-max-threads-hint|coin|algo)`, lib.cmdline)

candidate if lib.basename(lib.exec_path) in miner_names

candidate if lower(input.process.comm) in miner_names

finding contains {
	"program": lib.exec_path,
	"reasons": sort(reasons),
	"pools": pools,
	"argv": lib.arg("argv", []),
	"ancestry": lib.ancestry,
} if {
	candidate
	count(reasons) > 0
}

# A shell started with its history switched off or sent nowhere
# (HISTFILE=/dev/null or empty, HISTSIZE=0, HISTFILESIZE=0): intruders do it
# so that the commands they type leave no trace in ~/.bash_history.
#
# Needs the env argument of sched_process_exec. Only shells are looked at:
# the variables are inherited by everything a shell starts, and one report
# per shell is enough.
package vigil.signatures.shell_history_disabled

import data.vigil.lib

metadata := {
	"id": "shell-history-disabled",
	"name": "Shell started with history disabled",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A shell was started with HISTFILE pointing nowhere or HISTSIZE/HISTFILESIZE set to 0, so the commands typed in it are not recorded.",
	"tactics": ["TA0005"],
	"techniques": ["T1070.003", "T1562.003"],
	"tags": ["history", "anti-forensics", "shell"],
	"events": ["sched_process_exec"],
}

reasons contains "HISTFILE" if lib.env_value("HISTFILE") in {"", "/dev/null"}

reasons contains "HISTSIZE" if lib.env_value("HISTSIZE") == "0"

reasons contains "HISTFILESIZE" if lib.env_value("HISTFILESIZE") == "0"

# Every exec of the host comes here: most carry no history variable.
candidate if {
	some kv in input.args.env
	startswith(kv, "HIST")
}

finding contains {
	"shell": lib.exec_path,
	"variables": sort(reasons),
	"argv": lib.arg("argv", []),
	"ancestry": lib.ancestry,
} if {
	candidate
	lib.is_shell(lib.exec_path)
	count(reasons) > 0
}

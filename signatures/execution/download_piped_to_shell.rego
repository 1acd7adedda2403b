# A shell command line that downloads something and runs it at once:
# `curl ... | sh`, `wget -O- ... | bash`, `sh -c "$(curl ...)"`,
# `python3 <(curl ...)`. It is how droppers and many intrusion scripts fetch
# their next stage without leaving a file to inspect first.
#
# A pipeline typed in a terminal or written in a script appears on no
# command line: the shell runs curl and sh as two programs joined by a
# pipe. The sensor joins the two execs by the pipe (stdin_writer_* on the
# reader's exec, stdout_reader_* on the writer's, whichever comes second):
# the "joined-pipe" shape, when the reader takes its code from that pipe
# (`| sh`, `| python3 -`, not `| python3 -m json.tool`). When the pipeline
# was itself on a parent shell's -c command line, that parent's exec is
# the finding and the join adds none.
#
# Installers (rustup, nvm, Homebrew) are fetched the same way: a medium
# severity, and the URL is in the finding for the analyst to judge.
package vigil.signatures.download_piped_to_shell

import data.vigil.lib

metadata := {
	"id": "download-piped-to-shell",
	"name": "Download piped into a shell or interpreter",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A shell ran a command line that downloads content (curl, wget, fetch, busybox wget) and feeds it straight into a shell or script interpreter, executing code that never touched the disk.",
	"tactics": ["TA0002", "TA0011"],
	"techniques": ["T1105", "T1059.004"],
	"tags": ["download", "dropper", "shell"],
	"events": ["sched_process_exec"],
}

downloader := `(curl|wget|fetch|lwp-download|busybox\s+wget)`

runner := `(sudo\s+(-\S+\s+)*)?(\S*/)?(ba|da|z|k|a|c|tc|fi)?sh|(\S*/)?(python[0-9.]*|perl|ruby|php[0-9.]*|node)`

# "curl ... | sh": the download's output is the runner's input.
shapes contains "pipe" if lib.pipes_code_into(lib.command_string, concat("", [`\b`, downloader, `\b`]))

# sh -c "$(curl ...)" and `wget -O- ...`: the output becomes the command.
shapes contains "substitution" if {
	regex.match(concat("", [`(\$\(|`, backtick, `)\s*`, downloader, `\b`]), script)
	regex.match(concat("", [`(^|[;&|]\s*|\b(eval|exec)\s+|\b(ba|da|z)?sh\s+-c\s+['"]?)\s*['"]?(\$\(|`, backtick, `)`]), script)
}

backtick := "`"

# python3 <(curl ...) and bash <(wget ...)
shapes contains "process-substitution" if regex.match(concat("", [`(`, runner, `)\s+<\(\s*`, downloader, `\b`]), script)

# The text the shell interprets: what follows its first -c (sh -c 'script').
script := concat(" ", array.slice(argv, flags[0] + 1, count(argv))) if {
	argv := input.args.argv
	flags := [i | some i, a in argv; regex.match(`^-[a-zA-Z]*c[a-zA-Z]*$`, a)]
	count(flags) > 0
}

urls := [u | some u in regex.find_n(`[a-z][a-z0-9+.-]*://[^\s'"|;)]+`, script, 5)]

# Every exec of the host comes here: a shell with a downloader somewhere on
# its command line, or nothing.
candidate if {
	lib.is_shell(lib.exec_path)
	regex.match(`curl|wget|fetch|lwp-download`, lib.cmdline)
}

finding contains {
	"shell": lib.exec_path,
	"shapes": sort(shapes),
	"command": script,
	"urls": urls,
	"ancestry": lib.ancestry,
} if {
	candidate
	lib.is_shell(lib.exec_path)
	count(shapes) > 0
}

# ---- the two ends of a pipe, joined by the sensor ----

downloader_comms := {"curl", "wget", "fetch", "lwp-download", "busybox"}

# a downloader (busybox as wget) writing into a shell or interpreter
joined := lib.piped_into_code(downloader_comms, concat("", [`^`, downloader, `\b`]))

finding contains {
	"shell": joined.runner,
	"shapes": ["joined-pipe"],
	"command": concat(" ", joined.producer),
	"urls": [u | some u in regex.find_n(`[a-z][a-z0-9+.-]*://[^\s'"|;)]+`, concat(" ", joined.producer), 5)],
	"ancestry": lib.ancestry,
} if {
	joined
	not lib.pipeline_on_parent_cmdline
}

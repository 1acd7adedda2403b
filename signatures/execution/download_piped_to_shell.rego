# A shell command line that downloads something and runs it at once:
# `curl ... | sh`, `wget -O- ... | bash`, `sh -c "$(curl ...)"`,
# `python3 <(curl ...)`. It is how droppers and many intrusion scripts fetch
# their next stage without leaving a file to inspect first.
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
shapes contains "pipe" if regex.match(concat("", [`\b`, downloader, `\b[^|;&]*\|\s*(`, runner, `)(\s|$)`]), script)

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

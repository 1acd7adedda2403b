# A command line that decodes an encoded blob and executes the result:
# `echo ... | base64 -d | sh`, `python -c "exec(base64.b64decode(...))"`,
# `perl -MMIME::Base64 -e 'eval decode_base64(...)'`, `xxd -r -p | bash`.
# Encoding hides the real command from whoever reads process listings and
# logs; decoding straight into an interpreter is rare in honest automation.
#
# A pipeline typed in a terminal or written in a script appears on no
# command line: the sensor joins the decoder's exec and the reader's by
# their pipe (stdin_writer_* / stdout_reader_*, on whichever exec comes
# second), the "joined-pipe" shape, when the reader takes its code from
# the pipe (`| sh`, not `| sh -c '...'` or `| python3 -m json.tool`).
package vigil.signatures.decoded_payload_exec

import data.vigil.lib

metadata := {
	"id": "decoded-payload-exec",
	"name": "Encoded payload decoded and executed",
	"version": "1.0.0",
	"severity": "high",
	"description": "A shell or interpreter ran a command line that decodes base64, hex or a compressed blob and executes the result, hiding the real command.",
	"tactics": ["TA0005", "TA0002"],
	"techniques": ["T1140", "T1027", "T1059.004", "T1059.006"],
	"tags": ["obfuscation", "base64", "shell"],
	"events": ["sched_process_exec"],
}

decoder := `(base64\s+(-\w*d\w*|--decode)|openssl\s+(enc\s+)?(-\w+\s+)*-d?base64(\s+-d)?|xxd\s+(-\w+\s+)*-r|basenc\s+.*--decode|uudecode|gunzip|zcat|gzip\s+-d\w*|bzip2\s+-d\w*|xz\s+-d\w*)`

# shell pipelines: a decoder whose output is piped into a runner
shapes contains "pipeline" if {
	lib.is_shell(lib.exec_path)
	lib.pipes_code_into(lib.command_string, decoder)
}

# shell substitutions: sh -c "$(echo ... | base64 -d)"
shapes contains "substitution" if {
	lib.is_shell(lib.exec_path)
	regex.match(concat("", [`(\$\(|`, "`", `)[^)]*`, decoder]), lib.cmdline)
	regex.match(`(^|\s)(eval|exec|(ba|da|z)?sh\s+-c)\s`, lib.cmdline)
}

# interpreters decoding and executing in one expression
shapes contains "interpreter" if {
	lib.is_interpreter(lib.exec_path)
	regex.match(`(?i)(exec|eval|compile|system|popen|passthru|shell_exec|assert)\s*\(?\s*[\w.]*\(?\s*(base64\.b64decode|b64decode|base64_decode|decode_base64|codecs\.decode|zlib\.decompress|Buffer\.from\([^)]*['"]base64|gzinflate|str_rot13|bytes\.fromhex|unhexlify)`, lib.cmdline)
}

# Every exec of the host comes here: one pattern over the command line
# decides for nearly all of them.
candidate if regex.match(`(?i)base64|b64|xxd|openssl|uudecode|basenc|gunzip|zcat|gzip|bzip2|xz|decode|hex|zlib|rot13|gzinflate`, lib.cmdline)

finding contains {
	"program": lib.exec_path,
	"shapes": sort(shapes),
	"command": lib.cmdline,
	"ancestry": lib.ancestry,
} if {
	candidate
	count(shapes) > 0
}

# ---- the two ends of a pipe, joined by the sensor ----

decoder_comms := {"base64", "openssl", "xxd", "basenc", "uudecode", "gunzip", "zcat", "gzip", "bzip2", "xz"}

# a decoder writing into a shell or interpreter
joined := lib.piped_into_code(decoder_comms, concat("", [`^`, decoder]))

finding contains {
	"program": joined.runner,
	"shapes": ["joined-pipe"],
	"command": concat(" ", joined.producer),
	"ancestry": lib.ancestry,
} if {
	joined
	not lib.pipeline_on_parent_cmdline
}

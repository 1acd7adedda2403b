# Credential search: a file search or a recursive text search hunts for
# private keys and passwords across the file system.
#
# Once inside, an intruder looks for credentials left in files: private
# keys (id_rsa, *.key, *.ppk, keystores), password stores and wallets,
# .netrc, .pgpass, .git-credentials, cloud credential files, and passwords,
# tokens and keys written into configuration (T1552.001, T1552.004).
# Privilege-escalation scripts (linpeas and its kind) and hands on a shell
# do it with the tools at hand: find or locate with the names of such files,
# grep -r (or rg, ag, ack) for "password", "secret", "api_key" or a
# "BEGIN ... PRIVATE KEY" line.
#
# What keeps it quiet on ordinary work:
#   - a search must start from an absolute folder (or locate, which searches
#     the whole host's index): developers search their project with
#     relative paths ("grep -rn password src/", rg in the working tree);
#   - grep must be recursive: a script checking one file
#     ("grep -q PasswordAuthentication /etc/ssh/sshd_config") is quiet;
#   - a search confined to the user's own SSH folder is quiet.
package vigil.signatures.credential_search

import data.vigil.lib

metadata := {
	"id": "credential-search",
	"name": "Search for credentials in files",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A file search (find, locate, fd) looked for private keys, keystores, password stores or credential files (id_rsa, *.key, *.ppk, *.kdbx, .netrc, .pgpass, .git-credentials, wallet.dat, ...) from an absolute folder or the host's file index, or a recursive text search (grep -r, rg, ag, ack) from an absolute folder looked for passwords, secrets, API keys, tokens or private key blocks: credential hunting in files.",
	"tactics": ["TA0006"],
	"techniques": ["T1552.001", "T1552.004"],
	"tags": ["credentials", "discovery", "search"],
	"events": ["sched_process_exec"],
}

program := lib.exec_program

args := array.slice(input.args.argv, lib.exec_args_from, count(input.args.argv))

finders := {"find", "gfind", "bfs"}

locators := {"locate", "mlocate", "plocate", "slocate"}

fds := {"fd", "fdfind"}

greps := {"grep", "egrep", "fgrep", "zgrep", "ggrep"}

recursive_greps := {"rg", "ag", "ack", "ack-grep", "ugrep", "ug"}

# Names of files that hold credentials, as written in a name pattern: the
# pattern is lowercased and its glob characters dropped before the test.
secret_file_name := `(^|[^a-z])(id_rsa|id_dsa|id_ecdsa|id_ed25519|identity)([^a-z]|$)|\.(key|ppk|p12|pfx|jks|keystore|kdbx|kdb)$|(^|/)\.env$|wallet\.dat|\.netrc|\.pgpass|\.git-credentials|\.my\.cnf|credentials|passw|secret|private.?key`

# What a text search for credentials looks for, in a pattern lowercased
# and without the characters of regular expression syntax.
secret_text := `passw|pwd=|secret|api.?key|access.?key|auth.?token|private key|(^|[^a-z])akia`

# text_pattern(p) is a search pattern lowercased, without regular
# expression syntax: "API_?KEY|token" is "api_keytoken".
text_pattern(p) := regex.replace(lower(p), `[\\\[\](){}?*+^$|]`, "")

# names_secret_file and names_secret_text: some argument looks like a
# credential file's name or a credential search's pattern, before the
# closer reading below. Loose (a superset of what the tests further down
# accept), they let the engine turn away the other finds and greps without
# evaluating the rule: builds run grep all day.
names_secret_file if {
	some w in input.args.argv
	regex.match(`(?i)id_|identity|\.(key|ppk|p12|pfx|jks|keystore|kdb)|\.env|wallet|netrc|pgpass|credential|my\.cnf|passw|secret|private`, w)
}

names_secret_text if {
	some w in input.args.argv
	regex.match(`(?i)pass|pwd|secret|api|access|token|private|akia`, w)
}

# normalized(p) is a name pattern lowercased, without glob characters.
normalized(p) := regex.replace(lower(p), `[*?\[\]{}]`, "")

# find's tests that take a name pattern
find_name_tests := {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-lname", "-ilname"}

find_patterns contains args[i + 1] if {
	some i, a in args
	a in find_name_tests
	i + 1 < count(args)
}

find_roots := lib.find_roots(args)

# A search from an absolute folder. A user's own SSH folder is not a
# hunt: the user looking at their keys.
broad_root(r) if {
	startswith(r, "/")
	not regex.match(`^/(root|home/[^/]+)/\.ssh(/|$)`, r)
}

broad_root(r) if {
	r == "~"
}

reasons contains "key-file-search" if {
	program in finders
	names_secret_file
	some r in find_roots
	broad_root(r)
	some p in find_patterns
	regex.match(secret_file_name, normalized(p))
}

# find -exec grep PATTERN {} ;: a recursive text search built from find
reasons contains "secret-text-search" if {
	program in finders
	names_secret_text
	some r in find_roots
	broad_root(r)
	some i, a in args
	a in {"-exec", "-execdir", "-ok", "-okdir"}
	lib.basename(args[i + 1]) in (greps | recursive_greps)
	some j, w in args
	j > i + 1
	regex.match(secret_text, text_pattern(w))
	not terminated_between(i, j)
}

terminated_between(i, j) if {
	some k, w in args
	k > i
	k < j
	w in {";", "+"}
}

reasons contains "key-file-search" if {
	program in locators
	names_secret_file
	some i in lib.operands(args, {"-d", "--database", "-n", "-l", "--limit"})
	regex.match(secret_file_name, normalized(args[i]))
}

# fd PATTERN PATH...: the pattern is the first operand, the folders follow
fd_valued := {"-e", "--extension", "-t", "--type", "-E", "--exclude", "-d", "--max-depth", "--min-depth", "-x", "--exec", "-X", "--exec-batch", "-j", "--threads", "-S", "--size", "-o", "--owner", "--changed-within", "--changed-before", "--base-directory", "--search-path", "-c", "--color"}

reasons contains "key-file-search" if {
	program in fds
	names_secret_file
	ops := sort(lib.operands(args, fd_valued))
	count(ops) > 1
	regex.match(secret_file_name, normalized(args[ops[0]]))
	some k in numbers.range(1, count(ops) - 1)
	broad_root(args[ops[k]])
}

# grep's options that take a value; -e and -f name the pattern
grep_valued := {"-e", "--regexp", "-f", "--file", "-m", "--max-count", "-A", "-B", "-C", "--include", "--exclude", "--exclude-dir", "-d", "--directories", "-D", "--devices", "--label", "--color", "--colour", "-g", "--glob", "-t", "--type", "-T", "--type-not", "-j", "--threads", "--max-depth", "-M", "--max-columns"}

grep_recursive if {
	program in recursive_greps
}

grep_recursive if {
	program in greps
	some a in args
	a in {"--recursive", "--dereference-recursive", "--directories=recurse", "-drecurse"}
}

# -r or -R, alone or among other single-letter flags (-rn, -Ril)
grep_recursive if {
	program in greps
	some a in args
	regex.match(`^-[a-zA-Z0-9]*[rR][a-zA-Z0-9]*$`, a)
}

grep_recursive if {
	program in greps
	some i, a in args
	a in {"-d", "--directories"}
	args[i + 1] == "recurse"
}

# the patterns: each -e value, else the first operand
grep_patterns contains args[i + 1] if {
	some i, a in args
	a in {"-e", "--regexp"}
	i + 1 < count(args)
}

grep_patterns contains substring(a, 2, -1) if {
	some a in args
	startswith(a, "-e")
	count(a) > 2
	not startswith(a, "--")
}

grep_patterns contains substring(a, 9, -1) if {
	some a in args
	startswith(a, "--regexp=")
}

grep_operands := sort(lib.operands(args, grep_valued))

grep_patterns contains args[grep_operands[0]] if {
	not explicit_pattern
	count(grep_operands) > 0
}

explicit_pattern if {
	some a in args
	regex.match(`^(-e|--regexp)`, a)
}

# the folders searched: the operands after the pattern (all of them when
# the pattern came with -e)
grep_paths contains args[grep_operands[k]] if {
	not explicit_pattern
	some k in numbers.range(1, count(grep_operands) - 1)
}

grep_paths contains args[i] if {
	explicit_pattern
	some i in grep_operands
}

reasons contains "secret-text-search" if {
	names_secret_text
	grep_recursive
	some p in grep_patterns
	regex.match(secret_text, text_pattern(p))
	some r in grep_paths
	broad_root(r)
}

finding contains {
	"reasons": sort(reasons),
	"program": lib.exec_path,
	"argv": input.args.argv,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
}

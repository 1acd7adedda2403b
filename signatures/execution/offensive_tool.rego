# Offensive tool executed: a program or script made for attacking systems
# runs on this host.
#
# Intruders bring their kit along: password crackers and brute forcers
# (John the Ripper, hashcat, THC-Hydra, medusa), credential dumpers
# (LaZagne, mimipenguin, impacket's secretsdump), privilege-escalation
# enumerators (linpeas, LinEnum, linux-exploit-suggester, pspy, traitor),
# container break-out kits (deepce, botb, peirates), exploitation
# frameworks (Metasploit, sqlmap, commix) and tunnels that carry their
# traffic through the perimeter (chisel, frp, gost, iodine, dnscat2,
# ptunnel) (T1588.002, T1110, T1003, T1572). None of them has work to do
# on a server; a red-team exercise looks the same, and is worth seeing.
#
# Programs are recognised by their executable's name (or a busybox-style
# applet name), scripts by the script's own name, whether the kernel ran it
# through its #! line or an interpreter was given it as its first operand.
# Names that ordinary software shares are left out or narrowed: ORY Hydra
# (an OAuth2 server also called hydra) runs with a subcommand, THC-Hydra
# with options and a target.
package vigil.signatures.offensive_tool

import data.vigil.lib

metadata := {
	"id": "offensive-tool",
	"name": "Offensive security tool executed",
	"version": "1.0.0",
	"severity": "high",
	"description": "A password cracker or brute forcer (john, hashcat, THC-Hydra, medusa, ncrack), credential dumper (LaZagne, mimipenguin, impacket), privilege-escalation or container enumeration tool (linpeas, LinEnum, linux-exploit-suggester, pspy, deepce, peirates), exploitation framework (Metasploit, sqlmap, commix) or network tunnel for pivoting (chisel, frp, gost, iodine, dnscat2, ptunnel) was executed, as a program or as a script run by an interpreter.",
	"tactics": ["TA0002", "TA0006", "TA0011"],
	"techniques": ["T1588.002", "T1110", "T1003", "T1572"],
	"tags": ["hacktool", "execution"],
	"events": ["sched_process_exec"],
}

tool_programs := {
	# password crackers and brute forcers
	"john", "hashcat", "medusa", "ncrack", "patator", "crowbar", "kerbrute",
	"crackmapexec", "netexec", "nxc", "evil-winrm", "bloodhound-python",
	# credential dumpers
	"lazagne", "mimipenguin", "secretsdump", "pypykatz",
	# enumeration and break-out kits
	"pspy", "pspy32", "pspy64", "pspy32s", "pspy64s", "traitor", "peirates", "botb", "deepce", "amicontained",
	# exploitation frameworks
	"msfconsole", "msfvenom", "msfrpcd", "msfdb", "sqlmap", "commix", "pwncat", "pwncat-cs", "sliver-client",
	# tunnels and pivots
	"chisel", "frpc", "frps", "gost", "iodine", "iodined", "dnscat", "dnscat2", "ptunnel", "ptunnel-ng",
	"revsocks", "ligolo-ng",
}

tool_scripts := {
	"linpeas.sh", "linenum.sh", "LinEnum.sh", "lse.sh", "les.sh", "linux-exploit-suggester.sh",
	"linux-exploit-suggester-2.pl", "unix-privesc-check", "beroot.py",
	"lazagne.py", "mimipenguin.sh", "mimipenguin.py", "deepce.sh", "pspy.sh",
	"secretsdump.py", "psexec.py", "wmiexec.py", "smbexec.py", "atexec.py", "dcomexec.py",
	"GetUserSPNs.py", "GetNPUsers.py", "ntlmrelayx.py", "Responder.py", "responder.py", "sqlmap.py", "commix.py",
	"linuxprivchecker.py", "LaZagne.py", "dnscat2.rb", "pwncat.py",
}

program := lib.exec_program

# impacket's scripts as Kali and pip install them: impacket-secretsdump, ...
reasons contains "tool-program" if {
	startswith(program, "impacket-")
}

reasons contains "tool-program" if program in tool_programs

# THC-Hydra: hydra with options and a target (hydra -l root -P list
# ssh://host); ORY Hydra runs a subcommand (hydra serve all)
reasons contains "tool-program" if {
	program == "hydra"
	count(input.args.argv) > 1
	startswith(input.args.argv[1], "-")
}

# a script run through its #! line
reasons contains "tool-script" if {
	lib.basename(lib.arg("script_pathname", "")) in tool_scripts
}

# a script handed to a shell or an interpreter among its first arguments:
# bash linpeas.sh, python3 -u lazagne.py all
runs_scripts(path) if lib.is_interpreter(path)

runs_scripts(path) if lib.is_shell(path)

reasons contains "tool-script" if {
	runs_scripts(lib.exec_path)
	lib.basename(input.args.argv[1]) in tool_scripts
}

# after one option that takes no code: python3 -u lazagne.py, bash -v lse.sh
reasons contains "tool-script" if {
	runs_scripts(lib.exec_path)
	lib.basename(input.args.argv[2]) in tool_scripts
	startswith(input.args.argv[1], "-")
	not input.args.argv[1] in {"-c", "-e", "-m", "-r", "-E", "--eval", "--run"}
}

finding contains {
	"reasons": sort(reasons),
	"program": lib.exec_path,
	"script": lib.arg("script_pathname", ""),
	"argv": input.args.argv,
	"uid": object.get(input.process, "uid", -1),
	"ancestry": lib.ancestry,
} if {
	count(reasons) > 0
}

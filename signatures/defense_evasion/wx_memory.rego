# Writable and executable memory: a mapping is made writable and executable
# at once, or a writable mapping is made executable - code written at run
# time and then run, which is how shellcode loaders, reflective loaders and
# process injection work.
#
# Just-in-time compilers do the same for a living (JavaScript engines, the
# JVM, .NET, LuaJIT, PHP's and Ruby's JITs, the LLVM JIT of PostgreSQL and
# bpftrace, emulators): they are left out by program name. A program that
# borrows such a name escapes the rule; the name is checked on comm and on
# the executable's basename.
package vigil.signatures.wx_memory

import data.vigil.lib

metadata := {
	"id": "wx-memory",
	"name": "Writable memory made executable",
	"version": "1.0.0",
	"severity": "medium",
	"description": "A memory mapping became writable and executable at once, or was made executable after being writable, in a program that is not a known just-in-time compiler.",
	"tactics": ["TA0005", "TA0004"],
	"techniques": ["T1055", "T1620"],
	"tags": ["memory", "shellcode", "injection"],
	"events": ["mem_prot_alert"],
}

jits := {
	"java", "node", "nodejs", "deno", "bun", "chrome", "chromium", "chromium-browse",
	"chrome_crashpad", "msedge", "opera", "brave", "firefox", "firefox-esr", "firefox-bin",
	"Web Content", "Isolated Web Co", "WebExtensions", "thunderbird", "electron", "code",
	"cursor", "slack", "discord", "teams", "signal-desktop", "spotify", "WebKitWebProces",
	"QtWebEngineProc", "gjs", "gnome-shell", "dotnet", "mono", "mono-sgen", "pwsh",
	"luajit", "pypy", "pypy3", "php", "php-fpm", "php-cgi", "ruby", "julia", "postgres",
	"bpftrace", "wine", "wine64", "wine-preloader", "wine64-preloade", "qemu-system-x86",
	"valgrind", "memcheck-amd64-", "gdb", "rr", "frida-server", "dosbox", "mame", "dolphin-emu",
}

# qemu's user and system emulators all translate code
jit if startswith(object.get(input.process, "comm", ""), "qemu-")

jit if startswith(lib.basename(object.get(input.process, "exe", "")), "qemu-")

jit if lib.is_process_named(input.process, jits)

finding contains {
	"alert": input.args.alert,
	"start": sprintf("%#x", [lib.arg("start", 0)]),
	"len": lib.arg("len", 0),
	"prot": lib.arg("prot", 0),
	"pathname": lib.arg("pathname", ""),
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	input.args.alert in {"mmap_wx", "mprotect_wx", "mprotect_x_after_w"}
	not jit
}

# Executable dropped: an ELF program is written into a world-writable
# scratch directory (/tmp, /var/tmp, /dev/shm), into a hidden directory
# outside the home directories, or into a memfd - where downloaders and
# droppers put the tools they fetched (a memfd to run them without a file:
# see fileless-exec for the exec itself) - or such a file, written during
# this boot, is run.
#
# Two events, two moments:
# - magic_write gives the first bytes written at offset 0 of a regular file
#   by write(2) and its vectored forms. Only a file that can run counts: an
#   ELF program or shared object (e_type EXEC or DYN) for a CPU Linux runs
#   programs on. Relocatable objects (.o files, BPF programs) and objects
#   for other machines are data until linked or loaded: a git clone or an
#   unpacked archive full of them is not a drop.
# - io_uring_submit_req of a WRITE (or WRITEV, WRITE_FIXED, WRITEV_FIXED)
#   at offset 0 of a regular file gives the same first bytes for a write
#   made through an io_uring, which no write(2) hook sees.
# - sched_process_exec of a file that was opened for writing during this
#   boot (written_ns_ago present): the kernel loaded it, so it runs here,
#   and the bytes got there by any path - write, copy_file_range (cp),
#   sendfile, splice, a shared mapping, a reflink, an io_uring (the sensor
#   notes each of them as a write of the destination). This is the one that
#   sees `cp /bin/true /tmp/x && /tmp/x`. The writer is known by its comm
#   only (writer_comm).
# - sched_process_exec of a #! script (or a binfmt_misc format) that was
#   opened for writing during this boot (script_written_ns_ago present):
#   the kernel ran it through its interpreter, so it runs here. The judged
#   path and writer are the script's (script_pathname, script_writer_comm),
#   not the interpreter's. `curl -o /tmp/x.sh ... && chmod +x /tmp/x.sh &&
#   /tmp/x.sh` is this case; `sh /tmp/x.sh` is an exec of sh and is not.
#   Scripts are everyday work where programs are not, so more writers are
#   left out for them: the unpackers and git (building from a source tree
#   unpacked or cloned into /tmp runs its configure, config.status and
#   libtool), the build tools that write and run them (configure, make,
#   cmake, ...), any script run under a package manager (debconf runs
#   the config scripts apt-extracttemplates unpacks into /tmp), and a
#   Python virtual environment's console scripts (written by its python,
#   run by the python beside them in its bin/: a venv in /tmp). Hidden
#   project folders where tools write the scripts they run (.venv, .tox,
#   .nox, .direnv virtual environments, .git hooks) do not count as hidden
#   places for a script.
# Builds write ELF files into temporary directories all the time, so the
# toolchains are left out (compilers, linkers, go, cargo, and install(1),
# which make install and build scripts copy programs into place with), and
# so are package managers and language package installers, container image
# tools, and the JVM (it unpacks its native libraries into java.io.tmpdir).
# They are left out by name unless the writer itself runs from a scratch
# directory. Archive extractors and git (a release tarball unpacked, a
# repository checked out into /tmp) are left out when they write: what they
# unpacked is judged if it runs, by the exec. Hidden
# directories inside home directories are where tools keep their binaries
# (~/.cache, ~/.local, ~/.cargo, ~/.vscode-server, ...): not reported.
# Known to fire on benign software: PyInstaller one-file programs unpack
# their libraries into /tmp/_MEI* at every start.
package vigil.signatures.executable_dropped

import data.vigil.lib

metadata := {
	"id": "executable-dropped",
	"name": "Executable dropped in a temporary or hidden directory",
	"version": "1.3.0",
	"severity": "medium",
	"description": "An ELF executable or library for a CPU Linux runs programs on was written into /tmp, /var/tmp, /dev/shm, a hidden directory outside the home directories, a hidden file anywhere, or a memfd, by a program that is not a compiler, a linker or a package manager; or a program or #! script written there during this boot, by any write path, was run.",
	"tactics": ["TA0011"],
	"techniques": ["T1105"],
	"tags": ["dropper", "elf", "script", "download", "file"],
	"events": ["magic_write", "io_uring_submit_req", "sched_process_exec"],
}

# the exec of a script written during this boot: the script is judged
script_run if {
	input.name == "sched_process_exec"
	is_number(lib.arg("script_written_ns_ago", null))
}

path := p if {
	script_run
	p := lib.arg("script_pathname", "")
} else := lib.arg("pathname", "")

# directories of the path, the file's own name left out
dirs := array.slice(split(path, "/"), 1, count(split(path, "/")) - 1)

places contains "temp_dir" if lib.under(path, lib.temp_dirs)

# a memfd's file is "/memfd:<name> (deleted)"
places contains "memfd" if startswith(path, "/memfd:")

# a hidden file anywhere, home folders included: ~/.x, /usr/bin/.sshd
places contains "hidden_file" if {
	name := lib.basename(path)
	startswith(name, ".")
	not name in {".", ".."}
	not startswith(path, "/memfd:")
}

places contains "hidden_dir" if {
	not lib.home_relative(path)
	some d in dirs
	startswith(d, ".")
	not d in {".", ".."}
	not script_tool_dir(d)
}

# hidden project folders where tools write the scripts they run: virtual
# environments' bin/ (pip, pytest, ...) and git hooks
script_tool_dirs := {".venv", ".tox", ".nox", ".direnv", ".git", ".husky"}

script_tool_dir(d) if {
	script_run
	d in script_tool_dirs
}

writer := w if {
	script_run
	w := lib.arg("script_writer_comm", "")
} else := lib.arg("writer_comm", object.get(input.process, "comm", ""))

builders := {
	"cc", "c++", "gcc", "g++", "cc1", "cc1plus", "collect2", "ld", "ld.bfd", "ld.gold",
	"ld.lld", "lld", "mold", "as", "clang", "clang++", "tcc", "zig", "rustc", "cargo",
	"go", "link", "compile", "cgo", "gccgo", "nasm", "yasm", "strip", "objcopy",
	# install(1): the copy step of `make install` and of build scripts
	"install",
	"dotnet", "ghc",
	# the JVM unpacks the native libraries of its jars (netty, sqlite-jdbc,
	# JNA) into java.io.tmpdir
	"java",
}

installers := {
	"pip", "pip3", "pipx", "uv", "poetry", "conda", "mamba", "npm", "yarn",
	"pnpm", "gem", "bundle", "dockerd", "containerd", "buildkitd", "podman", "buildah",
	"skopeo", "crio", "snapd", "flatpak",
	# runc copies itself into a memfd before it enters a container
	"runc",
}

# unpackers write the files of an archive or a repository; a program among
# them counts when it runs (the exec event), not when it is unpacked
unpackers := {"tar", "bsdtar", "gtar", "unzip", "cpio", "bsdcpio", "7z", "7za", "7zz", "unar", "git"}

# a trusted name counts only when the program itself does not run from a
# scratch or hidden place (a dropper called "ld" in /tmp is no linker)

# the events of the write itself, where the writer is the event's process
write_events := {"magic_write", "io_uring_submit_req"}

writer_is_trusted if {
	input.name in write_events
	lib.from_package_manager
}

# at exec time the writer is gone, known by its comm alone
writer_is_trusted if {
	input.name == "sched_process_exec"
	not script_run
	lib.arg("writer_comm", "") in (builders | installers) | lib.package_managers
}

# build tools that write scripts and run them, beside the toolchains
script_builders := {
	"configure", "config.status", "libtool", "make", "gmake", "cmake", "ninja", "meson",
	"autoconf", "autoreconf", "automake", "autom4te", "m4", "bazel", "scons",
}

writer_is_trusted if {
	script_run
	lib.arg("script_writer_comm", "") in ((((builders | installers) | unpackers) | script_builders) | lib.package_managers)
}

# a script a package manager runs (maintainer scripts, debconf's config
# scripts unpacked into /tmp)
writer_is_trusted if {
	script_run
	lib.from_package_manager
}

# a Python virtual environment's console scripts (bin/pip, bin/pytest),
# wherever the environment is: written by its Python (venv, ensurepip, pip)
# with a #! line naming the environment's own python, in the same folder
writer_is_trusted if {
	script_run
	regex.match(`^(python[0-9.]*|pip[0-9.]*|uv|virtualenv|pipx|poetry)$`, lib.arg("script_writer_comm", ""))
	interp := lib.arg("interpreter", "")
	startswith(lib.basename(interp), "python")
	same_folder(interp, path)
}

same_folder(a, b) if {
	pa := split(a, "/")
	pb := split(b, "/")
	count(pa) == count(pb)
	array.slice(pa, 0, count(pa) - 1) == array.slice(pb, 0, count(pb) - 1)
}

writer_is_trusted if {
	input.name in write_events
	lib.is_process_named(input.process, (builders | installers) | unpackers)
	exe := object.get(input.process, "exe", "")
	exe != ""
	not lib.under(exe, lib.temp_dirs)
	not contains(exe, "/.")
}

dropped := "written" if {
	input.name == "magic_write"
	lib.runnable_elf(lib.arg("bytes", ""))
}

dropped := "written" if {
	input.name == "io_uring_submit_req"
	lib.arg("op", "") in {"WRITE", "WRITEV", "WRITE_FIXED", "WRITEV_FIXED"}
	lib.runnable_elf(lib.arg("bytes", ""))
}

# the executed file itself was opened for writing during this boot (for a
# script, its interpreter: the script is judged by the rule below)
dropped := "run" if {
	input.name == "sched_process_exec"
	not script_run
	is_number(lib.arg("written_ns_ago", null))
	lib.runnable_elf(lib.arg("header", ""))
}

dropped := "run" if script_run

format := "script" if {
	script_run
} else := "elf"

finding contains {
	"pathname": path,
	"places": sort(places),
	"dropped": dropped,
	"format": format,
	"writer": writer,
	"exe": object.get(input.process, "exe", ""),
	"ancestry": lib.ancestry,
} if {
	count(places) > 0
	not writer_is_trusted
}

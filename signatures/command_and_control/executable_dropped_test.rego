package vigil.signatures.executable_dropped

elf := "f0VMRgIBAQAAAAAAAAAAAAIAPgA=" # the first 20 bytes of an x86-64 ELF program

curl := {"pid": 7100, "comm": "curl", "exe": "/usr/bin/curl", "ancestors": [{"pid": 7000, "comm": "sh", "exe": "/usr/bin/dash"}]}

write(path, bytes, proc) := {"name": "magic_write", "process": proc, "args": {"pathname": path, "bytes": bytes, "dev": 1, "inode": 2}}

test_elf_in_tmp_fires if {
	some f in finding with input as write("/tmp/kdevtmpfsi", elf, curl)
	f.places == ["temp_dir"]
	f.ancestry == ["sh(7000)"]
	every p in ["/var/tmp/x", "/dev/shm/.x/y", "/run/shm/z"] {
		count(finding) == 1 with input as write(p, elf, curl)
	}
}

test_elf_in_hidden_dir_fires if {
	some f in finding with input as write("/usr/lib/.systemd/sd-helper", elf, curl)
	f.places == ["hidden_dir"]
	some g in finding with input as write("/tmp/.ICE-unix/.x/miner", elf, curl)
	g.places == ["hidden_dir", "temp_dir"]
}

test_hidden_dirs_in_homes_are_quiet if {
	count(finding) == 0 with input as write("/home/ann/.cache/pip/x.so", elf, curl)
	count(finding) == 0 with input as write("/root/.vscode-server/bin/node", elf, curl)
}

test_other_content_and_places_are_quiet if {
	count(finding) == 0 with input as write("/tmp/notes.txt", base64.encode("hello world"), curl)
	count(finding) == 0 with input as write("/tmp/run.sh", base64.encode("#!/bin/sh\n"), curl)
	count(finding) == 0 with input as write("/usr/local/bin/tool", elf, curl)
	count(finding) == 0 with input as write("/tmpfoo/x", elf, curl)
	count(finding) == 0 with input as {"name": "magic_write", "process": curl, "args": {"pathname": "/tmp/x"}}
}

test_toolchains_are_quiet if {
	link := {"comm": "link", "exe": "/usr/local/go/pkg/tool/linux_amd64/link"}
	count(finding) == 0 with input as write("/tmp/go-build123/b001/exe/a.out", elf, link)
	ld := {"comm": "ld", "exe": "/usr/bin/x86_64-linux-gnu-ld.bfd"}
	count(finding) == 0 with input as write("/tmp/ccXyZ.o", elf, ld)
	java := {"comm": "java", "exe": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"}
	count(finding) == 0 with input as write("/tmp/libnetty_transport_native_epoll_x86_6412345.so", elf, java)
}

test_toolchain_name_from_a_scratch_dir_fires if {
	count(finding) == 1 with input as write("/tmp/y", elf, {"comm": "ld", "exe": "/tmp/ld"})
	count(finding) == 1 with input as write("/tmp/y", elf, {"comm": "go", "exe": "/var/tmp/.go/go"})
}

test_package_manager_is_quiet if {
	dpkg := {"comm": "dpkg", "exe": "/usr/bin/dpkg"}
	count(finding) == 0 with input as write("/tmp/apt-dpkg-install-x/x", elf, dpkg)
}

test_elf_in_a_memfd_fires if {
	some f in finding with input as write("/memfd:x (deleted)", elf, curl)
	f.places == ["memfd"]
	runc := {"comm": "runc", "exe": "/usr/bin/runc"}
	count(finding) == 0 with input as write("/memfd:runc_cloned:/proc/self/exe (deleted)", elf, runc)
}

test_hidden_elf_file_fires_anywhere if {
	some f in finding with input as write("/usr/bin/.sshd", elf, curl)
	f.places == ["hidden_file"]
	some g in finding with input as write("/root/.x", elf, curl)
	g.places == ["hidden_file"]
	some h in finding with input as write("/tmp/.k", elf, curl)
	h.places == ["hidden_file", "temp_dir"]
}

test_objects_that_cannot_run_are_quiet if {
	git := {"pid": 7200, "comm": "git", "exe": "/usr/bin/git"}
	# a BPF object (ELF REL, machine BPF) checked out of a repository
	count(finding) == 0 with input as write("/tmp/repo/bpf/file_x86_bpfel.o", "f0VMRgIBAQAAAAAAAAAAAAEA9wA=", git)
	# a relocatable object, even for this CPU
	count(finding) == 0 with input as write("/tmp/repo/x.o", "f0VMRgIBAQAAAAAAAAAAAAEAPgA=", git)
	# an executable for no CPU Linux runs programs on
	count(finding) == 0 with input as write("/tmp/repo/prog", "f0VMRgIBAQAAAAAAAAAAAAIA9wA=", git)
	# too short to say
	count(finding) == 0 with input as write("/tmp/x", base64.encode("\u007fELF"), curl)
}

test_programs_and_libraries_of_linux_cpus_fire if {
	every b in [
		"f0VMRgIBAQAAAAAAAAAAAAMAPgA=", # x86-64 shared object / PIE
		"f0VMRgIBAQAAAAAAAAAAAAIAtwA=", # AArch64 program
		"f0VMRgICAQAAAAAAAAAAAAADABY=", # s390x (big endian) shared object
	] {
		count(finding) == 1 with input as write("/tmp/x", b, curl)
	}
}

exec(path, extra) := {"name": "sched_process_exec", "process": {"pid": 7300, "comm": lib_basename(path), "exe": path}, "args": object.union({"pathname": path, "header": elf, "argc": 1}, extra)}

lib_basename(p) := parts[count(parts) - 1] if parts := split(p, "/")

written_by(comm) := {"written_ns_ago": 2000000, "writer_pid": 7100, "writer_comm": comm, "writer_created": true}

test_run_of_a_file_written_this_boot_fires if {
	# cp /bin/true /tmp/x && /tmp/x: cp copies with copy_file_range, no
	# magic_write; the exec of the written file is the evidence
	some f in finding with input as exec("/tmp/x", written_by("cp"))
	f.dropped == "run"
	f.writer == "cp"
	f.places == ["temp_dir"]
	some g in finding with input as exec("/home/ann/.x", written_by("cp"))
	g.places == ["hidden_file"]
}

test_run_of_a_file_not_written_or_by_builders_is_quiet if {
	# not written during this boot
	count(finding) == 0 with input as exec("/tmp/x", {})
	# a build's output, run in place
	count(finding) == 0 with input as exec("/tmp/go-build1/b001/exe/main", written_by("link"))
	# written this boot, outside the drop zones
	count(finding) == 0 with input as exec("/usr/local/bin/tool", written_by("install"))
}

test_programs_put_in_place_by_install_are_quiet if {
	# install -D -m755 build/tool /tmp/stage/bin/tool, then run: make install
	count(finding) == 0 with input as exec("/tmp/stage/bin/tool", written_by("install"))
	count(finding) == 0 with input as write("/tmp/stage/bin/tool", elf, {"comm": "install", "exe": "/usr/bin/install"})
}

test_unpacked_programs_count_when_they_run if {
	tar := {"comm": "tar", "exe": "/usr/bin/tar"}
	git := {"comm": "git", "exe": "/usr/lib/git-core/git"}
	# a release tarball or a repository with programs, unpacked into /tmp
	count(finding) == 0 with input as write("/tmp/release/bin/tool", elf, tar)
	count(finding) == 0 with input as write("/tmp/clone/prebuilt/tool", elf, git)
	# ... and one of them run: the exec is the evidence
	some f in finding with input as exec("/tmp/release/bin/tool", written_by("tar"))
	f.dropped == "run"
	f.writer == "tar"
	# an unpacker that itself runs from a scratch directory is no unpacker
	count(finding) == 1 with input as write("/tmp/release/bin/tool", elf, {"comm": "tar", "exe": "/tmp/.x/tar"})
}

uring_write(path, op, bytes, proc) := {"name": "io_uring_submit_req", "process": proc, "args": {"op": op, "opcode": 23, "fd": 5, "pathname": path, "offset": 0, "bytes": bytes}}

test_elf_written_through_io_uring_fires if {
	some f in finding with input as uring_write("/tmp/x", "WRITE", elf, curl)
	f.dropped == "written"
	f.places == ["temp_dir"]
	count(finding) == 1 with input as uring_write("/dev/shm/.y", "WRITEV", elf, curl)
}

test_io_uring_other_ops_and_content_are_quiet if {
	count(finding) == 0 with input as uring_write("/tmp/x", "WRITE", "aGVsbG8K", curl)
	count(finding) == 0 with input as uring_write("/tmp/x", "OPENAT", elf, curl)
	count(finding) == 0 with input as uring_write("/tmp/x", "WRITE", elf, {"comm": "go", "exe": "/usr/local/go/bin/go"})
}

test_installed_by_install_and_run_is_quiet if {
	run := {"name": "sched_process_exec", "process": {"pid": 7200, "comm": "tool", "exe": "/tmp/build/tool"}, "args": {"pathname": "/tmp/build/tool", "header": elf, "written_ns_ago": 1000, "writer_comm": "install", "writer_pid": 7100}}
	count(finding) == 0 with input as run
	count(finding) == 1 with input as json.patch(run, [{"op": "replace", "path": "/args/writer_comm", "value": "cp"}])
}

# the exec of a #! script: the kernel loaded the interpreter (pathname), the
# script is script_pathname; its writer is script_writer_comm
script_exec(script, writer, proc) := {"name": "sched_process_exec", "process": proc, "args": {
	"pathname": "/usr/bin/dash", "filename": script, "interpreter": "/bin/sh", "header": elf,
	"script_pathname": script, "script_dev": 1, "script_inode": 9, "script_written_ns_ago": 5000,
	"script_writer_pid": 7100, "script_writer_comm": writer, "script_writer_created": true,
}}

shell := {"pid": 7201, "comm": "sh", "exe": "/usr/bin/dash", "ancestors": [{"pid": 7000, "comm": "bash", "exe": "/usr/bin/bash"}]}

test_script_dropped_and_run_fires if {
	some f in finding with input as script_exec("/tmp/x.sh", "curl", shell)
	f.pathname == "/tmp/x.sh"
	f.dropped == "run"
	f.format == "script"
	f.writer == "curl"
	f.places == ["temp_dir"]
	some g in finding with input as script_exec("/dev/shm/.a/run", "bash", shell)
	g.places == ["hidden_dir", "temp_dir"]
	some h in finding with input as script_exec("/usr/share/.cache/update", "python3", shell)
	h.places == ["hidden_dir"]
	# a hidden script anywhere, a home folder too
	some i in finding with input as script_exec("/root/.x", "cp", shell)
	i.places == ["hidden_file"]
}

test_script_not_written_this_boot_or_elsewhere_is_quiet if {
	# a script that was not written during this boot: no writer facts
	old := json.remove(script_exec("/tmp/x.sh", "curl", shell), ["/args/script_written_ns_ago"])
	count(finding) == 0 with input as old
	# written this boot, outside the drop zones
	count(finding) == 0 with input as script_exec("/usr/local/bin/deploy", "curl", shell)
	count(finding) == 0 with input as script_exec("/home/ann/bin/x.sh", "vim", shell)
}

test_script_by_builders_unpackers_and_package_managers_is_quiet if {
	# ./configure of a source tree unpacked or cloned into /tmp, and what it writes and runs
	every w in ["tar", "git", "configure", "config.status", "make", "install", "pip", "dpkg"] {
		count(finding) == 0 with input as script_exec("/tmp/src/pkg-1.0/configure", w, shell)
	}
	# debconf runs the config scripts apt-extracttemplates unpacked into /tmp
	debconf := {"pid": 7300, "comm": "frontend", "exe": "/usr/bin/perl", "ancestors": [
		{"pid": 7299, "comm": "dpkg-preconfigu", "exe": "/usr/bin/perl"},
		{"pid": 7298, "comm": "apt-get", "exe": "/usr/bin/apt-get"},
	]}
	count(finding) == 0 with input as script_exec("/tmp/foo.config.Ab12Cd", "apt-extracttemp", debconf)
}

test_script_in_project_tool_folders_is_quiet if {
	# a virtual environment's console scripts and git hooks in a checkout
	count(finding) == 0 with input as script_exec("/builds/team/app/.venv/bin/pytest", "python3", shell)
	count(finding) == 0 with input as script_exec("/srv/app/.tox/py311/bin/pip", "python3", shell)
	count(finding) == 0 with input as script_exec("/srv/app/.git/hooks/pre-commit", "pre-commit", shell)
	# the same folder names under a scratch folder still count as scratch
	count(finding) == 1 with input as script_exec("/tmp/.venv/bin/x", "curl", shell)
}

test_script_judged_not_its_interpreter if {
	# the interpreter was upgraded this boot by dpkg: its writer does not
	# clear the script's drop
	e := json.patch(script_exec("/tmp/x.sh", "curl", shell), [
		{"op": "add", "path": "/args/written_ns_ago", "value": 9000},
		{"op": "add", "path": "/args/writer_comm", "value": "dpkg"},
	])
	some f in finding with input as e
	f.writer == "curl"
	f.pathname == "/tmp/x.sh"
}

test_virtual_environment_scripts_are_quiet if {
	# python3 -m venv /tmp/venv, then /tmp/venv/bin/pip: #!/tmp/venv/bin/python3
	pip := json.patch(script_exec("/tmp/venv/bin/pip", "python3", shell), [{"op": "replace", "path": "/args/interpreter", "value": "/tmp/venv/bin/python3"}])
	count(finding) == 0 with input as pip
	# the same writer, a script whose interpreter is elsewhere
	other := json.patch(script_exec("/tmp/venv/bin/x", "python3", shell), [{"op": "replace", "path": "/args/interpreter", "value": "/usr/bin/python3"}])
	count(finding) == 1 with input as other
	# another writer of a script beside a python
	curl_pip := json.patch(script_exec("/tmp/venv/bin/pip", "curl", shell), [{"op": "replace", "path": "/args/interpreter", "value": "/tmp/venv/bin/python3"}])
	count(finding) == 1 with input as curl_pip
}

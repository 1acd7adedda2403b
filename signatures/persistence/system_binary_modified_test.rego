package vigil.signatures.system_binary_modified

sh := {"pid": 5200, "host_pid": 5200, "uid": 0, "comm": "cp", "exe": "/usr/bin/cp", "ancestors": [{"pid": 5000, "comm": "bash", "exe": "/usr/bin/bash"}]}

wronly_creat_trunc := (32768 + 1) + 64 + 512

open_write(path, proc, created) := {
	"name": "security_file_open",
	"return_value": 3,
	"process": proc,
	"args": {"pathname": path, "flags": wronly_creat_trunc, "created": created},
}

test_trojaned_program if {
	some f in finding with input as open_write("/usr/sbin/sshd", sh, false)
	f.kind == "program"
	f.operation == "write"
	f.technique == "T1554"
}

test_planted_library_and_loader if {
	some f in finding with input as open_write("/usr/lib/x86_64-linux-gnu/libpam.so.0", sh, false)
	f.kind == "library"
	some g in finding with input as open_write("/lib64/ld-linux-x86-64.so.2", sh, false)
	g.kind == "loader"
	g.technique == "T1574.006"
	some h in finding with input as open_write("/usr/lib/x86_64-linux-gnu/libaudit.so.1.0.0", sh, true)
	h.operation == "create"
}

test_boot_files if {
	some f in finding with input as open_write("/boot/initrd.img-6.1.0-56-cloud-amd64", sh, false)
	f.kind == "boot"
	f.technique == "T1542"
}

test_replaced_by_rename if {
	ev := {"name": "security_inode_rename", "process": sh, "args": {"old_path": "/tmp/ls", "new_path": "/usr/bin/ls", "flags": 0}}
	some f in finding with input as ev
	f.operation == "replace"
}

test_reading_and_refused_writes_are_quiet if {
	count(finding) == 0 with input as object.union(open_write("/usr/bin/ls", sh, false), {"args": {"flags": 32768}})
	count(finding) == 0 with input as object.union(open_write("/usr/bin/ls", sh, false), {"return_value": -13})
}

test_other_places_are_quiet if {
	every p in ["/usr/local/bin/tool", "/opt/app/bin/app", "/usr/share/doc/x", "/etc/hosts", "/usr/libx/y", "/tmp/usr/bin/ls"] {
		count(finding) == 0 with input as open_write(p, sh, true)
	}
}

test_python_caches_are_quiet if {
	python := {"pid": 5300, "comm": "python3", "exe": "/usr/bin/python3.11"}
	count(finding) == 0 with input as open_write("/usr/lib/python3/dist-packages/yaml/__pycache__/x.cpython-311.pyc", python, true)
	count(finding) == 0 with input as open_write("/usr/lib/python3.11/site-packages/pkg/mod.py", python, true)
}

test_language_package_managers_are_quiet if {
	npm := {"comm": "npm", "exe": "/usr/bin/node"}
	count(finding) == 0 with input as open_write("/usr/lib/node_modules/typescript/bin/tsc", npm, true)
	count(finding) == 0 with input as open_write("/usr/bin/tsc", npm, true)
	count(finding) == 0 with input as open_write("/usr/lib/ruby/gems/3.1.0/gems/rake-13/exe/rake", sh, true)
}

test_package_manager_and_boot_tools_are_quiet if {
	dpkg := {"comm": "dpkg", "exe": "/usr/bin/dpkg"}
	count(finding) == 0 with input as open_write("/usr/bin/ls", dpkg, false)
	cpio := {"comm": "cpio", "exe": "/usr/bin/cpio", "ancestors": [{"pid": 80, "comm": "mkinitramfs", "exe": "/usr/sbin/mkinitramfs"}]}
	count(finding) == 0 with input as open_write("/boot/initrd.img-6.1", cpio, true)
	depmod := {"comm": "depmod", "exe": "/usr/sbin/depmod"}
	count(finding) == 0 with input as open_write("/usr/lib/modules/6.1.0/modules.dep", depmod, true)
}

test_a_renamed_tool_elsewhere_is_not_trusted if {
	count(finding) == 1 with input as open_write("/usr/bin/sudo", {"comm": "dpkg", "exe": "/tmp/dpkg"}, false)
}

test_kernel_module_dropped if {
	some f in finding with input as open_write("/usr/lib/modules/6.1.0-56-cloud-amd64/kernel/drivers/net/diamorphine.ko", sh, true)
	f.kind == "kernel_module"
	f.technique == "T1547.006"
	count(finding) == 1 with input as open_write("/lib/modules/6.12.95/extra/x.ko.xz", sh, true)
}

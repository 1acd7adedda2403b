package vigil.lib

test_installed_as_by_comm_or_exe if {
	installed_as({"comm": "gdb", "exe": "/usr/bin/gdb"}, debuggers)
	installed_as({"comm": "x", "exe": "/usr/libexec/gdb"}, debuggers)
	installed_as({"comm": "gdb"}, debuggers)
}

test_installed_as_not_from_world_writable_dirs if {
	not installed_as({"comm": "gdb", "exe": "/tmp/gdb"}, debuggers)
	not installed_as({"comm": "bpftool", "exe": "/dev/shm/x/bpftool"}, bpf_agents)
	not installed_as({"comm": "falco", "exe": "/var/tmp/falco"}, bpf_agents)
}

test_installed_as_false_for_other_names if {
	installed_as({"comm": "sshd", "exe": "/usr/sbin/sshd"}, debuggers) == false
}

test_installed_as_with_versions if {
	installed_as({"comm": "python3.11", "exe": "/usr/bin/python3.11"}, {"python"})
}

test_bcc_tool if {
	bcc_tool with input as {"process": {"argv": ["/usr/bin/python3", "/usr/share/bcc/tools/execsnoop"]}}
	bcc_tool with input as {"process": {"argv": ["/usr/bin/python3", "/usr/sbin/opensnoop-bpfcc", "-p", "1"]}}
	bcc_tool == false with input as {"process": {"argv": ["/usr/bin/python3", "/tmp/loader.py"]}}
	bcc_tool == false with input as {"process": {}}
}

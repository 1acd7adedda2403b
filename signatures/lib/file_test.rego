package vigil.lib

dpkg := {"pid": 300, "host_pid": 300, "comm": "dpkg", "exe": "/usr/bin/dpkg", "uid": 0}

test_system_program_needs_a_system_exe if {
	is_system_program({"comm": "sshd", "exe": "/usr/sbin/sshd"}, {"sshd"})
	not is_system_program({"comm": "sshd", "exe": "/tmp/sshd"}, {"sshd"})
	not is_system_program({"comm": "sshd"}, {"sshd"})
}

test_system_program_script_by_comm if {
	# a Python script: comm is the script, exe the interpreter
	is_system_program({"comm": "cloud-init", "exe": "/usr/bin/python3.11"}, {"cloud-init"})
}

test_from_package_manager_itself_or_ancestor if {
	from_package_manager with input as {"process": dpkg}
	from_package_manager with input as {"process": {"comm": "sh", "exe": "/usr/bin/dash", "ancestors": [dpkg]}}
	not from_package_manager with input as {"process": {"comm": "sh", "exe": "/usr/bin/dash", "ancestors": [bash]}}
	not from_package_manager with input as {"process": {"comm": "dpkg", "exe": "/dev/shm/dpkg"}}
}

test_home_relative if {
	home_relative("/root/.bashrc") == ".bashrc"
	home_relative("/home/ann/.ssh/id_rsa") == ".ssh/id_rsa"
	not home_relative("/etc/passwd")
	not home_relative("/home/ann")
}

test_open_flags if {
	opens_for_writing(1) # O_WRONLY
	opens_for_writing(2) # O_RDWR
	opens_for_writing(64) # O_CREAT
	opens_for_writing(32768 + 512) # O_LARGEFILE | O_TRUNC
	not opens_for_writing(32768) # read-only
	opens_for_reading(32768)
	opens_for_reading(2)
	not opens_for_reading(1 + 64)
}

test_file_magic if {
	file_magic("f0VMRgIBAQAAAAAAAAAAAAIAPgA=") == "elf"
	file_magic(base64.encode("#!/bin/sh\n")) == "script"
	file_magic(base64.encode("hello")) == ""
	file_magic("not base64!") == ""
	file_magic(42) == ""
}

test_in_container if {
	in_container with input as {"process": {"container_id": "0123abcd", "pid_ns": 4026531836}}
	in_container with input as {"process": {"pid_ns": 4026532300}}
	not in_container with input as {"process": {"pid_ns": 4026531836}}
	not in_container with input as {"process": {}}
}

test_file_written if {
	file_written == {"path": "/etc/x", "operation": "create"} with input as {"name": "security_file_open", "return_value": 3, "args": {"pathname": "/etc/x", "flags": 65, "created": true}}
	file_written == {"path": "/etc/x", "operation": "write"} with input as {"name": "security_file_open", "args": {"pathname": "/etc/x", "flags": 512}}
	file_written == {"path": "/etc/y", "operation": "rename"} with input as {"name": "security_inode_rename", "args": {"old_path": "/tmp/y", "new_path": "/etc/y"}}
	file_written == {"path": "/etc/z", "operation": "link"} with input as {"name": "security_inode_link", "args": {"old_path": "/tmp/z", "new_path": "/etc/z"}}
	file_written == {"path": "/etc/s", "operation": "symlink"} with input as {"name": "security_inode_symlink", "args": {"pathname": "/etc/s", "target": "/tmp/s"}}
	not file_written with input as {"name": "security_file_open", "args": {"pathname": "/etc/x", "flags": 32768}}
	not file_written with input as {"name": "security_file_open", "return_value": -13, "args": {"pathname": "/etc/x", "flags": 1}}
	not file_written with input as {"name": "security_inode_rename", "return_value": -1, "args": {"new_path": "/etc/y"}}
}

test_from_program_in_the_given_folders if {
	chef := {"comm": "chef-client", "exe": "/opt/chef/embedded/bin/ruby"}
	from_program_in(installed_program_dirs, {"chef-client"}) with input as {"process": {"comm": "wipefs", "exe": "/usr/sbin/wipefs", "ancestors": [chef]}}
	not from_program_in(system_program_dirs, {"chef-client"}) with input as {"process": {"comm": "wipefs", "exe": "/usr/sbin/wipefs", "ancestors": [chef]}}
	not from_program_in(installed_program_dirs, {"chef-client"}) with input as {"process": {"comm": "chef-client", "exe": "/tmp/ruby"}}
}

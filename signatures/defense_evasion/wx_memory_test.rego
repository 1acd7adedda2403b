package vigil.signatures.wx_memory

alert(kind, proc) := {"name": "mem_prot_alert", "process": proc, "args": {"alert": kind, "start": 140462736281600, "len": 4096, "prot": 7, "vm_flags": 0, "pathname": ""}}

loader := {"pid": 40, "comm": "loader", "exe": "/tmp/loader", "ancestors": [{"pid": 39, "comm": "bash", "exe": "/usr/bin/bash"}]}

test_every_alert_kind_fires if {
	every k in ["mmap_wx", "mprotect_wx", "mprotect_x_after_w"] {
		some f in finding with input as alert(k, loader)
		f.alert == k
		f.start == "0x7fc007801000"
	}
}

test_jits_are_quiet if {
	every p in [
		{"comm": "node", "exe": "/usr/bin/node"},
		{"comm": "C2 CompilerThre", "exe": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"},
		{"comm": "ThreadPoolForeg", "exe": "/opt/google/chrome/chrome"},
		{"comm": "qemu-system-aar", "exe": "/usr/bin/qemu-system-aarch64"},
		{"comm": "qemu-arm", "exe": "/usr/bin/qemu-arm-static"},
		{"comm": "php-fpm8.2", "exe": "/usr/sbin/php-fpm8.2"},
	] {
		count(finding) == 0 with input as alert("mprotect_x_after_w", p)
	}
}

test_unknown_alert_is_quiet if {
	count(finding) == 0 with input as alert("something_else", loader)
}

test_python_is_not_a_jit if {
	# python with ctypes shellcode is the classic loader
	count(finding) == 1 with input as alert("mmap_wx", {"comm": "python3", "exe": "/usr/bin/python3.11"})
}

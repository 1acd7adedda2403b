package vigil.signatures.kexec_load

file_load(flags, ancestors) := {
	"name": "kexec_file_load",
	"return_value": 0,
	"process": {"pid": 2200, "comm": "kexec", "exe": "/usr/sbin/kexec", "uid": 0, "ancestors": ancestors},
	"args": {"kernel_fd": 3, "kernel_path": "/boot/vmlinuz-6.1.0-evil", "initrd_fd": 4, "initrd_path": "/boot/initrd.img", "cmdline": "root=/dev/sda1", "flags": flags},
}

kdump_service := [{"pid": 900, "comm": "kdump-config", "exe": "/usr/sbin/kdump-config"}, {"pid": 1, "comm": "systemd", "exe": "/usr/lib/systemd/systemd"}]

test_kexec_file_load_fires if {
	some f in finding with input as file_load(0, [])
	f.kernel == "/boot/vmlinuz-6.1.0-evil"
	f.succeeded
	not f.crash_kernel
}

test_kdump_crash_kernel_is_quiet if {
	count(finding) == 0 with input as file_load(2, kdump_service)
}

test_crash_kernel_outside_kdump_fires if {
	some f in finding with input as file_load(2, [])
	f.crash_kernel
}

test_normal_kernel_from_kdump_fires if {
	count(finding) == 1 with input as file_load(0, kdump_service)
}

test_kexec_load_from_memory_fires_when_refused if {
	ev := {"name": "kexec_load", "return_value": -1, "process": {"pid": 7}, "args": {"entry": 16777216, "nr_segments": 3, "flags": 4063232}}
	some f in finding with input as ev
	f.kernel == "memory"
	not f.succeeded
}

test_kexec_load_crash_flag_under_kdump_is_quiet if {
	ev := {"name": "kexec_load", "return_value": 0, "process": {"pid": 7, "ancestors": kdump_service}, "args": {"entry": 0, "nr_segments": 3, "flags": 4063233}}
	count(finding) == 0 with input as ev
}

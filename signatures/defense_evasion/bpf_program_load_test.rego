package vigil.signatures.bpf_program_load

load(prog_type, process) := {
	"name": "security_bpf",
	"return_value": 0,
	"process": object.union({"pid": 4400, "comm": "rk", "exe": "/var/lib/.x/rk", "uid": 0, "argv": ["/var/lib/.x/rk"]}, process),
	"args": {"cmd": "BPF_PROG_LOAD", "cmd_id": 5, "prog_type": prog_type, "prog_name": "handle_getdents", "attach_type": "", "insn_cnt": 812},
}

test_tracepoint_program_by_an_unknown_process_fires if {
	some f in finding with input as load("tracepoint", {})
	f.prog_type == "tracepoint"
	f.prog_name == "handle_getdents"
	f.succeeded
}

test_every_hooking_type_fires if {
	every t in ["kprobe", "raw_tracepoint", "tracing", "lsm", "xdp", "sched_cls"] {
		count(finding) == 1 with input as load(t, {})
	}
}

test_socket_filter_and_cgroup_programs_are_quiet if {
	every t in ["socket_filter", "cgroup_skb", "cgroup_device", "cgroup_sock_addr"] {
		count(finding) == 0 with input as load(t, {})
	}
}

test_map_creation_is_quiet if {
	ev := json.patch(load("kprobe", {}), [{"op": "replace", "path": "/args/cmd", "value": "BPF_MAP_CREATE"}])
	count(finding) == 0 with input as ev
}

test_known_agents_are_quiet if {
	count(finding) == 0 with input as load("kprobe", {"comm": "falco", "exe": "/usr/bin/falco"})
	count(finding) == 0 with input as load("lsm", {"comm": "systemd", "exe": "/usr/lib/systemd/systemd"})
	count(finding) == 0 with input as load("tracing", {"comm": "bpftrace", "exe": "/usr/bin/bpftrace"})
}

test_bcc_tool_is_quiet if {
	count(finding) == 0 with input as load("kprobe", {"comm": "execsnoop-bpfcc", "exe": "/usr/bin/python3.11", "argv": ["/usr/bin/python3", "/usr/sbin/execsnoop-bpfcc"]})
}

test_agent_name_in_tmp_fires if {
	some f in finding with input as load("kprobe", {"comm": "falco", "exe": "/tmp/falco"})
	f.exe == "/tmp/falco"
}

test_refused_load_fires if {
	ev := json.patch(load("kprobe", {}), [{"op": "replace", "path": "/return_value", "value": -1}])
	some f in finding with input as ev
	not f.succeeded
}

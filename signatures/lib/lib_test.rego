package vigil.lib

proc(ancestors) := {"process": {"pid": 4242, "comm": "sh", "exe": "/usr/bin/dash", "ancestors": ancestors}}

nginx := {"pid": 812, "host_pid": 812, "comm": "nginx", "exe": "/usr/sbin/nginx", "uid": 33}

php := {"pid": 900, "host_pid": 900, "comm": "php-fpm8.2", "exe": "/usr/sbin/php-fpm8.2", "uid": 33}

bash := {"pid": 1500, "host_pid": 1500, "comm": "bash", "exe": "/usr/bin/bash", "uid": 1000}

systemd := {"pid": 1, "host_pid": 1, "comm": "systemd", "exe": "/usr/lib/systemd/systemd", "uid": 0}

test_basename if {
	basename("/usr/sbin/nginx") == "nginx"
	basename("nginx") == "nginx"
	basename("/") == ""
}

test_process_names_uses_comm_and_exe if {
	process_names({"comm": "kworker", "exe": "/tmp/.x/miner"}) == {"kworker", "miner"}
	process_names({"comm": "init"}) == {"init"}
}

test_process_names_without_version if {
	process_names({"comm": "php-fpm8.2", "exe": "/usr/sbin/php-fpm8.2"}) == {"php-fpm8.2", "php-fpm"}
	process_names({"comm": "python3.12"}) == {"python3.12", "python"}
}

test_has_ancestor_by_comm if {
	has_ancestor({"nginx"}) with input as proc([bash, nginx, systemd])
}

test_has_ancestor_by_exe_when_comm_was_renamed if {
	renamed := object.union(nginx, {"comm": "[kworker/0:1]"})
	has_ancestor(["nginx"]) with input as proc([renamed, systemd])
}

test_has_ancestor_false_for_unrelated_chain if {
	not has_ancestor(web_servers) with input as proc([bash, systemd])
}

test_has_ancestor_false_without_ancestors if {
	not has_ancestor(web_servers) with input as {"process": {"pid": 1, "comm": "init"}}
}

test_ancestor_is_the_nearest_match if {
	a := ancestor(web_servers) with input as proc([bash, php, nginx, systemd])
	a.pid == 900
}

test_ancestry if {
	ancestry == ["bash(1500)", "systemd(1)"] with input as proc([bash, systemd])
}

test_is_shell if {
	is_shell("/bin/bash")
	is_shell("dash")
	not is_shell("/usr/bin/bashful")
	not is_shell("/usr/bin/python3")
}

test_predicates_are_false_not_undefined if {
	# Usable as values in a finding's fields, not only as conditions.
	is_shell("/usr/bin/python3") == false
	is_shell(42) == false
	under("/tmp/x", ["/dev/shm"]) == false
	under(7, ["/dev/shm"]) == false
	basename(7) == ""
	process_names({"comm": "x", "exe": 7}) == {"x"}
	unrelated := has_ancestor({"nginx"}) with input as proc([bash])
	unrelated == false
	orphan := has_ancestor({"nginx"}) with input as {"process": {}}
	orphan == false
}

test_under if {
	under("/dev/shm/x", ["/dev/shm", "/run/shm"])
	not under("/dev/shmem/x", ["/dev/shm"])
	not under("/dev/shm", ["/dev/shm"])
}

test_arg_default if {
	arg("pathname", "") == "/x" with input as {"args": {"pathname": "/x"}}
	arg("pathname", "") == "" with input as {"args": {}}
	arg("pathname", "none") == "none" with input as {"name": "x"}
}

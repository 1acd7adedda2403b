package vigil.signatures.web_server_shell_exec

exec_by(path, comm, ancestors) := {
	"name": "sched_process_exec",
	"process": {"pid": 4242, "comm": comm, "ancestors": ancestors},
	"args": {"pathname": path, "argv": [comm, "-c", "id"]},
}

nginx := {"pid": 812, "comm": "nginx", "exe": "/usr/sbin/nginx"}

php := {"pid": 900, "comm": "php-fpm8.2", "exe": "/usr/sbin/php-fpm8.2"}

tomcat := {"pid": 950, "comm": "java", "exe": "/usr/lib/jvm/java-17/bin/java", "argv": ["java", "org.apache.catalina.startup.Bootstrap"]}

test_sh_under_php_under_nginx if {
	some f in finding with input as exec_by("/usr/bin/dash", "sh", [php, nginx])
	f.kind == "shell"
	f.server == "php-fpm8.2"
	f.server_pid == 900
	f.ancestry == ["php-fpm8.2(900)", "nginx(812)"]
}

test_python_under_nginx if {
	some f in finding with input as exec_by("/usr/bin/python3.11", "python3", [nginx])
	f.kind == "interpreter"
}

test_grandchild_shell_still_fires if {
	sh := {"pid": 1000, "comm": "sh", "exe": "/usr/bin/dash"}
	some f in finding with input as exec_by("/usr/bin/bash", "bash", [sh, php, nginx])
	f.server == "php-fpm8.2"
}

test_server_reexec_is_quiet if {
	count(finding) == 0 with input as exec_by("/usr/sbin/nginx", "nginx", [nginx])
}

test_non_shell_child_is_quiet if {
	count(finding) == 0 with input as exec_by("/usr/bin/convert", "convert", [php, nginx])
}

test_shell_from_login_is_quiet if {
	count(finding) == 0 with input as exec_by("/usr/bin/bash", "bash", [{"pid": 700, "comm": "sshd", "exe": "/usr/sbin/sshd"}])
}

test_shell_under_tomcat if {
	some f in finding with input as exec_by("/usr/bin/bash", "bash", [tomcat])
	f.server == "java"
	f.server_pid == 950
}

test_java_build_tool_is_not_a_server if {
	gradle := {"pid": 960, "comm": "java", "exe": "/usr/lib/jvm/java-17/bin/java", "argv": ["java", "-classpath", "gradle-launcher.jar", "org.gradle.launcher.GradleMain", "build"]}
	count(finding) == 0 with input as exec_by("/usr/bin/bash", "bash", [gradle])
}

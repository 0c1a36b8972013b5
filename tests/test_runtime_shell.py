"""The pod runtime: the sh interpreter, the basic tools and the exec facade."""
from __future__ import annotations

import pytest

from labkit.sandbox._clock import Clock
from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox import runtime

CFG = SandboxConfig()


def _pod(image: str, name: str = "client", ns: str = "default", **spec) -> dict:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "c", "image": image}], "nodeName": "lab-worker", **spec},
            "status": {"podIP": "10.10.100.37", "podIPs": [{"ip": "10.10.100.37"}]}}


def _svc(name: str, ns: str, ip: str, ports: list[dict]) -> dict:
    return {"kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "ports": ports}}


KUBERNETES = _svc("kubernetes", "default", "10.0.0.1",
                  [{"name": "https", "port": 443, "protocol": "TCP"}])


def run(argv, image="nginx", pod=None, objects=(), **kw):
    pod = pod or _pod(image)
    cluster = StaticCluster([pod, KUBERNETES, *objects])
    env = runtime.PodEnvironment.build(pod, None, config=CFG, cluster=cluster, clock=Clock(),
                                       timeout=kw.pop("timeout", None), network=kw.pop("network", None))
    res = runtime.run(env, argv, **kw)
    return res.stdout.decode(), res.stderr.decode(), res.exit_code


def sh(script, image="nginx", shell="sh", **kw):
    return run([shell, "-c", script], image=image, **kw)


# ---------------------------------------------------------------- quoting and words

def test_quoting_single_double_and_backslash():
    out, err, code = sh("""x='a  b'; echo "$x" $x '$x' \\$x "q\\"uote" a\\ b""")
    assert (out, err, code) == ("a  b a b $x $x q\"uote a b\n", "", 0)


def test_unquoted_expansion_splits_and_empty_quotes_keep_a_field():
    out, _, _ = sh('set -- "" a; echo $#; x="1 2   3"; for w in $x; do echo "[$w]"; done')
    assert out == "2\n[1]\n[2]\n[3]\n"


def test_parameter_forms():
    out, _, _ = sh('f=web-svc.default.svc; echo ${f%%.*} ${f#*.} ${#f} ${unset:-dflt} ${f:+set}')
    assert out == "web-svc default.svc 19 dflt set\n"


def test_arithmetic_and_counter_loop():
    out, _, code = sh('i=0; while [ $i -lt 3 ]; do i=$((i + 1)); echo $i; done; echo $((7 / 2)) $((-7 / 2))')
    assert (out, code) == ("1\n2\n3\n3 -3\n", 0)


# ---------------------------------------------------------------- control flow

def test_for_over_seq_and_word_list():
    out, _, _ = sh("for i in $(seq 3); do echo n$i; done; for s in a b; do echo $s; done")
    assert out == "n1\nn2\nn3\na\nb\n"


def test_if_elif_else_and_test_operators():
    script = 'for n in 1 5 9; do if [ "$n" -lt 3 ]; then echo low; elif test $n -eq 5; then echo mid; else echo high; fi; done'
    assert sh(script)[0] == "low\nmid\nhigh\n"


def test_and_or_and_status():
    out, _, code = sh("false && echo no || echo yes; true; echo $?; false; echo $?; ! true; echo $?")
    assert (out, code) == ("yes\n0\n1\n1\n", 0)


def test_until_break_continue():
    out, _, _ = sh("i=0; until [ $i -ge 5 ]; do i=$((i+1)); [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo $i; done")
    assert out == "1\n3\n"


def test_exit_code_and_subshell_isolation():
    out, _, code = sh("x=1; (x=2; exit 3); echo $? $x; exit 4")
    assert (out, code) == ("3 1\n", 4)


def test_command_substitution_status_and_nesting():
    out, _, _ = sh('x=$(false); echo $?; echo "$(echo "$(echo deep)")"')
    assert out == "1\ndeep\n"


# ---------------------------------------------------------------- pipes and redirections

def test_pipe_sort_uniq_count_like_gnu():
    out, _, code = sh("for i in 1 2 3 4 5; do echo 10.10.100.$((i % 2 + 5)); done | sort | uniq -c")
    assert (out, code) == ("      2 10.10.100.5\n      3 10.10.100.6\n", 0)


def test_pipe_into_while_read():
    out, _, _ = sh('printf "a 1\\nb 2\\n" | while read name n; do echo "$n:$name"; done')
    assert out == "1:a\n2:b\n"


def test_pipeline_status_is_the_last_stage():
    assert sh("false | true; echo $?")[0] == "0\n"
    assert sh("true | false")[2] == 1


def test_redirections_null_files_and_fd_order():
    out, err, code = sh("nosuch 2>/dev/null; echo $?; echo hi >/tmp/f; echo more >>/tmp/f; cat /tmp/f; "
                        "nosuch >/dev/null 2>&1; nosuch 2>&1 >/dev/null | wc -l")
    assert (out, err, code) == ("127\nhi\nmore\n1\n", "", 0)


def test_stdin_redirect_from_a_pod_file():
    assert sh("wc -l < /etc/resolv.conf")[0] == "3\n"


# ---------------------------------------------------------------- errors per shell

@pytest.mark.parametrize("image,shell,message", [
    ("nginx", "sh", "sh: 1: dig: not found\n"),                          # dash
    ("busybox", "sh", "sh: dig: not found\n"),                           # BusyBox ash
    ("nginx", "bash", "bash: line 1: dig: command not found\n"),         # bash 5.1+
    ("centos:7", "bash", "bash: dig: command not found\n"),              # bash 4.2
    ("nginx", "/bin/sh", "/bin/sh: 1: dig: not found\n"),
])
def test_unknown_command_in_a_script(image, shell, message):
    assert sh("dig web-svc", image=image, shell=shell) == ("", message, 127)


def test_not_found_line_number_is_the_command_line():
    assert sh("echo a\n\nnosuch")[1] == "sh: 3: nosuch: not found\n"


@pytest.mark.parametrize("image,shell,script,message", [
    ("nginx", "sh", "for i in 1 2; do echo $i",
     'sh: 1: Syntax error: end of file unexpected (expecting "done")\n'),
    ("nginx", "sh", "if true; then echo x", 'sh: 1: Syntax error: end of file unexpected (expecting "fi")\n'),
    ("nginx", "sh", "echo a; done", 'sh: 1: Syntax error: "done" unexpected\n'),
    ("busybox", "sh", "for i in 1 2; do echo $i",
     'sh: syntax error: unexpected end of file (expecting "done")\n'),
    ("nginx", "bash", "for i in 1; do echo", "bash: -c: line 1: syntax error: unexpected end of file\n"),
    ("nginx", "bash", "echo a; done",
     "bash: -c: line 1: syntax error near unexpected token `done'\nbash: -c: line 1: `echo a; done'\n"),
])
def test_syntax_errors_exit_2_with_the_shells_message(image, shell, script, message):
    assert sh(script, image=image, shell=shell) == ("", message, 2)


def test_dash_echo_has_no_dash_e_but_bash_and_busybox_do():
    assert sh(r'echo -e "a\tb"')[0] == "-e a\tb\n"
    assert sh(r'echo -e "a\tb"', shell="bash")[0] == "a\tb\n"
    assert sh(r'echo -e "a\tb"', image="busybox")[0] == "a\tb\n"
    assert sh("echo -n x; echo y")[0] == "xy\n"


def test_dash_integer_error():
    out, err, code = sh('[ abc -eq 1 ]; echo $?')
    assert (out, err) == ("2\n", "sh: 1: [: Illegal number: abc\n")


# ---------------------------------------------------------------- the exec facade

def test_exec_of_a_command_the_image_lacks_is_the_runtime_error():
    assert run(["dig", "web-svc"], image="nginx") == (
        "", 'OCI runtime exec failed: exec failed: unable to start container process: '
            'exec: "dig": executable file not found in $PATH: unknown\n', 126)
    assert run(["/usr/bin/dig"], image="nginx")[1] == (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        "stat /usr/bin/dig: no such file or directory: unknown\n")
    assert run(["bash", "-c", "echo hi"], image="busybox")[2] == 126


def test_exec_runs_a_tool_directly_with_absolute_path():
    assert run(["/bin/echo", "-n", "hi"]) == ("hi", "", 0)


def test_sh_reads_the_script_from_stdin():
    assert run(["sh"], stdin="echo from-stdin\n") == ("from-stdin\n", "", 0)


def test_sh_c_positional_args_name_the_shell():
    assert run(["sh", "-c", 'echo $0 $1 $#; nosuch', "probe", "x"]) == (
        "probe x 1\n", "probe: 1: nosuch: not found\n", 127)


def test_timeout_kills_with_137_and_keeps_output():
    out, err, code = run(["sh", "-c", "echo started; while true; do :; done"], timeout=0.2)
    assert (out, err, code) == ("started\n", "", 137)


def test_sleep_counts_toward_the_deadline():
    assert run(["sh", "-c", "echo a; sleep 5; echo b"], timeout=0.2) == ("a\n", "", 137)


def test_iteration_budget_stops_runaway_loops():
    out, err, code = run(["sh", "-c", "while :; do :; done"], timeout=30)
    assert code == 125 and "loop limit" in err


def test_thousand_iteration_loop_completes():
    out, _, code = sh("for i in $(seq 1000); do echo $i; done")
    assert code == 0 and out.splitlines()[-1] == "1000" and len(out.splitlines()) == 1000


def test_environment_as_the_kubelet_sets_it():
    web = _svc("web-svc", "default", "10.0.0.20", [{"port": 80, "protocol": "TCP"}])
    other = _svc("other", "test", "10.0.0.30", [{"port": 80}])
    headless = _svc("headless", "default", "None", [{"port": 80}])
    out, _, _ = run(["env"], objects=[web, other, headless])
    env = dict(line.split("=", 1) for line in out.splitlines())
    assert env["HOSTNAME"] == "client" and env["HOME"] == "/root"
    assert env["KUBERNETES_SERVICE_HOST"] == "10.0.0.1"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["WEB_SVC_SERVICE_HOST"] == "10.0.0.20"
    assert env["WEB_SVC_PORT_80_TCP"] == "tcp://10.0.0.20:80"
    assert not any(k.startswith(("OTHER_", "HEADLESS_")) for k in env)
    assert out.startswith("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")


def test_enable_service_links_false_keeps_only_kubernetes():
    web = _svc("web-svc", "default", "10.0.0.20", [{"port": 80}])
    pod = _pod("nginx", enableServiceLinks=False)
    pod["spec"]["containers"][0]["env"] = [
        {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "URL", "value": "http://$(MY_IP):80"}]
    out, _, _ = run(["printenv", "MY_IP", "URL", "KUBERNETES_SERVICE_HOST"], pod=pod, objects=[web])
    assert out == "10.10.100.37\nhttp://10.10.100.37:80\n10.0.0.1\n"
    assert run(["printenv", "WEB_SVC_SERVICE_HOST"], pod=pod, objects=[web])[2] == 1


def test_profile_is_exported():
    assert runtime.profile("docker.io/library/busybox:1.36").busybox
    assert isinstance(runtime.ExecResult(b"", b"", 0), runtime.ExecResult)


# ---------------------------------------------------------------- basic tools

def test_cat_missing_file_per_flavour():
    assert run(["cat", "/x"]) == ("", "cat: /x: No such file or directory\n", 1)
    assert run(["cat", "/x"], image="busybox") == ("", "cat: can't open '/x': No such file or directory\n", 1)


def test_head_tail():
    out, _, _ = sh("seq 10 | head -n 2; seq 10 | head -3; seq 10 | tail -n 2; seq 5 | tail -n +4")
    assert out == "1\n2\n1\n2\n3\n9\n10\n4\n5\n"


def test_hostname_and_hostname_i_and_f():
    pod = _pod("nginx", hostname="web-0", subdomain="web-svc")
    assert run(["hostname"], pod=pod)[0] == "web-0\n"
    assert run(["hostname", "-i"], pod=pod)[0] == "10.10.100.37 \n"
    assert run(["hostname", "-f"], pod=pod)[0] == "web-0.web-svc.default.svc.cluster.local\n"


def test_seq_forms():
    out, _, _ = sh("seq 3; seq 2 4; seq 1 5 11; seq -s , 3; seq -w 8 10")
    assert out == "1\n2\n3\n2\n3\n4\n1\n6\n11\n1,2,3\n08\n09\n10\n"


def test_wc_gnu_and_busybox_widths():
    assert sh("printf 'a b\\nc\\n' | wc -l")[0] == "2\n"
    assert sh("printf 'a b\\nc\\n' | wc")[0] == "      2       3       6\n"
    assert sh("printf 'a b\\nc\\n' | wc", image="busybox")[0] == "        2         3         6\n"
    assert run(["wc", "-l", "/etc/resolv.conf"])[0] == "3 /etc/resolv.conf\n"


def test_sort_numeric_reverse_unique():
    assert sh("printf '10\\n9\\n100\\n9\\n' | sort -n")[0] == "9\n9\n10\n100\n"
    assert sh("printf '10\\n9\\n100\\n9\\n' | sort -rnu")[0] == "100\n10\n9\n"


def test_grep_options():
    text = "printf 'Alpha\\nbeta\\ngamma\\n'"
    assert sh(f"{text} | grep -i alpha")[0] == "Alpha\n"
    assert sh(f"{text} | grep -c a")[0] == "3\n"
    assert sh(f"{text} | grep -v a")[0] == ""
    assert sh(f"{text} | grep -E 'beta|gamma'")[0] == "beta\ngamma\n"
    assert sh(f"{text} | grep -o 'mm'")[0] == "mm\n"
    assert sh(f"{text} | grep -q zeta; echo $?")[0] == "1\n"
    assert sh("grep nameserver /etc/resolv.conf | cut -d ' ' -f 2")[0] == "10.0.0.10\n"


def test_tr_awk_cut():
    assert sh("echo Web-Svc | tr 'A-Z' 'a-z'")[0] == "web-svc\n"
    assert sh("echo 'a  b   c' | tr -s ' '")[0] == "a b c\n"
    assert sh("echo 'x 10.0.0.1 y' | awk '{print $2}'")[0] == "10.0.0.1\n"
    assert sh("echo 'a:b:c' | awk -F: '{print $3, $1}'")[0] == "c a\n"
    assert sh("echo 'a:b:c' | cut -d: -f2-")[0] == "b:c\n"


def test_printf_formats():
    assert sh(r"printf '%s=%d %05.1f %x|%-4s|\n' a 42 3.14159 255 ab")[0] == "a=42 003.1 ff|ab  |\n"
    assert sh(r"printf '%s\n' a b c")[0] == "a\nb\nc\n"


def test_id_whoami_uname_ls():
    assert run(["id"])[0] == "uid=0(root) gid=0(root) groups=0(root)\n"
    assert run(["whoami"])[0] == "root\n"
    assert run(["uname"])[0] == "Linux\n"
    assert run(["ls", "/etc"])[0].splitlines()[:3] == ["hostname", "hosts", "resolv.conf"]
    assert run(["ls", "/nope"]) == ("", "ls: cannot access '/nope': No such file or directory\n", 2)


def test_command_v_and_which_follow_the_image():
    assert sh("command -v curl; command -v dig || echo none")[0] == "/usr/bin/curl\nnone\n"
    assert run(["which", "dig"], image="nicolaka/netshoot")[0] == "/usr/bin/dig\n"

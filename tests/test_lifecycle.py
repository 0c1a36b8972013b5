"""One server per home, a `down` that returns when the process is gone, one-line errors, private files.

Real `python -m labkit sandbox ...` processes in a temporary LABKIT_HOME.
"""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from labkit.sandbox.home import _process

from .sandbox_processes import alive, config_maps, core_api, labkit, up


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    labkit(tmp_path, "sandbox", "down", check=False)


def one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_two_ups_at_once_give_one_server(home):
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: up(home), range(2))
    assert first == second
    assert _process.holder(home / "sandbox") == first["pid"]
    # An `up` while it runs reports the same server, as before.
    assert up(home) == first
    assert labkit(home, "sandbox", "down").stdout.strip() == "sandbox stopped"
    assert not alive(first["pid"])
    assert labkit(home, "sandbox", "down").stdout.strip() == "no sandbox was running"


def test_up_hands_its_flags_to_the_server_it_starts(home):
    # `up` starts the server before it has read its flags itself: the server must get them all.
    import json
    status = up(home, "--seed", "7", "--pod-cidr", "10.96.128.0/17", "--service-cidr", "10.77.0.0/16",
                "--nodes", "4", "--max-pods", "30")
    saved = json.loads((home / "sandbox" / "config.json").read_text())
    assert (saved["seed"], saved["pod_cidr"], saved["service_cidr"], saved["max_pods"]) == \
        (7, "10.96.128.0/17", "10.77.0.0/16", 30)
    api, core = core_api(status)
    with api:
        nodes = core.list_node().items
        assert len(nodes) == 4
        assert {n.status.capacity["pods"] for n in nodes} == {"30"}
        assert core.read_namespaced_service("kubernetes", "default").spec.cluster_ip == "10.77.0.1"


def test_the_server_up_forks_keeps_nothing_of_its_caller(home):
    """`up` forks its server (fork_server): detached as a spawned one was, in a session of
    its own, stdin from /dev/null, output to the log, and no descriptor of the caller's
    left open. A pipe it kept would never give the caller its end of file."""
    import json
    import select
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.run([sys.executable, "-m", "labkit", "sandbox", "up", "--json"], capture_output=True,
                              text=True, env=dict(os.environ, LABKIT_HOME=str(home)), timeout=60,
                              pass_fds=(write_end,))
        assert proc.returncode == 0, proc.stderr
        os.close(write_end)
        write_end = None
        assert select.select([read_end], [], [], 5)[0], "the server holds the caller's pipe open"
        assert os.read(read_end, 1) == b""
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)
    pid = json.loads(proc.stdout)["pid"]
    assert os.getsid(pid) == pid
    fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    log = str(home / "sandbox" / "sandbox.log")
    assert (fds[0], fds[1], fds[2]) == (os.devnull, log, log)
    assert "sandbox answering at" in (home / "sandbox" / "sandbox.log").read_text()


def test_a_serve_that_cannot_start_turns_the_collector_back_on(tmp_path):
    """`serve` loads with the collector off (_cli._serve); a start that fails (the home is
    held by another server) gives it back, for a caller that goes on."""
    import gc
    from labkit.sandbox import _cli
    from labkit.sandbox.home import _files
    sandbox_home = tmp_path / "sandbox"
    _files.ensure_home(sandbox_home)
    held = _process.HomeLock(sandbox_home)
    try:
        with pytest.raises(_process.HomeBusy):
            _cli._serve(_cli._parser().parse_args(["sandbox", "serve"]), sandbox_home)
        assert gc.isenabled()
    finally:
        held.release()
        gc.enable()


def test_up_with_a_bad_flag_leaves_no_server(home):
    proc = labkit(home, "sandbox", "up", "--pod-cidr", "10.0.0.0/33", check=False)
    assert one_line_error(proc, 1).startswith("labkit: bad network")
    assert _process.holder(home / "sandbox") is None
    assert labkit(home, "sandbox", "status", check=False).returncode == 1


def test_a_second_serve_refuses_in_one_line(home):
    status = up(home)
    proc = labkit(home, "sandbox", "serve", check=False, timeout=30)
    line = one_line_error(proc, 1)
    assert "already serves" in line and str(status["pid"]) in line
    # The running server is untouched: it answers and still owns the home.
    assert labkit(home, "sandbox", "status", "--json").stdout.strip()
    assert _process.holder(home / "sandbox") == status["pid"]


def test_down_returns_once_the_process_is_gone(home):
    status = up(home)
    assert alive(status["pid"])
    assert labkit(home, "sandbox", "down").stdout.strip() == "sandbox stopped"
    assert not alive(status["pid"])
    assert not (home / "sandbox" / "status.json").exists()
    assert labkit(home, "sandbox", "status", check=False).returncode == 1


def test_down_kills_a_server_that_ignores_sigterm_and_the_state_survives(home):
    status = up(home)
    api, core = core_api(status)
    core.create_namespaced_config_map("default", {"metadata": {"name": "survivor"}})
    before = config_maps(core)
    api.close()
    os.kill(status["pid"], signal.SIGSTOP)        # a stopped process cannot act on SIGTERM
    try:
        proc = labkit(home, "sandbox", "down", "--grace", "1")
    finally:
        if alive(status["pid"]):
            os.kill(status["pid"], signal.SIGCONT)
    assert proc.stdout.strip() == "sandbox killed after 1 s"
    assert not alive(status["pid"])
    api, core = core_api(up(home))
    assert config_maps(core) == before
    api.close()


def test_expected_failures_are_one_line_without_a_traceback(home, tmp_path_factory):
    line = one_line_error(labkit(home, "sandbox", "up", "--port", "eighty", check=False), 2)
    assert "--port" in line
    one_line_error(labkit(home, "sandbox", "frobnicate", check=False), 2)

    # A port that is taken, asked for explicitly.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(labkit(home, "sandbox", "up", "--port", str(port), check=False), 1)
    assert f"127.0.0.1:{port}" in line

    # A home that is a file, not a directory.
    not_a_dir = tmp_path_factory.mktemp("file-home") / "home"
    not_a_dir.write_text("")
    for verb in ("up", "serve"):
        one_line_error(labkit(not_a_dir, "sandbox", verb, check=False), 1)

    # A configuration file that is not JSON.
    (home / "sandbox" / "config.json").write_text("{ not json")
    line = one_line_error(labkit(home, "sandbox", "up", check=False), 1)
    assert "config.json" in line
    assert labkit(home, "sandbox", "status", check=False).returncode == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_an_unreadable_home_is_one_line(home):
    (home / "sandbox").mkdir(mode=0o000)
    try:
        one_line_error(labkit(home, "sandbox", "up", check=False), 1)
    finally:
        (home / "sandbox").chmod(0o700)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_home_and_its_files_are_private(home):
    old = home / "sandbox"
    old.mkdir(mode=0o755)
    os.chmod(old, 0o755)                          # as an earlier version left it
    up(home)
    sandbox = home / "sandbox"
    assert mode(sandbox) == 0o700 and mode(sandbox / "pki") == 0o700
    for name in ("token", "kubeconfig", "state.wal", "config.json", "status.json", "lock", "sandbox.log",
                 "pki/server.key", "pki/server.crt", "pki/ca.crt"):
        assert mode(sandbox / name) == 0o600, name
    labkit(home, "sandbox", "down")
    assert mode(sandbox / "state.json") == 0o600
    assert not list(sandbox.glob(".*.tmp"))


def test_a_new_home_is_created_0700_under_a_umask_that_allows_more(tmp_path):
    fresh = tmp_path / "a" / "b"
    env = dict(os.environ, LABKIT_HOME=str(fresh))
    code = ("import os; os.umask(0o022); from labkit.cli import main; "
            "raise SystemExit(main(['sandbox', 'up']))")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=60)
    try:
        assert mode(tmp_path / "a") == 0o700 and mode(fresh) == 0o700 and mode(fresh / "sandbox") == 0o700
        assert mode(fresh / "sandbox" / "token") == 0o600
    finally:
        labkit(fresh, "sandbox", "down")


@pytest.mark.parametrize("header", ["Bearer {token}x", "Bearer {short}", "bearer {token}", "Bearer \u00e9{token}", ""])
def test_only_the_exact_token_is_accepted(sandbox, header):
    import http.client
    import json
    import ssl
    value = header.format(token=sandbox.token, short=sandbox.token[:-1])
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=5,
                                       context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    try:
        conn.putrequest("GET", "/api/v1/namespaces")
        if value:
            conn.putheader("Authorization", value.encode("latin-1"))
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 401 and json.loads(resp.read())["reason"] == "Unauthorized"
        conn.request("GET", "/api/v1/namespaces", headers={"Authorization": f"Bearer {sandbox.token}"})
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_an_in_process_sandbox_stops_at_once_and_frees_its_home(tmp_path):
    """Stop right after a burst of changes: the controllers' loop must see the stop even when
    its wake-up and the cancel meet (asyncio.wait_for before Python 3.12 can lose the cancel),
    else stop() gives up after 10 s and the home stays locked."""
    import time as _time

    from labkit.sandbox import Sandbox, SandboxConfig
    from labkit.sandbox.home import _process
    from labkit.sandbox.apis._resources import by_plural
    nodes = by_plural("nodes")
    for i in range(12):
        home = tmp_path / f"home-{i}"
        start = _time.monotonic()
        with Sandbox(home=home, config=SandboxConfig()) as sb:
            for node in sb.store.list_resource(nodes):
                sb.store.mutate(nodes, None, node["metadata"]["name"],
                                lambda n: n["status"]["nodeInfo"].update(kubeletVersion="v1.0.0"))
        assert _process.holder(home) is None
        assert _time.monotonic() - start < 8

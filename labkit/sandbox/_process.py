"""Running the sandbox as a background process: `labkit sandbox up|down|status`.

The serving process writes `status.json` in its home once the API and DNS answer;
`up` waits for that file, `status` checks that its pid is alive and the API answers.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ._tls import client_context

STATUS_FILE = "status.json"


def read_status(home: Path) -> dict | None:
    """The running sandbox's status, or None when none answers."""
    try:
        status = json.loads((home / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not _alive(status.get("pid", -1)) or not _answers(status["server"], home):
        return None
    return status


def write_status(sandbox) -> dict:
    dns = sandbox.dns_address
    status = {"server": sandbox.server, "kubeconfig": str(sandbox.kubeconfig),
              "dns": f"{dns[0]}:{dns[1]}" if dns else None, "pid": os.getpid(), "home": str(sandbox.home)}
    tmp = sandbox.home / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status))
    os.replace(tmp, sandbox.home / STATUS_FILE)
    return status


def clear_status(home: Path) -> None:
    try:
        (home / STATUS_FILE).unlink()
    except FileNotFoundError:
        pass


def start_background(home: Path, args: list[str], timeout: float = 30.0) -> dict:
    """Start `labkit sandbox serve` detached; return its status once it answers."""
    running = read_status(home)
    if running:
        return running
    clear_status(home)
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "sandbox.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "sandbox", "serve", *args],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True, env=dict(os.environ, LABKIT_HOME=str(home.parent)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(home)
        if status and status["pid"] == proc.pid:
            return status
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited with code {proc.returncode}; see {home / 'sandbox.log'}")
        time.sleep(0.02)
    proc.terminate()
    raise TimeoutError(f"the sandbox did not answer within {timeout:.0f} s; see {home / 'sandbox.log'}")


def stop_background(home: Path, timeout: float = 10.0) -> bool:
    try:
        status = json.loads((home / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return False
    pid = status.get("pid", -1)
    if not _alive(pid):
        clear_status(home)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    clear_status(home)
    return True


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def _answers(server: str, home: Path) -> bool:
    try:
        token = (home / "token").read_text().strip()
        req = urllib.request.Request(server + "/readyz", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=2, context=client_context(home / "pki" / "ca.crt")) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False

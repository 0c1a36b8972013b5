"""Helpers for tests that drive real sandbox processes through `python -m labkit sandbox ...`."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from kubernetes import client, config

from .conftest import wait_for


def labkit(home: Path, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, LABKIT_HOME=str(home))
    proc = subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"labkit {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def up(home: Path, *flags: str) -> dict:
    return json.loads(labkit(home, "sandbox", "up", "--json", *flags).stdout)


def core_api(status: dict) -> tuple[client.ApiClient, client.CoreV1Api]:
    api = config.new_client_from_config(status["kubeconfig"])
    return api, client.CoreV1Api(api)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not: it holds no lock and serves nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def kill9(pid: int) -> None:
    """SIGKILL, as a power loss would stop it: no handler, no flush; wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), timeout=10)


def config_maps(core: client.CoreV1Api, namespace: str = "default") -> dict[str, str]:
    """name -> resourceVersion of the ConfigMaps in `namespace`."""
    return {cm.metadata.name: cm.metadata.resource_version
            for cm in core.list_namespaced_config_map(namespace).items}

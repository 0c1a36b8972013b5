"""Measure what durability costs: ConfigMap creates per second and start-up time with many objects.

    python scripts/bench_durability.py [--writes 400] [--objects 5000]

Runs a background sandbox (`labkit sandbox up`) in a temporary LABKIT_HOME and talks to it
through the official client, as a learner's notebook does. Prints one line per figure.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubernetes import client, config


def labkit(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LABKIT_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "labkit", "sandbox", *args], env=env, check=True,
                          capture_output=True, text=True, timeout=300)


def up(home: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    status = json.loads(labkit(home, "up", "--json").stdout)
    return status, time.perf_counter() - started


def creates(core: client.CoreV1Api, prefix: str, n: int, threads: int) -> float:
    """Create n ConfigMaps from `threads` client threads; return creates per second."""
    def one(i: int) -> None:
        core.create_namespaced_config_map("default", {"metadata": {"name": f"{prefix}-{i}"},
                                                      "data": {"k": "v" * 100}})
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(n)))
    return n / (time.perf_counter() - started)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--writes", type=int, default=400)
    p.add_argument("--objects", type=int, default=5000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        status, _ = up(home)
        api = config.new_client_from_config(status["kubeconfig"])
        api.configuration.connection_pool_maxsize = 8
        core = client.CoreV1Api(api)
        creates(core, "warm", 20, 1)
        print(f"sequential creates: {creates(core, 'seq', args.writes, 1):.0f}/s")
        print(f"8 client threads:   {creates(core, 'par', args.writes, 8):.0f}/s")
        have = 20 + 2 * args.writes
        if args.objects > have:
            creates(core, "bulk", args.objects - have, 8)
        api.close()
        labkit(home, "down")
        _, seconds = up(home)
        print(f"`up` after `down` with {args.objects} ConfigMaps: {seconds:.2f} s")
        pid = json.loads(labkit(home, "status", "--json").stdout)["pid"]
        os.kill(pid, signal.SIGKILL)
        while Path(f"/proc/{pid}").exists() and b"Z" not in _state(pid):
            time.sleep(0.01)
        status, seconds = up(home)
        api = config.new_client_from_config(status["kubeconfig"])
        kept = len(client.CoreV1Api(api).list_namespaced_config_map("default").items)
        api.close()
        print(f"`up` after kill -9 with {args.objects} ConfigMaps: {seconds:.2f} s ({kept} kept)")
        labkit(home, "down")


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().split(b") ", 1)[1][:1]
    except OSError:
        return b"Z"


if __name__ == "__main__":
    main()

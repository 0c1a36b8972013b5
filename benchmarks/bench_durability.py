"""durability: what an fsync-ed write-ahead log costs, and start-up with many objects.

Creates go through the official client, one at a time and from 8 threads (whose writes
share fsyncs). Start-up is timed with 5000 ConfigMaps twice: after `kill -9` (every object in the
log, replayed) and after `down` (a snapshot, an empty log); the store's own `load()` is
timed in-process on copies of the files, with no server running.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import BIN, BackgroundSandbox, Figure, median, wait_until

WRITES = 400
OBJECTS = 5000


def _creates(core, prefix: str, n: int, threads: int) -> float:
    body = lambda i: {"metadata": {"name": f"{prefix}-{i}"}, "data": {"k": "v" * 100}}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: core.create_namespaced_config_map("default", body(i)), range(n)))
    return n / (time.perf_counter() - t0)


def _up(sb: BackgroundSandbox) -> float:
    t0 = time.perf_counter()
    sb.status = sb._up()
    return time.perf_counter() - t0


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] == "Z"
    except OSError:
        return True


def _load_seconds(files: Path) -> tuple[float, int]:
    """Median time of Store.load() on a copy of `files` (state.json and/or state.wal)."""
    from labkit.sandbox._clock import Clock
    from labkit.sandbox.storage._store import Store
    runs, count = [], 0
    for _ in range(3):
        tmp = Path(tempfile.mkdtemp(prefix="labkit-bench-"))
        try:
            for name in ("state.json", "state.wal"):
                if (files / name).exists():
                    shutil.copy(files / name, tmp / name)
            store = Store(Clock(), path=tmp / "state.json")
            t0 = time.perf_counter()
            store.load()
            runs.append(time.perf_counter() - t0)
            count = sum(1 for _ in store.all_objects())
            if hasattr(store, "close"):
                store.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return median(runs), count


def run(ctx) -> list[Figure]:
    from kubernetes import client
    with BackgroundSandbox() as sb:
        api = sb.api_client()
        api.configuration.connection_pool_maxsize = 8
        core = client.CoreV1Api(api)
        _creates(core, "warm", 20, 1)
        sequential = _creates(core, "seq", WRITES, 1)
        parallel = _creates(core, "par", WRITES, 8)
        _creates(core, "bulk", OBJECTS - 20 - 2 * WRITES, 8)
        api.close()
        # Nothing runs while load() is timed: the figures are the store's alone.
        os.kill(sb.pid, signal.SIGKILL)
        wait_until(lambda: _gone(sb.pid), 10, what="the killed sandbox to exit")
        log_load, count = _load_seconds(sb.home)
        after_kill = _up(sb)
        subprocess.run([str(BIN / "labkit"), "sandbox", "down"], env=sb.env, capture_output=True, timeout=60)
        snapshot_load, _ = _load_seconds(sb.home)
        after_down = _up(sb)
    return [
        Figure(f"ConfigMap creates, one client thread ({WRITES})", sequential, "/s", "",
               "each answered after its log record is fsync-ed"),
        Figure(f"ConfigMap creates, 8 client threads ({WRITES})", parallel, "/s", "",
               "concurrent writes share fsyncs"),
        Figure(f"labkit sandbox up after down, {OBJECTS} ConfigMaps", after_down, "s", "",
               "from the snapshot; includes the interpreter and imports"),
        Figure(f"labkit sandbox up after kill -9, {OBJECTS} ConfigMaps", after_kill, "s", "",
               "the log replayed"),
        Figure("Store.load() from the log left by kill -9 (median of 3)", log_load, "s", "",
               f"{count} objects restored"),
        Figure("Store.load() from the snapshot left by down (median of 3)", snapshot_load, "s", "", ""),
    ]

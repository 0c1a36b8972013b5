"""startup: from `labkit sandbox up` in a fresh home until /readyz answers; and Sandbox() in-process.

Cold means a fresh LABKIT_HOME each time: no state, no certificates, no token yet.
The readiness probe is what a client does: HTTPS with the home's CA and the bearer token.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import BIN, Figure, median, wait_until

RUNS = 5
UP_TARGET = "<= 0.6"          # the architecture issue's figure for `up`
IN_PROCESS_TARGET = "<= 0.3"


def _ready(server: str, home: Path) -> bool:
    """The API answers /readyz with the token, over TLS with the home's CA (what `up` waits for)."""
    from labkit.sandbox.home._process import _answers
    return _answers(server, home)


def cold_up() -> float:
    import json
    root = Path(tempfile.mkdtemp(prefix="labkit-bench-"))
    env = dict(os.environ, LABKIT_HOME=str(root))
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN / "labkit"), "sandbox", "up", "--json"], env=env,
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"labkit sandbox up failed: {proc.stderr.strip()}")
        server = json.loads(proc.stdout)["server"]
        wait_until(lambda: _ready(server, root / "sandbox"), 30, interval=0.005, what="/readyz")
        return time.perf_counter() - t0
    finally:
        subprocess.run([str(BIN / "labkit"), "sandbox", "down"], env=env, capture_output=True, timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def in_process() -> float:
    from labkit.sandbox import Sandbox
    home = Path(tempfile.mkdtemp(prefix="labkit-bench-"))
    try:
        t0 = time.perf_counter()
        sb = Sandbox(home=home)
        sb.start()
        elapsed = time.perf_counter() - t0
        sb.stop()
        return elapsed
    finally:
        shutil.rmtree(home, ignore_errors=True)


def import_time() -> float:
    """A fresh interpreter loading the server's modules: part of every cold start (in `serve`)."""
    code = ("import time; t = time.perf_counter(); from labkit.sandbox import Sandbox; Sandbox.start; "
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True,
                                 timeout=60, check=True).stdout) for _ in range(3)]
    return median(runs)


def _bytecode_note() -> str:
    # Without cached bytecode every start compiles the project's sources again (a few tenths
    # of a second of the figure): say so, since a figure means little without it. `make
    # setup` writes the cache (compileall), which Python reads even where it may not write.
    import importlib.util
    import labkit.sandbox._sandbox as module
    cached = Path(importlib.util.cache_from_source(module.__file__)).exists()
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or cached:
        return ""
    return "; PYTHONDONTWRITEBYTECODE is set and labkit is not byte-compiled (make setup does it): " \
        "sources compiled at every start"


def run(ctx) -> list[Figure]:
    cold = [cold_up() for _ in range(RUNS)]
    in_proc = [in_process() for _ in range(RUNS)]
    return [
        Figure("labkit sandbox up -> /readyz (median of 5)", median(cold), "s", UP_TARGET,
               f"min {min(cold):.3f}, max {max(cold):.3f}; fresh LABKIT_HOME each{_bytecode_note()}"),
        Figure("Sandbox().start() in-process (median of 5)", median(in_proc), "s", IN_PROCESS_TARGET,
               "fresh home, modules already imported"),
        Figure("import of the server's modules (fresh interpreter)", import_time(), "s", "",
               f"included in the `up` figure{_bytecode_note()}"),
    ]

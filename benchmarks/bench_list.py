"""list: list_namespaced_pod over 1000 pods through the official client, and `kubectl get pods`."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

from _common import BIN, Figure, median, p95

CALLS = 20
KUBECTL_RUNS = 5


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _kubectl() -> str | None:
    local = BIN / "kubectl"
    return str(local) if local.exists() else shutil.which("kubectl")


def run(ctx) -> list[Figure]:
    from kubernetes import client
    fleet = ctx.fleet()
    core = client.CoreV1Api(fleet.api)
    count = len(core.list_namespaced_pod("default", label_selector="app=web").items)
    assert count == 1000, count
    typed = _timed(lambda: core.list_namespaced_pod("default"), CALLS)
    raw = _timed(lambda: core.list_namespaced_pod("default", _preload_content=False).data, CALLS)
    figures = [
        Figure("list_namespaced_pod, 1000 pods: median", median(typed), "s", "", f"{CALLS} calls, decoded to models"),
        Figure("list_namespaced_pod, 1000 pods: p95", p95(typed), "s"),
        Figure("same, raw JSON (server + transfer): median", median(raw), "s", "", "_preload_content=False"),
        Figure("same, raw JSON: p95", p95(raw), "s"),
    ]
    kubectl = _kubectl()
    if kubectl is None:
        figures.append(Figure("kubectl get pods", float("nan"), "s", "", "skipped: no kubectl binary"))
        return figures
    with tempfile.TemporaryDirectory() as home:      # its own discovery cache, warmed by the first call
        env = dict(os.environ, KUBECONFIG=fleet.sandbox.kubeconfig, HOME=home)
        lines = []

        def get():
            proc = subprocess.run([kubectl, "get", "pods"], env=env, capture_output=True, text=True,
                                  timeout=60, check=True)
            lines.append(proc.stdout.count("\n"))
        cold = _timed(get, 1)[0]
        warm = _timed(get, KUBECTL_RUNS)
    assert lines[-1] == 1001, lines[-1]
    figures += [
        Figure("kubectl get pods, 1000 rows (median of 5)", median(warm), "s", "", "discovery cache warm"),
        Figure("kubectl get pods, first call", cold, "s", "", "with discovery"),
    ]
    return figures

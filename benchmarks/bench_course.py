"""course: execute every lesson in notebooks/ against a fresh sandbox and time the whole course,
on the sandbox path and on the generic-cluster path (the sandbox reached as any cluster)."""
from __future__ import annotations

import os
import time

from _common import ROOT, BackgroundSandbox, Figure, Skip

TIMEOUT_PER_CELL = 600


def run(ctx) -> list[Figure]:
    notebooks = [nb for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))]
    if not notebooks:
        raise Skip("no lessons in notebooks/ yet")
    import nbformat
    from nbclient import NotebookClient
    figures = []
    with BackgroundSandbox() as sb:
        # The lessons' labkit.connect() finds the sandbox through KUBECONFIG and LABKIT_HOME;
        # each lesson runs in a kernel of its own, as a learner's would.
        saved = dict(os.environ)
        os.environ.update(sb.env, KUBECONFIG=sb.kubeconfig, LABKIT_BACKEND="sandbox")
        try:
            total0 = time.perf_counter()
            for path in notebooks:
                t0 = time.perf_counter()
                nb = nbformat.read(path, as_version=4)
                try:
                    NotebookClient(nb, timeout=TIMEOUT_PER_CELL, kernel_name="python3",
                                   resources={"metadata": {"path": str(path.parent)}}).execute()
                    status = "ok"
                except Exception as e:          # report it and go on with the other lessons
                    status = f"FAILED: {type(e).__name__}"
                figures.append(Figure(path.name, time.perf_counter() - t0, "s", "", status))
            figures.insert(0, Figure(f"whole course ({len(notebooks)} lessons, a kernel each)",
                                     time.perf_counter() - total0, "s", "<= 60"))
        finally:
            os.environ.clear()
            os.environ.update(saved)
    figures.append(_generic(notebooks))
    return figures


def _generic(notebooks) -> Figure:
    """The whole course through a kubeconfig context of another name: labkit uses only the
    Kubernetes API, so DNS caches expire and Corefile edits are waited for in real time."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    failed = []
    with runner.sandbox_session(generic=True) as env, runner.environ(env):
        t0 = time.perf_counter()
        for path in notebooks:
            try:
                if runner.error_outputs(runner.run(path)):
                    failed.append(path.name)
            except Exception:               # report it and go on with the other lessons
                failed.append(path.name)
        elapsed = time.perf_counter() - t0
    return Figure(f"whole course on the generic-cluster path ({len(notebooks)} lessons)", elapsed, "s",
                  "<= 90", f"FAILED: {', '.join(failed)}" if failed else "ok")

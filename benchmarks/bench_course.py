"""course: execute every notebook in notebooks/ against a fresh sandbox and time the whole course."""
from __future__ import annotations

import os
import subprocess
import tempfile
import time

from _common import BIN, ROOT, BackgroundSandbox, Figure, Skip

TIMEOUT_PER_CELL = 600


def run(ctx) -> list[Figure]:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise Skip("no notebooks/*.ipynb yet")
    jupyter = BIN / "jupyter"
    if not jupyter.exists():
        raise Skip("jupyter is not installed in the venv")
    figures = []
    with BackgroundSandbox() as sb, tempfile.TemporaryDirectory() as out:
        # The notebooks' labkit.connect() finds the sandbox through KUBECONFIG and LABKIT_HOME.
        env = dict(sb.env, KUBECONFIG=sb.kubeconfig)
        total0 = time.perf_counter()
        for nb in notebooks:
            t0 = time.perf_counter()
            proc = subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute",
                                   f"--ExecutePreprocessor.timeout={TIMEOUT_PER_CELL}", "--output-dir", out, str(nb)],
                                  env=env, cwd=nb.parent, capture_output=True, text=True, timeout=1800)
            status = "ok" if proc.returncode == 0 else f"FAILED: {proc.stderr.strip().splitlines()[-1:]}"
            figures.append(Figure(nb.name, time.perf_counter() - t0, "s", "", status))
        figures.insert(0, Figure(f"whole course ({len(notebooks)} notebooks)", time.perf_counter() - total0, "s"))
    return figures

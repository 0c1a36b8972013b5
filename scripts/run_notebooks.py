"""Regenerate the committed outputs: run every lesson, in order, on a fresh seeded sandbox.

    python scripts/run_notebooks.py                          # all lessons
    python scripts/run_notebooks.py notebooks/02-*.ipynb     # some (still on a fresh sandbox)

The run uses what nbval uses in `make test` (see `sandbox_session`): a new LABKIT_HOME in a
temporary folder, `LABKIT_BACKEND=sandbox`, a sandbox started with a fixed seed and no
kubeconfig or workshop prefix from the caller. Each notebook runs in its own kernel, top to
bottom, and is written back in place with the same JSON layout JupyterLab saves. A cell
that raises stops the run (lessons catch and print the errors they mean to show).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SEED = 1
CELL_TIMEOUT = 600


@contextlib.contextmanager
def sandbox_session(seed: int = SEED):
    """Start a fresh sandbox with `seed` in a temporary LABKIT_HOME; yield the kernels' environment.

    The caller's kubeconfig and workshop prefix are left out, so every run sees the same lab.
    """
    home = Path(tempfile.mkdtemp(prefix="labkit-notebooks-"))
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "LABKIT_NAMESPACE_PREFIX")}
    env.update(LABKIT_HOME=str(home), LABKIT_BACKEND="sandbox", PYTHONHASHSEED="0",
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    labkit = [sys.executable, "-m", "labkit", "sandbox"]
    try:
        subprocess.run([*labkit, "up", "--seed", str(seed)], check=True, env=env, stdout=subprocess.DEVNULL)
        env["KUBECONFIG"] = str(home / "sandbox" / "kubeconfig")
        yield env
    finally:
        subprocess.run([*labkit, "down"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def environ(env: dict[str, str]):
    """os.environ is `env` inside the block (kernels inherit it when they start)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _build():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_notebooks
    return build_notebooks


def execute(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    # Keep what differs between machines (the kernel's exact Python version) out of the file.
    nb.metadata["language_info"] = {"name": "python"}
    path.write_text(_build().text_of(nb), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    build = _build()
    build.main([])                                   # navigation and exercises first
    paths = [p.resolve() for p in args.notebooks] or build.lessons()
    with sandbox_session(args.seed) as env, environ(env):
        for path in paths:
            print(f"running {path.relative_to(ROOT)}", flush=True)
            execute(path)
    return build.main(["--check"])


if __name__ == "__main__":
    sys.exit(main())

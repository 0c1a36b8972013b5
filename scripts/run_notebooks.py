"""Regenerate the committed outputs: run every lesson, in order, on a fresh seeded sandbox.

    python scripts/run_notebooks.py                          # all lessons
    python scripts/run_notebooks.py notebooks/02-*.ipynb     # some (still on a fresh sandbox)
    python scripts/run_notebooks.py --generic                # the generic-cluster path, outputs not written

`--generic` runs the lessons on the generic-cluster path: the same fresh sandbox, reached
through a kubeconfig whose context has another name (`GENERIC_CONTEXT`), so labkit treats it
as any cluster and may use only the Kubernetes API (no DNS query log, clock or cache of the
sandbox's own). Outputs are checked for errors, not written back.

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
# A kind cluster's context name: labkit knows the sandbox only by its own context name.
GENERIC_CONTEXT = "kind-lab"


@contextlib.contextmanager
def sandbox_session(seed: int = SEED, *, generic: bool = False):
    """Start a fresh sandbox with `seed` in a temporary LABKIT_HOME; yield the kernels' environment.

    The caller's kubeconfig and workshop prefix are left out, so every run sees the same lab.
    With `generic`, the kernels reach the sandbox as any cluster (see `generic_kubeconfig`).
    """
    home = Path(tempfile.mkdtemp(prefix="labkit-notebooks-"))
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "LABKIT_NAMESPACE_PREFIX")}
    env.update(LABKIT_HOME=str(home), LABKIT_BACKEND="sandbox", PYTHONHASHSEED="0",
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    labkit = [sys.executable, "-m", "labkit", "sandbox"]
    try:
        subprocess.run([*labkit, "up", "--seed", str(seed)], check=True, env=env, stdout=subprocess.DEVNULL)
        env["KUBECONFIG"] = str(home / "sandbox" / "kubeconfig")
        if generic:
            env["KUBECONFIG"] = str(generic_kubeconfig(Path(env["KUBECONFIG"]), home / "kind-lab.kubeconfig"))
            env["LABKIT_BACKEND"] = "cluster"
        yield env
    finally:
        subprocess.run([*labkit, "down"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)


def generic_kubeconfig(source: Path, target: Path) -> Path:
    """A copy of the sandbox's kubeconfig whose cluster, user and context are named as kind names them."""
    import yaml
    config = yaml.safe_load(source.read_text())
    for section in ("clusters", "users", "contexts"):
        for entry in config[section]:
            entry["name"] = GENERIC_CONTEXT
    for entry in config["contexts"]:
        entry["context"].update(cluster=GENERIC_CONTEXT, user=GENERIC_CONTEXT)
    config["current-context"] = GENERIC_CONTEXT
    target.write_text(yaml.safe_dump(config))
    target.chmod(0o600)
    return target


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


def run(path: Path):
    """Execute a lesson top to bottom in a kernel of its own; return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def execute(path: Path) -> None:
    """Run a lesson and write its outputs back."""
    nb = run(path)
    # Keep what differs between machines (the kernel's exact Python version) out of the file.
    nb.metadata["language_info"] = {"name": "python"}
    path.write_text(_build().text_of(nb), encoding="utf-8")


def error_outputs(nb) -> list[str]:
    """What a run printed as an error: error outputs and anything written to stderr."""
    found = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs") or []:
            if out.get("output_type") == "error":
                found.append(f"cell {index}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {index}: stderr: {out.get('text', '').strip()[:500]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--generic", action="store_true",
                        help="run on the generic-cluster path; check for errors, write nothing")
    args = parser.parse_args(argv)
    build = _build()
    paths = [p.resolve() for p in args.notebooks] or build.lessons()
    if args.generic:
        return check_generic(paths, args.seed)
    build.main([])                                   # navigation and exercises first
    with sandbox_session(args.seed) as env, environ(env):
        for path in paths:
            print(f"running {path.relative_to(ROOT)}", flush=True)
            execute(path)
    return build.main(["--check"])


def check_generic(paths: list[Path], seed: int = SEED) -> int:
    import time
    failed = 0
    with sandbox_session(seed, generic=True) as env, environ(env):
        start = time.monotonic()
        for path in paths:
            t0 = time.monotonic()
            try:
                problems = error_outputs(run(path))
            except Exception as e:                   # a cell raised: nbclient says which
                problems = [str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__]
            failed += bool(problems)
            print(f"{path.name}: {time.monotonic() - t0:.1f} s{'' if not problems else ', FAILED'}", flush=True)
            for problem in problems:
                print(f"  {problem}", flush=True)
        print(f"generic-cluster path: {len(paths)} lessons in {time.monotonic() - start:.1f} s, "
              f"{failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

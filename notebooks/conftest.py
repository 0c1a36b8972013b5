"""nbval over the lessons: every run starts its own fresh, seeded sandbox.

The environment is the one `scripts/run_notebooks.py` regenerates the committed outputs
with, so a lesson's outputs compare equal (after notebooks/sanitize.cfg).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

_session = None


def _run_notebooks():
    path = Path(__file__).resolve().parent.parent / "scripts" / "run_notebooks.py"
    spec = importlib.util.spec_from_file_location("run_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_configure(config):
    # Kernels start after collection and inherit os.environ, so setting it here is enough.
    global _session
    option = config.option
    if not getattr(option, "nbval", False) or _session is not None:
        return
    # `pytest --nbval` alone does the right thing: this folder's sanitizers, this venv's kernel.
    option.nbval_sanitize_with = option.nbval_sanitize_with or str(Path(__file__).with_name("sanitize.cfg"))
    option.nbval_current_env = True
    _session = _run_notebooks().sandbox_session()
    _session.__enter__()


def pytest_unconfigure(config):
    global _session
    if _session is not None:
        _session.__exit__(None, None, None)
        _session = None

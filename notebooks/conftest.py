"""nbval over the lessons, on a fresh seeded sandbox of their own.

The environment is the one `scripts/run_notebooks.py` regenerates the committed outputs
with, so outputs compare equal after notebooks/sanitize.cfg. It reaches only the notebook
kernels (set while nbval starts each kernel), never the other tests of the same run.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_state: dict = {}


def _run_notebooks():
    spec = importlib.util.spec_from_file_location("run_notebooks", _HERE.parent / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_configure(config):
    # `pytest --nbval` alone does the right thing: this folder's sanitizers, this venv's kernel.
    option = config.option
    if getattr(option, "nbval", False):
        option.nbval_sanitize_with = option.nbval_sanitize_with or str(_HERE / "sanitize.cfg")
        option.nbval_current_env = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    # nbval starts a notebook's kernel while setting up its first cell.
    if item.path.suffix != ".ipynb" or item.path.parent != _HERE:
        yield
        return
    if "env" not in _state:
        module = _run_notebooks()
        _state["session"] = session = module.sandbox_session()
        _state["env"], _state["environ"] = session.__enter__(), module.environ
    with _state["environ"](_state["env"]):
        yield


def pytest_unconfigure(config):
    session = _state.pop("session", None)
    _state.clear()
    if session is not None:
        session.__exit__(None, None, None)

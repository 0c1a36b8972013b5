"""labkit: the course's library. `lab = labkit.connect()`, then kubectl's verbs on `lab`.

Importing labkit starts nothing and contacts nothing: the kubernetes client, pandas and
matplotlib load on first use.
"""
from __future__ import annotations

import importlib

__all__ = ["connect", "Lab", "ExecResult", "ApplyResult", "ResolvConf", "errors", "probes", "plots",
           "widgets", "exercises", "clusterdns", "scenarios", "check", "solution", "reveal", "predict"]

_LAZY = {
    "connect": ("labkit._connect", "connect"),
    "Lab": ("labkit._lab", "Lab"),
    "ResolvConf": ("labkit.kube.resolvconf", "ResolvConf"),
    "ExecResult": ("labkit._exec", "ExecResult"),
    "ApplyResult": ("labkit._apply", "ApplyResult"),
    "check": ("labkit.exercises", "check"),
    "solution": ("labkit.exercises", "solution"),
    "reveal": ("labkit.exercises", "reveal"),
    "predict": ("labkit.predictions", "predict"),
}
_SUBMODULES = ("errors", "probes", "plots", "sandbox", "widgets", "exercises", "magic", "clusterdns",
               "predictions", "scenarios")


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"labkit.{name}")
    else:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""The sandbox's shell: a POSIX sh subset that runs "inside" a pod, never on the host.

One module per stage: `lexer` -> `parser` -> `interpreter` (`Shell`) with `expansion`,
`builtins` and `arithmetic`; `io` holds the streams and the exec's memory budget,
`dialect` the message styles of dash, ash and bash, `errors` the exceptions.

The names below load with their module on first use: the API server imports `io` (an
exec's stdin and memory limit) at start, and the interpreter only when a command runs.
"""
from __future__ import annotations

import importlib

_HOMES = {
    "Dialect": "dialect", "dialect_kind": "dialect",
    "LimitExceeded": "errors", "OutOfMemory": "errors", "ShellExit": "errors",
    "ShellSyntaxError": "errors", "Timeout": "errors",
    "MAX_ITERATIONS": "interpreter", "Shell": "interpreter",
    "MAX_OUTPUT": "io", "MEMORY_LIMIT": "io", "BufferSink": "io", "Input": "io", "Io": "io",
    "Memory": "io", "text_size": "io",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

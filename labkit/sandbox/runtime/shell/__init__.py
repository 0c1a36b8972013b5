"""The sandbox's shell: a POSIX sh subset that runs "inside" a pod, never on the host.

One module per stage: `lexer` -> `parser` -> `interpreter` (`Shell`) with `expansion`,
`builtins` and `arithmetic`; `io` holds the streams and the exec's memory budget,
`dialect` the message styles of dash, ash and bash, `errors` the exceptions.
"""
from __future__ import annotations

from .dialect import Dialect, dialect_kind
from .errors import LimitExceeded, OutOfMemory, ShellExit, ShellSyntaxError, Timeout
from .interpreter import MAX_ITERATIONS, Shell
from .io import MAX_OUTPUT, MEMORY_LIMIT, BufferSink, Input, Io, Memory, text_size

__all__ = ["MAX_ITERATIONS", "MAX_OUTPUT", "MEMORY_LIMIT", "BufferSink", "Dialect", "Input", "Io",
           "LimitExceeded", "Memory", "OutOfMemory", "Shell", "ShellExit", "ShellSyntaxError",
           "Timeout", "dialect_kind", "text_size"]

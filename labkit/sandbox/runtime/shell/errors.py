"""The exceptions of the sandbox shell: budgets running out, `exit`, `break`/`continue`
unwinding loops, and syntax errors (which each `Dialect` words its own way).
"""
from __future__ import annotations


class Timeout(Exception):
    """The exec ran past its deadline."""


class LimitExceeded(Exception):
    """A sandbox budget (loop iterations, output size, nesting) ran out."""


class OutOfMemory(Exception):
    """The exec went over its memory budget: the kernel's OOM killer would SIGKILL it."""


class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Return(Exception):
    """`return [n]` unwinding a function call."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _LoopControl(Exception):
    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind, self.levels = kind, levels


class ShellSyntaxError(Exception):
    def __init__(self, token: str | None, line: int, expecting: str | None = None,
                 text: str = "") -> None:
        super().__init__(token)
        self.token, self.line, self.expecting, self.text = token, line, expecting, text

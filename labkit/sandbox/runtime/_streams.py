"""A command's standard input as it arrives, and the terminal's Ctrl-C: what the API
server's exec handler and the kubelet's container worker hand to a running command.

Kept apart from the interactive shell (`_interactive`), so the server can take an exec's
stdin without loading the shell itself.
"""
from __future__ import annotations

import math
import threading

from .shell.io import Input, text_size


class Interrupted(Exception):
    """Ctrl-C reached a shell that was waiting for its next line."""


class Interrupt:
    """SIGINT (Ctrl-C) for the command running now, or SIGKILL for the whole session (the
    client went away). The shell and every tool check the clock against their deadline, so
    a fired interrupt shows as a clock past every deadline: the command stops at its next
    check (a `sleep` within 50 ms)."""

    def __init__(self) -> None:
        self.pending = False
        self.killed = False

    def fire(self) -> None:
        self.pending = True

    def kill(self) -> None:
        self.killed = self.pending = True

    def clear(self) -> None:
        if not self.killed:
            self.pending = False


class InterruptibleClock:
    """The sandbox clock as one session's commands see it: past every deadline once
    interrupted."""

    def __init__(self, clock, interrupt: Interrupt) -> None:
        self._clock, self._interrupt = clock, interrupt

    def monotonic(self) -> float:
        return math.inf if self._interrupt.pending else self._clock.monotonic()

    def __getattr__(self, name):           # time(), now(), advance(): the sandbox clock's own
        return getattr(self._clock, name)


class StreamInput(Input):
    """stdin that arrives while the command runs, fed from the API server's loop.

    Reads block until what they need has come (a line; for `read_all`, the end). More than
    `limit` bytes waiting unread is the exec's memory budget gone: `over` is set and the
    input ends (the API server kills the session, as the OOM killer would)."""

    def __init__(self, limit: int) -> None:
        super().__init__("")
        self._cond = threading.Condition()
        self._chunks: list[str] = []
        self._waiting = 0                # bytes fed and not yet read
        self._closed = False
        self._interrupted = False
        self.limit, self.over = limit, False

    def feed(self, data: str) -> None:
        with self._cond:
            if self._closed or not data:
                return
            self._waiting += text_size(data)
            if self._waiting > self.limit:
                self.over, self._closed = True, True
                self._chunks, self.text, self.pos = [], "", 0
            else:
                self._chunks.append(data)
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def interrupt(self) -> None:
        """Ctrl-C: a shell waiting for its next line gives up the line it was reading."""
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    def forget_interrupt(self) -> None:
        with self._cond:
            self._interrupted = False

    def _gather(self) -> bool:
        """Join what was fed to the unread text; whether a whole line is there."""
        if self._chunks:
            self.text = self.text[self.pos:] + "".join(self._chunks)
            self.pos, self._chunks = 0, []
        return "\n" in self.text[self.pos:]

    def _taken(self, text: str | None) -> str | None:
        self._waiting = max(0, self._waiting - text_size(text or ""))
        return text

    def readline(self) -> str | None:
        with self._cond:
            while not self._gather() and not self._closed and not self._interrupted:
                self._cond.wait()
            if self._interrupted:
                self._interrupted = False
                raise Interrupted()
            return self._taken(super().readline())

    def read_all(self) -> str:
        with self._cond:
            while not self._closed and not self._interrupted:
                self._cond.wait()
            self._interrupted = False
            self._gather()
            return self._taken(super().read_all())

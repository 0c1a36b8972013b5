"""Streams of the sandbox shell: sinks for output, an input cursor for stdin, the `Io`
triple a command runs with, and the exec's memory budget (`Memory`).

The exec's own stdout and stderr are capped at MAX_OUTPUT characters each (past that the
exec stops with a `sandbox:` line, exit 125). Everything else an exec keeps in memory,
pipe contents between stages, command substitution output, files it writes, its stdin,
the shell's variables and the lines a tool holds, counts against one `Memory` budget;
going over it is an OOM kill (see runtime.run). A tool's writes go straight on to their
destination (`SinkText`), so output sent to /dev/null is never held.
"""
from __future__ import annotations

import abc
import io
import sys
import threading
from dataclasses import dataclass

from .errors import LimitExceeded, OutOfMemory

MAX_OUTPUT = 1 << 20
# An exec's memory budget: like a container with `resources.limits.memory: 64Mi`,
# counted in the bytes Python keeps the text in (`text_size`).
MEMORY_LIMIT = 64 << 20
# What all the execs of the process may hold together, like a node's allocatable memory:
# one exec at its limit and another half-way. An exec that would take the total past it
# is the one OOM-killed. With a baseline of about 100 MB, the sandbox process stays
# under 300 MB even when the text is held in Python's less compact forms (lists of lines).
SANDBOX_MEMORY_LIMIT = 96 << 20


def text_size(text: str) -> int:
    """The bytes a str's characters take in CPython: one each for ASCII (an O(1) test),
    else as sys.getsizeof says (1, 2 or 4 a character, by the widest; O(1) too). A
    character count alone would let 4-byte characters (emoji) bloat memory fourfold."""
    if text.isascii():
        return len(text)
    return sys.getsizeof(text) - _STR_HEADER


_STR_HEADER = sys.getsizeof("")


class MemoryPool:
    """The memory all the execs of the process hold, against one limit (thread-safe)."""

    def __init__(self, limit: int = SANDBOX_MEMORY_LIMIT) -> None:
        self.limit, self.total = limit, 0
        self.lock = threading.Lock()


POOL = MemoryPool()


class Memory:
    """What one exec holds in memory, against its limit and the process's pool.

    `held` counts buffers (pipes, substitutions, files, stdin) while they
    live; a shell adds its variables' size when it asks (`need(n, extra=...)`). The pool
    sees each exec's latest total; `close()` gives it back when the exec ends."""

    def __init__(self, limit: int = MEMORY_LIMIT, pool: MemoryPool | None = POOL) -> None:
        self.limit = limit
        self.held = 0
        self.pool = pool
        self._extra = 0             # the variables' size at the last request
        self._reported = 0          # what the pool counts for this exec

    def _report(self, usage: int) -> None:
        if self.pool is None:
            return
        with self.pool.lock:
            grow = usage - self._reported
            if grow > 0 and self.pool.total + grow > self.pool.limit:
                raise OutOfMemory()
            self.pool.total += grow
            self._reported = usage

    def need(self, n: int, extra: int = 0) -> None:
        """Room for n more characters, or OutOfMemory."""
        if n <= 0:
            return
        usage = self.held + extra + n
        if usage > self.limit:
            raise OutOfMemory()
        self._extra = extra
        self._report(usage)

    def hold(self, n: int, extra: int = 0) -> None:
        self.need(n, extra)
        self.held += max(n, 0)

    def release(self, n: int) -> None:
        self.held = max(0, self.held - n)
        self._report(self.held + self._extra)

    def room(self, extra: int = 0) -> int:
        room = self.limit - self.held - extra
        if self.pool is not None:
            room = min(room, self.pool.limit - self.pool.total + self._reported - self.held - extra)
        return max(0, room)

    def close(self) -> None:
        """The exec ended: nothing of it is held any more."""
        self.held = self._extra = 0
        self._report(0)


# ---------------------------------------------------------------- I/O

class Sink(abc.ABC):
    """Where a command's output goes."""

    @abc.abstractmethod
    def write(self, text: str) -> None:
        """Take the next piece of output."""


class SinkText(io.TextIOBase):
    """A tool's stdout or stderr: each write goes straight on to the shell's sink (a pipe,
    a file, /dev/null, the exec's output), as a process's writes go to its fd, so a tool
    never keeps its whole output to itself."""

    def __init__(self, sink: "Sink") -> None:
        super().__init__()
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.sink.write(text)
        return len(text)


class NullSink(Sink):
    def write(self, text: str) -> None:
        pass


class BufferSink(Sink):
    """Collects output. With `limit`, more than `limit` characters stop the exec (its own
    stdout/stderr); with `memory`, what it holds counts against the exec's budget until
    `release()` (pipes and command substitutions)."""

    def __init__(self, target: io.StringIO | None = None, limit: int | None = MAX_OUTPUT,
                 memory: Memory | None = None) -> None:
        self.target = target if target is not None else io.StringIO()
        self.size = 0                       # characters written
        self.held = 0                       # of which held against `memory`, in bytes
        self.limit = limit
        self.memory = memory

    def write(self, text: str) -> None:
        if self.memory is not None:
            self.memory.hold(text_size(text))
            self.held += text_size(text)
        self.size += len(text)
        if self.limit is not None and self.size > self.limit:
            raise LimitExceeded(f"output limit ({self.limit} characters) exceeded")
        self.target.write(text)

    def getvalue(self) -> str:
        return self.target.getvalue()

    def release(self) -> None:
        if self.memory is not None:
            self.memory.release(self.held)
        self.held = 0


class FileSink(Sink):
    """Appends to a virtual file of the pod; its growth counts against the exec's Memory."""

    def __init__(self, files: dict, path: str, memory: Memory | None = None) -> None:
        self.files, self.path, self.memory = files, path, memory

    def write(self, text: str) -> None:
        if self.memory is not None:
            self.memory.hold(text_size(text))
        current = self.files.pop(self.path, "")
        current += text                     # alone in a local: CPython extends it in place
        self.files[self.path] = current


class Input:
    def __init__(self, text: str = "") -> None:
        self.text, self.pos = text, 0

    def read_all(self) -> str:
        text = self.text[self.pos:]
        self.pos = len(self.text)
        return text

    def readline(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        j = self.text.find("\n", self.pos)
        j = len(self.text) if j < 0 else j + 1
        line = self.text[self.pos:j]
        self.pos = j
        return line


@dataclass
class Io:
    stdin: Input
    out: Sink
    err: Sink

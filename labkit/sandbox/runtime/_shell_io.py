"""Streams of the sandbox shell: sinks for output (capped at MAX_OUTPUT characters per
stream or virtual file), an input cursor for stdin, and the `Io` triple a command runs with.
"""
from __future__ import annotations

import abc
import io
from dataclasses import dataclass

from ._shell_errors import LimitExceeded

MAX_OUTPUT = 1 << 20


# ---------------------------------------------------------------- I/O

class Sink(abc.ABC):
    """Where a command's output goes."""

    @abc.abstractmethod
    def write(self, text: str) -> None:
        """Take the next piece of output."""


class NullSink(Sink):
    def write(self, text: str) -> None:
        pass


class BufferSink(Sink):
    """Collects output; `limit` caps the characters it will hold."""

    def __init__(self, target: io.StringIO | None = None, limit: int = MAX_OUTPUT) -> None:
        self.target = target if target is not None else io.StringIO()
        self.size = 0
        self.limit = limit

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.limit:
            raise LimitExceeded(f"output limit ({self.limit} characters) exceeded")
        self.target.write(text)

    def getvalue(self) -> str:
        return self.target.getvalue()


class FileSink(Sink):
    def __init__(self, files: dict, path: str) -> None:
        self.files, self.path = files, path

    def write(self, text: str) -> None:
        if len(self.files.get(self.path, "")) + len(text) > MAX_OUTPUT:
            raise LimitExceeded(f"file size limit exceeded: {self.path}")
        self.files[self.path] = self.files.get(self.path, "") + text


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

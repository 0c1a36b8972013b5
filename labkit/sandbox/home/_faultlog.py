"""Unexpected exceptions, written to the sandbox's log without letting a flood fill the disk.

The API server's catch-all and the DNS server's serving loops hand every exception they
did not expect to `FaultLog.record`. The first of each kind (where it was caught, its
type, the line that raised it) is logged with its traceback; repeats are only counted,
and a one-line tally is written when the count reaches 10, 100, 1000... Past
`max_kinds` distinct kinds, new kinds are counted together. So a fuzzer sending a
million bad packets writes a few lines, not a million tracebacks.

`sandbox_logger(home)` is where those lines go: `sandbox.log` under the sandbox's home,
the file `labkit sandbox up` also sends the server's stderr to.
"""
from __future__ import annotations

import logging
import os
import threading
import traceback
from pathlib import Path

from . import _files
from ._process import LOG_FILE


def sandbox_logger(home: Path, name: str) -> tuple[logging.Logger, logging.Handler]:
    """A logger of its own for one sandbox, writing to `home/sandbox.log`.

    Returns the handler too, so the sandbox can detach and close it when it stops."""
    logger = logging.getLogger(f"labkit.sandbox.{name}")
    os.close(_files.open_private(home / LOG_FILE, os.O_WRONLY | os.O_APPEND))   # 0600, as `up` makes it
    handler = logging.FileHandler(home / LOG_FILE, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, handler


class FaultLog:
    """Log each kind of unexpected exception once with its traceback; count the rest."""

    def __init__(self, logger: logging.Logger | None = None, *, max_kinds: int = 64) -> None:
        self.logger = logger or logging.getLogger("labkit.sandbox")
        self.max_kinds = max_kinds
        self.counts: dict[tuple, int] = {}
        self.overflow = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """How many exceptions were recorded, of every kind."""
        with self._lock:
            return sum(self.counts.values()) + self.overflow

    @staticmethod
    def kind(where: str, exc: BaseException) -> tuple:
        frames = traceback.extract_tb(exc.__traceback__)
        origin = (frames[-1].filename, frames[-1].lineno) if frames else ("", 0)
        return (where, type(exc).__qualname__, *origin)

    def record(self, where: str, exc: BaseException, context: str = "") -> None:
        key = self.kind(where, exc)
        with self._lock:
            if key not in self.counts and len(self.counts) >= self.max_kinds:
                self.overflow += 1
                first_overflow = self.overflow == 1
                count = None
            else:
                count = self.counts[key] = self.counts.get(key, 0) + 1
        try:
            if count is None:
                if first_overflow:
                    self.logger.error("%s: more than %d kinds of unexpected error; further new "
                                      "kinds are counted, not logged", where, self.max_kinds)
                return
            if count == 1:
                self.logger.error("%s: unexpected %s%s (logged once; repeats are counted)",
                                  where, type(exc).__name__, f" ({context})" if context else "",
                                  exc_info=(type(exc), exc, exc.__traceback__))
            elif _power_of_ten(count):
                self.logger.error("%s: %s at %s:%d has now happened %d times",
                                  where, key[1], key[2], key[3], count)
        except Exception:       # a log that cannot be written must not break serving
            pass


def _power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


class RateLimit(logging.Filter):
    """A logging filter with FaultLog's budget, for loggers the sandbox does not call itself
    (aiohttp's server logger, which logs every malformed request with its traceback): the
    first record of each kind passes, then one for the 10th, 100th, 1000th..."""

    def __init__(self, max_kinds: int = 64) -> None:
        super().__init__()
        self.max_kinds = max_kinds
        self.counts: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        key = (record.name, str(record.msg), type(exc).__qualname__ if exc else "")
        with self._lock:
            if key not in self.counts and len(self.counts) >= self.max_kinds:
                return False
            count = self.counts[key] = self.counts.get(key, 0) + 1
        if count > 1:
            if not _power_of_ten(count):
                return False
            record.msg = f"{record.msg} (seen {count} times; repeats are counted)"
            record.exc_info, record.exc_text = None, None
        return True

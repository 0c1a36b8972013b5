"""The sandbox's clock: real time that a lesson may push forward.

Advancing it lets a lesson show a 30 s DNS cache expiring without waiting 30 s.
"""
from __future__ import annotations

import datetime as dt
import math
import threading
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, including any advance."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time(), dt.timezone.utc)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds


_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00Z")


def rfc3339(moment: dt.datetime) -> str:
    """Kubernetes' metav1.Time format: second precision, UTC, a trailing Z."""
    global _last_second
    # A thousand pods started in one second stamp that second thousands of times: format it once.
    second = math.floor(moment.timestamp())
    last = _last_second
    if last[0] == second:
        return last[1]
    text = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_second = (second, text)
    return text

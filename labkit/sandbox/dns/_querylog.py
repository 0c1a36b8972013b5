"""The DNS server's query log: what each pod asked and what it got, newest last."""
from __future__ import annotations

import collections
import datetime as dt
import json
import threading


def _rfc3339_ms(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class QueryLog:
    """A bounded, thread-safe log; `entries(since=n)` returns what came after the n-th entry."""

    def __init__(self, limit: int = 10000) -> None:
        self._entries: collections.deque[dict] = collections.deque(maxlen=limit)
        self._count = 0                   # entries ever added, so `since` survives eviction
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def total(self) -> int:
        """How many entries were ever added (a cursor for `entries(since=...)`)."""
        return self._count

    def add(self, entry: dict) -> None:
        with self._lock:
            self._entries.append(entry)
            self._count += 1

    def entries(self, since: int = 0) -> list[dict]:
        with self._lock:
            first = self._count - len(self._entries)     # sequence number of entries[0]
            skip = max(0, since - first)
            picked = [e for i, e in enumerate(self._entries) if i >= skip]
        return [dict(e, time=_rfc3339_ms(e["time"])) for e in picked]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._count = 0

    def to_json_lines(self) -> str:
        return "".join(json.dumps(e, sort_keys=False) + "\n" for e in self.entries())

"""The DNS server's query log: what each pod asked and what it got, newest last.

Entries are kept as rows of plain values (a tuple in FIELDS order) and turned into
dicts when read: the server adds one per query, so adding stays a tuple and an append.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import threading


def _rfc3339_ms(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


FIELDS = ("time", "client", "client_port", "transport", "qname", "qtype", "rcode", "answers",
          "truncated", "cached")


class QueryLog:
    """A bounded, thread-safe log; `entries(since=n)` returns what came after the n-th entry."""

    def __init__(self, limit: int = 10000) -> None:
        self._entries: collections.deque[tuple] = collections.deque(maxlen=limit)
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
        self.add_row(tuple(entry[f] for f in FIELDS))

    def add_row(self, row: tuple) -> None:
        """One entry as a tuple in FIELDS order ("time" in seconds, "answers" a sequence)."""
        with self._lock:
            self._entries.append(row)
            self._count += 1

    def entries(self, since: int = 0) -> list[dict]:
        with self._lock:
            first = self._count - len(self._entries)     # sequence number of entries[0]
            skip = max(0, since - first)
            picked = [e for i, e in enumerate(self._entries) if i >= skip]
        return [dict(zip(FIELDS, (_rfc3339_ms(row[0]), *row[1:7], list(row[7]), *row[8:])))
                for row in picked]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._count = 0

    def to_json_lines(self) -> str:
        return "".join(json.dumps(e, sort_keys=False) + "\n" for e in self.entries())

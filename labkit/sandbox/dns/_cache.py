"""CoreDNS's `cache` plugin: positive and negative answers kept for at most N seconds.

Keyed by (lowercase qname, qtype, qclass, DO). A reply is kept for its smallest TTL,
clamped to [5 s, N s] (plugin/cache/cache.go computeTTL, dnsutil.MinimalTTL), and the
reply itself leaves with its TTLs capped at that duration. A hit is answered with every
TTL set to what remains, the AA bit set (plugin/cache/item.go toMsg) and the RA bit
as stored. Time is the sandbox clock, so advancing it expires entries.

The key ignores the name's case but a hit copies the stored records as they are, so
their owner names keep the spelling of the question that filled the entry: ask
`WEB-SVC.default.svc.cluster.local` then `web-svc.default.svc.cluster.local` and the
second answer's owners are upper case (item.go toMsg copies i.Answer; only the
question section comes from the new request, by SetReply). Unchanged from CoreDNS
1.10.1 to 1.14.7.
"""
from __future__ import annotations

import threading

import dns.rcode
import dns.rdatatype

from .._clock import Clock
from ._answer import RR, Reply

MIN_TTL = 5          # dnsutil.MinimalDefaultTTL
CAPACITY = 10000     # plugin/cache defaultCap


def _minimal_ttl(reply: Reply) -> int:
    rrs = reply.answer + reply.authority + reply.additional
    if not rrs:
        return MIN_TTL
    ttl = 3600
    negative = reply.rcode == dns.rcode.NXDOMAIN or not reply.answer
    for rr in rrs:
        ttl = min(ttl, rr.ttl)
        if negative and rr.rdtype == dns.rdatatype.SOA:
            ttl = min(ttl, rr.rdata.minimum)
    return ttl


def _capped(rrs: list[RR], ttl: int) -> list[RR]:
    return [rr if rr.ttl <= ttl else rr._replace(ttl=ttl) for rr in rrs]


class DnsCache:
    def __init__(self, clock: Clock, seconds: int, capacity: int = CAPACITY) -> None:
        self.seconds = seconds
        self._clock = clock
        self.monotonic = clock.monotonic        # the clock items are stored and aged by
        self._capacity = capacity
        self._items: dict[tuple, tuple[float, int, Reply]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    @property
    def items(self) -> dict[tuple, tuple]:
        """The table itself, (stored at, duration, reply) by key, for the kept-wire replay
        (read only there; every change goes through put, get and clear)."""
        return self._items

    def item(self, key: tuple) -> tuple | None:
        """The stored entry itself (identity tells whether it is still the one kept)."""
        return self._items.get(key)

    def get(self, key: tuple) -> Reply | None:
        """A fresh copy of the cached reply with remaining TTLs, or None."""
        if not self.enabled:
            return None
        with self._lock:
            item = self._items.get(key)
        if item is None:
            return None
        stored, duration, reply = item
        ttl = duration - int(self._clock.monotonic() - stored)
        if ttl <= 0:
            with self._lock:
                if self._items.get(key) is item:
                    del self._items[key]
            return None
        return Reply(reply.rcode, True, reply.recursion_available,
                     [rr._replace(ttl=ttl) for rr in reply.answer],
                     [rr._replace(ttl=ttl) for rr in reply.authority],
                     [rr._replace(ttl=ttl) for rr in reply.additional])

    def put(self, key: tuple, reply: Reply) -> Reply:
        """Store `reply` if cacheable; return it with TTLs capped as the cache plugin writes it."""
        if not self.enabled or reply.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return reply
        duration = max(MIN_TTL, min(_minimal_ttl(reply), self.seconds))
        capped = Reply(reply.rcode, reply.authoritative, reply.recursion_available,
                       _capped(reply.answer, duration), _capped(reply.authority, duration),
                       _capped(reply.additional, duration))
        with self._lock:
            if len(self._items) >= self._capacity and key not in self._items:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (self._clock.monotonic(), duration, capped)
        return Reply(capped.rcode, capped.authoritative, capped.recursion_available,
                     list(capped.answer), list(capped.authority), list(capped.additional))

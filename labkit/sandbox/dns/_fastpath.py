"""Replies kept as wire, so a repeated question costs a dict lookup instead of a render.

An entry is keyed on the request's bytes after the ID (flags, counts, question and OPT
spelled exactly as sent) and the transport, so everything that shapes the reply (the
name's case, RD/CD, EDNS payload size, DO, echoed options) is part of the key. It holds
the reply in cluster order, the rendered wire per answer order the loadbalance plugin
can produce (and, for cache hits, per remaining TTL) and the query-log fields.

An entry is only a shortcut to what the slow path would send: it is used while the
cache item it came from is still the one stored (a cache hit), or, for replies the
cache does not keep, while the cluster revision and the Corefile settings are the
ones it was built from. The loadbalance draws are the slow path's, one for one, so
the seeded answer order is unchanged.
"""
from __future__ import annotations

import dns.rdatatype

from ._answer import RR, Reply, _shuffle

_ADDRESS = (dns.rdatatype.A, dns.rdatatype.AAAA)
MAX_ENTRIES = 20000
MAX_RENDERED = 64       # answer orders kept per entry (a 5-record answer has 120)


def _plan(records: list[RR]) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]] | None:
    """_round_robin as index groups: (fixed prefix, groups shuffled in turn); None: no draws."""
    if len(records) <= 1:
        return None
    first = records[0].rdtype
    if first in _ADDRESS and all(r.rdtype == first for r in records):
        return (), (tuple(range(len(records))),)
    kinds = [r.rdtype for r in records]
    cname = [i for i, k in enumerate(kinds) if k == dns.rdatatype.CNAME]
    address = tuple(i for i, k in enumerate(kinds) if k in _ADDRESS)
    mx = tuple(i for i, k in enumerate(kinds) if k == dns.rdatatype.MX)
    rest = [i for i, k in enumerate(kinds)
            if k not in (dns.rdatatype.CNAME, dns.rdatatype.MX) and k not in _ADDRESS]
    return tuple(cname + rest), (address, mx)


class Entry:
    __slots__ = ("reply", "query", "udp", "item", "cache_key", "revision", "settings",
                 "plans", "sizes", "rendered", "qname", "qtype", "rcode")

    def __init__(self, reply: Reply, query, udp: bool, *, item, cache_key, revision,
                 settings, shuffled: bool, qname: str, qtype: str, rcode: str) -> None:
        self.reply, self.query, self.udp = reply, query, udp
        self.item, self.cache_key = item, cache_key       # item None: not from the cache
        self.revision, self.settings = revision, settings
        sections = (reply.answer, reply.authority, reply.additional)
        self.sizes = tuple(len(s) for s in sections)
        self.plans = tuple(_plan(s) for s in sections) if shuffled else None
        # (the TTL they were made for, {order: (wire after the ID, truncated, log answers)});
        # swapped as one tuple when the TTL moves on, so threads never mix two seconds.
        self.rendered: tuple[int | None, dict] = (-1, {})
        self.qname, self.qtype, self.rcode = qname, qtype, rcode

    def order(self, rng) -> tuple:
        """The record order loadbalance picks, drawing from `rng` exactly as shuffle() does."""
        if self.plans is None:
            return ()
        out: list[int] = []
        base = 0
        for plan, size in zip(self.plans, self.sizes):
            if plan is None:
                out.extend(range(base, base + size))
            else:
                prefix, groups = plan
                out.extend(base + i for i in prefix)
                for group in groups:
                    picked = list(group)
                    _shuffle(picked, rng)
                    out.extend(base + i for i in picked)
            base += size
        return tuple(out)

    def reply_for(self, order: tuple, ttl: int | None) -> Reply:
        r = self.reply
        records = r.answer + r.authority + r.additional
        if order:
            records = [records[i] for i in order]
        if ttl is not None:
            records = [rr._replace(ttl=ttl) for rr in records]
        a, b = self.sizes[0], self.sizes[0] + self.sizes[1]
        return Reply(r.rcode, r.authoritative if ttl is None else True, r.recursion_available,
                     records[:a], records[a:b], records[b:])


class FastPath:
    """Entries by (transport, request bytes after the ID); bounded, dropped wholesale when full."""

    def __init__(self) -> None:
        self.entries: dict[tuple[bool, bytes], Entry] = {}

    def get(self, udp: bool, body: bytes) -> Entry | None:
        return self.entries.get((udp, body))

    def put(self, udp: bool, body: bytes, entry: Entry) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        self.entries[(udp, body)] = entry

    def clear(self) -> None:
        self.entries.clear()

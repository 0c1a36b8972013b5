"""The cache stage's memory of wire: a repeated request answered by patching its ID in.

An entry is keyed on the request's bytes after the ID (flags, counts, question and OPT
spelled exactly as sent) and the transport, so everything that shapes the reply (the
name's case, RD/CD, EDNS payload size, DO, echoed options) is part of the key. Keying
on the exact spelling is what CoreDNS's cache gives too: its key ignores case, but a hit
copies the question from the new request (item.go toMsg, SetReply), and the reply
compresses names case-sensitively, so two spellings are two different replies on the wire.

An entry holds the reply in cluster order, the rendered wire per answer order the
loadbalance plugin can produce (and, for cache hits, per remaining TTL) and the
query-log fields. It is only a shortcut to what the full chain would send: it is used
while the cache item it came from is still the one stored (a cache hit), or, for
replies the cache does not keep, while the cluster revision is the one it was built
from; the chain that owns it is replaced when the Corefile changes. The loadbalance
draws are the full path's, one for one, so the seeded answer order is unchanged.

`Replay` is the one reader of kept entries: the server asks it first, before a Request,
an Outcome or any stage exists, since a hit is most of a lesson's traffic and every
call saved there shows in the CPU time per query.
"""
from __future__ import annotations

import dns.rdatatype

from ._answer import RR, Reply, _shuffle
from ._wire import answer_count, rdata_text, render

_ADDRESS = (dns.rdatatype.A, dns.rdatatype.AAAA)
MAX_ENTRIES = 20000
MAX_RENDERED = 64       # answer orders kept per entry (a 5-record answer has 120)


def _plan(records: list[RR], base: int) -> list[tuple[bool, tuple[int, ...]]]:
    """_round_robin as (shuffled?, absolute indices) runs, in the order it emits them."""
    if len(records) <= 1:
        return [(False, tuple(range(base, base + len(records))))]
    first = records[0].rdtype
    if first in _ADDRESS and all(r.rdtype == first for r in records):
        return [(True, tuple(range(base, base + len(records))))]
    kinds = [r.rdtype for r in records]
    cname = [base + i for i, k in enumerate(kinds) if k == dns.rdatatype.CNAME]
    address = tuple(base + i for i, k in enumerate(kinds) if k in _ADDRESS)
    mx = tuple(base + i for i, k in enumerate(kinds) if k == dns.rdatatype.MX)
    rest = [base + i for i, k in enumerate(kinds)
            if k not in (dns.rdatatype.CNAME, dns.rdatatype.MX) and k not in _ADDRESS]
    return [(False, tuple(cname + rest)), (True, address), (True, mx)]


class Entry:
    __slots__ = ("reply", "query", "udp", "item", "cache_key", "revision", "runs", "single",
                 "sizes", "rendered", "qname", "qtype", "rcode")

    def __init__(self, reply: Reply, query, udp: bool, *, item, cache_key, revision,
                 qname: str, qtype: str, rcode: str, shuffles: bool) -> None:
        self.reply, self.query, self.udp = reply, query, udp
        self.item, self.cache_key = item, cache_key       # item None: not from the cache
        self.revision = revision
        sections = (reply.answer, reply.authority, reply.additional)
        self.sizes = tuple(len(s) for s in sections)
        runs: list[tuple[bool, tuple[int, ...]]] = []
        base = 0
        for section in sections:
            runs += [run for run in _plan(section, base) if run[1]]
            base += len(section)
        # None: loadbalance has nothing to draw for this reply (one run, nothing shuffled).
        self.runs = runs if shuffles and any(s and len(r) > 1 for s, r in runs) else None
        # The usual case, one address RRset and nothing else: the order is that run shuffled.
        self.single = runs[0][1] if self.runs is not None and len(runs) == 1 else None
        # (the TTL they were made for, {order: (wire after the ID, truncated, log answers)});
        # swapped as one tuple when the TTL moves on, so threads never mix two seconds.
        self.rendered: tuple[int | None, dict] = (-1, {})
        self.qname, self.qtype, self.rcode = qname, qtype, rcode

    def order(self, rng) -> tuple:
        """The record order loadbalance picks, drawing from `rng` exactly as shuffle() does."""
        if self.single is not None:
            run = list(self.single)
            _shuffle(run, rng)
            return tuple(run)
        if self.runs is None:
            return ()
        out: list[int] = []
        for shuffled, run in self.runs:
            if shuffled and len(run) > 1:
                run = list(run)
                _shuffle(run, rng)
            out += run
        return tuple(out)

    def wire(self, order: tuple, ttl: int | None) -> tuple[bytes, bool, tuple[str, ...]]:
        """(reply after its ID, truncated, log answers) for one answer order and TTL."""
        current = self.rendered
        if current[0] != ttl:
            current = self.rendered = (ttl, {})
        hit = current[1].get(order)
        if hit is None:
            reply = self._reply_for(order, ttl)
            wire, truncated = render(self.query, reply, udp=self.udp)
            shown = reply.answer[:answer_count(wire)] if truncated else reply.answer
            hit = (wire[2:], truncated, tuple(rdata_text(rr.rdata) for rr in shown))
            if len(current[1]) < MAX_RENDERED:
                current[1][order] = hit
        return hit

    def _reply_for(self, order: tuple, ttl: int | None) -> Reply:
        r = self.reply
        records = r.answer + r.authority + r.additional
        if order:
            records = [records[i] for i in order]
        if ttl is not None:
            records = [rr._replace(ttl=ttl) for rr in records]
        a, b = self.sizes[0], self.sizes[0] + self.sizes[1]
        return Reply(r.rcode, r.authoritative if ttl is None else True, r.recursion_available,
                     records[:a], records[a:b], records[b:])


class KeptWire:
    """Entries by request bytes after the ID, one table per transport; bounded, dropped
    wholesale when full. The tables are cleared in place: a Replay holds them."""

    def __init__(self) -> None:
        self.udp: dict[bytes, Entry] = {}
        self.tcp: dict[bytes, Entry] = {}

    def __len__(self) -> int:
        return len(self.udp) + len(self.tcp)

    def get(self, udp: bool, body: bytes) -> Entry | None:
        return (self.udp if udp else self.tcp).get(body)

    def put(self, udp: bool, body: bytes, entry: Entry) -> None:
        if len(self) >= MAX_ENTRIES:
            self.clear()
        (self.udp if udp else self.tcp)[body] = entry

    def clear(self) -> None:
        self.udp.clear()
        self.tcp.clear()


class Replay:
    """The cache and loadbalance stages for a request whose reply is kept: what
    Cache.serve and LoadBalance.serve would give it, straight from the entry.

    `__call__(data, udp)` returns (wire, truncated, log answers, entry, cached), or None
    when the entry is missing or no longer what the full path would send (the cache item
    replaced or expired, the cluster moved for an uncached reply): the full path answers
    then, and keeps the new reply. `items` is the cache's own table (DnsCache.items).
    """
    __slots__ = ("udp", "tcp", "items", "monotonic", "revision", "rng", "lock")

    def __init__(self, kept: KeptWire, items: dict, monotonic, revision, rng, lock) -> None:
        self.udp, self.tcp, self.items = kept.udp, kept.tcp, items
        self.monotonic, self.revision = monotonic, revision
        self.rng, self.lock = rng, lock           # rng None: no loadbalance in the chain

    def __call__(self, data: bytes, udp: bool):
        entry = (self.udp if udp else self.tcp).get(data[2:])
        if entry is None:
            return None
        item = entry.item
        if item is not None:
            # The item must still be the one stored; what is left of it is the TTL
            # (DnsCache.get's arithmetic, without the copy).
            if self.items.get(entry.cache_key) is not item:
                return None
            ttl = item[1] - int(self.monotonic() - item[0])
            if ttl <= 0:
                return None
        elif entry.revision != self.revision():
            return None
        else:
            ttl = None
        order = ()
        if entry.runs is not None and self.rng is not None:
            with self.lock:            # one query's draws stay together
                order = entry.order(self.rng)
        rendered = entry.rendered
        hit = rendered[1].get(order) if rendered[0] == ttl else None
        if hit is None:
            hit = entry.wire(order, ttl)
        return data[:2] + hit[0], hit[1], hit[2], entry, item is not None

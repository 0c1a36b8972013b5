"""The server block's plugin chain: one object that answers a question, as CoreDNS does.

CoreDNS stacks a server block's plugins in plugin.cfg order with the first outermost
(core/dnsserver/server.go NewServer walks site.Plugin backwards, each wrapping the
next), whatever order the Corefile lists them in. For kubeadm's Corefile a query runs

    log? -> loadbalance -> cache -> kubernetes -> forward

(errors only reports what a plugin returns, and health, ready, prometheus, loop and
reload answer no queries). `Chain.build` makes that stack from the running Corefile's
settings; the server (framing, screening, the query log) and the pure `answer()` both
ask it. Each stage's `serve(request)` returns an `Outcome`, calling the next stage when
it does not answer itself. A Python exception is what a Go panic is to CoreDNS: the
server recovers it and answers SERVFAIL (see _server).

The cache stage also keeps rendered wire (see _fastpath): `Chain.replay` answers a
request it has seen before from that entry, loadbalance's draws picking the entry's
record order, the new ID patched in; nothing is parsed and no stage runs. Otherwise a
request is parsed only when a stage first asks for `request.query`.
"""
from __future__ import annotations

import copy
import random
import threading
from typing import Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset

from . import _hosts, _rewrite
from ._answer import ECHOED_EDNS_OPTIONS, IN, RR, Reply, forward, kubernetes, shuffle
from ._cache import DnsCache
from ._caddyfile import DIRECTIVES
from ._corefile import CorefileSettings, LogRule, StubBlock
from ._fastpath import Entry, KeptWire, Replay
from ._index import ClusterIndex
from ._outside import Outside
from ._wire import answer_count, name_text, parse_query, rcode_text, rdata_text, render, type_text


class BadVersion(Exception):
    """EDNS version above 0: the server answers BADVERS before any plugin runs
    (core/dnsserver/server.go ServeDNS, plugin/pkg/edns Version)."""

    def __init__(self, query) -> None:
        super().__init__("BADVERS")
        self.query = query


class Request:
    """One query on its way down the chain; `query` parses the wire on first use.

    Made from wire (`data`, the server) or from a parsed message (`message`, answer())."""
    __slots__ = ("data", "udp", "transport", "client_port", "client", "_query")

    def __init__(self, data: bytes | None = None, transport: str = "udp", client_port: int = 0,
                 client: dict | None = None, message=None) -> None:
        self.data, self.transport = data, transport
        self.udp = transport == "udp"
        self.client_port, self.client = client_port, client
        self._query = message

    @property
    def query(self):
        """The parsed request; Rejected (the screening's reply) when it is not a query,
        BadVersion when it asks for an EDNS version that does not exist."""
        if self._query is None:
            query = parse_query(self.data)
            if query.edns > 0:
                raise BadVersion(query)
            self._query = query
        return self._query


class Outcome:
    """What a stage answered: a Reply and where it came from (cluster, cache, forward...)."""
    __slots__ = ("reply", "source", "_framed")

    def __init__(self, reply: Reply, source: str) -> None:
        self.reply, self.source = reply, source
        self._framed = None

    @property
    def cached(self) -> bool:
        return self.source == "cache"

    def frame(self, request: Request) -> tuple[bytes, bool, tuple[str, ...], str]:
        """(wire, truncated, the answers the query log shows, rcode text), made once."""
        if self._framed is None:
            reply = self.reply
            wire, truncated = render(request.query, reply, udp=request.udp)
            shown = reply.answer[:answer_count(wire)] if truncated else reply.answer
            self._framed = (wire, truncated, tuple(rdata_text(rr.rdata) for rr in shown),
                            rcode_text(reply.rcode))
        return self._framed


class Forward:
    """plugin/forward: everything the plugins before it left, to the outside world."""
    name = "forward"

    def __init__(self, outside: Outside) -> None:
        self.outside = outside

    def serve(self, request: Request) -> Outcome:
        q = request.query.question[0]
        return Outcome(forward(self.outside, q.name, q.rdtype), "forward")


class Kubernetes:
    """plugin/kubernetes over the cluster index; what it does not own goes on."""
    name = "kubernetes"

    def __init__(self, index: Callable[[], ClusterIndex], outside: Outside, next) -> None:
        self.index, self.outside, self.next = index, outside, next

    def serve(self, request: Request) -> Outcome:
        q = request.query.question[0]
        reply = kubernetes(q.name, q.rdtype, self.index(), self.outside)
        if reply is None:
            return self.next.serve(request)
        return Outcome(reply, "cluster")


class Hosts:
    """plugin/hosts: inline entries, before the kubernetes plugin (see _hosts)."""
    name = "hosts"

    def __init__(self, settings: _hosts.HostsSettings, next) -> None:
        self.settings, self.next = settings, next

    def serve(self, request: Request) -> Outcome:
        q = request.query.question[0]
        found = _hosts.answer(self.settings, q.name, q.rdtype)
        if found is None:
            return self.next.serve(request)
        rcode, records = found
        if rcode != dns.rcode.NOERROR:
            # The server's errorFunc answers a plugin's SERVFAIL: SetRcode, no AA, no RA.
            return Outcome(Reply(rcode, False, False), "cluster")
        return Outcome(Reply(rcode, True, False, [RR(*r) for r in records]), "cluster")


class Rewrite:
    """plugin/rewrite: the question renamed on the way in, the reply turned back (_rewrite)."""
    name = "rewrite"

    def __init__(self, rules: tuple[_rewrite.NameRule, ...], next) -> None:
        self.rules, self.next = rules, next

    def serve(self, request: Request) -> Outcome:
        query = request.query
        asked = name_text(query.question[0].name).lower()
        sent, fired = _rewrite.apply(self.rules, asked)
        if not fired:
            return self.next.serve(request)
        inner = copy.copy(query)          # the same query, its question renamed
        q = query.question[0]
        inner.question = [dns.rrset.RRset(dns.name.from_text(sent), q.rdclass, q.rdtype)]
        outcome = self.next.serve(Request(transport=request.transport, client_port=request.client_port,
                                          client=request.client, message=inner))
        reply = outcome.reply
        answer = []
        for rr in reply.answer:
            owner = name_text(rr.name).lower()
            for r in fired:
                owner = r.revert(owner, asked, sent)
            answer.append(rr._replace(name=dns.name.from_text(owner)) if owner != name_text(rr.name).lower() else rr)
        outcome.reply = Reply(reply.rcode, reply.authoritative, reply.recursion_available,
                              answer, list(reply.authority), list(reply.additional))
        return outcome


class Stubs:
    """The Corefile's other server blocks: a query in a stub zone goes to that block's
    plugins (its own log, errors and forward), the rest to the `.` block (next)."""
    name = "servers"

    def __init__(self, blocks: tuple[StubBlock, ...], outside: Outside, log_writer, error_writer,
                 next) -> None:
        self.blocks, self.outside, self.next = blocks, outside, next
        self.log_writer, self.error_writer = log_writer, error_writer

    def _block(self, qname: str) -> StubBlock | None:
        best, depth = None, -1
        for block in self.blocks:
            for zone in block.zones:
                if (qname == zone or qname.endswith("." + zone)) and zone.count(".") > depth:
                    best, depth = block, zone.count(".")
        return best

    def serve(self, request: Request) -> Outcome:
        q = request.query.question[0]
        block = self._block(name_text(q.name).lower())
        if block is None:
            return self.next.serve(request)
        stage = StubForward(block, self.outside, self.error_writer)
        if block.log and self.log_writer is not None:
            stage = Log(block.log, self.log_writer, stage)
        return stage.serve(request)


class StubForward:
    """plugin/forward to a stub domain's name servers: their reply relayed as it came; no
    answer from any is SERVFAIL after forward's deadline, and the errors plugin logs why
    (plugin/forward/forward.go ServeDNS, plugin/errors/errors.go)."""
    name = "forward"

    def __init__(self, block: StubBlock, outside: Outside, error_writer) -> None:
        self.block, self.outside, self.error_writer = block, outside, error_writer

    def serve(self, request: Request) -> Outcome:
        q = request.query.question[0]
        for address in self.block.upstreams:
            got = self.outside.ask(address, q.name, q.rdtype)
            if got is not None:
                rcode, aa, answer, authority = got
                return Outcome(Reply(rcode, aa, False, [RR(*r) for r in answer],
                                     [RR(*r) for r in authority]), "forward")
        if self.block.errors and self.error_writer is not None:
            self.error_writer(request, self.block.upstreams[-1])
        return Outcome(Reply(dns.rcode.SERVFAIL, False, False), "timeout")


class Cache:
    """plugin/cache over DnsCache, keeping each reply's wire as well (see _fastpath; the
    chain's `replay` answers from it).

    `revision` reads the cluster's revision: a kept reply that the cache does not hold
    (the cache off, or an rcode it never stores) is good only while that stays."""
    name = "cache"

    def __init__(self, store: DnsCache, next, revision: Callable[[], object],
                 kept: KeptWire | None, shuffles: bool) -> None:
        self.store, self.next, self.revision, self.kept = store, next, revision, kept
        self.shuffles = shuffles

    def serve(self, request: Request) -> Outcome:
        kept = self.kept
        query = request.query
        q = query.question[0]
        do = bool(query.ednsflags & dns.flags.DO) if query.edns >= 0 else False
        qname = name_text(q.name)
        key = (qname.lower(), q.rdtype, q.rdclass, do)
        store = self.store
        reply = store.get(key)
        if reply is not None:
            outcome, item, revision = Outcome(reply, "cache"), store.item(key), None
        else:
            revision = self.revision()        # read first: a later move only ages the entry
            outcome = self.next.serve(request)
            outcome.reply = store.put(key, outcome.reply)
            item = None
        if kept is not None and request.data is not None and (
                item is not None if outcome.cached else store.item(key) is None):
            # Kept for the next identical request: a cache hit while the item stays, or a
            # reply the cache does not keep while the cluster stays as now.
            reply = outcome.reply
            kept.put(request.udp, request.data[2:], Entry(
                Reply(reply.rcode, reply.authoritative, reply.recursion_available,
                      list(reply.answer), list(reply.authority), list(reply.additional)),
                query, request.udp, item=item, cache_key=key, revision=revision,
                qname=qname, qtype=type_text(q.rdtype), rcode=rcode_text(reply.rcode),
                shuffles=self.shuffles and reply.rcode == dns.rcode.NOERROR))
        return outcome


class LoadBalance:
    """plugin/loadbalance: round-robin order of a successful answer, drawn from `rng`."""
    name = "loadbalance"

    def __init__(self, rng: random.Random, lock: threading.Lock, next) -> None:
        self.rng, self.lock, self.next = rng, lock, next

    def serve(self, request: Request) -> Outcome:
        outcome = self.next.serve(request)
        with self.lock:            # one query's draws stay together
            outcome.reply = shuffle(outcome.reply, self.rng)
        return outcome


class Log:
    """plugin/log: after the answer is framed, one line in the pod's log (`write`)."""
    name = "log"

    def __init__(self, rules: tuple[LogRule, ...], write: Callable, next) -> None:
        self.rules, self.write, self.next = rules, write, next

    def serve(self, request: Request) -> Outcome:
        outcome = self.next.serve(request)
        name = name_text(request.query.question[0].name).lower()
        rule = next((r for r in self.rules if r.matches(name)), None)
        if rule is not None:
            self.write(rule, request, outcome)
        return outcome


class Chain:
    """The stages of one server block, first (outermost) to last; `serve` runs them.

    `replay(data, udp)` is the kept-wire shortcut (see _fastpath.Replay), None when the
    cache keeps no wire (no cache, or the log plugin wants every query to run)."""

    def __init__(self, stages: list) -> None:
        self.stages = tuple(stages)
        self.first = stages[0]
        self.cache = next((s for s in stages if isinstance(s, Cache)), None)
        self.replay: Replay | None = None
        if self.cache is not None and self.cache.kept is not None:
            # In front of the cache, with the log plugin off, run only stages that pick by
            # the name (stubs routing; rewrite, whose renamed requests carry no wire and
            # are never kept) and loadbalance, which the replay does itself.
            assert all(isinstance(s, (Stubs, Rewrite, LoadBalance)) for s in
                       self.stages[:self.stages.index(self.cache)]), self.plugins
            balance = next((s for s in self.stages if isinstance(s, LoadBalance)), None)
            self.replay = Replay(self.cache.kept, self.cache.store.items,
                                 self.cache.store.monotonic, self.cache.revision,
                                 balance.rng if balance else None,
                                 balance.lock if balance else None)

    @property
    def plugins(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def serve(self, request: Request) -> Outcome:
        return self.first.serve(request)

    @classmethod
    def build(cls, settings: CorefileSettings, *, index: Callable[[], ClusterIndex],
              outside: Outside, cache: DnsCache | None = None, revision=None,
              rng: random.Random | None = None, lock: threading.Lock | None = None,
              log_writer: Callable | None = None, error_writer: Callable | None = None,
              keep_wire: bool = True) -> "Chain":
        """The chain a Corefile with `settings` runs. `cache` None leaves the cache out
        (answer() has none); `log_writer` writes a log plugin's line; `keep_wire` lets
        the cache keep rendered replies (never while the log plugin needs each query)."""
        wanted = ["kubernetes", "forward"]
        if cache is not None:
            wanted.append("cache")
        if settings.loadbalance and rng is not None:
            wanted.append("loadbalance")
        if settings.log and log_writer is not None:
            wanted.append("log")
        if settings.hosts is not None:
            wanted.append("hosts")
        if settings.rewrite:
            wanted.append("rewrite")
        # plugin.cfg order decides who wraps whom, not the Corefile's order.
        wanted.sort(key=DIRECTIVES.index, reverse=True)
        stage = None
        stages = []
        for name in wanted:                     # innermost first
            if name == "forward":
                stage = Forward(outside)
            elif name == "kubernetes":
                stage = Kubernetes(index, outside, stage)
            elif name == "cache":
                kept = KeptWire() if keep_wire and not settings.log else None
                stage = Cache(cache, stage, revision, kept, "loadbalance" in wanted)
            elif name == "loadbalance":
                stage = LoadBalance(rng, lock or threading.Lock(), stage)
            elif name == "log":
                stage = Log(settings.log, log_writer, stage)
            elif name == "hosts":
                stage = Hosts(settings.hosts, stage)
            elif name == "rewrite":
                stage = Rewrite(settings.rewrite, stage)
            stages.insert(0, stage)
        if settings.stubs:
            stages.insert(0, Stubs(settings.stubs, outside, log_writer, error_writer, stage))
        return cls(stages)


def answer(query: dns.message.Message, state: ClusterIndex, *, rng: random.Random | None = None,
           outside: dict[str, str] | Outside | None = None) -> dns.message.Message:
    """The response CoreDNS would send to `query` (before UDP truncation), without a cache.

    `rng` (the loadbalance plugin) shuffles address records; None leaves them in
    cluster order. `outside` is the table of names the upstream resolver knows.
    """
    if not isinstance(outside, Outside):
        outside = Outside(outside or {})
    settings = CorefileSettings(loadbalance=rng is not None, cache_seconds=0, ttl=state.ttl)
    chain = Chain.build(settings, index=lambda: state, outside=outside, rng=rng)
    return to_message(query, chain.serve(Request(message=query)).reply)


def to_message(query: dns.message.Message, reply: Reply) -> dns.message.Message:
    """Frame a Reply as dnspython's Message: SetReply semantics plus the request's OPT."""
    msg = dns.message.Message(id=query.id)
    msg.flags = dns.flags.QR | (query.flags & (dns.flags.RD | dns.flags.CD))
    if reply.authoritative:
        msg.flags |= dns.flags.AA
    if reply.recursion_available:
        msg.flags |= dns.flags.RA
    msg.set_opcode(query.opcode())
    msg.set_rcode(reply.rcode)
    msg.question = list(query.question[:1])
    for section, rrs in ((msg.answer, reply.answer), (msg.authority, reply.authority),
                         (msg.additional, reply.additional)):
        section.extend(_rrsets(rrs))
    if query.edns >= 0:
        options = [o for o in query.options if o.otype in ECHOED_EDNS_OPTIONS]
        msg.use_edns(0, query.ednsflags & dns.flags.DO, query.payload, options=options)
    return msg


def _rrsets(rrs: list[RR]) -> list[dns.rrset.RRset]:
    """Consecutive records of one name and type form one RRset (order is kept)."""
    out: list[dns.rrset.RRset] = []
    for rr in rrs:
        last = out[-1] if out else None
        if last is None or last.name != rr.name or last.rdtype != rr.rdtype:
            last = dns.rrset.RRset(rr.name, IN, rr.rdtype)
            out.append(last)
        last.add(rr.rdata, rr.ttl)
    return out

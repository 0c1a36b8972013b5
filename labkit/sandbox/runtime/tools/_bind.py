"""What BIND 9's dig, nslookup and host share: bind's master-file layout of records,
the search walk they do themselves (not getaddrinfo's), and which servers a pod can reach.

They build their own queries but still read the pod's resolv.conf: `host` and `nslookup`
walk the search list, `dig` only with +search. The server shown is the virtual cluster DNS
address from resolv.conf; the packets really go to the sandbox server on loopback. A
`@server` (or nslookup's second argument) other than a resolv.conf nameserver is
unreachable from a pod here: nothing is sent, and the tool reports the timeout the real
one would.
"""
from __future__ import annotations

import dns.name
import dns.rdataclass
import dns.rdatatype

from .._resolver import StubResolver, candidates

QUERY_TYPES = ("A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "SOA", "ANY", "MX", "NS", "CAA")


# -- bind's master-file layout (lib/dns/masterdump.c: indent()) ----------------

def indent(column: int, to: int) -> tuple[str, int]:
    to = max(to, column + 1)
    tabs = to // 8 - column // 8
    if tabs > 0:
        return "\t" * tabs + " " * (to % 8), to
    return " " * (to - column), to


def columns(fields: list[tuple[str, int | None]], start: int = 0) -> str:
    out, column = "", start
    for text, target in fields:
        if target is not None:
            pad, column = indent(column, target)
            out += pad
        out += text
        column += len(text)
    return out


def rr_lines(rrset) -> list[str]:
    name = rrset.name.to_text()
    klass = dns.rdataclass.to_text(rrset.rdclass)
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    return [columns([(name, None), (str(rrset.ttl), 24), (klass, 32), (rtype, 40),
                      (rd.to_text(), 48)]) for rd in rrset]


def question_line(q) -> str:
    return ";" + columns([(q.name.to_text(), None),
                           (dns.rdataclass.to_text(q.rdclass), 32),
                           (dns.rdatatype.to_text(q.rdtype), 40)])


def virtual_server(ctx, res: StubResolver) -> str:
    return res.conf.nameservers[0] if res.conf.nameservers else ctx.config.cluster_dns_ip


def reachable(ctx, res: StubResolver, server: str | None, port: int = 53) -> bool:
    """The cluster DNS Service and the nodes' resolver (the network gateway) answer port 53."""
    if server is None:
        return port == 53 and res.view is not None
    res.use_server(server)
    return port == 53 and res.view is not None


def warn_local(name: dns.name.Name) -> bool:
    labels = [l.lower() for l in name.labels if l]
    return bool(labels) and labels[-1] == b"local"


def walk_first(res: StubResolver, name: str, rdtype: str, search: bool = True):
    """bind's search walk (dighost.c): stop at the first name that is not NXDOMAIN."""
    names = candidates(name, res.conf, "glibc") if search and not name.endswith(".") \
        else [name.rstrip(".")]
    sent = None
    for candidate in names:
        sent = res.ask(candidate, rdtype)
        if sent.response is None:
            return sent
        if sent.rcode not in ("NXDOMAIN", "SERVFAIL"):
            return sent
    return sent

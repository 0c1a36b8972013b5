"""host as BIND 9.18 prints it (bin/dig/host.c)."""
from __future__ import annotations

import dns.rcode
import dns.rdatatype
import dns.reversename

from .._context import tool
from .._resolver import StubResolver, is_address
from ._bind import reachable, walk_first
from ._netcommon import wait


@tool("host")
def host(ctx, argv: list[str]) -> int:
    res = StubResolver(ctx)
    qtype, positional = None, []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-t" and i + 1 < len(args):
            i += 1
            qtype = args[i].upper()
        elif a == "-a":
            qtype = "ANY"
        elif a.startswith("-"):
            pass
        else:
            positional.append(a)
        i += 1
    if not positional:
        ctx.stderr.write("Usage: host [-aCdilrTvVw] [-c class] [-N ndots] [-t type] [-W time]\n"
                         "            [-R number] [-m flag] [-p port] hostname [server]\n")
        return 1
    name = positional[0]
    server = positional[1] if len(positional) > 1 else None
    out = ctx.stdout
    if server:
        out.write(f"Using domain server:\nName: {server}\nAddress: {server}#53\nAliases: \n\n")
    if not reachable(ctx, res, server):
        wait(ctx, 10.0)
        out.write(";; connection timed out; no servers could be reached\n")
        return 1
    if is_address(name) and qtype in (None, "PTR"):
        ptr = dns.reversename.from_address(name).to_text(omit_final_dot=True)
        sent = res.ask(ptr, "PTR")
        if sent.response is None:
            out.write(";; connection timed out; no servers could be reached\n")
            return 1
        if sent.rcode != "NOERROR":
            out.write(f"Host {ptr} not found: {dns.rcode.from_text(sent.rcode)}({sent.rcode})\n")
            return 1
        for rrset in sent.response.answer:
            for rd in rrset:
                out.write(f"{rrset.name.to_text(omit_final_dot=True)} domain name pointer {rd.target}\n")
        return 0
    types = [qtype] if qtype else ["A", "AAAA", "MX"]
    first = walk_first(res, name, types[0])
    if first.response is None:
        out.write(";; connection timed out; no servers could be reached\n")
        return 1
    if first.rcode != "NOERROR":
        out.write(f"Host {name} not found: {dns.rcode.from_text(first.rcode)}({first.rcode})\n")
        return 1
    results = [first] + [res.ask(first.name, t) for t in types[1:]]
    for sent in results:
        if sent.response is None:
            continue
        if qtype and not sent.response.answer:
            out.write(f"{first.name} has no {qtype} record\n")
        for rrset in sent.response.answer:
            owner = rrset.name.to_text(omit_final_dot=True)
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            for rd in rrset:
                if rtype == "A":
                    out.write(f"{owner} has address {rd.address}\n")
                elif rtype == "AAAA":
                    out.write(f"{owner} has IPv6 address {rd.address}\n")
                elif rtype == "MX":
                    out.write(f"{owner} mail is handled by {rd.preference} {rd.exchange}\n")
                elif rtype == "CNAME":
                    out.write(f"{owner} is an alias for {rd.target}.\n")
                elif rtype == "PTR":
                    out.write(f"{owner} domain name pointer {rd.target}\n")
                else:
                    out.write(f"{owner} has {rtype} record {rd.to_text()}\n")
    return 0

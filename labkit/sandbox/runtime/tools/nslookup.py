"""nslookup: BIND 9.18's (bin/dig/nslookup.c) and BusyBox's own applet
(networking/nslookup.c), chosen by the image."""
from __future__ import annotations

import time

import dns.flags
import dns.rdataclass
import dns.rdatatype
import dns.reversename

from .._context import tool
from .._images import tool_version
from .._resolver import StubResolver, is_address
from ._bind import QUERY_TYPES, reachable, virtual_server, walk_first
from ._netcommon import wait


def _ns_rdata_text(owner: str, rtype: str, rd) -> str:
    if rtype in ("A", "AAAA"):
        return f"Name:\t{owner}\nAddress: {rd.address}"
    if rtype == "SOA":
        return (f"{owner}\n\torigin = {rd.mname}\n\tmail addr = {rd.rname}\n"
                f"\tserial = {rd.serial}\n\trefresh = {rd.refresh}\n\tretry = {rd.retry}\n"
                f"\texpire = {rd.expire}\n\tminimum = {rd.minimum}")
    label = {"PTR": "name", "CNAME": "canonical name", "SRV": "service",
             "TXT": "text", "MX": "mail exchanger", "NS": "nameserver"}.get(rtype, rtype)
    return f"{owner}\t{label} = {rd.to_text()}"


def _ns_record_text(rrset) -> list[str]:
    owner = rrset.name.to_text(omit_final_dot=True)
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    return [_ns_rdata_text(owner, rtype, rd) for rd in rrset]


def _debug_block(response) -> str:
    def rr_debug(rrset) -> str:
        text = ""
        for rd in rrset:
            text += f"    ->  {rrset.name.to_text(omit_final_dot=True)}\n"
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            if rtype == "A":
                text += f"\tinternet address = {rd.address}\n"
            elif rtype == "AAAA":
                text += f"\thas AAAA address {rd.address}\n"
            elif rtype == "SOA":
                text += (f"\torigin = {rd.mname}\n\tmail addr = {rd.rname}\n\tserial = {rd.serial}\n"
                         f"\trefresh = {rd.refresh}\n\tretry = {rd.retry}\n\texpire = {rd.expire}\n"
                         f"\tminimum = {rd.minimum}\n")
            else:
                line = _ns_rdata_text(rrset.name.to_text(omit_final_dot=True), rtype, rd)
                text += "\t" + line.split("\t", 1)[1] + "\n"
            text += f"\tttl = {rrset.ttl}\n"
        return text
    q = response.question[0]
    text = ("------------\n    QUESTIONS:\n"
            f"\t{q.name.to_text(omit_final_dot=True)}, type = {dns.rdatatype.to_text(q.rdtype)}, "
            f"class = {dns.rdataclass.to_text(q.rdclass)}\n    ANSWERS:\n")
    text += "".join(rr_debug(r) for r in response.answer)
    text += "    AUTHORITY RECORDS:\n" + "".join(rr_debug(r) for r in response.authority)
    text += "    ADDITIONAL RECORDS:\n" + "".join(rr_debug(r) for r in response.additional)
    return text + "------------\n"


@tool("nslookup")
def nslookup(ctx, argv: list[str]) -> int:
    if ctx.image.busybox:
        return _busybox_nslookup(ctx, argv)
    res = StubResolver(ctx)
    qtype, debug, search = None, False, True
    positional = []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1:
            key, _, value = a[1:].partition("=")
            key = key.lower()
            if key in ("type", "querytype", "query", "q", "ty", "qu"):
                qtype = value.upper()
            elif key in ("debug", "d2"):
                debug = True
            elif key == "nosearch":
                search = False
            elif key.startswith("timeout"):
                res.conf = res.conf.with_options(timeout=float(value))
        else:
            positional.append(a)
    if not positional:
        ctx.stderr.write("nslookup: interactive mode is not available here\n")
        return 1
    name = positional[0]
    server = positional[1] if len(positional) > 1 else None
    shown = server or virtual_server(ctx, res)
    if not reachable(ctx, res, server):
        for _ in range(3):
            if not res.refused and not wait(ctx, res.conf.timeout):
                break
            ctx.stdout.write(f";; communications error to {shown}#53: "
                             f"{'connection refused' if res.refused else 'timed out'}\n")
        ctx.stdout.write(";; no servers could be reached\n\n")
        return 1
    out = ctx.stdout
    if is_address(name) and qtype in (None, "PTR"):
        ptr = dns.reversename.from_address(name).to_text(omit_final_dot=True)
        sent = res.ask(ptr, "PTR")
        if sent.response is None:
            out.write(";; connection timed out; no servers could be reached\n\n")
            return 1
        if sent.rcode != "NOERROR":
            out.write(f"** server can't find {ptr}: {sent.rcode}\n\n")
            return 1
        if not sent.response.flags & dns.flags.AA:
            out.write("Non-authoritative answer:\n")
        for rrset in sent.response.answer:
            out.write("".join(line + "\n" for line in _ns_record_text(rrset)))
        out.write("\n")
        return 0
    out.write(f"Server:\t\t{shown}\nAddress:\t{shown}#53\n\n")
    types = [qtype] if qtype else ["A", "AAAA"]
    first = walk_first(res, name, types[0], search)
    if first.response is None:
        out.write(";; connection timed out; no servers could be reached\n\n")
        return 1
    if debug:
        out.write(_debug_block(first.response))
    if first.rcode != "NOERROR":
        out.write(f"** server can't find {first.name}: {first.rcode}\n\n")
        return 1
    found = first.name
    results = [first]
    for rdtype in types[1:]:
        sent = res.ask(found, rdtype)
        if sent.response is not None:
            results.append(sent)
    shown_header = False
    for sent in results:
        if debug and sent is not first:
            out.write(_debug_block(sent.response))
        if sent.response.answer and not sent.response.flags & dns.flags.AA and not shown_header:
            out.write("Non-authoritative answer:\n")
            shown_header = True
        for rrset in sent.response.answer:
            out.write("".join(line + "\n" for line in _ns_record_text(rrset)))
        if qtype and not sent.response.answer:
            out.write(f"*** Can't find {found}: No answer\n")
    out.write("\n")
    return 0


def _busybox_nslookup(ctx, argv: list[str]) -> int:
    """BusyBox nslookup (networking/nslookup.c, FEATURE_NSLOOKUP_BIG): all queries at once."""
    res = StubResolver(ctx)
    types, debug, positional = [], False, []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1:
            key, _, value = a[1:].partition("=")
            if key in ("type", "querytype"):
                if value.upper() not in QUERY_TYPES:
                    ctx.stderr.write(f'nslookup: invalid query type "{value}"\n')
                    return 1
                types.append(value.upper())
            elif key == "debug":
                debug = True
        else:
            positional.append(a)
    if not positional or len(positional) > 2:
        ctx.stderr.write(f"BusyBox v{tool_version(ctx.image.ref, 'busybox')} multi-call binary.\n\n"
                         "Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n")
        return 1
    name = positional[0]
    server = positional[1] if len(positional) > 1 else None
    shown = server or virtual_server(ctx, res)
    queries: list[tuple[str, str]] = []
    search = [d.rstrip(".") for d in res.conf.search]

    def add(rdtype: str, dname: str) -> None:
        # add_query_with_search(): the search list only for a name without any dot.
        if rdtype == "PTR" or not search or "." in dname:
            queries.append((rdtype, dname))
        else:
            queries.extend((rdtype, f"{dname}.{d}") for d in search)

    if not types:
        if is_address(name):
            queries.append(("PTR", dns.reversename.from_address(name).to_text(omit_final_dot=True)))
        else:
            add("A", name)
            add("AAAA", name)
    else:
        for t in QUERY_TYPES:          # in the applet's own table order
            if t in types:
                add(t, name)
    if not reachable(ctx, res, server):
        if res.refused:
            # send_queries() reads ECONNREFUSED on its connected socket after each of the
            # two sends of its 5 s window, reports it and keeps waiting for the window's end.
            ctx.stderr.write("nslookup: read: Connection refused\n" * 2)
        wait(ctx, 5.0)
        ctx.stdout.write(";; connection timed out; no servers could be reached\n\n")
        return 1
    out = ctx.stdout
    exitcode = 0
    printed_header = False
    start = time.monotonic()
    for k, (rdtype, dname) in enumerate(queries):
        sent = res.ask(dname, rdtype)
        if sent.response is None:
            continue
        if not printed_header:
            out.write(f"Server:\t\t{shown}\nAddress:\t{shown}:53\n\n")
            printed_header = True
        if debug:
            out.write(f"Query #{k} completed in {int((time.monotonic() - start) * 1000)}ms:\n")
        if sent.rcode != "NOERROR":
            out.write(f"** server can't find {dname}: {sent.rcode}\n")
            exitcode = 1
        else:
            if not sent.response.flags & dns.flags.AA:
                out.write("Non-authoritative answer:\n")
            for rrset in sent.response.answer:
                for line in _busybox_lines(rrset):
                    out.write(line + "\n")
        out.write("\n")
    if not printed_header:
        out.write(";; connection timed out; no servers could be reached\n\n")
        return 1
    return exitcode


def _busybox_lines(rrset) -> list[str]:
    owner = rrset.name.to_text(omit_final_dot=True)
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    lines = []
    for rd in rrset:
        if rtype in ("A", "AAAA"):
            lines.append(f"Name:\t{owner}\nAddress: {rd.address}")
        elif rtype in ("PTR", "CNAME", "NS"):
            label = {"PTR": "name", "CNAME": "canonical name", "NS": "nameserver"}[rtype]
            lines.append(f"{owner}\t{label} = {rd.target.to_text(omit_final_dot=True)}")
        elif rtype == "MX":
            lines.append(f"{owner}\tmail exchanger = {rd.preference} "
                         f"{rd.exchange.to_text(omit_final_dot=True)}")
        elif rtype == "TXT":
            lines.append(f'{owner}\ttext = "{b"".join(rd.strings).decode(errors="replace")}"')
        elif rtype == "SRV":
            lines.append(f"{owner}\tservice = {rd.priority} {rd.weight} {rd.port} "
                         f"{rd.target.to_text(omit_final_dot=True)}")
        elif rtype == "SOA":
            lines.append(f"{owner}\n\torigin = {rd.mname.to_text(omit_final_dot=True)}\n"
                         f"\tmail addr = {rd.rname.to_text(omit_final_dot=True)}\n"
                         f"\tserial = {rd.serial}\n\trefresh = {rd.refresh}\n\tretry = {rd.retry}\n"
                         f"\texpire = {rd.expire}\n\tminimum = {rd.minimum}")
    return lines

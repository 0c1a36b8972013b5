"""dig, nslookup and host as bind9 9.18 prints them; BusyBox 1.35's nslookup.

They build their own queries (not getaddrinfo) but still read the pod's
resolv.conf: `host` and `nslookup` walk the search list, `dig` only with +search.
The server shown is the virtual cluster DNS address from resolv.conf; the packets
really go to the sandbox server on loopback. A `@server` (or nslookup's second
argument) other than a resolv.conf nameserver is unreachable from a pod here:
nothing is sent, and the tool reports the timeout the real one would.
"""
from __future__ import annotations

import os
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename

from .._context import tool
from .._resolver import StubResolver, candidates, is_address
from ._netcommon import wait

DIG_VERSION = "9.18.49-1~deb12u3-Debian"
QUERY_TYPES = ("A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "SOA", "ANY", "MX", "NS", "CAA")
_FLAG_ORDER = (("qr", dns.flags.QR), ("aa", dns.flags.AA), ("tc", dns.flags.TC),
               ("rd", dns.flags.RD), ("ra", dns.flags.RA), ("ad", dns.flags.AD),
               ("cd", dns.flags.CD))


# -- bind's master-file layout (lib/dns/masterdump.c: indent()) ----------------

def _indent(column: int, to: int) -> tuple[str, int]:
    to = max(to, column + 1)
    tabs = to // 8 - column // 8
    if tabs > 0:
        return "\t" * tabs + " " * (to % 8), to
    return " " * (to - column), to


def _columns(fields: list[tuple[str, int | None]], start: int = 0) -> str:
    out, column = "", start
    for text, target in fields:
        if target is not None:
            pad, column = _indent(column, target)
            out += pad
        out += text
        column += len(text)
    return out


def rr_lines(rrset) -> list[str]:
    name = rrset.name.to_text()
    klass = dns.rdataclass.to_text(rrset.rdclass)
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    return [_columns([(name, None), (str(rrset.ttl), 24), (klass, 32), (rtype, 40),
                      (rd.to_text(), 48)]) for rd in rrset]


def question_line(q) -> str:
    return ";" + _columns([(q.name.to_text(), None),
                           (dns.rdataclass.to_text(q.rdclass), 32),
                           (dns.rdatatype.to_text(q.rdtype), 40)])


def _virtual_server(ctx, res: StubResolver) -> str:
    return res.conf.nameservers[0] if res.conf.nameservers else ctx.config.cluster_dns_ip


def _reachable(ctx, res: StubResolver, server: str | None, port: int = 53) -> bool:
    """The cluster DNS Service and the nodes' resolver (the network gateway) answer port 53."""
    if server is None:
        return port == 53 and res.view is not None
    res.use_server(server)
    return port == 53 and res.view is not None


def _warn_local(name: dns.name.Name) -> bool:
    labels = [l.lower() for l in name.labels if l]
    return bool(labels) and labels[-1] == b"local"


# -- dig ---------------------------------------------------------------------------

class _DigOptions:
    def __init__(self) -> None:
        self.short = self.search = self.showsearch = self.tcp = False
        self.sections = {"cmd": True, "comments": True, "question": True, "answer": True,
                         "authority": True, "additional": True, "stats": True}
        self.tries, self.timeout = 3, 5.0
        self.edns, self.cookie, self.recurse = True, True, True
        self.sent_cookie: bytes | None = None     # the client cookie of the last query


def _dig_plus(opt: _DigOptions, word: str) -> bool:
    word = word[1:].lower()
    neg = word.startswith("no")
    key, _, value = (word[2:] if neg else word).partition("=")
    if key in ("short",):
        opt.short = not neg
    elif key == "search":
        opt.search = not neg
    elif key == "showsearch":
        opt.showsearch = opt.search = not neg
    elif key in ("tcp", "vc"):
        opt.tcp = not neg
    elif key == "all":
        for k in opt.sections:
            opt.sections[k] = not neg
    elif key in opt.sections:
        opt.sections[key] = not neg
    elif key in ("tries", "retry") and value:
        opt.tries = int(value) + (1 if key == "retry" else 0)
    elif key == "time" and value:
        opt.timeout = float(value)
    elif key == "edns":
        opt.edns = not neg
    elif key == "cookie":
        opt.cookie = not neg
    elif key == "recurse":
        opt.recurse = not neg
    elif key in ("nssearch", "trace"):
        return False
    else:
        return False
    return True


@tool("dig")
def dig(ctx, argv: list[str]) -> int:
    res = StubResolver(ctx)
    opt = _DigOptions()
    server, port, qtype, name, reverse = None, 53, None, None, False
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("@"):
            server = a[1:]
        elif a.startswith("+"):
            if not _dig_plus(opt, a):
                ctx.stdout.write(f"Invalid option: {a}\n")
                ctx.stderr.write("Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n"
                                 "            {global-d-opt} host [@local-server] {local-d-opt}\n"
                                 "            [ host [@local-server] {local-d-opt} [...]]\n\n"
                                 "Use \"dig -h\" (or \"dig -h | more\") for complete list of options\n")
                return 1
        elif a in ("-x",) and i + 1 < len(args):
            i += 1
            name, reverse = dns.reversename.from_address(args[i]).to_text(), True
            qtype = qtype or "PTR"
        elif a == "-t" and i + 1 < len(args):
            i += 1
            qtype = args[i].upper()
        elif a == "-p" and i + 1 < len(args):
            i += 1
            port = int(args[i])
        elif a in ("-4", "-6"):
            pass
        elif a.upper() in QUERY_TYPES and qtype is None:
            qtype = a.upper()
        elif a.upper() == "IN":
            pass
        else:
            name = a
        i += 1
    qtype = qtype or "A"
    if name is None:
        name, qtype = ".", "NS"
    command = " ".join(argv[1:])
    res.conf = res.conf.with_options(timeout=opt.timeout, attempts=opt.tries)
    shown = server or _virtual_server(ctx, res)
    if not _reachable(ctx, res, server, port):
        for _ in range(opt.tries):
            # An ICMP port unreachable (kube-proxy's REJECT) fails a try at once.
            if not res.refused and not wait(ctx, opt.timeout):
                break
            ctx.stdout.write(f";; communications error to {shown}#{port}: "
                             f"{'connection refused' if res.refused else 'timed out'}\n")
        if opt.short:
            ctx.stdout.write(";; no servers could be reached\n")
            return 9
        ctx.stdout.write(f"\n; <<>> DiG {DIG_VERSION} <<>> {command}\n")
        if server:
            ctx.stdout.write("; (1 server found)\n")
        ctx.stdout.write(";; global options: +cmd\n;; no servers could be reached\n\n")
        return 9
    names = [name] if reverse or not opt.search else [
        n + "." for n in candidates(name, res.conf, "glibc")]
    for k, candidate in enumerate(names):
        qname = dns.name.from_text(candidate)
        cookie = _cookie() if opt.cookie and opt.edns else None
        opt.sent_cookie = cookie[0].data if cookie else None
        request = dns.message.make_query(qname, qtype, use_edns=0 if opt.edns else False,
                                         payload=1232, options=cookie)
        if not opt.recurse:
            request.flags &= ~dns.flags.RD
        started = time.monotonic()
        response, used_tcp, size = res.exchange_wire(request, tcp=opt.tcp, fallback=True)
        elapsed = int((time.monotonic() - started) * 1000)
        if response is None:
            ctx.stdout.write(f";; communications error to {shown}#{port}: timed out\n" * opt.tries)
            if not opt.short:
                ctx.stdout.write(f"\n; <<>> DiG {DIG_VERSION} <<>> {command}\n")
                if server:
                    ctx.stdout.write("; (1 server found)\n")
                ctx.stdout.write(";; global options: +cmd\n;; no servers could be reached\n\n")
            return 9
        last = k == len(names) - 1
        failed = response.rcode() in (dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL)
        if failed and not last:
            if opt.showsearch:
                _dig_print(ctx, opt, command, server, response, size, elapsed, shown, port, used_tcp)
            continue
        _dig_print(ctx, opt, command, server, response, size, elapsed, shown, port, used_tcp)
        break
    return 0


def _cookie():
    return [dns.edns.GenericOption(dns.edns.OptionType.COOKIE, os.urandom(8))]


def _cookie_status(opt: _DigOptions, option) -> str:
    """message.c: " (good)" for a server cookie, " (echoed)" for our 8 bytes sent back alone
    (CoreDNS echoes the option: it has no server cookies), " (bad)" for someone else's."""
    data = option.to_wire()
    if opt.sent_cookie is None or data[:8] != opt.sent_cookie:
        return " (bad)"
    return " (good)" if len(data) >= 16 else " (echoed)"


def _dig_print(ctx, opt, command, server, response, size, elapsed, shown, port, tcp) -> None:
    out = ctx.stdout
    if opt.short:
        for rrset in response.answer:
            for rd in rrset:
                out.write(rd.to_text() + "\n")
        return
    s = opt.sections
    if s["cmd"]:
        out.write(f"\n; <<>> DiG {DIG_VERSION} <<>> {command}\n")
        if server:
            out.write("; (1 server found)\n")
        out.write(";; global options: +cmd\n")
    if s["comments"]:
        out.write(";; Got answer:\n")
        if response.question and _warn_local(response.question[0].name):
            out.write(";; WARNING: .local is reserved for Multicast DNS\n"
                      ";; You are currently testing what happens when an mDNS query is leaked to DNS\n")
        flags = " ".join(n for n, bit in _FLAG_ORDER if response.flags & bit)
        additional = sum(len(r) for r in response.additional) + (1 if response.edns >= 0 else 0)
        out.write(f";; ->>HEADER<<- opcode: {dns.opcode.to_text(response.opcode())}, "
                  f"status: {dns.rcode.to_text(response.rcode())}, id: {response.id}\n"
                  f";; flags: {flags}; QUERY: {len(response.question)}, "
                  f"ANSWER: {sum(len(r) for r in response.answer)}, "
                  f"AUTHORITY: {sum(len(r) for r in response.authority)}, ADDITIONAL: {additional}\n")
        # dig.c printmessage: an answer to a recursive query from a server that offers no
        # recursion (CoreDNS's kubernetes plugin sets aa, never ra).
        if response.flags & dns.flags.RD and not response.flags & dns.flags.RA:
            out.write(";; WARNING: recursion requested but not available\n")
        if response.edns >= 0:
            eflags = " do" if response.ednsflags & dns.flags.DO else ""
            out.write(f"\n;; OPT PSEUDOSECTION:\n; EDNS: version: {response.edns}, "
                      f"flags:{eflags}; udp: {response.payload}\n")
            for option in response.options:
                if option.otype == dns.edns.OptionType.COOKIE:
                    out.write(f"; COOKIE: {option.to_wire().hex()}{_cookie_status(opt, option)}\n")
    if s["question"] and response.question:
        if s["comments"]:
            out.write(";; QUESTION SECTION:\n")
        for q in response.question:
            out.write(question_line(q) + "\n")
        if s["comments"]:
            out.write("\n")
    for key, title, section in (("answer", "ANSWER", response.answer),
                                ("authority", "AUTHORITY", response.authority),
                                ("additional", "ADDITIONAL", response.additional)):
        if s[key] and section:
            if s["comments"]:
                out.write(f";; {title} SECTION:\n")
            for rrset in section:
                out.write("".join(line + "\n" for line in rr_lines(rrset)))
            if s["comments"]:
                out.write("\n")
    if s["stats"]:
        proto = "TCP" if tcp else "UDP"
        when = ctx.clock.now().strftime("%a %b %d %H:%M:%S UTC %Y")
        out.write(f";; Query time: {elapsed} msec\n;; SERVER: {shown}#{port}({shown}) ({proto})\n"
                  f";; WHEN: {when}\n;; MSG SIZE  rcvd: {size}\n\n")


# -- nslookup (bind9) -------------------------------------------------------------

def _walk_first(res: StubResolver, name: str, rdtype: str, search: bool = True):
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
    shown = server or _virtual_server(ctx, res)
    if not _reachable(ctx, res, server):
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
    first = _walk_first(res, name, types[0], search)
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
        ctx.stderr.write("BusyBox v1.35.0 multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] "
                         "[-debug] HOST [DNS_SERVER]\n")
        return 1
    name = positional[0]
    server = positional[1] if len(positional) > 1 else None
    shown = server or _virtual_server(ctx, res)
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
    if not _reachable(ctx, res, server):
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


# -- host (bind9) -------------------------------------------------------------------

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
    if not _reachable(ctx, res, server):
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
    first = _walk_first(res, name, types[0])
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

"""dig as BIND 9.18 prints it (bin/dig/dig.c, dighost.c); the banner carries the image's
BIND version: Debian's `9.18.49-1~deb12u3-Debian`, Alpine's bare `9.18.26` (Alpine builds
BIND without a vendor suffix)."""
from __future__ import annotations

import os
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.reversename

from .._context import tool
from .._images import tool_version
from .._resolver import StubResolver, candidates
from ._bind import QUERY_TYPES, question_line, reachable, rr_lines, virtual_server, warn_local
from ._netcommon import wait

_FLAG_ORDER = (("qr", dns.flags.QR), ("aa", dns.flags.AA), ("tc", dns.flags.TC),
               ("rd", dns.flags.RD), ("ra", dns.flags.RA), ("ad", dns.flags.AD),
               ("cd", dns.flags.CD))


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
    banner = f"; <<>> DiG {tool_version(ctx.image.ref, 'bind')} <<>> {command}\n"
    res.conf = res.conf.with_options(timeout=opt.timeout, attempts=opt.tries)
    shown = server or virtual_server(ctx, res)
    if not reachable(ctx, res, server, port):
        for _ in range(opt.tries):
            # An ICMP port unreachable (kube-proxy's REJECT) fails a try at once.
            if not res.refused and not wait(ctx, opt.timeout):
                break
            ctx.stdout.write(f";; communications error to {shown}#{port}: "
                             f"{'connection refused' if res.refused else 'timed out'}\n")
        if opt.short:
            ctx.stdout.write(";; no servers could be reached\n")
            return 9
        ctx.stdout.write("\n" + banner)
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
                ctx.stdout.write("\n" + banner)
                if server:
                    ctx.stdout.write("; (1 server found)\n")
                ctx.stdout.write(";; global options: +cmd\n;; no servers could be reached\n\n")
            return 9
        last = k == len(names) - 1
        failed = response.rcode() in (dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL)
        if failed and not last:
            if opt.showsearch:
                _dig_print(ctx, opt, banner, server, response, size, elapsed, shown, port, used_tcp)
            continue
        _dig_print(ctx, opt, banner, server, response, size, elapsed, shown, port, used_tcp)
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


def _dig_print(ctx, opt, banner, server, response, size, elapsed, shown, port, tcp) -> None:
    out = ctx.stdout
    if opt.short:
        for rrset in response.answer:
            for rd in rrset:
                out.write(rd.to_text() + "\n")
        return
    s = opt.sections
    if s["cmd"]:
        out.write("\n" + banner)
        if server:
            out.write("; (1 server found)\n")
        out.write(";; global options: +cmd\n")
    if s["comments"]:
        out.write(";; Got answer:\n")
        if response.question and warn_local(response.question[0].name):
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

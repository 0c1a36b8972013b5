"""DNS wire format for the server: request screening, and replies sized as CoreDNS sizes them.

Screening follows the Go DNS library under CoreDNS (miekg/dns server.go,
defaultMsgAcceptFunc): responses and unreadable headers are dropped; opcodes other
than QUERY/NOTIFY get NOTIMP; a question count other than one, or too many
records elsewhere, gets FORMERR echoing the header; a message that fails to
parse gets FORMERR too. Sizing follows request.Scrub and Msg.Truncate: the reply
goes uncompressed when it fits, else compressed, else cut record by record with TC.
"""
from __future__ import annotations

import functools
import io
import struct

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype

from ._answer import ECHOED_EDNS_OPTIONS, RR, Reply

_HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")
QR, AA, TC, RD, RA, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0010
Z_BITS = 0x0040
MAX_TCP = 65535
FRAGMENT_LIMIT_V4 = 1480      # request.Scrub: compress big UDP replies to avoid fragmentation


class Rejected(Exception):
    """The request gets an error reply built from its header only (or none at all)."""

    def __init__(self, wire: bytes | None, rcode: str) -> None:
        super().__init__(rcode)
        self.wire = wire
        self.rcode = rcode


def _header_reply(header: tuple, rcode: int, keep_opcode: bool) -> bytes:
    """miekg/dns server: the request's own header turned into a reply, sections dropped."""
    msg_id, flags = header[0], header[1]
    opcode = (flags >> 11) & 0xF if keep_opcode else 0
    flags = (flags | QR) & ~(AA | Z_BITS) & ~0x7800 & ~0xF
    flags |= (opcode << 11) | (rcode & 0xF)
    return _HEADER.pack(msg_id, flags, 0, 0, 0, 0)


def parse_query(wire: bytes) -> dns.message.Message:
    """The query, or Rejected carrying the reply to send (None: send nothing)."""
    if len(wire) < 12:
        raise Rejected(None, "dropped")
    header = _HEADER.unpack_from(wire)
    flags, qdcount, ancount, nscount, arcount = header[1:]
    if flags & QR:
        raise Rejected(None, "dropped")
    opcode = (flags >> 11) & 0xF
    if opcode not in (dns.opcode.QUERY, dns.opcode.NOTIFY):
        raise Rejected(_header_reply(header, dns.rcode.NOTIMP, True), "NOTIMP")
    if qdcount != 1 or ancount > 1 or nscount > 1 or arcount > 2:
        raise Rejected(_header_reply(header, dns.rcode.FORMERR, False), "FORMERR")
    query = _fast_query(wire, header)
    if query is not None:
        return query
    try:
        return dns.message.from_wire(wire, ignore_trailing=False)
    except (dns.exception.DNSException, ValueError, IndexError, struct.error):
        raise Rejected(_header_reply(header, dns.rcode.FORMERR, False), "FORMERR") from None


class _Option:
    __slots__ = ("otype", "data")

    def __init__(self, otype: int, data: bytes) -> None:
        self.otype, self.data = otype, data

    def to_wire(self) -> bytes:
        return self.data


class _Question:
    __slots__ = ("name", "rdtype", "rdclass")

    def __init__(self, name, rdtype, rdclass) -> None:
        self.name, self.rdtype, self.rdclass = name, rdtype, rdclass


class FastQuery:
    """The parts of a plain query the server reads, parsed without dnspython's Message.

    It quacks like dns.message.Message for those parts (id, flags, opcode(), question,
    edns, payload, ednsflags, options). Anything unusual goes to dnspython instead.
    """
    __slots__ = ("id", "flags", "question", "edns", "payload", "ednsflags", "options")

    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF


_NAMES: dict[bytes, dns.name.Name] = {}


def _fast_query(wire: bytes, header: tuple) -> FastQuery | None:
    if header[3] or header[4] or header[5] > 1:
        return None
    pos, end, total = 12, len(wire), 0
    while True:
        if pos >= end:
            return None
        n = wire[pos]
        if n == 0:
            pos += 1
            break
        if n > 63:
            return None                     # compression or extended labels: let dnspython judge
        pos += 1 + n
        total += 1 + n
    if total + 1 > 255 or pos + 4 > end:
        return None
    raw = wire[12:pos]
    name = _NAMES.get(raw)
    if name is None:
        name = dns.name.from_wire(raw, 0)[0]
        if len(_NAMES) > 100000:
            _NAMES.clear()
        _NAMES[raw] = name
    rdtype, rdclass = struct.unpack_from("!HH", wire, pos)
    pos += 4
    q = FastQuery()
    q.id, q.flags = header[0], header[1]
    q.question = [_Question(name, rdtype, rdclass)]
    q.edns, q.payload, q.ednsflags, q.options = -1, 0, 0, []
    if header[5] == 1:                      # one additional record: it must be a root OPT
        if pos + 11 > end or wire[pos] != 0:
            return None
        rtype, payload, ttl, rdlen = _RR_FIXED.unpack_from(wire, pos + 1)
        pos += 11
        if rtype != 41 or pos + rdlen != end:
            return None
        q.edns, q.payload, q.ednsflags = (ttl >> 16) & 0xFF, payload, ttl & 0xFFFF
        while pos < end:
            if pos + 4 > end:
                return None
            code, length = struct.unpack_from("!HH", wire, pos)
            pos += 4
            if pos + length > end:
                return None
            q.options.append(_Option(code, wire[pos:pos + length]))
            pos += length
    elif pos != end:
        return None
    return q


def udp_size(query: dns.message.Message) -> int:
    """The client's buffer: its EDNS payload size, 512 without EDNS or below 512."""
    return max(512, query.payload) if query.edns >= 0 else 512


def _opt_wire(query: dns.message.Message, ext_rcode: int = 0) -> bytes:
    if query.edns < 0:
        return b""
    options = io.BytesIO()
    for opt in query.options:
        if opt.otype in ECHOED_EDNS_OPTIONS:
            data = opt.to_wire()
            options.write(struct.pack("!HH", opt.otype, len(data)))
            options.write(data)
    body = options.getvalue()
    ttl = (ext_rcode << 24) | (query.ednsflags & dns.flags.DO)   # version 0, DO echoed
    return b"\x00" + _RR_FIXED.pack(41, query.payload, ttl, len(body)) + body


class _CompressionTable(dict):
    """Name compression that matches names as spelled, not case-insensitively.

    miekg/dns (msg.go compressionMap) keys its table on the name's text as written, so a
    pointer only replaces an identical spelling: a cached `web-svc...` owner under a
    `WEB-SVC...` question stays lower case on the wire. dnspython's own tables compare
    names case-insensitively and would spell the owner as the question.
    """
    def get(self, name, default=None):
        return super().get(name.labels, default)

    def __setitem__(self, name, offset) -> None:
        super().__setitem__(name.labels, offset)


def _render(query: dns.message.Message, reply: Reply, compress: bool,
            budget: int | None, opt: bytes) -> tuple[bytes, bool]:
    out = io.BytesIO()
    out.write(b"\x00" * 12)
    table: dict | None = _CompressionTable() if compress else None
    q = query.question[0]
    q.name.to_wire(out, table)
    out.write(struct.pack("!HH", q.rdtype, q.rdclass))
    counts = [0, 0, 0]
    truncated = False
    for i, section in enumerate((reply.answer, reply.authority, reply.additional)):
        for rr in section:
            start = out.tell()
            _write_rr(out, rr, table)
            if budget is not None and out.tell() > budget:
                out.seek(start)
                out.truncate()
                truncated = True
                break
            counts[i] += 1
        if truncated:
            break
    if opt:
        out.write(opt)
    flags = QR | (query.flags & (RD | CD)) | (query.opcode() << 11) | (reply.rcode & 0xF)
    if reply.authoritative:
        flags |= AA
    if reply.recursion_available:
        flags |= RA
    if truncated:
        flags |= TC
    out.seek(0)
    out.write(_HEADER.pack(query.id, flags, 1, counts[0], counts[1], counts[2] + (1 if opt else 0)))
    return out.getvalue(), truncated


def _write_rr(out: io.BytesIO, rr: RR, table: dict | None) -> None:
    rr.name.to_wire(out, table)
    out.write(_RR_FIXED.pack(rr.rdtype, 1, rr.ttl, 0))
    start = out.tell()
    rr.rdata.to_wire(out, table, None)
    end = out.tell()
    out.seek(start - 2)
    out.write(struct.pack("!H", end - start))
    out.seek(end)


def render(query: dns.message.Message, reply: Reply, *, udp: bool) -> tuple[bytes, bool]:
    """(wire, truncated): the reply as CoreDNS's ScrubWriter would send it."""
    opt = _opt_wire(query, reply.rcode >> 4)
    size = udp_size(query) if udp else MAX_TCP
    wire = _render_plain(query, reply, opt)
    if len(wire) <= size:
        if udp and len(wire) > FRAGMENT_LIMIT_V4:
            wire, _ = _render(query, reply, True, None, opt)
        return wire, False
    wire, _ = _render(query, reply, True, None, opt)
    if len(wire) <= size:
        return wire, False
    return _render(query, reply, True, size - len(opt), opt)


_NAME_WIRE: dict[tuple, bytes] = {}
_RDATA_WIRE: dict[int, tuple] = {}


def _name_wire(name: dns.name.Name) -> bytes:
    wire = _NAME_WIRE.get(name.labels)
    if wire is None:
        wire = name.to_wire()
        if len(_NAME_WIRE) > 100000:
            _NAME_WIRE.clear()
        _NAME_WIRE[name.labels] = wire
    return wire


def _rdata_wire(rdata) -> bytes:
    hit = _RDATA_WIRE.get(id(rdata))
    if hit is not None and hit[0] is rdata:
        return hit[1]
    wire = rdata.to_wire()
    if len(_RDATA_WIRE) > 100000:
        _RDATA_WIRE.clear()
    _RDATA_WIRE[id(rdata)] = (rdata, wire)     # the entry keeps the object (and its id) alive
    return wire


def _render_plain(query, reply: Reply, opt: bytes) -> bytes:
    """The uncompressed reply (what CoreDNS sends whenever it fits), from cached wire pieces."""
    q = query.question[0]
    parts = [b"", _name_wire(q.name), struct.pack("!HH", q.rdtype, q.rdclass)]
    pack = _RR_FIXED.pack
    for section in (reply.answer, reply.authority, reply.additional):
        for rr in section:
            rdata = _rdata_wire(rr.rdata)
            parts.append(_name_wire(rr.name))
            parts.append(pack(rr.rdtype, 1, rr.ttl, len(rdata)))
            parts.append(rdata)
    if opt:
        parts.append(opt)
    flags = QR | (query.flags & (RD | CD)) | (query.opcode() << 11) | (reply.rcode & 0xF)
    if reply.authoritative:
        flags |= AA
    if reply.recursion_available:
        flags |= RA
    parts[0] = _HEADER.pack(query.id, flags, 1, len(reply.answer), len(reply.authority),
                            len(reply.additional) + (1 if opt else 0))
    return b"".join(parts)


def plain_size(query, reply: Reply) -> int:
    """What miekg/dns Msg.Len() says of the reply as the plugins write it: uncompressed,
    before the server adds the OPT record and cuts it to the client's buffer (the log
    plugin's {rsize}, recorded by its ResponseWriter before request.ScrubWriter)."""
    q = query.question[0]
    size = 12 + len(_name_wire(q.name)) + 4
    for section in (reply.answer, reply.authority, reply.additional):
        for rr in section:
            size += len(_name_wire(rr.name)) + 10 + len(_rdata_wire(rr.rdata))
    return size


def servfail(wire: bytes) -> bytes | None:
    """core/dnsserver errorFunc: SetRcode(r, SERVFAIL) and the request's OPT (SizeAndDo),
    the reply CoreDNS sends when a plugin fails; a request that does not parse gets the
    header-only reply the screening would give, so nothing is left unanswered."""
    try:
        query = parse_query(wire)
    except Rejected as rej:
        return rej.wire
    return render(query, Reply(dns.rcode.SERVFAIL, False, False), udp=True)[0]


def answer_count(wire: bytes) -> int:
    return struct.unpack_from("!H", wire, 6)[0]


# Text of names, types, rcodes and records for the query log, kept so a repeated
# question does not format them again.
_TEXT: dict[tuple, str] = {}
_RDATA_TEXT: dict[int, tuple] = {}


def name_text(name) -> str:
    text = _TEXT.get(name.labels)
    if text is None:
        if len(_TEXT) > 100000:
            _TEXT.clear()
        text = _TEXT[name.labels] = name.to_text()
    return text


@functools.lru_cache(maxsize=None)
def type_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(rdtype)


@functools.lru_cache(maxsize=None)
def rcode_text(rcode: int) -> str:
    return dns.rcode.to_text(rcode)


def rdata_text(rdata) -> str:
    hit = _RDATA_TEXT.get(id(rdata))
    if hit is not None and hit[0] is rdata:
        return hit[1]
    if len(_RDATA_TEXT) > 100000:
        _RDATA_TEXT.clear()
    text = rdata.to_text()
    _RDATA_TEXT[id(rdata)] = (rdata, text)
    return text

"""The stub resolver's hot path on the wire: an A or AAAA query built and its reply read by
hand (RFC 1035), and the UDP socket a resolver sends them from.

A `getent` or `curl` loop in a pod sends thousands of these, each a real datagram to the
sandbox's DNS server on loopback; dnspython's Message objects cost several times the
socket's own round trip, so the common case stays here. The bytes are those glibc's
res_mkquery writes (RD set, no EDNS, a random id) and what dnspython would send; anything
unusual (a truncated reply, an odd name) is left to the resolver's dnspython path.
"""
from __future__ import annotations

import random
import re
import socket
import struct
import threading
import time

HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
ADDRESS_TYPES = {"A": 1, "AAAA": 28}
_QTAIL = {t: struct.pack("!HH", t, 1) for t in ADDRESS_TYPES.values()}
_RD = struct.pack("!HHHHH", 0x0100, 1, 0, 0, 0)         # the header after the id
_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
_FAMILIES = {1: socket.AF_INET, 28: socket.AF_INET6}
_UNPRINTABLE = re.compile("[^\x21-\x7e]")          # what a name shows only escaped
_ids = random.Random()            # query ids are random, as res_mkquery makes them
_NAMES: dict[str, bytes | None] = {}


def wire_name(name: str) -> bytes | None:
    """`a.b` as wire labels; None for what needs dnspython's checks (escapes, long labels)."""
    wire = _NAMES.get(name)
    if wire is None and name not in _NAMES:
        labels = name.rstrip(".").split(".") if name.rstrip(".") else []
        ok = all(0 < len(l) < 64 and l.isascii() and "\\" not in l for l in labels)
        wire = b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0" if ok else None
        if wire is not None and len(wire) > 255:
            wire = None
        if len(_NAMES) > 10000:
            _NAMES.clear()
        _NAMES[name] = wire
    return wire


def question(name: str, qtype: int) -> bytes | None:
    """The question section of an address query for `name` (taken as absolute), or None."""
    qname = wire_name(name)
    return None if qname is None else qname + _QTAIL[qtype]


def query(asked: bytes) -> bytes:
    """A query for one question, under a fresh random id."""
    return _ids.getrandbits(16).to_bytes(2, "big") + _RD + asked


def read_name(wire: bytes, pos: int) -> tuple[str, int]:
    """A (possibly compressed) name as text without the final dot, and the offset after it."""
    labels, end, hops = [], None, 0
    while True:
        length = wire[pos]
        if length >= 0xC0:
            if end is None:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | wire[pos + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        if length == 0:
            return ".".join(labels), (end if end is not None else pos + 1)
        labels.append(wire[pos + 1:pos + 1 + length].decode("latin-1"))
        pos += 1 + length


def parse_addresses(wire: bytes, qtype: int, asked: bytes = b"",
                    asked_name: str = "") -> tuple[str, list[str], str | None] | None:
    """(rcode, addresses of qtype, owner of the first one) from a reply; None: use dnspython.

    `asked` is the question sent and `asked_name` its text: a reply that echoes it (as
    the round trip has checked) is read from the end of it, and an answer owned by a
    pointer to it (offset 12, as servers compress) is owned by that name."""
    try:
        _, flags, qdcount, ancount, _, _ = HEADER.unpack_from(wire)
        if flags & 0x0200 or not flags & 0x8000 or flags & 0x7800:    # TC, not a reply, opcode
            return None
        echoed = qdcount == 1 and asked and wire[12:12 + len(asked)] == asked
        if echoed:
            pos = 12 + len(asked)
        else:
            pos = 12
            for _ in range(qdcount):
                _, pos = read_name(wire, pos)
                pos += 4
        addresses, owner = [], None
        family = _FAMILIES[qtype]
        for _ in range(ancount):
            if echoed and asked_name and wire[pos] == 0xC0 and wire[pos + 1] == 12:
                name, pos = asked_name, pos + 2
            else:
                name, pos = read_name(wire, pos)
            rtype, rclass, _, rdlength = _RR.unpack_from(wire, pos)
            pos += 10
            if rtype == qtype and rclass == 1:
                addresses.append(socket.inet_ntop(family, wire[pos:pos + rdlength]))
                owner = owner or name
            pos += rdlength
        rcode = _RCODES.get(flags & 0x000F)
        if rcode is None or (owner and _UNPRINTABLE.search(owner)):
            return None
        return rcode, addresses, owner
    except (struct.error, IndexError, ValueError, OSError):
        return None


def question_end(wire: bytes) -> int:
    """The offset after a query's question (uncompressed, as queries are); 12 if none."""
    if len(wire) < 12 or wire[4:6] == b"\0\0":
        return 12
    pos = 12
    while pos < len(wire) and wire[pos]:
        pos += 1 + wire[pos]
    return min(pos + 5, len(wire))


class UdpChannel:
    """A resolver's UDP socket, its port registered with the DnsClientRegistry while a
    tool run uses it (`attach`), so the query log and the CoreDNS pod logs name the pod.

    glibc opens a socket per res_send (resolv/res_send.c closes it again unless
    RES_STAYOPEN), so a real pod's source port changes from query to query. Here one tool
    run keeps one socket, and the sockets of one exec are kept for its next tool runs
    (SocketPool): opening, binding and closing one cost a `getent` loop a sixth of its time.
    Each tool run still registers anew, so the DNS server sees a new flow (kube-proxy picks
    a CoreDNS pod per flow); what differs from a real pod is only the `client_port` of the
    query log. Nothing on the wire differs.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.registry = None
        self.lock = threading.Lock()
        self._rcvtimeo = None
        self.last_size = 0

    def attach(self, registry, client: dict) -> "UdpChannel":
        """Name the pod (a fresh registration: a new flow) for the tool run now using it."""
        self.registry = registry
        if registry is not None:
            registry.register(self.port, client)
        return self

    def detach(self) -> None:
        if self.registry is not None:
            self.registry.unregister(self.port)
            self.registry = None

    def wait_at_most(self, seconds: float) -> None:
        """A kernel receive timeout on a blocking socket: one system call per recvfrom
        (Python's own timeout polls first, a second call and a second GIL hand-off)."""
        if seconds != self._rcvtimeo:
            self._rcvtimeo = seconds
            whole = int(seconds)
            micro = max(int((seconds - whole) * 1e6), 1 if not whole else 0)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                 struct.pack("ll", whole, micro))

    def round_trip(self, wire: bytes, address, timeout: float, qend: int = 0) -> bytes:
        """Send one query and wait up to `timeout` for its reply (socket.timeout if none).

        res_send.c: the id, the server and the question must match (res_queriesmatch); a
        late answer to an earlier query is dropped and the wait goes on. `qend` is where
        the query's question ends, when the caller knows it."""
        sock = self.sock
        question = wire[12:qend or question_end(wire)]
        with self.lock:
            # The timeout is set before the send: the reply may be back before a call
            # made after it would return.
            self.wait_at_most(timeout)
            end = time.monotonic() + timeout
            sock.sendto(wire, address)
            while True:
                try:
                    data, peer = sock.recvfrom(65535)
                except BlockingIOError:          # SO_RCVTIMEO ran out
                    raise socket.timeout("timed out") from None
                if (peer[0] == address[0] and peer[1] == address[1] and data[:2] == wire[:2]
                        and (data[4:6] == b"\0\0" or data[12:12 + len(question)] == question)):
                    self.last_size = len(data)
                    return data
                timeout = max(end - time.monotonic(), 0.001)
                self.wait_at_most(timeout)

    def close(self) -> None:
        self.detach()
        self.sock.close()


class SocketPool:
    """One exec's UDP sockets between tool runs (see UdpChannel); closed with the exec."""

    def __init__(self) -> None:
        self._spare: list[UdpChannel] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> UdpChannel:
        with self._lock:
            if self._spare:
                return self._spare.pop()
        return UdpChannel()

    def give(self, channel: UdpChannel) -> None:
        channel.detach()
        with self._lock:
            if not self._closed:
                self._spare.append(channel)
                return
        channel.close()

    def close(self) -> None:
        with self._lock:
            self._closed, spare, self._spare = True, self._spare, []
        for channel in spare:
            channel.close()

"""A seeded fuzzer for the sandbox's DNS server: malformed and random packets over UDP and TCP.

    .venv/bin/python scripts/fuzz_dns.py --count 100000 --seed 1     # the long run
    .venv/bin/python scripts/fuzz_dns.py --count 3000                # what CI runs (tests/test_dns_fuzz.py)

It starts a fresh sandbox in a temporary home (in-process, 127.0.0.1, port 0), asks a normal
question, sends `--count` packets built from the seed, then asks the question again over UDP
and TCP. It passes when both answers equal the first, the UDP thread is alive, and every
exception the server caught was logged (its FaultLog). Packets go to 127.0.0.1 only.

What a packet may be (see `packet`): random bytes; a header cut short; a valid query with
bytes flipped, cut or appended; label lengths past the end or of the reserved 0x40/0x80
types; compression pointers to themselves, to each other, or forward; 0xFFFF counts; OPT
records with random versions, flags and options (lengths that lie included); random
opcodes, flags, qtypes and classes. Over TCP (one packet in `--tcp-every`): a length prefix
longer or shorter than what follows, a half-sent message then a close, a zero length,
several messages on one connection.

UDP is sent in batches, each followed by a sentinel query whose answer proves the server
read the whole batch (a datagram socket on loopback keeps order), so nothing is lost to a
full socket buffer and no fixed sleep is needed.
"""
from __future__ import annotations

import argparse
import random
import socket
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rdatatype

HOST = "127.0.0.1"
NAMES = ["kubernetes.default.svc.cluster.local.", "kube-dns.kube-system.svc.cluster.local.",
         "web-svc.default.svc.cluster.local.", "missing.default.svc.cluster.local.",
         "_https._tcp.kubernetes.default.svc.cluster.local.", "1.0.0.10.in-addr.arpa.",
         "example.com.", "cluster.local.", "."]
TYPES = ["A", "AAAA", "SRV", "PTR", "TXT", "ANY", "NS", "SOA", "CNAME", "MX", "AXFR", "IXFR"]
CHECK = ("kubernetes.default.svc.cluster.local.", "A")


# --- packets ----------------------------------------------------------------------------------
def _query(rng: random.Random) -> bytes:
    q = dns.message.make_query(rng.choice(NAMES), rng.choice(TYPES),
                               use_edns=rng.choice([None, 0, 0, 1]) if rng.random() < 0.5 else None,
                               want_dnssec=rng.random() < 0.2)
    q.id = rng.randrange(65536)
    return q.to_wire()


def _header(rng: random.Random, qd=1, an=0, ns=0, ar=0, flags=None) -> bytes:
    return struct.pack("!HHHHHH", rng.randrange(65536), 0x0100 if flags is None else flags, qd, an, ns, ar)


def _name(rng: random.Random) -> bytes:
    labels = rng.choice(NAMES).strip(".").split(".") if rng.random() < 0.7 else \
        ["".join(rng.choice("abcxyz-0_") for _ in range(rng.randrange(1, 70))) for _ in range(rng.randrange(1, 6))]
    return b"".join(bytes([len(x)]) + x.encode() for x in labels if x) + b"\x00"


def _question(rng: random.Random) -> bytes:
    return _name(rng) + struct.pack("!HH", rng.randrange(65536), rng.choice([1, 1, 3, 4, 254, 255, rng.randrange(65536)]))


def _opt(rng: random.Random) -> bytes:
    options = b""
    for _ in range(rng.randrange(0, 4)):
        data = rng.randbytes(rng.randrange(0, 40))
        length = len(data) if rng.random() < 0.7 else rng.randrange(65536)      # sometimes a lie
        options += struct.pack("!HH", rng.choice([8, 10, 12, 15, rng.randrange(65536)]), length) + data
    ttl = (rng.randrange(256) << 24) | (rng.choice([0, 0, 1, rng.randrange(256)]) << 16) | rng.randrange(65536)
    rdlen = len(options) if rng.random() < 0.8 else rng.randrange(65536)
    return b"\x00" + struct.pack("!HHIH", 41, rng.choice([512, 1232, 4096, 0, 65535]), ttl, rdlen) + options


def packet(rng: random.Random) -> tuple[str, bytes]:
    """One malformed or random DNS message: (what kind it is, its bytes)."""
    kind = rng.randrange(12)
    if kind == 0:
        return "random", rng.randbytes(rng.randrange(0, 600))
    if kind == 1:
        return "short header", _query(rng)[:rng.randrange(0, 12)]
    if kind == 2:
        wire = bytearray(_query(rng))
        for _ in range(rng.randrange(1, 6)):
            wire[rng.randrange(len(wire))] = rng.randrange(256)
        return "flipped", bytes(wire)
    if kind == 3:
        wire = _query(rng)
        return "cut", wire[:rng.randrange(12, len(wire))]
    if kind == 4:
        return "trailing", _query(rng) + rng.randbytes(rng.randrange(1, 100))
    if kind == 5:       # a label longer than what is left, or of a reserved type (0x40, 0x80)
        first = rng.choice([63, 62, rng.randrange(0x40, 0xC0)])
        return "bad label", _header(rng) + bytes([first]) + b"abc" + struct.pack("!HH", 1, 1)
    if kind == 6:       # compression: a pointer to itself, two pointing at each other, a forward one
        shape = rng.randrange(3)
        if shape == 0:
            name = b"\xc0\x0c"
        elif shape == 1:
            name = b"\x01a\xc0\x0e\xc0\x0c"
        else:
            name = b"\xc0" + bytes([rng.randrange(12, 256)])
        return "compression", _header(rng) + name + struct.pack("!HH", 1, 1)
    if kind == 7:       # counts that claim far more than is there
        counts = [rng.choice([0, 1, 2, 0xFFFF, rng.randrange(65536)]) for _ in range(4)]
        return "huge counts", _header(rng, *counts) + _question(rng)
    if kind == 8:       # OPT records: random versions, flags, options, lying lengths, several
        opts = b"".join(_opt(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        return "edns", _header(rng, ar=opts.count(b"\x00\x29")) + _question(rng) + opts
    if kind == 9:       # random qtype and class, including meta types
        return "qtype/class", _header(rng) + _question(rng)
    if kind == 10:      # random opcode and flags
        return "flags", _header(rng, flags=rng.randrange(65536)) + _question(rng)
    # several questions, and records in the answer and authority sections of a query
    sections = [rng.randrange(0, 4) for _ in range(3)]
    body = b"".join(_question(rng) for _ in range(sections[0]))
    body += b"".join(_name(rng) + struct.pack("!HHIH", 1, 1, 30, 4) + rng.randbytes(4)
                     for _ in range(sections[1] + sections[2]))
    return "sections", _header(rng, sections[0], sections[1], sections[2], 0) + body


# --- sending ----------------------------------------------------------------------------------------
@dataclass
class Result:
    udp: int = 0
    tcp: int = 0
    replies: int = 0
    seconds: float = 0.0
    kinds: dict = field(default_factory=dict)


def _sentinel(sock: socket.socket, address, ident: int, deadline: float) -> int:
    """Send a valid query and read until its answer comes back; returns the replies read."""
    q = dns.message.make_query(CHECK[0], CHECK[1])
    q.id = ident
    sock.sendto(q.to_wire(), address)
    seen = 0
    while True:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            if time.monotonic() >= deadline:
                raise AssertionError("the DNS server stopped answering over UDP") from None
            sock.sendto(q.to_wire(), address)        # a full buffer may have dropped it: ask again
            continue
        seen += 1
        if len(data) >= 2 and data[:2] == struct.pack("!H", ident):
            return seen


def _tcp_attack(rng: random.Random, address, wire: bytes) -> str:
    """One TCP connection with a framing fault (or a well-framed bad message)."""
    shape = rng.randrange(6)
    with socket.create_connection(address, timeout=5) as s:
        if shape == 0:
            s.sendall(struct.pack("!H", len(wire)) + wire)
            label = "framed"
        elif shape == 1:
            s.sendall(struct.pack("!H", len(wire) + rng.randrange(1, 500)) + wire)   # claims more
            label = "prefix too long"
        elif shape == 2:
            s.sendall(struct.pack("!H", max(0, len(wire) - rng.randrange(1, 12))) + wire)  # claims less
            label = "prefix too short"
        elif shape == 3:
            s.sendall(struct.pack("!H", len(wire))[:1])                                 # half a prefix
            label = "half prefix"
        elif shape == 4:
            s.sendall(struct.pack("!H", len(wire)) + wire[:len(wire) // 2])             # half a message
            label = "half message"
        else:
            s.sendall(b"".join(struct.pack("!H", len(w)) + w for w in (wire, _query(rng), wire)))
            label = "pipelined"
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(65535):
                pass
        except OSError:
            pass
    return label


def fuzz(address: tuple[str, int], seed: int, count: int, *, tcp_every: int = 20, batch: int = 32) -> Result:
    if address[0] != HOST:
        raise ValueError("the fuzzer sends to 127.0.0.1 only")
    rng = random.Random(seed)
    result = Result()
    start = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sent_in_batch = 0
        for i in range(count):
            kind, wire = packet(rng)
            result.kinds[kind] = result.kinds.get(kind, 0) + 1
            if tcp_every and i % tcp_every == tcp_every - 1:
                label = _tcp_attack(rng, address, wire)
                result.kinds["tcp " + label] = result.kinds.get("tcp " + label, 0) + 1
                result.tcp += 1
                continue
            sock.sendto(wire, address)
            result.udp += 1
            sent_in_batch += 1
            if sent_in_batch >= batch:
                result.replies += _sentinel(sock, address, rng.randrange(65536), time.monotonic() + 10) - 1
                sent_in_batch = 0
        result.replies += _sentinel(sock, address, 4242, time.monotonic() + 10) - 1
    result.seconds = time.monotonic() - start
    return result


def answer(address: tuple[str, int], tcp: bool = False) -> tuple[int, list[str]]:
    """(rcode, sorted answer records) for the check question."""
    q = dns.message.make_query(*CHECK)
    r = (dns.query.tcp if tcp else dns.query.udp)(q, address[0], port=address[1], timeout=5)
    return r.rcode(), sorted(rr.to_text() for rrset in r.answer for rr in rrset)


# --- the command -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tcp-every", type=int, default=20, help="one packet in N goes over TCP")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from labkit.sandbox import Sandbox, SandboxConfig

    with tempfile.TemporaryDirectory() as home, \
            Sandbox(home=home, config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        address = sb.dns.address
        before = answer(address)
        result = fuzz(address, args.seed, args.count, tcp_every=args.tcp_every)
        after_udp, after_tcp = answer(address), answer(address, tcp=True)
        alive = sb.dns._udp_thread is not None and sb.dns._udp_thread.is_alive()
        faults = sb.dns.faults.total
        log = (Path(home) / "sandbox.log")
        log_lines = len(log.read_text().splitlines()) if log.exists() else 0
    print(f"seed {args.seed}: {result.udp + result.tcp} packets ({result.udp} UDP, {result.tcp} TCP "
          f"connections) in {result.seconds:.1f} s, {result.replies} replies to fuzz packets")
    for kind, n in sorted(result.kinds.items()):
        print(f"  {kind:20} {n}")
    print(f"check question {CHECK[0]} {CHECK[1]}: before {before}, after (UDP) {after_udp}, after (TCP) {after_tcp}")
    print(f"UDP thread alive: {alive}; exceptions caught and logged: {faults}; sandbox.log lines: {log_lines}")
    ok = before == after_udp == after_tcp and alive
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

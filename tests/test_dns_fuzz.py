"""The DNS server under a seeded fuzzer (scripts/fuzz_dns.py), and what it logs when it fails.

CI sends 3000 packets (a few seconds); the long run is `scripts/fuzz_dns.py --count 100000`.
All packets go to the sandbox's DNS server on 127.0.0.1.
"""
from __future__ import annotations

import importlib.util
import random
import socket
import struct
import sys
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from .conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fuzzer():
    spec = importlib.util.spec_from_file_location("fuzz_dns", ROOT / "scripts" / "fuzz_dns.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_dns"] = module          # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_packets_are_seeded_and_cover_every_kind(fuzzer):
    def run(seed):
        rng = random.Random(seed)
        return [fuzzer.packet(rng) for _ in range(50)]
    assert run(7) == run(7) and run(7) != run(8)
    rng = random.Random(3)
    kinds = {fuzzer.packet(rng)[0] for _ in range(500)}
    assert kinds == {"random", "short header", "flipped", "cut", "trailing", "bad label", "compression",
                     "huge counts", "edns", "qtype/class", "flags", "sections"}


@pytest.mark.parametrize("seed", [1, 2])
def test_3000_fuzzed_packets_leave_the_server_answering_as_before(sandbox, fuzzer, seed):
    server = sandbox.dns
    before = fuzzer.answer(server.address)
    assert before[1] == ["10.0.0.1"]
    faults = server.faults.total
    result = fuzzer.fuzz(server.address, seed, 3000)
    assert result.udp + result.tcp == 3000 and result.tcp > 100
    assert result.replies > 1000            # most packets reached the parser and were answered
    assert fuzzer.answer(server.address) == before
    assert fuzzer.answer(server.address, tcp=True) == before
    assert server._udp_thread.is_alive()
    # Every exception the serving loops caught is in the fault log (none is expected).
    assert server.faults.total == faults, server.faults.counts


def test_the_fuzzer_refuses_any_address_but_loopback(fuzzer):
    with pytest.raises(ValueError):
        fuzzer.fuzz(("10.0.0.10", 53), 1, 1)


def test_an_exception_while_answering_is_logged_once_and_answered_servfail(sandbox, monkeypatch):
    """dns/_server recovers what answering raises as CoreDNS's server recovers a plugin's
    panic (core/dnsserver/server.go ServeDNS: recover, then errorFunc): the client gets
    SERVFAIL (SetRcode: the question and ID echoed, RD copied, no AA), the first failure
    of a kind is logged with its traceback to sandbox.log, repeats are counted (a tally
    at 10, 100...), and serving goes on, on the same TCP connection too."""
    server = sandbox.dns
    real = server._handle

    def flaky(data, transport, client_port, client):
        if b"\x05boom1" in data:
            raise ZeroDivisionError("fuzzed into a corner")
        return real(data, transport, client_port, client)
    monkeypatch.setattr(server, "_handle", flaky)
    host, port = server.address
    bad = dns.message.make_query("boom1.default.svc.cluster.local.", "A", use_edns=0)
    good = dns.message.make_query("kubernetes.default.svc.cluster.local.", "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        for i in range(10):
            bad.id = 100 + i
            s.sendto(bad.to_wire(), (host, port))
            reply = dns.message.from_wire(s.recv(65535))
            assert reply.id == 100 + i and reply.rcode() == dns.rcode.SERVFAIL
            assert reply.question == bad.question and not reply.answer
            assert reply.flags & dns.flags.RD and not reply.flags & dns.flags.AA
            assert reply.edns == 0                       # SizeAndDo: the request's OPT
    # TCP: SERVFAIL too, and the connection keeps serving.
    with socket.create_connection((host, port), timeout=5) as c:
        c.settimeout(5)
        for msg in (bad, good):
            wire = msg.to_wire()
            c.sendall(struct.pack("!H", len(wire)) + wire)
            (length,) = struct.unpack("!H", _recv_exactly(c, 2))
            reply = dns.message.from_wire(_recv_exactly(c, length))
            if msg is bad:
                assert reply.rcode() == dns.rcode.SERVFAIL and reply.question == bad.question
            else:
                assert [rr.to_text() for rrset in reply.answer for rr in rrset] == ["10.0.0.1"]
    wait_for(lambda: sum(n for k, n in server.faults.counts.items() if k[1] == "ZeroDivisionError") >= 11)
    reply = dns.query.udp(good, host, port=port, timeout=5)
    assert [rr.to_text() for rrset in reply.answer for rr in rrset] == ["10.0.0.1"]
    assert server._udp_thread.is_alive()
    text = (sandbox.home / "sandbox.log").read_text()
    assert text.count("dns udp: unexpected ZeroDivisionError") == 1
    assert text.count("dns tcp: unexpected ZeroDivisionError") == 1
    assert 'raise ZeroDivisionError("fuzzed into a corner")' in text
    assert "has now happened 10 times" in text          # the tally, not ten tracebacks
    # CoreDNS's own line for a recovered panic, in the pods that served those flows.
    pods = [p for p in sandbox.store.list("pods", "kube-system") if p["metadata"]["name"].startswith("coredns-")]
    lines = [line for p in pods for line in server.coredns_logs.read("kube-system", p["metadata"]["name"])[0]]
    panic = '[ERROR] Recovered from panic in server: "dns://:53" ZeroDivisionError: fuzzed into a corner'
    assert lines.count(panic) == 11


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data

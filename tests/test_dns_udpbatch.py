"""UDP served in recvmmsg/sendmmsg batches: the same replies, to the same clients, as the
recvfrom loop, whatever a burst mixes (dropped datagrams, errors, large ones)."""
from __future__ import annotations

import socket
import sys
import time

import dns.message
import dns.rcode
import pytest

from labkit.sandbox._config import SandboxConfig
from labkit.sandbox.dns import _udpbatch

try:
    from .test_dns_server import WEB, Running, make_cluster
except ImportError:          # tests/ run as plain files (rootdir on sys.path)
    from test_dns_server import WEB, Running, make_cluster

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="recvmmsg is Linux's")


def burst(qid_base: int) -> list[bytes]:
    """A lesson's queries with, in between, datagrams the server drops or refuses."""
    out = []
    for i, (name, rdtype) in enumerate([(WEB, "A"), (WEB, "AAAA"), ("missing." + WEB, "A"),
                                        ("_http._tcp." + WEB, "SRV"), ("example.com.", "A")] * 4):
        msg = dns.message.make_query(name, rdtype)
        msg.id = qid_base + i
        out.append(msg.to_wire())
    reply = dns.message.make_response(dns.message.make_query(WEB, "A"))
    out.insert(3, reply.to_wire())                                    # a response: dropped
    out.insert(7, b"\x12\x34\x01")                                    # no header: dropped
    big = dns.message.make_query(WEB, "A", id=qid_base + 90).to_wire() + b"\x00" * 3000
    out.insert(11, big)                                               # trailing bytes: FORMERR
    return out


def replies(running: Running, clients: int = 3) -> tuple[dict, list[dict]]:
    """Each client's burst sent before anything is read, then every reply read back:
    {(client, id): (rcode, sorted answer texts)}, and the query log."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(clients)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
            s.settimeout(2)
        for n, s in enumerate(socks):
            for wire in burst(1000 * n):
                s.sendto(wire, (running.host, running.port))
        got = {}
        for n, s in enumerate(socks):
            for _ in range(21):         # 20 queries and the FORMERR; the two dropped get nothing
                msg = _parse(s.recv(65535))
                got[(n, msg[0])] = msg[1:]
            s.settimeout(0.2)
            with pytest.raises(socket.timeout):
                s.recv(65535)
        ports = {s.getsockname()[1]: n for n, s in enumerate(socks)}
        log = [dict(e, client_port=ports.get(e["client_port"])) for e in running.server.log.entries()]
        return got, log
    finally:
        for s in socks:
            s.close()


def _parse(wire: bytes) -> tuple:
    qid, rcode = int.from_bytes(wire[:2], "big"), wire[3] & 0xF
    if rcode == dns.rcode.FORMERR:
        return qid, rcode, ()
    msg = dns.message.from_wire(wire)
    return qid, rcode, tuple(sorted(rd.to_text() for rrset in msg.answer for rd in rrset))


def _without_time(log):
    return sorted((e["client_port"], e["qname"], e["qtype"], e["rcode"], tuple(e["answers"]))
                  for e in log)


@linux_only
def test_batches_are_available_on_linux():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        assert _udpbatch.available(s)


def test_a_burst_gets_the_replies_the_recvfrom_loop_sends(monkeypatch):
    config = SandboxConfig(dns_loadbalance=False)
    batched = Running(make_cluster(), config)
    try:
        got, log = replies(batched)
    finally:
        batched.close()
    monkeypatch.setattr(_udpbatch, "available", lambda sock: False)
    plain = Running(make_cluster(), config)
    try:
        want, want_log = replies(plain)
    finally:
        plain.close()
    assert got == want
    assert len(got) == 63 and got[(1, 1000)][0] == dns.rcode.NOERROR
    assert got[(2, 2090)] == (dns.rcode.FORMERR, ())
    assert _without_time(log) == _without_time(want_log)
    assert {e["client_port"] for e in log} == {0, 1, 2}     # each row names its client's port


def test_stopping_ends_a_thread_waiting_in_recvmmsg():
    running = Running(make_cluster())
    assert running.udp(WEB).answer
    thread = running.server._udp_thread
    t0 = time.monotonic()
    running.close()
    assert not thread.is_alive() and time.monotonic() - t0 < 2

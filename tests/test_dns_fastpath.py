"""The DNS server's kept replies: byte for byte what the full path sends, and never stale.

Each case runs one request sequence through two servers with the same seed and a
frozen clock: one answers from kept wire where it can, the other renders every reply.
"""
from __future__ import annotations

import socket
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.query

from labkit.sandbox._clock import Clock
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox._dnsclients import DnsClientRegistry
from labkit.sandbox.dns import DnsServer

try:
    from .test_dns_answer import endpoint_slice, service
    from .test_dns_server import BIG, WEB, Running, ips, make_cluster
except ImportError:          # tests/ run as plain files (rootdir on sys.path)
    from test_dns_answer import endpoint_slice, service
    from test_dns_server import BIG, WEB, Running, ips, make_cluster


class FrozenClock(Clock):
    """Time that moves only when told, so both servers see the same remaining TTLs."""

    def __init__(self) -> None:
        super().__init__()
        self._now = 1_800_000_000.0

    def time(self) -> float:
        return self._now + self._offset

    def monotonic(self) -> float:
        return 1000.0 + self._offset


def query(name, rdtype="A", qid=1234, **kw):
    msg = dns.message.make_query(name, rdtype, **kw)
    msg.id = qid
    return msg.to_wire()


def pair(config=None, cluster=None):
    clock = FrozenClock()
    cluster = cluster or make_cluster()
    fast = DnsServer(cluster, config or SandboxConfig(), clock, clients=DnsClientRegistry())
    full = DnsServer(cluster, config or SandboxConfig(), clock, clients=DnsClientRegistry())
    return fast, full, clock, cluster


def both(fast, full, wire, transport="udp"):
    full.chain.cache.kept.clear()      # the reference never answers from kept wire
    return fast.handle(wire, transport, 5353), full.handle(wire, transport, 5353)


def logs(server):
    return [{k: v for k, v in e.items() if k != "time"} for e in server.log.entries()]


REQUESTS = [
    query(WEB), query(WEB, qid=7), query(WEB, "AAAA"),
    query("WEB-svc.Default.svc.cluster.local."),                     # case echoed
    query("missing.default.svc.cluster.local."),                     # NXDOMAIN + SOA
    query("_http._tcp." + WEB, "SRV"),                               # additional section
    query("37.100.10.10.in-addr.arpa.", "PTR"),
    query("example.com."),                                           # forwarded
    query(WEB, use_edns=0, payload=1232, want_dnssec=True),          # OPT echoed, DO set
    query(WEB, use_edns=0, options=[dns.edns.GenericOption(10, b"12345678")]),   # cookie
    query(BIG),                                                      # truncated over UDP
    query(BIG, use_edns=0, payload=4096),
]


def test_kept_replies_are_byte_identical_with_the_same_shuffles_and_ttls():
    fast, full, clock, _ = pair()
    for step in range(40):
        for i, wire in enumerate(REQUESTS):
            got, want = both(fast, full, bytes([step, i]) + wire[2:])
            assert got == want, (step, i)
        if step % 3 == 2:
            clock.advance(4)                     # TTLs count down; entries expire at 30 s
    for _ in range(3):
        for wire in REQUESTS:
            got, want = both(fast, full, wire, "tcp")
            assert got == want
    assert logs(fast) == logs(full)
    assert sum(e["cached"] for e in logs(fast)) > 0.8 * len(logs(fast))


def test_tcp_replies_are_kept_apart_from_udp_ones():
    fast, full, _, _ = pair()
    for _ in range(3):
        udp = both(fast, full, query(BIG), "udp")
        tcp = both(fast, full, query(BIG), "tcp")
        assert udp[0] == udp[1] and tcp[0] == tcp[1]
    assert len(ips(dns.message.from_wire(tcp[0]))) == 45
    assert dns.message.from_wire(udp[0]).flags & dns.flags.TC


def test_without_the_cache_a_cluster_change_shows_at_once():
    fast, full, _, cluster = pair(SandboxConfig(dns_cache_seconds=0))
    for _ in range(3):
        got, want = both(fast, full, query(WEB))
        assert got == want and len(ips(dns.message.from_wire(got))) == 3
    cluster.add(endpoint_slice("web-svc", [("10.10.100.41", True, None)], suffix="new"))
    got, want = both(fast, full, query(WEB))
    assert got == want and "10.10.100.41" in ips(dns.message.from_wire(got))
    assert not any(e["cached"] for e in logs(fast))


def test_clearing_the_cache_drops_kept_replies():
    fast, _, _, cluster = pair()
    fast.handle(query("late.default.svc.cluster.local."), "udp", 1)
    fast.handle(query("late.default.svc.cluster.local."), "udp", 1)
    cluster.add(service("late", cluster_ip="10.0.0.77"))
    assert dns.message.from_wire(fast.handle(query("late.default.svc.cluster.local."), "udp", 1)
                                 ).rcode() == 3          # still the cached NXDOMAIN
    fast.cache.clear()
    reply = dns.message.from_wire(fast.handle(query("late.default.svc.cluster.local."), "udp", 1))
    assert ips(reply) == ["10.0.0.77"]


def test_a_corefile_edit_applies_to_kept_replies():
    corefile = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "coredns", "namespace": "kube-system"},
                "data": {"Corefile": ".:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n"
                                     "    cache 30\n    loadbalance\n}\n"}}
    cluster = make_cluster()
    cluster.add(corefile)
    fast, _, _, _ = pair(cluster=cluster)
    orders = {tuple(ips(dns.message.from_wire(fast.handle(query(WEB), "udp", 1)))) for _ in range(20)}
    assert len(orders) > 1
    cluster.remove("configmaps", "kube-system", "coredns")
    cluster.add(dict(corefile, data={"Corefile": corefile["data"]["Corefile"].replace(
        "    loadbalance\n", "")}))
    orders = {tuple(ips(dns.message.from_wire(fast.handle(query(WEB), "udp", 1)))) for _ in range(20)}
    assert len(orders) == 1


def test_udp_answers_while_the_event_loop_is_busy():
    """UDP has its own thread: a slow API request on the loop does not hold up DNS."""
    running = Running(make_cluster())
    try:
        running.udp(WEB)
        blocked = threading.Event()
        running.loop.call_soon_threadsafe(lambda: (blocked.set(), time.sleep(1.0)))
        blocked.wait(2)
        t0 = time.monotonic()
        assert len(ips(running.udp(WEB))) == 3
        assert time.monotonic() - t0 < 0.5
    finally:
        running.close()


def test_stop_closes_the_port_and_a_new_server_can_start():
    running = Running(make_cluster())
    host, port = running.host, running.port
    assert running.udp(WEB).answer
    running.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, port))                  # the UDP port is free again
    again = Running(make_cluster())
    try:
        assert again.udp(WEB).answer
    finally:
        again.close()


def test_a_kept_reply_runs_no_stage():
    """A repeated request is answered by the chain's replay: no stage of the chain runs."""
    fast, _, _, _ = pair()
    for _ in range(2):                   # a miss fills the cache, the first hit is kept
        fast.handle(query(WEB), "udp", 1)
    stages = fast.chain.stages

    def refuse(request):
        raise AssertionError(f"a stage ran for a kept reply: {stages}")
    for stage in stages:
        stage.serve = refuse
    again = fast.handle(query(WEB, qid=99), "udp", 1)
    assert again[:2] == (99).to_bytes(2, "big") and len(ips(dns.message.from_wire(again))) == 3
    assert [e["cached"] for e in logs(fast)] == [False, True, True]


def test_replay_in_front_of_rewrite_and_a_stub_block_matches_the_full_path():
    """With rewrite and a second server block in front of the cache, the replay still sends
    what the stages would: renamed requests are never kept, stub-zone ones never reach it."""
    from labkit.sandbox import _bootstrap
    base = _bootstrap.corefile(SandboxConfig())
    text = base.replace("    errors\n", "    errors\n    rewrite name exact db.local "
                        + WEB.rstrip(".") + "\n") + (
        "corp.internal:53 {\n    errors\n    forward . 192.168.53.53:53\n}\n")
    cluster = make_cluster()
    cluster.add({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "coredns", "namespace": "kube-system"},
                 "data": {"Corefile": text}})
    fast, full, clock, _ = pair(cluster=cluster)
    fast.sync_corefile()
    assert fast.chain.replay is not None and "rewrite" in fast.chain.plugins
    requests = [query(WEB), query("db.local."), query("missing.default.svc.cluster.local."),
                query("host.corp.internal."), query("_http._tcp." + WEB, "SRV")]
    for step in range(6):
        for i, wire in enumerate(requests):
            got, want = both(fast, full, bytes([step, i]) + wire[2:])
            assert got == want, (step, i)
        clock.advance(7)
    assert logs(fast) == logs(full)
    assert len(fast.chain.cache.kept) == 3        # db.local is renamed, corp.internal a stub

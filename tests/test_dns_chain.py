"""The DNS plugin chain: one object, built from the Corefile, asked by the server and answer().

CoreDNS stacks a server block's plugins in plugin.cfg order, not in the Corefile's
(core/dnsserver/server.go NewServer); a panic in a plugin is recovered by the server
and answered SERVFAIL (ServeDNS's recover, errorFunc).
"""
from __future__ import annotations

import random

import dns.flags
import dns.message
import dns.rcode

from labkit.sandbox._config import SandboxConfig
from labkit.sandbox._dnsclients import DnsClientRegistry
from labkit.sandbox.dns import ClusterIndex, DnsServer, answer
from labkit.sandbox.dns._chain import Kubernetes

try:
    from .test_dns_fastpath import FrozenClock, query
    from .test_dns_server import WEB, ips, make_cluster
except ImportError:          # tests/ run as plain files (rootdir on sys.path)
    from test_dns_fastpath import FrozenClock, query
    from test_dns_server import WEB, ips, make_cluster

# The Corefile lists its plugins in an order of its own; plugin.cfg decides the chain.
SHUFFLED_COREFILE = """.:53 {
    loadbalance
    cache 30
    forward . /etc/resolv.conf
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    log
    errors
}
"""


def corefile(text):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": text}}


def server(cluster=None, config=None):
    return DnsServer(cluster or make_cluster(), config or SandboxConfig(), FrozenClock(),
                     clients=DnsClientRegistry())


def test_the_chain_follows_plugin_cfg_order_whatever_the_corefile_order():
    cluster = make_cluster()
    cluster.add(corefile(SHUFFLED_COREFILE))
    dns_server = server(cluster)
    dns_server.sync_corefile()
    assert dns_server.chain.plugins == ("log", "loadbalance", "cache", "kubernetes", "forward")
    # Without `log` and `loadbalance` the stages are gone, not skipped on every query.
    cluster.remove("configmaps", "kube-system", "coredns")
    cluster.add(corefile(SHUFFLED_COREFILE.replace("    loadbalance\n", "").replace("    log\n", "")))
    dns_server.sync_corefile()
    assert dns_server.chain.plugins == ("cache", "kubernetes", "forward")


def test_answer_and_the_server_ask_the_same_chain():
    """With the cache off, the server's replies are answer()'s, draw for draw."""
    config = SandboxConfig(dns_cache_seconds=0)
    dns_server = server(config=config)
    index = ClusterIndex.build(make_cluster(), config, serial=int(FrozenClock().time()))
    rng = random.Random(f"dns-loadbalance:{config.seed}")       # the server's seeded draws
    names = [(WEB, "A"), ("_http._tcp." + WEB, "SRV"), ("missing.default.svc.cluster.local.", "A"),
             ("37.100.10.10.in-addr.arpa.", "PTR"), ("example.com.", "A"), (WEB, "A")]
    for i, (name, rdtype) in enumerate(names * 3):
        msg = dns.message.make_query(name, rdtype)
        msg.id = i
        got = dns.message.from_wire(dns_server.handle(msg.to_wire(), "tcp", 1))
        want = answer(msg, index, rng=rng, outside=config.outside_world)
        assert got == want and got.answer == want.answer, (name, rdtype)
        assert [rrset.to_text() for rrset in got.additional] == \
            [rrset.to_text() for rrset in want.additional]


def test_a_failing_plugin_is_answered_servfail_and_logged(monkeypatch):
    dns_server = server()
    assert len(ips(dns.message.from_wire(dns_server.handle(query(WEB), "udp", 1)))) == 3

    def broken(self, request):
        raise KeyError("a bug in the kubernetes plugin")
    monkeypatch.setattr(Kubernetes, "serve", broken)
    for rdtype in ("A", "AAAA"):      # AAAA is not cached yet: it reaches the kubernetes stage
        wire = query("missing.default.svc.cluster.local.", rdtype, qid=77, use_edns=0,
                     want_dnssec=True)
        reply = dns.message.from_wire(dns_server.handle(wire, "udp", 1))
        assert reply.id == 77 and reply.rcode() == dns.rcode.SERVFAIL
        assert not reply.answer and not reply.authority
        assert reply.flags & dns.flags.RD and not reply.flags & (dns.flags.AA | dns.flags.RA)
        assert reply.edns == 0 and reply.ednsflags & dns.flags.DO     # state.SizeAndDo
    assert sum(dns_server.faults.counts.values()) == 2 and len(dns_server.faults.counts) == 1
    (kind,) = dns_server.faults.counts
    assert kind[:2] == ("dns udp", "KeyError")
    # What the cache already holds is still answered; a rejected packet still gets FORMERR.
    assert len(ips(dns.message.from_wire(dns_server.handle(query(WEB), "udp", 1)))) == 3
    formerr = dns.message.from_wire(dns_server.handle(query(WEB)[:20], "udp", 1))
    assert formerr.rcode() == dns.rcode.FORMERR

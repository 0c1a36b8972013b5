"""Rules found by comparing the sandbox's DNS with a real CoreDNS 1.10.1 (see
tests/test_coredns_differential.py), pinned here so they hold without the oracle."""
from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from labkit.sandbox.dns._answer import RR, Reply, _rdata
from labkit.sandbox.dns._wire import render

try:
    from .test_dns_answer import SOA, ask, index, records  # noqa: F401  (index: a fixture)
    from .test_dns_answer import endpoint_slice, service
    from .test_dns_server import dns_server  # noqa: F401  (a fixture)
except ImportError:          # tests/ run as plain files (rootdir on sys.path)
    from test_dns_answer import SOA, ask, index, records  # noqa: F401
    from test_dns_answer import endpoint_slice, service
    from test_dns_server import dns_server  # noqa: F401

BELOW_APEX = ["web-svc.default.svc.cluster.local", "missing.default.svc.cluster.local",
              "svc.cluster.local", "10-10-100-37.default.pod.cluster.local",
              "nosuch.cluster.local", "37.100.10.10.in-addr.arpa", "10.in-addr.arpa"]


@pytest.mark.parametrize("name", BELOW_APEX)
def test_soa_below_the_apex_is_nodata_whatever_the_name(index, name):
    # handler.go: `case dns.TypeSOA: if qname == zone {...}`; no records and no error is
    # NOERROR with the zone's SOA in authority, even for a name that does not exist.
    msg = ask(index, name, "SOA")
    assert msg.rcode() == dns.rcode.NOERROR and msg.answer == []
    assert [r[1] for r in records(msg, "authority")] == ["SOA"]
    assert msg.flags & dns.flags.AA


def test_soa_at_the_apex_is_the_answer(index):
    msg = ask(index, "cluster.local", "SOA")
    assert records(msg) == [("cluster.local.", "SOA", 30, SOA)]
    assert ask(index, "CLUSTER.local", "SOA").answer[0].name.to_text() == "CLUSTER.local."


@pytest.mark.parametrize("name, rcode", [
    ("dns-version.cluster.local", dns.rcode.NOERROR),                # the one TXT record
    ("web-svc.default.svc.cluster.local", dns.rcode.NOERROR),        # exists: NODATA
    ("_http._tcp.web-clusterip.default.svc.cluster.local", dns.rcode.NOERROR),
    ("10-10-100-37.default.pod.cluster.local", dns.rcode.NOERROR),
    ("missing.default.svc.cluster.local", dns.rcode.NXDOMAIN),
    ("web-svc.nosuchns.svc.cluster.local", dns.rcode.NXDOMAIN),
    ("empty-svc.default.svc.cluster.local", dns.rcode.NXDOMAIN),     # no ready endpoints
    ("cluster.local", dns.rcode.NXDOMAIN),                           # the apex: no records
    ("svc.cluster.local", dns.rcode.NXDOMAIN),
    ("default.svc.cluster.local", dns.rcode.NXDOMAIN),
    ("ns.dns.cluster.local", dns.rcode.NXDOMAIN),
])
def test_txt_is_nxdomain_unless_the_name_has_records_of_another_type(index, name, rcode):
    # kubernetes.go Services, TXT: dns-version, else k.Records(): any record -> NODATA,
    # none (also for the apex, whose Records are empty without error) -> errNoItems.
    msg = ask(index, name, "TXT")
    assert msg.rcode() == rcode
    assert bool(msg.answer) == name.startswith("dns-version")


@pytest.mark.parametrize("name, rcode", [
    ("missing.default.svc.cluster.local", dns.rcode.NXDOMAIN),
    ("web-svc.default.svc.cluster.local", dns.rcode.NOERROR),
    ("ns.dns.cluster.local", dns.rcode.NOERROR),
])
def test_ns_below_the_apex_is_the_fake_a_lookup(index, name, rcode):
    # handler.go: NS for a name other than the zone falls through to `default`, which asks
    # as type A to tell NXDOMAIN from NODATA.
    msg = ask(index, name, "NS")
    assert msg.rcode() == rcode and msg.answer == []


def test_ns_below_a_reverse_apex_falls_through(index):
    msg = ask(index, "10.in-addr.arpa", "NS")
    assert not msg.flags & dns.flags.AA          # relayed upstream, as the forward plugin does


@pytest.mark.parametrize("rdtype", ["AXFR", "IXFR"])
@pytest.mark.parametrize("name", ["cluster.local", "web-svc.default.svc.cluster.local",
                                  "in-addr.arpa"])
def test_zone_transfers_are_refused(index, name, rdtype):
    # handler.go returns dns.RcodeRefused; core/dnsserver's errorFunc writes SetRcode only.
    msg = ask(index, name, rdtype)
    assert msg.rcode() == dns.rcode.REFUSED
    assert not msg.flags & (dns.flags.AA | dns.flags.RA)
    assert msg.answer == msg.authority == msg.additional == []


def test_compression_points_only_at_the_same_spelling():
    # miekg/dns keys its compression table on the name as written: a lower-case owner
    # under an upper-case question is written out, not pointed at the question.
    query = dns.message.make_query("WEB.default.svc.cluster.local", "A")
    owner = dns.name.from_text("web.default.svc.cluster.local")
    reply = Reply(dns.rcode.NOERROR, True, False, answer=[
        RR(owner, dns.rdatatype.A, 30, _rdata(dns.rdatatype.A, f"10.10.101.{i}"))
        for i in range(1, 40)])
    wire, truncated = render(query, reply, udp=True)       # 512 bytes: compressed, then cut
    assert truncated
    msg = dns.message.from_wire(wire)
    assert msg.question[0].name.to_text() == "WEB.default.svc.cluster.local."
    assert {rrset.name.to_text() for rrset in msg.answer} == {"web.default.svc.cluster.local."}
    # The same spelling is compressed: more records fit than written in full.
    same = dns.message.make_query("web.default.svc.cluster.local", "A")
    fits_same = len(dns.message.from_wire(render(same, reply, udp=True)[0]).answer[0])
    assert fits_same > len(msg.answer[0])


def test_a_cache_hit_keeps_the_spelling_that_filled_it_on_both_paths(dns_server):
    # plugin/cache item.go toMsg copies the stored records; only the question is new.
    # The second identical request is served by the fast path: the same spelling again.
    first = dns_server.udp("web-svc.DEFAULT.svc.cluster.local.", "SRV")
    assert first.answer
    for _ in range(3):
        for spelling in ("WEB-SVC.default.svc.cluster.local.", "web-svc.default.svc.cluster.local."):
            for msg in (dns_server.udp(spelling, "SRV"), dns_server.tcp(spelling, "SRV")):
                assert msg.question[0].name.to_text() == spelling
                assert {r.name.to_text() for r in msg.answer} == {"web-svc.DEFAULT.svc.cluster.local."}
                assert {r.name.to_text() for r in msg.additional} \
                    == {r.name.to_text() for r in first.additional}


def test_soa_serial_moves_only_with_changes_that_matter_to_dns(dns_server):
    # controller.go: Service and EndpointSlice events that change DNS data call
    # updateModified; with `pods insecure` pods are not watched, namespaces never count.
    def serial(name):
        return dns_server.udp(name, "A").authority[0][0].serial

    first = serial("missing-1.default.svc.cluster.local.")
    dns_server.clock.advance(5)
    dns_server.cluster.add({"kind": "Pod", "apiVersion": "v1",
                            "metadata": {"name": "p", "namespace": "default"}})
    dns_server.cluster.add({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "extra"}})
    assert serial("missing-2.default.svc.cluster.local.") == first
    dns_server.cluster.add(service("late"))
    dns_server.cluster.add(endpoint_slice("late", [("10.10.100.90", True, None)]))
    assert serial("missing-3.default.svc.cluster.local.") >= first + 5

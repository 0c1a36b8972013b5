"""The cluster DNS answer logic (a pure function) against CoreDNS's kubernetes plugin rules."""
from __future__ import annotations

import random

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox.dns import ClusterIndex, answer

CONFIG = SandboxConfig()
OUTSIDE = CONFIG.outside_world


def namespace(name):
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}}


def service(name, ns="default", cluster_ip="None", ports=(("http", 80),), **spec):
    body = {"clusterIP": cluster_ip, "ports": [
        {"name": n, "port": p, "protocol": "TCP", "targetPort": p} for n, p in ports], **spec}
    if cluster_ip not in ("None", None):
        body["clusterIPs"] = [cluster_ip]
    if cluster_ip is None:
        del body["clusterIP"]
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns}, "spec": body}


def endpoint_slice(svc, endpoints, ns="default", ports=(("http", 80),), suffix="abcde"):
    return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "addressType": "IPv4",
            "metadata": {"name": f"{svc}-{suffix}", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": svc}},
            "endpoints": [{"addresses": [ip], "conditions": {"ready": ready},
                           **({"hostname": host} if host else {})}
                          for ip, ready, host in endpoints],
            "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports]}


WEB_PODS = [("10.10.100.37", True, None), ("10.10.100.38", True, None),
            ("10.10.100.39", True, None), ("10.10.100.40", False, None)]


def cluster_objects():
    return [
        namespace("default"), namespace("test"), namespace("kube-system"),
        service("kube-dns", "kube-system", "10.0.0.10", (("dns", 53), ("dns-tcp", 53))),
        service("web-svc"),                                        # headless
        endpoint_slice("web-svc", WEB_PODS),
        service("web-clusterip", cluster_ip="10.0.0.123", ports=(("http", 80), ("metrics", 9090))),
        endpoint_slice("web-clusterip", WEB_PODS[:1], ports=(("http", 80), ("metrics", 9090))),
        service("ext", cluster_ip=None, type="ExternalName", externalName="example.com"),
        service("ext-in", cluster_ip=None, type="ExternalName",
                externalName="web-clusterip.default.svc.cluster.local"),
        service("db"),                                             # pod hostname + subdomain
        endpoint_slice("db", [("10.10.100.50", True, "db-0")], ports=(("postgres", 5432),)),
        service("empty-svc"),                                      # no ready endpoints
        endpoint_slice("empty-svc", [("10.10.100.60", False, None)]),
        service("api", "test", "10.0.0.200"),
    ]


@pytest.fixture(scope="module")
def index():
    return ClusterIndex.build(StaticCluster(cluster_objects()), CONFIG, serial=1700000000)


def ask(index, name, rdtype="A", *, edns=False, rng=None):
    query = dns.message.make_query(name, rdtype, use_edns=0 if edns else False)
    return answer(query, index, rng=rng, outside=OUTSIDE)


def records(msg, section="answer"):
    return [(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rd.to_text())
            for rrset in getattr(msg, section) for rd in rrset]


def values(msg):
    return [r[3] for r in records(msg)]


SOA = "ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30"


def test_headless_service_lists_ready_endpoints_only(index):
    msg = ask(index, "web-svc.default.svc.cluster.local")
    assert msg.rcode() == dns.rcode.NOERROR
    assert values(msg) == ["10.10.100.37", "10.10.100.38", "10.10.100.39"]
    assert {r[2] for r in records(msg)} == {30}


def test_cluster_answers_are_authoritative_without_recursion_available(index):
    # handler.go sets only Authoritative: dig shows "flags: qr aa rd" against CoreDNS.
    msg = ask(index, "web-svc.default.svc.cluster.local")
    assert msg.flags & dns.flags.AA and msg.flags & dns.flags.RD
    assert not msg.flags & dns.flags.RA


def test_clusterip_service_answers_its_virtual_ip(index):
    assert values(ask(index, "web-clusterip.default.svc.cluster.local")) == ["10.0.0.123"]


def test_name_matching_ignores_case_and_echoes_the_question(index):
    msg = ask(index, "WEB-svc.Default.SVC.cluster.LOCAL")
    assert msg.question[0].name.to_text() == "WEB-svc.Default.SVC.cluster.LOCAL."
    assert records(msg)[0][0] == "WEB-svc.Default.SVC.cluster.LOCAL."
    assert len(values(msg)) == 3


def test_aaaa_for_ipv4_service_is_nodata_with_zone_soa(index):
    msg = ask(index, "web-clusterip.default.svc.cluster.local", "AAAA")
    assert msg.rcode() == dns.rcode.NOERROR and msg.answer == []
    assert records(msg, "authority") == [("cluster.local.", "SOA", 30, SOA)]


@pytest.mark.parametrize("name", [
    "nosuch.default.svc.cluster.local",      # unknown service
    "web-svc.nosuchns.svc.cluster.local",    # unknown namespace
    "web-svc.svc.cluster.local",             # "namespace" web-svc
    "web-svc.cluster.local",                 # neither svc nor pod
    "a.b.c.web-svc.default.svc.cluster.local",  # too many labels
])
def test_unknown_names_are_nxdomain_with_zone_soa(index, name):
    msg = ask(index, name)
    assert msg.rcode() == dns.rcode.NXDOMAIN and msg.flags & dns.flags.AA
    assert records(msg, "authority") == [("cluster.local.", "SOA", 30, SOA)]


@pytest.mark.parametrize("name", ["cluster.local", "svc.cluster.local", "default.svc.cluster.local",
                                  "pod.cluster.local", "default.pod.cluster.local"])
def test_intermediate_names_exist_as_nodata(index, name):
    msg = ask(index, name)
    assert msg.rcode() == dns.rcode.NOERROR and msg.answer == []
    assert records(msg, "authority")[0][1] == "SOA"


def test_headless_without_ready_endpoints_is_nxdomain(index):
    assert ask(index, "empty-svc.default.svc.cluster.local").rcode() == dns.rcode.NXDOMAIN


def test_endpoint_names_dashed_ip_and_hostname(index):
    assert values(ask(index, "10-10-100-38.web-svc.default.svc.cluster.local")) == ["10.10.100.38"]
    assert values(ask(index, "db-0.db.default.svc.cluster.local")) == ["10.10.100.50"]
    # A not-ready endpoint has no name; an endpoint with a hostname has no dashed-IP name.
    assert ask(index, "10-10-100-40.web-svc.default.svc.cluster.local").rcode() == dns.rcode.NXDOMAIN
    assert ask(index, "10-10-100-50.db.default.svc.cluster.local").rcode() == dns.rcode.NXDOMAIN


def test_coredns_answers_endpoint_names_of_clusterip_services_too(index):
    assert values(ask(index, "10-10-100-37.web-clusterip.default.svc.cluster.local")) == ["10.10.100.37"]


def test_externalname_is_a_cname_followed_upstream(index):
    msg = ask(index, "ext.default.svc.cluster.local")
    assert [r[1] for r in records(msg)] == ["CNAME", "A"]
    assert values(msg) == ["example.com.", "93.184.215.14"]
    cname = ask(index, "ext.default.svc.cluster.local", "CNAME")
    assert values(cname) == ["example.com."]


def test_externalname_into_the_cluster_is_chased(index):
    assert values(ask(index, "ext-in.default.svc.cluster.local")) == [
        "web-clusterip.default.svc.cluster.local.", "10.0.0.123"]


def test_srv_named_port_on_headless_service_targets_endpoints(index):
    msg = ask(index, "_http._tcp.web-svc.default.svc.cluster.local", "SRV")
    assert values(msg) == [f"0 33 80 10-10-100-{n}.web-svc.default.svc.cluster.local." for n in (37, 38, 39)]
    assert [r[3] for r in records(msg, "additional")] == ["10.10.100.37", "10.10.100.38", "10.10.100.39"]


def test_srv_on_clusterip_targets_the_service_and_bare_name_lists_all_ports(index):
    one = ask(index, "_metrics._tcp.web-clusterip.default.svc.cluster.local", "SRV")
    assert values(one) == ["0 100 9090 web-clusterip.default.svc.cluster.local."]
    both = ask(index, "web-clusterip.default.svc.cluster.local", "SRV")
    assert values(both) == ["0 50 80 web-clusterip.default.svc.cluster.local.",
                            "0 50 9090 web-clusterip.default.svc.cluster.local."]
    assert records(both, "additional") == [
        ("web-clusterip.default.svc.cluster.local.", "A", 30, "10.0.0.123")]


def test_srv_unknown_port_is_nxdomain(index):
    assert ask(index, "_nope._tcp.web-svc.default.svc.cluster.local", "SRV").rcode() == dns.rcode.NXDOMAIN
    assert ask(index, "_http._udp.web-svc.default.svc.cluster.local", "SRV").rcode() == dns.rcode.NXDOMAIN


def test_ptr_for_endpoint_and_cluster_ip(index):
    assert values(ask(index, "37.100.10.10.in-addr.arpa", "PTR"))[0] == \
        "10-10-100-37.web-svc.default.svc.cluster.local."
    assert values(ask(index, "50.100.10.10.in-addr.arpa", "PTR")) == ["db-0.db.default.svc.cluster.local."]
    assert values(ask(index, "123.0.0.10.in-addr.arpa", "PTR")) == ["web-clusterip.default.svc.cluster.local."]


def test_ptr_for_unknown_pod_ip_falls_through_to_upstream_nxdomain(index):
    msg = ask(index, "99.100.10.10.in-addr.arpa", "PTR")
    assert msg.rcode() == dns.rcode.NXDOMAIN
    assert not msg.flags & dns.flags.AA and msg.flags & dns.flags.RA


def test_pod_names_with_pods_insecure(index):
    assert values(ask(index, "10-10-100-99.default.pod.cluster.local")) == ["10.10.100.99"]
    assert ask(index, "10-10-100-99.nosuchns.pod.cluster.local").rcode() == dns.rcode.NXDOMAIN
    assert ask(index, "not-an-ip.default.pod.cluster.local").rcode() == dns.rcode.NXDOMAIN


def test_dns_version_txt(index):
    msg = ask(index, "dns-version.cluster.local", "TXT")
    assert records(msg) == [("dns-version.cluster.local.", "TXT", 28800, '"1.1.0"')]


def test_soa_and_ns_at_the_apex(index):
    assert values(ask(index, "cluster.local", "SOA")) == [SOA]
    ns = ask(index, "cluster.local", "NS")
    assert values(ns) == ["kube-dns.kube-system.svc.cluster.local."]
    assert [r[3] for r in records(ns, "additional")] == ["10.0.0.10"]


def test_any_is_nodata_for_existing_names_and_nxdomain_otherwise(index):
    # handler.go: types it has no case for do a fake A lookup to pick NODATA or NXDOMAIN.
    assert ask(index, "web-svc.default.svc.cluster.local", "ANY").rcode() == dns.rcode.NOERROR
    assert ask(index, "nosuch.default.svc.cluster.local", "ANY").rcode() == dns.rcode.NXDOMAIN


def test_outside_names_answered_as_forwarded(index):
    msg = ask(index, "example.com")
    assert values(msg) == ["93.184.215.14"]
    assert msg.flags & dns.flags.RA and not msg.flags & dns.flags.AA
    nodata = ask(index, "example.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []
    missing = ask(index, "web-svc")
    assert missing.rcode() == dns.rcode.NXDOMAIN and records(missing, "authority")[0][0] == "."


def test_edns_is_echoed_with_the_clients_payload(index):
    msg = ask(index, "web-svc.default.svc.cluster.local", edns=True)
    assert msg.edns == 0 and msg.payload == dns.message.DEFAULT_EDNS_PAYLOAD
    assert ask(index, "web-svc.default.svc.cluster.local").edns == -1


def test_loadbalance_shuffle_is_deterministic_per_seed(index):
    def orders(seed):
        rng = random.Random(seed)
        return [tuple(values(ask(index, "web-svc.default.svc.cluster.local", rng=rng)))
                for _ in range(12)]
    assert orders(7) == orders(7)
    assert len(set(orders(7))) > 1
    assert all(sorted(o) == ["10.10.100.37", "10.10.100.38", "10.10.100.39"] for o in orders(7))


def test_index_follows_cluster_changes():
    cluster = StaticCluster(cluster_objects())
    before = ClusterIndex.build(cluster, CONFIG)
    cluster.add(endpoint_slice("web-svc", [("10.10.100.41", True, None)], suffix="fghij"))
    after = ClusterIndex.build(cluster, CONFIG)
    assert after.revision != before.revision
    assert "10.10.100.41" in values(ask(after, "web-svc.default.svc.cluster.local"))
    assert "10.10.100.41" not in values(ask(before, "web-svc.default.svc.cluster.local"))

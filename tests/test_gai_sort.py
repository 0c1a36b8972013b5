"""getaddrinfo's destination ordering in pods, and the pod addressing it depends on.

Sources: glibc sysdeps/posix/getaddrinfo.c rfc3484_sort (2.17, centos:7) and
nss/getaddrinfo.c (2.39+): rule 9 for IPv4 counts common prefix bits only inside the
source interface's subnet; check_pf.c keeps the interface prefixes only when the
namespace has a non-loopback IPv6 address. musl src/network/lookup_name.c returns
all-IPv4 answers unsorted. Calico gives pods a /32 (cni-plugin dataplane_linux.go);
kindnet/flannel a node's /24 (containernetworking/plugins ptp.go, bridge).
"""
from __future__ import annotations

import ipaddress

import pytest

from labkit.sandbox import Sandbox, SandboxConfig
from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox.runtime import _addrsort
from labkit.sandbox.runtime._addrsort import Interface

from tests.conftest import MANIFESTS
from tests.test_resolver import server  # noqa: F401  (fixture)

REPLICAS = 6
RUNS = 8
FQDN = "web-svc.default.svc.cluster.local"


# -- the rules alone -----------------------------------------------------------------

def _common_bits_in_subnet(src: str, dst: str, prefixlen: int) -> int:
    """glibc rule 9 for IPv4, written out bit by bit: 0 outside the source's subnet."""
    s, d = int(ipaddress.IPv4Address(src)), int(ipaddress.IPv4Address(dst))
    if prefixlen and (s >> (32 - prefixlen)) != (d >> (32 - prefixlen)):
        return 0
    n = 0
    while n < 32 and not ((s ^ d) >> (31 - n)) & 1:
        n += 1
    return n


DNS_ORDER = ["10.244.2.7", "10.244.1.9", "10.244.0.3", "10.244.1.6", "10.244.1.200"]


def test_glibc_rule9_ipv4_puts_same_subnet_first_longest_prefix_first_rest_in_dns_order():
    # The order glibc 2.36 gave in a network namespace with 10.244.1.5/24 and an fe80::.
    got = _addrsort.order(DNS_ORDER, Interface("10.244.1.5", 24, ipv6=True), "glibc")
    assert got == ["10.244.1.6", "10.244.1.9", "10.244.1.200", "10.244.2.7", "10.244.0.3"]
    bits = [_common_bits_in_subnet("10.244.1.5", a, 24) for a in got]
    assert bits == sorted(bits, reverse=True) and bits[-2:] == [0, 0]


def test_glibc_rule9_ipv4_outside_the_subnet_prefix_bits_do_not_count():
    # 10.244.0.3 shares 23 leading bits with 10.244.1.5 but is outside its /24: it scores 0,
    # as 10.244.2.7 (22 bits) does, so the DNS order between them stays.
    got = _addrsort.order(["10.244.2.7", "10.244.0.3"], Interface("10.244.1.5", 24, True), "glibc")
    assert got == ["10.244.2.7", "10.244.0.3"]


def test_glibc_slash32_interface_keeps_dns_order_but_own_address_first():
    # Calico's /32: only the pod's own address is "in the subnet".
    assert _addrsort.order(DNS_ORDER, Interface("10.244.1.5", 32, True), "glibc") == DNS_ORDER
    mine = DNS_ORDER + ["10.244.1.5"]
    assert _addrsort.order(mine, Interface("10.244.1.5", 32, True), "glibc") == ["10.244.1.5"] + DNS_ORDER


def test_glibc_without_ipv6_check_pf_drops_the_prefixes_so_a_slash24_does_not_reorder():
    # check_pf.c keeps the netlink address list only if seen_ipv6: prefixlen stays 0.
    assert _addrsort.order(DNS_ORDER, Interface("10.244.1.5", 24, ipv6=False), "glibc") == DNS_ORDER


def test_musl_lookup_name_leaves_all_ipv4_answers_unsorted():
    assert _addrsort.order(DNS_ORDER, Interface("10.244.1.5", 24, True), "musl") == DNS_ORDER


def test_glibc_rule8_loopback_scope_before_global():
    got = _addrsort.order(["10.244.2.7", "127.0.0.2"], Interface("10.244.1.5", 24, True), "glibc")
    assert got == ["127.0.0.2", "10.244.2.7"]


# -- pod addressing ------------------------------------------------------------------------

def test_default_pool_is_shared_and_pods_have_slash32():
    config = SandboxConfig()
    assert [config.node_pod_cidr(n) for n in config.nodes] == [None, None, None]
    assert not config.pods_have_link_local_ipv6


def test_large_pod_cidr_gives_each_node_a_slash24_as_node_ipam_does():
    config = SandboxConfig(pod_cidr="10.244.0.0/16")
    assert [config.node_pod_cidr(n) for n in config.nodes] == [
        "10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    assert config.pods_have_link_local_ipv6
    # Too small for one /24 per node: back to a shared pool.
    assert SandboxConfig(pod_cidr="10.244.0.0/23").node_pod_cidr("lab-worker") is None


def test_pod_interface_prefix_is_the_nodes_pod_cidr_when_the_address_is_inside_it():
    node = {"kind": "Node", "metadata": {"name": "lab-worker"},
            "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}}
    config = SandboxConfig(pod_cidr="10.244.0.0/16")

    def pod(ip, **spec):
        return {"kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                "spec": {"nodeName": "lab-worker", **spec},
                "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}
    cluster = StaticCluster([node])
    assert _addrsort.pod_interface(pod("10.244.1.5"), config, cluster) == Interface("10.244.1.5", 24, True)
    # An address outside the node's range (not what host-local gives): no subnet known.
    assert _addrsort.pod_interface(pod("10.244.7.5"), config, cluster).prefixlen == 32
    # A node without a range (the shared pool): Calico's /32.
    assert _addrsort.pod_interface(pod("10.10.100.9"), SandboxConfig(), StaticCluster()) == \
        Interface("10.10.100.9", 32, False)
    # hostNetwork: the node's own interface.
    assert _addrsort.pod_interface(pod("172.18.0.3", hostNetwork=True), config, cluster).prefixlen == 24


def test_glibc_addrconfig_asks_aaaa_when_the_pod_has_link_local_ipv6(server):
    # AI_ADDRCONFIG (getent ahosts) counts fe80:: addresses: check_pf.c skips only loopback.
    from tests.test_resolver import CLIENT_POD, make_ctx
    from labkit.sandbox.runtime._resolver import StubResolver
    for config, asked in ((SandboxConfig(), {"A"}),
                          (SandboxConfig(pod_cidr="10.244.0.0/16"), {"A", "AAAA"}),
                          (SandboxConfig(pod_cidr="10.244.0.0/16", pod_ipv6_link_local=False), {"A"})):
        ctx = make_ctx(server, pod=CLIENT_POD)
        ctx.config = config
        found = StubResolver(ctx).getaddrinfo("web-svc", addrconfig=True)
        assert {q.rdtype for q in found.queries} == asked, config.pod_cidr


# -- in a running sandbox -------------------------------------------------------------------

def _running_lab(home, config):
    """A sandbox with the course's manifests and REPLICAS web pods; yields (sandbox, lab)."""
    import labkit
    with Sandbox(home=home, config=config) as sandbox:
        lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
        try:
            lab.apply(MANIFESTS)
            lab.wait("pod", "client")
            lab.wait("pod", "dnsutils")
            lab.wait("deployment", "nginx-deployment")
            lab.scale("nginx-deployment", REPLICAS)
            yield sandbox, lab
        finally:
            lab.close()


@pytest.fixture(scope="module")
def per_node(tmp_path_factory):
    yield from _running_lab(tmp_path_factory.mktemp("sb24"),
                            SandboxConfig(pod_cidr="10.244.0.0/16", pod_start_seconds=0.0))


@pytest.fixture(scope="module")
def per_node_lab(per_node):
    return per_node[1]


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory):
    for _, lab in _running_lab(tmp_path_factory.mktemp("sbdefault"), SandboxConfig(pod_start_seconds=0.0)):
        yield lab


def _pods(lab) -> dict[str, dict]:
    return {row.NAME: {"ip": row.IP, "node": row.NODE} for row in lab.pods().itertuples()}


def _with_answer(lab, pod: str, command: str) -> tuple[str, list[str]]:
    """Run `command` in `pod`; its output and the A answer it got, in wire order."""
    extras = lab.sandbox_extras
    extras.clear_dns_log()
    out = lab.exec(pod, command).check().stdout
    log = extras.dns_log()
    mine = log[(log["pod"] == pod) & (log["qtype"] == "A") & (log["qname"].str.rstrip(".") == FQDN)]
    answers = [a for a in mine.iloc[-1]["answers"]]
    assert len(answers) == REPLICAS
    return out, answers


def _ahosts(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if " STREAM " in f" {line} "]


def _hosts(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def test_per_node_sandbox_nodes_have_pod_cidrs_and_pods_live_inside_them(per_node):
    from kubernetes import client, config as kubeconfig
    sandbox, per_node_lab = per_node
    api = kubeconfig.new_client_from_config(str(sandbox.kubeconfig))
    try:
        nodes = {n.metadata.name: (n.spec.pod_cidr, n.spec.pod_cidrs)
                 for n in client.CoreV1Api(api).list_node().items}
    finally:
        api.close()
    assert nodes == {"lab-control-plane": ("10.244.0.0/24", ["10.244.0.0/24"]),
                     "lab-worker": ("10.244.1.0/24", ["10.244.1.0/24"]),
                     "lab-worker2": ("10.244.2.0/24", ["10.244.2.0/24"])}
    for name, pod in _pods(per_node_lab).items():
        assert ipaddress.ip_address(pod["ip"]) in ipaddress.ip_network(nodes[pod["node"]][0]), name


def test_glibc_client_getent_ahosts_prefers_same_node_pod_whatever_the_dns_order(per_node_lab):
    pods = _pods(per_node_lab)
    me = pods["client"]
    subnet = ipaddress.ip_network(f"{me['ip']}/24", strict=False)
    web = [p["ip"] for n, p in pods.items() if n.startswith("nginx-deployment")]
    same_node = [ip for ip in web if ipaddress.ip_address(ip) in subnet]
    assert same_node and len(same_node) < len(web)          # the test means something
    best = max(same_node, key=lambda ip: _common_bits_in_subnet(me["ip"], ip, 24))
    dns_first, gai_first = set(), set()
    for _ in range(RUNS):
        out, answers = _with_answer(per_node_lab, "client", "getent ahosts web-svc")
        got = _ahosts(out)
        dns_first.add(answers[0])
        gai_first.add(got[0])
        assert sorted(got) == sorted(answers)
        expected = sorted(answers, key=lambda ip: -_common_bits_in_subnet(me["ip"], ip, 24))
        assert got == expected
        # The other node's pods keep the order the DNS answer had.
        assert got[len(same_node):] == [ip for ip in answers if ip not in same_node]
    assert gai_first == {best}
    assert len(dns_first) > 1                                 # CoreDNS did shuffle


def test_glibc_getent_hosts_keeps_dns_order_on_per_node_ranges(per_node_lab):
    # gethostbyname2 does no RFC 6724 sorting.
    firsts = set()
    for _ in range(RUNS):
        out, answers = _with_answer(per_node_lab, "client", "getent hosts web-svc")
        assert _hosts(out) == answers
        firsts.add(answers[0])
    assert len(firsts) > 1


def test_glibc_curl_and_ping_use_the_first_sorted_address(per_node_lab):
    ahosts = _ahosts(per_node_lab.exec("client", "getent ahosts web-svc").check().stdout)
    curl = per_node_lab.exec("client", "curl -s web-svc").check().stdout
    assert f"Server address: {ahosts[0]}:80" in curl
    ping = per_node_lab.exec("client", "ping -c 1 web-svc").check().stdout
    assert ping.startswith(f"PING {FQDN} ({ahosts[0]})")


def test_musl_netshoot_getent_ahosts_keeps_dns_order_on_per_node_ranges(per_node_lab):
    pods = _pods(per_node_lab)
    me = pods["dnsutils"]
    subnet = ipaddress.ip_network(f"{me['ip']}/24", strict=False)
    assert any(ipaddress.ip_address(p["ip"]) in subnet
               for n, p in pods.items() if n.startswith("nginx-deployment"))
    firsts = set()
    for _ in range(RUNS):
        out, answers = _with_answer(per_node_lab, "dnsutils", "getent ahosts web-svc")
        assert _ahosts(out) == answers
        firsts.add(answers[0])
    assert len(firsts) > 1


def test_dig_shows_dns_order_not_getaddrinfo_order(per_node_lab):
    out, answers = _with_answer(per_node_lab, "dnsutils", "dig +short web-svc.default.svc.cluster.local")
    assert _hosts(out) == answers


def test_default_slash32_pods_getent_ahosts_equals_dns_order(default_lab):
    pods = _pods(default_lab)
    assert all(ipaddress.ip_address(p["ip"]) in ipaddress.ip_network("10.10.100.0/24")
               for p in pods.values())
    firsts = set()
    for _ in range(RUNS):
        out, answers = _with_answer(default_lab, "client", "getent ahosts web-svc")
        assert _ahosts(out) == answers
        firsts.add(answers[0])
    assert len(firsts) > 1


def test_probes_dns_ahosts_shows_getaddrinfo_order_getent_hosts_the_dns_order(per_node_lab):
    from labkit import probes
    sorted_first = probes.dns(per_node_lab, "client", "web-svc", samples=RUNS * 2, tool="ahosts")
    dns_first = probes.dns(per_node_lab, "client", "web-svc", samples=RUNS * 2, tool="getent")
    assert sorted_first["answers"].map(len).eq(REPLICAS).all()
    assert sorted_first["first"].nunique() == 1
    assert dns_first["first"].nunique() > 1


def test_parse_getent_ahosts_carries_the_canonical_name():
    from labkit import _parse
    text = ("10.244.1.6      STREAM web-svc.default.svc.cluster.local\n10.244.1.6      DGRAM  \n"
            "10.244.1.6      RAW    \n10.244.2.7      STREAM \n10.244.2.7      DGRAM  \n")
    assert _parse.getent_hosts(text) == [("10.244.1.6", FQDN), ("10.244.2.7", FQDN)]

"""The cluster DNS server over real UDP and TCP sockets on 127.0.0.1, with dnspython and dig."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from labkit.sandbox._clock import Clock
from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox._dnsclients import DnsClientRegistry
from labkit.sandbox.dns import DnsServer

try:
    from .test_dns_answer import cluster_objects, endpoint_slice, service
except ImportError:          # tests/ run as plain files (rootdir on sys.path)
    from test_dns_answer import cluster_objects, endpoint_slice, service

WEB = "web-svc.default.svc.cluster.local."
BIG = "big.default.svc.cluster.local."
BIG_PODS = [(f"10.10.101.{i}", True, None) for i in range(1, 46)]


class Running:
    """A DnsServer on its own event loop thread, so tests can use blocking clients."""

    def __init__(self, cluster, config=None, clients=None):
        self.cluster = cluster
        self.clock = Clock()
        self.clients = clients or DnsClientRegistry()
        self.server = DnsServer(cluster, config or SandboxConfig(), self.clock, clients=self.clients)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._call(self.server.start())
        self.host, self.port = self.server.address

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(5)

    def close(self):
        self._call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def udp(self, name, rdtype="A", **kw):
        return dns.query.udp(dns.message.make_query(name, rdtype, **kw), self.host, port=self.port,
                             timeout=2)

    def tcp(self, name, rdtype="A", **kw):
        return dns.query.tcp(dns.message.make_query(name, rdtype, **kw), self.host, port=self.port,
                             timeout=2)

    def raw_udp(self, data, timeout=0.3):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(data, (self.host, self.port))
            try:
                return s.recv(65535)
            except socket.timeout:
                return None


def make_cluster():
    return StaticCluster(cluster_objects() + [service("big"), endpoint_slice("big", BIG_PODS)])


@pytest.fixture
def dns_server():
    running = Running(make_cluster())
    yield running
    running.close()


def ips(msg):
    return [rd.address for rrset in msg.answer if rrset.rdtype in (1, 28) for rd in rrset]


def test_udp_and_tcp_answer_the_same_records(dns_server):
    udp, tcp = dns_server.udp(WEB), dns_server.tcp(WEB)
    assert sorted(ips(udp)) == sorted(ips(tcp)) == ["10.10.100.37", "10.10.100.38", "10.10.100.39"]
    assert udp.flags & dns.flags.AA and not udp.flags & dns.flags.RA


def test_every_record_kind_over_the_wire(dns_server):
    assert ips(dns_server.udp("web-clusterip.default.svc.cluster.local.")) == ["10.0.0.123"]
    srv = dns_server.udp("_http._tcp.web-svc.default.svc.cluster.local.", "SRV")
    assert sorted(rd.target.to_text() for rd in srv.answer[0]) == [
        f"10-10-100-{n}.web-svc.default.svc.cluster.local." for n in (37, 38, 39)]
    assert len(srv.additional) >= 1
    ptr = dns_server.udp("37.100.10.10.in-addr.arpa.", "PTR")
    assert ptr.answer[0][0].target.to_text() == "10-10-100-37.web-svc.default.svc.cluster.local."
    assert ips(dns_server.udp("10-10-100-99.default.pod.cluster.local.")) == ["10.10.100.99"]
    cname = dns_server.udp("ext.default.svc.cluster.local.")
    assert cname.answer[0].rdtype == dns.rdatatype.CNAME and ips(cname) == ["93.184.215.14"]
    txt = dns_server.udp("dns-version.cluster.local.", "TXT")
    assert txt.answer[0][0].strings == (b"1.1.0",)
    assert txt.answer[0].ttl == 30            # the cache caps what it passes on (cache 30)
    assert ips(dns_server.udp("example.com.")) == ["93.184.215.14"]


def test_nxdomain_and_nodata_carry_the_zone_soa(dns_server):
    nx = dns_server.udp("nosuch.default.svc.cluster.local.")
    nodata = dns_server.udp(WEB, "AAAA")
    assert nx.rcode() == dns.rcode.NXDOMAIN and nodata.rcode() == dns.rcode.NOERROR
    for msg in (nx, nodata):
        assert msg.answer == [] and msg.authority[0].rdtype == dns.rdatatype.SOA
        assert msg.authority[0].name.to_text() == "cluster.local."
        assert msg.authority[0][0].mname.to_text() == "ns.dns.cluster.local."


def test_question_case_is_echoed_but_a_cache_hit_keeps_the_first_spelling(dns_server):
    msg = dns_server.udp("Web-Svc.DEFAULT.svc.cluster.local.")
    assert msg.question[0].name.to_text() == "Web-Svc.DEFAULT.svc.cluster.local."
    assert msg.answer[0].name.to_text() == "Web-Svc.DEFAULT.svc.cluster.local."
    # plugin/cache item.go toMsg: the question is the new one, the records the stored ones.
    for spelling in ("WEB-SVC.default.svc.cluster.local.", "web-svc.default.svc.cluster.local."):
        again = dns_server.udp(spelling)
        assert again.question[0].name.to_text() == spelling
        assert again.answer[0].name.to_text() == "Web-Svc.DEFAULT.svc.cluster.local."
        # Over TCP too, and with compression (miekg/dns compresses only identical spellings).
        assert dns_server.tcp(spelling).answer[0].name.to_text() == "Web-Svc.DEFAULT.svc.cluster.local."


def test_big_headless_answer_truncates_over_udp_and_is_complete_over_tcp(dns_server):
    udp = dns_server.udp(BIG)                       # no EDNS: a 512-byte buffer
    assert udp.flags & dns.flags.TC
    assert 0 < len(ips(udp)) < 45
    assert len(dns_server.raw_udp(dns.message.make_query(BIG, "A").to_wire())) <= 512
    assert len(ips(dns_server.tcp(BIG))) == 45
    big_buffer = dns_server.udp(BIG, use_edns=0, payload=4096)
    assert not big_buffer.flags & dns.flags.TC and len(ips(big_buffer)) == 45
    assert big_buffer.payload == 4096               # the request's OPT is echoed


def test_several_queries_on_one_tcp_connection(dns_server):
    with socket.create_connection((dns_server.host, dns_server.port), timeout=2) as s:
        for i, name in enumerate([WEB, "web-clusterip.default.svc.cluster.local.", BIG]):
            dns.query.send_tcp(s, dns.message.make_query(name, "A", id=100 + i))
            reply, _ = dns.query.receive_tcp(s, expiration=time.time() + 2)
            assert reply.id == 100 + i and reply.answer


def test_bad_packets_get_errors_or_silence_and_the_server_keeps_answering(dns_server):
    good = dns.message.make_query(WEB, "A", id=4242).to_wire()
    assert dns_server.raw_udp(b"\x01\x02\x03") is None                      # no header: dropped
    assert dns_server.raw_udp(b"\xff" * 5000) is None or True               # noise: no crash
    as_response = bytearray(good)
    as_response[2] |= 0x80
    assert dns_server.raw_udp(bytes(as_response)) is None                   # a response: ignored
    two_questions = bytearray(good)
    two_questions[5] = 2
    reply = dns.message.from_wire(dns_server.raw_udp(bytes(two_questions)))
    assert reply.rcode() == dns.rcode.FORMERR and reply.id == 4242
    status_opcode = bytearray(good)
    status_opcode[2] = (status_opcode[2] & 0x87) | (2 << 3)
    reply = dns.message.from_wire(dns_server.raw_udp(bytes(status_opcode)))
    assert reply.rcode() == dns.rcode.NOTIMP
    cut = dns_server.raw_udp(good[:20])                                     # question cut short
    assert dns.message.from_wire(cut).rcode() == dns.rcode.FORMERR
    long_label = good[:12] + b"\x3f" + b"a" * 63 + b"\x3f" + b"a" * 200 + b"\x00\x00\x01\x00\x01"
    assert dns.message.from_wire(dns_server.raw_udp(long_label)).rcode() == dns.rcode.FORMERR
    with socket.create_connection((dns_server.host, dns_server.port), timeout=2) as s:
        s.sendall(struct.pack("!H", 30) + b"\x00" * 10)                      # short, then close
    assert sorted(ips(dns_server.udp(WEB))) == ["10.10.100.37", "10.10.100.38", "10.10.100.39"]
    assert dns_server.tcp(WEB).answer


def test_unsupported_edns_version_gets_badvers(dns_server):
    reply = dns_server.udp(WEB, use_edns=1)
    assert reply.rcode() == dns.rcode.BADVERS


def test_cache_hides_a_new_endpoint_until_the_ttl_runs_out(dns_server):
    assert len(ips(dns_server.udp(WEB))) == 3
    dns_server.cluster.add(endpoint_slice("web-svc", [("10.10.100.41", True, None)], suffix="new"))
    dns_server.clock.advance(10)
    cached = dns_server.udp(WEB)
    assert len(ips(cached)) == 3 and cached.answer[0].ttl == 20
    assert cached.flags & dns.flags.AA
    dns_server.clock.advance(21)
    fresh = dns_server.udp(WEB)
    assert "10.10.100.41" in ips(fresh) and fresh.answer[0].ttl == 30
    dns_server.cluster.remove("endpointslices", "default", "web-svc-new")
    dns_server.server.cache.clear()
    assert "10.10.100.41" not in ips(dns_server.udp(WEB))


def test_negative_answers_are_cached_too(dns_server):
    name = "late.default.svc.cluster.local."
    assert dns_server.udp(name).rcode() == dns.rcode.NXDOMAIN
    dns_server.cluster.add(service("late", cluster_ip="10.0.0.77"))
    assert dns_server.udp(name).rcode() == dns.rcode.NXDOMAIN
    dns_server.clock.advance(31)
    assert ips(dns_server.udp(name)) == ["10.0.0.77"]


def test_shuffled_order_is_deterministic_for_a_seed():
    def orders(seed):
        running = Running(make_cluster(), SandboxConfig(seed=seed))
        try:
            return [tuple(ips(running.udp(WEB))) for _ in range(10)]
        finally:
            running.close()
    first = orders(3)
    assert first == orders(3)
    assert len(set(first)) > 1                       # cached answers are shuffled too
    unshuffled = Running(make_cluster(), SandboxConfig(dns_loadbalance=False))
    try:
        assert {tuple(ips(unshuffled.udp(WEB))) for _ in range(5)} == {
            ("10.10.100.37", "10.10.100.38", "10.10.100.39")}
    finally:
        unshuffled.close()


def test_query_log_names_the_pod_by_its_socket_port(dns_server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        client = {"namespace": "default", "pod": "client", "ip": "10.10.100.5"}
        dns_server.clients.register(port, client)
        s.settimeout(2)
        s.sendto(dns.message.make_query(WEB, "A").to_wire(), (dns_server.host, dns_server.port))
        s.recv(4096)
    dns_server.udp("nosuch.default.svc.cluster.local.")
    dns_server.udp(WEB)
    log = dns_server.server.log
    first, second, third = log.entries()
    assert first["client"] == client and first["client_port"] == port
    assert first["transport"] == "udp" and first["qname"] == WEB and first["qtype"] == "A"
    assert sorted(first["answers"]) == ["10.10.100.37", "10.10.100.38", "10.10.100.39"]
    assert first["rcode"] == "NOERROR" and not first["cached"] and not first["truncated"]
    assert first["time"].endswith("Z") and len(first["time"]) == len("2026-01-01T00:00:00.000Z")
    assert second["rcode"] == "NXDOMAIN" and second["client"] is None
    assert third["cached"]
    assert log.entries(since=2) == [third]
    assert [json.loads(line) for line in log.to_json_lines().splitlines()] == log.entries()
    log.clear()
    assert log.entries() == []


def test_query_log_marks_truncation_and_tcp(dns_server):
    dns_server.udp(BIG)
    dns_server.tcp(BIG)
    udp, tcp = dns_server.server.log.entries()
    assert udp["truncated"] and 0 < len(udp["answers"]) < 45
    assert tcp["transport"] == "tcp" and len(tcp["answers"]) == 45 and not tcp["truncated"]


dig = pytest.mark.skipif(shutil.which("dig") is None, reason="needs the dig binary")


def run_dig(server, *args):
    out = subprocess.run(["dig", f"@{server.host}", "-p", str(server.port), "+tries=1", "+time=2",
                          *args], capture_output=True, text=True, timeout=10)
    return out.stdout


@dig
def test_dig_sees_coredns_flags_and_answers(dns_server):
    out = run_dig(dns_server, "web-svc.default.svc.cluster.local")
    assert "status: NOERROR" in out and "flags: qr aa rd;" in out
    assert "recursion requested but not available" in out
    assert len(re.findall(r"IN\s+A\s+10\.10\.100\.3\d", out)) == 3
    assert "COOKIE:" in out and "(echoed)" in out      # request.SizeAndDo echoes the cookie
    short = run_dig(dns_server, "+short", "-x", "10.10.100.37")
    # reverse.go: every Service whose endpoints hold the address gives a PTR.
    assert short.split() == ["10-10-100-37.web-svc.default.svc.cluster.local.",
                             "10-10-100-37.web-clusterip.default.svc.cluster.local."]
    nx = run_dig(dns_server, "nosuch.default.svc.cluster.local")
    assert "status: NXDOMAIN" in nx
    assert re.search(r"^cluster\.local\.\s+30\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. "
                     r"hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30$", nx, re.M)
    srv = run_dig(dns_server, "+short", "SRV", "_http._tcp.web-svc.default.svc.cluster.local")
    assert sorted(srv.split("\n")[:3]) == [
        f"0 33 80 10-10-100-{n}.web-svc.default.svc.cluster.local." for n in (37, 38, 39)]


@dig
def test_dig_retries_over_tcp_after_truncation(dns_server):
    out = run_dig(dns_server, "+noedns", "big.default.svc.cluster.local")
    assert "Truncated, retrying in TCP mode." in out
    assert len(re.findall(r"IN\s+A\s+10\.10\.101\.", out)) == 45
    assert "(TCP)" in out


def test_corefile_edits_turn_shuffling_and_the_cache_off_as_reload_would(tmp_path):
    """kube-system/coredns is CoreDNS's configuration: without `loadbalance` the answer
    order stays fixed; without `cache` a new endpoint shows at once."""
    import dns.message
    import dns.query
    from kubernetes import client as kclient, config as kconfig

    from labkit.sandbox import Sandbox, SandboxConfig
    with Sandbox(home=tmp_path, config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        api = kconfig.new_client_from_config(str(sb.kubeconfig))
        core, apps = kclient.CoreV1Api(api), kclient.AppsV1Api(api)
        apps.create_namespaced_deployment("default", {
            "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginxdemos/hello"}]}}}})
        core.create_namespaced_service("default", {"metadata": {"name": "web-svc"}, "spec": {
            "clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
        host, port = sb.dns_address

        def order():
            q = dns.message.make_query("web-svc.default.svc.cluster.local", "A")
            r = dns.query.udp(q, host, port=port, timeout=2)
            return tuple(rr.address for rrset in r.answer for rr in rrset)
        import time
        deadline = time.monotonic() + 10
        while len(order()) < 3 and time.monotonic() < deadline:
            sb.dns.cache.clear()
            time.sleep(0.05)
        assert len({order() for _ in range(20)}) > 1          # loadbalance shuffles
        cm = core.read_namespaced_config_map("coredns", "kube-system")
        corefile = cm.data["Corefile"]
        assert "    loadbalance\n" in corefile and "    cache 30\n" in corefile
        cm.data["Corefile"] = corefile.replace("    loadbalance\n", "").replace("    cache 30\n", "")
        core.replace_namespaced_config_map("coredns", "kube-system", cm)
        assert len({order() for _ in range(20)}) == 1          # a fixed order now
        apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 4}})
        deadline = time.monotonic() + 10
        while len(order()) < 4 and time.monotonic() < deadline:   # no cache: no waiting for it
            time.sleep(0.05)
        assert len(order()) == 4
        api.close()

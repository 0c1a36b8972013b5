"""The pod stub resolver against a real DNS server on 127.0.0.1 (port 0).

The fixture server serves the zone the golden samples were recorded against
(tests/fixtures/real-tool-output/README.md): web-svc's one endpoint with its
PTR and SRV records, google.com, and NXDOMAIN for every other name; TTL 0, `aa`
only on answers with records, EDNS answered with udp 1232 and no options.
"""
from __future__ import annotations

import io
import os
import socket
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from labkit.sandbox._clock import Clock
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._dnsclients import DnsClientRegistry
from labkit.sandbox.runtime._context import ImageProfile, ToolContext
from labkit.sandbox.runtime._resolver import ResolvConf, StubResolver, candidates
from .conftest import REAL_TOOL_OUTPUT

SAMPLES = REAL_TOOL_OUTPUT

ZONE = {
    ("web-svc.default.svc.cluster.local.", "A"): ["10.10.100.37"],
    ("37.100.10.10.in-addr.arpa.", "PTR"): ["10-10-100-37.web-svc.default.svc.cluster.local."],
    ("_tcp._tcp.web-svc.default.svc.cluster.local.", "SRV"):
        ["0 100 80 10-10-100-37.web-svc.default.svc.cluster.local."],
    ("google.com.", "A"): ["142.250.185.78"],
}


class ZoneServer:
    """A tiny authoritative responder on UDP and TCP, logging (type, name) per query."""

    def __init__(self, zone=ZONE) -> None:
        self.zone = zone
        self.log: list[tuple[str, str]] = []
        self.clients: list[dict | None] = []
        self.registry = DnsClientRegistry()
        for _ in range(50):     # a free UDP port can be a busy TCP one: try another
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.address = self.udp.getsockname()
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(self.address)
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        self._stop = False
        self._threads = [threading.Thread(target=self._serve_udp, daemon=True),
                         threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self._threads:
            t.start()

    def answer(self, wire: bytes, peer_port: int, udp: bool) -> bytes:
        query = dns.message.from_wire(wire)
        q = query.question[0]
        name, rdtype = q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)
        self.log.append((rdtype, q.name.to_text(omit_final_dot=True)))
        self.clients.append(self.registry.lookup(peer_port))
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if query.edns >= 0:
            response.use_edns(0, payload=1232, options=[])
        records = self.zone.get((name, rdtype))
        if records:
            response.flags |= dns.flags.AA
            response.answer.append(dns.rrset.from_text_list(q.name, 0, "IN", rdtype, records))
        elif name not in {n for n, _ in self.zone}:
            response.set_rcode(dns.rcode.NXDOMAIN)
        wire = response.to_wire()
        limit = max(query.payload, 512) if query.edns >= 0 else 512
        if udp and len(wire) > limit:
            response.answer.clear()
            response.flags |= dns.flags.TC
            wire = response.to_wire()
        return wire

    def _serve_udp(self) -> None:
        while not self._stop:
            try:
                data, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            self.udp.sendto(self.answer(data, peer[1], True), peer)

    def _serve_tcp(self) -> None:
        while not self._stop:
            try:
                conn, peer = self.tcp.accept()
            except OSError:
                return
            with conn:
                length = int.from_bytes(conn.recv(2), "big")
                data = b""
                while len(data) < length:
                    data += conn.recv(length - len(data))
                reply = self.answer(data, peer[1], False)
                conn.sendall(len(reply).to_bytes(2, "big") + reply)

    def close(self) -> None:
        self._stop = True
        self.udp.close()
        self.tcp.close()


RESOLV_CONF = ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
               "nameserver 10.0.0.10\noptions ndots:5\n")
HOSTS = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
         "::1\tlocalhost ip6-localhost ip6-loopback\n10.10.100.9\tclient\n")

CLIENT_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "client", "namespace": "default"},
    "spec": {"nodeName": "lab-worker", "containers": [{"name": "client", "image": "client"}]},
    "status": {"phase": "Running", "podIP": "10.10.100.9", "podIPs": [{"ip": "10.10.100.9"}]},
}


def make_ctx(server: ZoneServer | None, *, libc="glibc", busybox=False, cluster=None,
             network=None, files=None, pod=CLIENT_POD, timeout=5.0) -> ToolContext:
    clock = Clock()
    image = ImageProfile(ref="client", tools=frozenset(), libc=libc, busybox=busybox)
    return ToolContext(
        pod=pod, container="client", image=image,
        files=files or {"/etc/resolv.conf": RESOLV_CONF, "/etc/hosts": HOSTS},
        env={}, config=SandboxConfig(), cluster=cluster or StaticCluster([pod]),
        network=network, dns_address=server.address if server else None,
        dns_clients=server.registry if server else DnsClientRegistry(), clock=clock,
        deadline=clock.monotonic() + timeout, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def server():
    s = ZoneServer()
    yield s
    s.close()


def sample_walk(command: str) -> list[tuple[str, str]]:
    """The queries resolver-walks.txt lists for one command."""
    text = (SAMPLES / "resolver-walks.txt").read_text()
    block = text.split(f"$ {command}\n", 1)[1].split("\n\n", 1)[0]
    return [tuple(line.split()) for line in block.splitlines() if line.strip()]


def test_resolv_conf_parsing_kubelet_file():
    conf = ResolvConf.parse(RESOLV_CONF + "options timeout:2 attempts:3\n")
    assert conf.search == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert conf.nameservers == ["10.0.0.10"]
    assert (conf.ndots, conf.timeout, conf.attempts) == (5, 2.0, 3)


@pytest.mark.parametrize("name,expected", [
    ("web-svc", ["web-svc.default.svc.cluster.local", "web-svc.svc.cluster.local",
                 "web-svc.cluster.local", "web-svc"]),
    ("a.b.c.d.e.f", ["a.b.c.d.e.f", "a.b.c.d.e.f.default.svc.cluster.local",
                     "a.b.c.d.e.f.svc.cluster.local", "a.b.c.d.e.f.cluster.local"]),
    ("web-svc.default.svc.cluster.local.", ["web-svc.default.svc.cluster.local"]),
])
def test_glibc_res_query_candidate_order(name, expected):
    assert candidates(name, ResolvConf.parse(RESOLV_CONF), "glibc") == expected


def test_musl_lookup_name_skips_search_when_dots_reach_ndots():
    conf = ResolvConf.parse(RESOLV_CONF.replace("ndots:5", "ndots:1"))
    assert candidates("web-svc.default", conf, "musl") == ["web-svc.default"]
    assert candidates("web-svc", conf, "musl") == [
        "web-svc.default.svc.cluster.local", "web-svc.svc.cluster.local",
        "web-svc.cluster.local", "web-svc"]


@pytest.mark.parametrize("command", [
    "getent hosts web-svc", "getent hosts web-svc.default",
    "getent hosts web-svc.default.svc.cluster.local",
    "getent hosts web-svc.default.svc.cluster.local.", "getent hosts google.com",
    "getent hosts nosuch"])
def test_gethostbyname2_walks_aaaa_everywhere_then_a_as_resolver_walks_txt(server, command):
    name = command.split()[-1]
    found = StubResolver(make_ctx(server)).gethostbyname(name)
    assert server.log == sample_walk(command)
    assert [(q.rdtype, q.name) for q in found.queries] == server.log


@pytest.mark.parametrize("command", ["getent ahosts web-svc", "getent ahosts google.com"])
def test_getaddrinfo_asks_a_then_aaaa_per_candidate(server, command):
    found = StubResolver(make_ctx(server)).getaddrinfo(command.split()[-1])
    assert server.log == sample_walk(command)
    assert found.ok


def test_getaddrinfo_result_and_canonical_name(server):
    found = StubResolver(make_ctx(server)).getaddrinfo("web-svc")
    assert found.addresses == ["10.10.100.37"]
    assert found.canonical == "web-svc.default.svc.cluster.local"
    assert found.rcode == "NOERROR"


def test_nxdomain_everywhere_is_eai_noname(server):
    res = StubResolver(make_ctx(server))
    found = res.getaddrinfo("nosuch")
    assert found.error == "EAI_NONAME"
    assert res.message(found.error) == "Name or service not known"
    assert len(server.log) == 8


def test_no_server_answering_is_eai_again():
    # A port nothing answers on: bind a UDP socket and never read it.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        ctx = make_ctx(None, files={"/etc/resolv.conf": RESOLV_CONF +
                                    "options timeout:1 attempts:1\n"})
        ctx.dns_address = silent.getsockname()
        res = StubResolver(ctx)
        res.conf = ResolvConf.parse(RESOLV_CONF.replace("ndots:5", "ndots:5 timeout:1 attempts:1"))
        res.conf = ResolvConf(res.conf.nameservers, res.conf.search, {"ndots": 5, "timeout": 0.2, "attempts": 1})
        start = time.monotonic()
        found = res.getaddrinfo("web-svc")
        assert found.error == "EAI_AGAIN"
        assert res.message(found.error) == "Temporary failure in name resolution"
        assert time.monotonic() - start < 2
    finally:
        silent.close()


def test_musl_stops_the_walk_at_nodata_glibc_goes_on():
    # foo exists in the first search domain without an address (NODATA), and has one
    # in the second: musl's name_from_dns_search returns EAI_NODATA at once.
    zone = {("foo.default.svc.cluster.local.", "TXT"): ['"x"'],
            ("foo.svc.cluster.local.", "A"): ["10.10.100.50"]}
    odd = ZoneServer(zone)
    try:
        musl = StubResolver(make_ctx(odd, libc="musl")).getaddrinfo("foo")
        assert not musl.ok
        assert [q.name for q in musl.queries] == ["foo.default.svc.cluster.local"] * 2
        glibc = StubResolver(make_ctx(odd)).getaddrinfo("foo")
        assert glibc.addresses == ["10.10.100.50"]
        assert glibc.canonical == "foo.svc.cluster.local"
    finally:
        odd.close()


def test_hosts_file_comes_before_dns(server):
    found = StubResolver(make_ctx(server)).getaddrinfo("localhost")
    assert found.addresses == ["127.0.0.1", "::1"] and found.source == "files"
    assert server.log == []


def test_reverse_lookup_asks_ptr(server):
    name, queries = StubResolver(make_ctx(server)).reverse("10.10.100.37")
    assert name == "10-10-100-37.web-svc.default.svc.cluster.local"
    assert server.log == [("PTR", "37.100.10.10.in-addr.arpa")]


def test_each_socket_is_registered_with_the_pod(server):
    StubResolver(make_ctx(server)).getaddrinfo("web-svc")
    assert server.clients[0] == {"namespace": "default", "pod": "client", "ip": "10.10.100.9"}
    assert server.registry._by_port == {}


def test_truncated_udp_answer_is_retried_over_tcp():
    many = {("big.default.svc.cluster.local.", "A"): [f"10.10.100.{i}" for i in range(1, 60)]}
    big = ZoneServer(many)
    try:
        found = StubResolver(make_ctx(big)).getaddrinfo("big.default.svc.cluster.local.")
        assert found.queries[0].tcp is True
        assert len(found.addresses) == 59
    finally:
        big.close()


def record_ports(server) -> list[int]:
    """The source port of every query the server answers from now on, in order."""
    ports: list[int] = []
    original = server.answer

    def answer(wire, peer_port, udp):
        ports.append(peer_port)
        return original(wire, peer_port, udp)
    server.answer = answer
    return ports


def test_one_resolver_keeps_one_registered_socket_until_closed(server):
    ports = record_ports(server)
    res = StubResolver(make_ctx(server))
    found = res.gethostbyname("web-svc")
    assert found.ok and len(found.queries) == 5           # AAAA walk, then A
    assert len(set(ports)) == 1 and len(server.clients) == 5 and None not in server.clients
    assert list(server.registry._by_port) == ports[:1]
    res.close()
    assert server.registry._by_port == {}
    StubResolver(make_ctx(server)).getaddrinfo("web-svc")  # dropped: closed when collected
    assert server.registry._by_port == {}


def test_a_late_reply_to_another_question_is_ignored():
    """res_send.c res_queriesmatch: id, server and question must all match."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve():
        data, peer = sock.recvfrom(512)
        query = dns.message.from_wire(data)
        other = dns.message.make_query("other.default.svc.cluster.local.", "A")
        other.id = query.id                                   # same id, wrong question
        stale = dns.message.make_response(other)
        stale.answer.append(dns.rrset.from_text(other.question[0].name, 0, "IN", "A", "10.9.9.9"))
        sock.sendto(stale.to_wire(), peer)
        good = dns.message.make_response(query)
        good.answer.append(dns.rrset.from_text(query.question[0].name, 0, "IN", "A", "10.10.100.37"))
        sock.sendto(good.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        ctx = make_ctx(None)
        ctx.dns_address = sock.getsockname()
        sent, addresses, _ = StubResolver(ctx).ask_address("web-svc.default.svc.cluster.local", "A")
        assert sent.rcode == "NOERROR" and addresses == ["10.10.100.37"]
    finally:
        thread.join(2)
        sock.close()


class DropFirst:
    """A responder that ignores the first `drop` queries and answers the rest with one A
    record, noting each datagram (arrival time, source port, bytes)."""

    def __init__(self, drop: int) -> None:
        self.drop, self.seen = drop, []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(512)
            except (socket.timeout, OSError):
                continue
            self.seen.append((time.monotonic(), peer[1], data))
            if len(self.seen) <= self.drop:
                continue
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            reply.answer.append(dns.rrset.from_text(query.question[0].name, 0, "IN", "A", "10.10.100.37"))
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.mark.parametrize("attempts", [1, 2])
def test_an_unanswered_query_is_sent_again_after_the_timeout(attempts):
    """res_send.c: each of `attempts` tries waits `timeout` (resolv.conf options), then sends
    the same query again (same id, same socket) until one is answered or the tries run out."""
    server = DropFirst(drop=1)
    try:
        ctx = make_ctx(None)
        ctx.dns_address = server.sock.getsockname()
        res = StubResolver(ctx)
        res.conf = ResolvConf(res.conf.nameservers, res.conf.search,
                              {"ndots": 5, "timeout": 0.2, "attempts": attempts})
        started = time.monotonic()
        sent, addresses, _ = res.ask_address("web-svc.default.svc.cluster.local", "A")
        waited = time.monotonic() - started
        res.close()
        assert len(server.seen) == attempts
        if attempts == 1:
            assert sent.rcode is None and addresses == [] and waited >= 0.19
            return
        assert sent.rcode == "NOERROR" and addresses == ["10.10.100.37"]
        (first_at, first_port, first), (again_at, again_port, again) = server.seen
        assert again == first and again_port == first_port
        assert again_at - first_at >= 0.19
    finally:
        server.close()


def _reply(qname: str, rdtype: str, rcode=dns.rcode.NOERROR, records=(), authority=()):
    query = dns.message.make_query(qname, rdtype, use_edns=False)
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    for owner, rtype, value in records:
        reply.answer.append(dns.rrset.from_text(owner, 30, "IN", rtype, value))
    for owner, rtype, value in authority:
        reply.authority.append(dns.rrset.from_text(owner, 30, "IN", rtype, value))
    return query.to_wire(), reply.to_wire()


SOA = ("cluster.local.", "SOA", "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30")


@pytest.mark.parametrize("qname,rdtype,rcode,records,authority", [
    ("web-svc.default.svc.cluster.local.", "A", dns.rcode.NOERROR,
     [("web-svc.default.svc.cluster.local.", "A", "10.10.100.37"),
      ("web-svc.default.svc.cluster.local.", "A", "10.10.100.38")], []),
    ("web-svc.default.svc.cluster.local.", "AAAA", dns.rcode.NOERROR, [], [SOA]),
    ("web-svc.svc.cluster.local.", "AAAA", dns.rcode.NXDOMAIN, [], [SOA]),
    ("ext.default.svc.cluster.local.", "A", dns.rcode.NOERROR,
     [("ext.default.svc.cluster.local.", "CNAME", "www.example.com."),
      ("www.example.com.", "A", "93.184.215.14")], []),
    ("v6.default.svc.cluster.local.", "AAAA", dns.rcode.NOERROR,
     [("v6.default.svc.cluster.local.", "AAAA", "fd00::1")], []),
])
def test_the_hand_read_reply_says_what_dnspython_reads(qname, rdtype, rcode, records, authority):
    """_stubwire.parse_addresses against dnspython on the same bytes (compressed names, a
    CNAME chain, NODATA and NXDOMAIN with an SOA), with and without the question shortcut."""
    from labkit.sandbox.runtime import _stubwire
    query, reply = _reply(qname, rdtype, rcode, records, authority)
    parsed = dns.message.from_wire(reply)
    want_type = dns.rdatatype.from_text(rdtype)
    addresses = [rd.address for rrset in parsed.answer if rrset.rdtype == want_type for rd in rrset]
    owner = next((r.name.to_text(omit_final_dot=True) for r in parsed.answer if r.rdtype == want_type), None)
    expected = (dns.rcode.to_text(rcode), addresses, owner)
    qtype = _stubwire.ADDRESS_TYPES[rdtype]
    asked = query[12:]
    assert asked == _stubwire.question(qname, qtype)
    assert _stubwire.parse_addresses(reply, qtype) == expected
    assert _stubwire.parse_addresses(reply, qtype, asked, qname.rstrip(".")) == expected


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_one_exec_keeps_its_dns_socket_between_tool_runs_each_a_new_flow(server):
    """Two `getent` runs in one exec: one socket (SocketPool), registered anew for each run
    (the DNS server sees a new flow, as kube-proxy would for a new process), and nothing
    left registered or open once the exec has ended."""
    from labkit.sandbox import runtime
    pod = {**CLIENT_POD, "spec": {**CLIENT_POD["spec"], "containers": [{"name": "client", "image": "centos:7"}]}}
    env = runtime.PodEnvironment.build(pod, None, config=SandboxConfig(), cluster=StaticCluster([pod]),
                                       clock=Clock(), dns_address=server.address, dns_clients=server.registry)
    ports = record_ports(server)
    before = _open_fds()
    result = runtime.run(env, ["sh", "-c", "getent hosts web-svc; getent hosts web-svc"])
    assert result.stdout.decode().count("web-svc.default.svc.cluster.local") == 2
    assert server.log == sample_walk("getent hosts web-svc") * 2
    assert len(set(ports)) == 1
    first, second = server.clients[0], server.clients[5]
    assert first == second == {"namespace": "default", "pod": "client", "ip": "10.10.100.9"}
    assert first is not second                               # registered anew: a new flow
    assert all(c is first for c in server.clients[:5]) and all(c is second for c in server.clients[5:])
    assert server.registry._by_port == {}
    assert _open_fds() == before

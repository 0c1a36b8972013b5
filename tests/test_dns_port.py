"""The DNS port is bound at start-up and its server loaded on first need (dns._port):
what arrives before the server loads waits in the socket's queue and is answered, over
real UDP and TCP on 127.0.0.1."""
from __future__ import annotations

import socket

import dns.message
import dns.query
import dns.rcode
import pytest

from labkit.sandbox import Sandbox, SandboxConfig
from tests.conftest import wait_for

NAME = "kubernetes.default.svc.cluster.local."


def _kubernetes_ip(sb: Sandbox) -> str:
    return sb.store.get("services", "default", "kubernetes")["spec"]["clusterIP"]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_query_before_the_server_loads_is_answered(make_sandbox, transport):
    sb = make_sandbox(pod_start_seconds=600)        # CoreDNS pods stay Pending: nothing else loads it
    assert sb._dns is None
    host, port = sb.dns_address
    ask = dns.query.udp if transport == "udp" else dns.query.tcp
    reply = ask(dns.message.make_query(NAME, "A"), host, port=port, timeout=10)
    assert reply.rcode() == dns.rcode.NOERROR
    assert [rr.address for rrset in reply.answer for rr in rrset] == [_kubernetes_ip(sb)]
    wait_for(lambda: sb._dns is not None, timeout=5)     # its serving thread answers before the load returns
    # The query was logged as any other, with the transport it came over.
    assert [(e["qname"], e["transport"]) for e in sb.dns.log.entries()] == [(NAME, transport)]


def test_the_first_coredns_pod_to_start_loads_the_server(make_sandbox):
    sb = make_sandbox()
    wait_for(lambda: sb._dns is not None, timeout=10)

    def started_and_known() -> bool:
        # Every CoreDNS pod that started has its start-up log, the one started during the
        # load too; both start within the wait.
        pods = [p for p in sb.store.list("pods", "kube-system") if p["metadata"]["name"].startswith("coredns-")
                and (p.get("status") or {}).get("startTime")]
        return len(pods) == 2 and all(sb._dns.coredns_logs.known(p) for p in pods)
    wait_for(started_and_known, timeout=10)


def test_asking_for_the_server_loads_it(make_sandbox):
    sb = make_sandbox(pod_start_seconds=600)
    assert sb._dns is None
    assert sb.dns.address == sb.dns_address
    reply = dns.query.udp(dns.message.make_query(NAME, "A"), *sb.dns_address[:1], port=sb.dns_address[1],
                          timeout=10)
    assert reply.rcode() == dns.rcode.NOERROR


def test_a_restored_cluster_with_coredns_running_loads_it_at_start(tmp_path):
    home = tmp_path / "sb"
    with Sandbox(home=home) as sb:
        wait_for(lambda: sb._dns is not None, timeout=10)
    with Sandbox(home=home) as sb:
        assert sb._dns is not None


def test_stopping_before_the_server_loads_frees_the_port(tmp_path):
    sb = Sandbox(home=tmp_path / "sb", config=SandboxConfig(pod_start_seconds=600))
    sb.start()
    host, port = sb.dns_address
    sb.stop()
    assert sb._dns is None
    # Both sockets are closed: the same port binds again, UDP and TCP.
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))

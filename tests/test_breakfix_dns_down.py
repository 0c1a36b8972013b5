"""No ready CoreDNS endpoint behind kube-dns: what every pod tool then prints, over real sockets.

kube-proxy REJECTs traffic to a Service port without ready endpoints, TCP and UDP alike
(pkg/proxy/iptables/proxier.go: `-j REJECT` commented "has no endpoints", ICMP port
unreachable; the nftables proxier's no-endpoint-services map the same). So:
- glibc's res_send (getent, curl) reads ECONNREFUSED on its connected UDP socket and fails
  at once: `getent hosts` exits 2, curl says `Could not resolve host` (exit 6);
- musl's resolver sends from an unconnected socket that never sees the ICMP error: it
  waits its timeout (on the sandbox clock: no real seconds);
- BIND 9.18's dig and nslookup report `communications error ...: connection refused` per
  try, then `no servers could be reached`; BusyBox's nslookup reports the read error and
  then its timeout line.
The DNS server itself keeps running: scaling CoreDNS back heals every lookup at once.
"""
from __future__ import annotations

import json
import time

import pytest

from .conftest import wait_for

BUSYBOX = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bb", "namespace": "default"},
           "spec": {"containers": [{"name": "bb", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]}}


def _kube_dns_ready(kubectl) -> list[str]:
    out = kubectl("get", "endpoints", "kube-dns", "-n", "kube-system",
                  "-o", "jsonpath={.subsets[*].addresses[*].ip}").stdout
    return out.split()


@pytest.fixture
def coredns_back(kubectl, lab):
    yield
    kubectl("scale", "deployment", "coredns", "-n", "kube-system", "--replicas=2")
    wait_for(lambda: len(_kube_dns_ready(kubectl)) == 2, timeout=20)
    wait_for(lambda: lab.exec("client", "getent hosts web-svc").exit_code == 0)


def _assert_dns_is_down(lab, kubectl):
    getent = kubectl("exec", "client", "--", "getent", "hosts", "web-svc", check=False)
    assert getent.returncode == 2 and getent.stdout == ""
    curl = kubectl("exec", "client", "--", "curl", "-sS", "http://web-svc/", check=False)
    assert curl.returncode == 6 and curl.stderr.startswith("curl: (6) Could not resolve host: web-svc")
    nslookup = lab.exec("dnsutils", "nslookup web-svc")
    assert nslookup.exit_code == 1
    assert nslookup.stdout == (";; communications error to 10.0.0.10#53: connection refused\n" * 3
                               + ";; no servers could be reached\n\n")
    dig = lab.exec("dnsutils", "dig web-svc.default.svc.cluster.local")
    assert dig.exit_code == 9
    assert dig.stdout.startswith(";; communications error to 10.0.0.10#53: connection refused\n" * 3)
    assert dig.stdout.rstrip().endswith(";; no servers could be reached")


def test_coredns_scaled_to_zero_makes_every_lookup_fail_and_scaling_back_heals(lab, kubectl, coredns_back):
    assert lab.exec("client", "getent hosts web-svc").exit_code == 0
    kubectl("scale", "deployment", "coredns", "-n", "kube-system", "--replicas=0")
    wait_for(lambda: not _kube_dns_ready(kubectl))
    _assert_dns_is_down(lab, kubectl)
    # musl never sees the ICMP error: it waits out its 5 s, on the sandbox clock.
    started = time.monotonic()
    musl = lab.exec("dnsutils", "getent hosts web-svc")
    assert musl.exit_code == 2 and time.monotonic() - started < 4
    kubectl("apply", "-f", "-", input=json.dumps(BUSYBOX))
    kubectl("wait", "--for=condition=Ready", "pod/bb", "--timeout=20s")
    try:
        busybox = lab.exec("bb", "nslookup web-svc")
        assert busybox.exit_code == 1
        assert busybox.stdout == ";; connection timed out; no servers could be reached\n\n"
        assert busybox.stderr == "nslookup: read: Connection refused\n" * 2
    finally:
        kubectl("delete", "pod", "bb", "--wait=false")

    kubectl("scale", "deployment", "coredns", "-n", "kube-system", "--replicas=2")
    wait_for(lambda: len(_kube_dns_ready(kubectl)) == 2)
    healed = kubectl("exec", "client", "--", "getent", "hosts", "web-svc")
    assert healed.stdout.split()[1] == "web-svc.default.svc.cluster.local"


def test_a_failing_readiness_probe_takes_coredns_out_of_kube_dns(lab, kubectl, coredns_back):
    """CoreDNS's ready plugin answers /ready on 8181; a probe on a wrong path gets a 404."""
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "coredns", "readinessProbe": {
        "httpGet": {"path": "/readyz", "port": 8181}, "periodSeconds": 10}}]}}}}
    original = kubectl("get", "deployment", "coredns", "-n", "kube-system", "-o", "json").stdout
    kubectl("scale", "deployment", "coredns", "-n", "kube-system", "--replicas=0")
    wait_for(lambda: not _kube_dns_ready(kubectl))
    kubectl("patch", "deployment", "coredns", "-n", "kube-system", "-p", json.dumps(patch))
    kubectl("scale", "deployment", "coredns", "-n", "kube-system", "--replicas=2")
    try:
        pods = wait_for(lambda: (lambda out: out if len(out) == 2 else None)(
            [line.split() for line in kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns",
                                              "--no-headers").stdout.splitlines()
             if "Running" in line]))
        assert all(p[1] == "0/1" for p in pods)
        events = kubectl("get", "events", "-n", "kube-system", "--field-selector", "reason=Unhealthy").stdout
        assert "Readiness probe failed: HTTP probe failed with statuscode: 404" in events
        assert _kube_dns_ready(kubectl) == []
        _assert_dns_is_down(lab, kubectl)
    finally:
        fixed = json.loads(original)
        kubectl("patch", "deployment", "coredns", "-n", "kube-system", "--type=json", "-p", json.dumps(
            [{"op": "replace", "path": "/spec/template", "value": fixed["spec"]["template"]}]))


def test_a_kube_dns_selector_that_matches_nothing_is_the_same_outage(lab, kubectl):
    kubectl("patch", "service", "kube-dns", "-n", "kube-system", "-p",
            json.dumps({"spec": {"selector": {"k8s-app": "kube-dsn"}}}))
    try:
        wait_for(lambda: not _kube_dns_ready(kubectl))
        _assert_dns_is_down(lab, kubectl)
    finally:
        kubectl("patch", "service", "kube-dns", "-n", "kube-system", "--type=json", "-p",
                json.dumps([{"op": "replace", "path": "/spec/selector", "value": {"k8s-app": "kube-dns"}}]))
    wait_for(lambda: len(_kube_dns_ready(kubectl)) == 2)
    assert lab.exec("client", "getent hosts web-svc").exit_code == 0

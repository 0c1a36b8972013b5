"""The classic name mistakes and the kubelet's readiness verdicts, over the real sockets.

- a namespace misspelt in an FQDN: the cluster DNS answers NXDOMAIN (a name, not a server, is wrong);
- `ndots` lowered to 1: glibc tries `web-svc.default` as it is first and then walks the search
  list (resolv/res_query.c), musl never walks it for a name with as many dots as ndots
  (src/network/lookup_name.c), so the same pod spec breaks only in musl images;
- readiness probes the kubelet judges (pkg/kubelet/prober/prober.go): the output of a failed
  httpGet or tcpSocket probe is Go's dial error, a 404 is "HTTP probe failed with statuscode".
"""
from __future__ import annotations

import pytest

from labkit.sandbox.controllers._prober import readiness_failure


def test_a_misspelt_namespace_is_nxdomain_not_a_timeout(lab):
    dig = lab.exec("dnsutils", "dig web-svc.defualt.svc.cluster.local")
    assert dig.exit_code == 0 and "status: NXDOMAIN" in dig.stdout
    getent = lab.exec("client", "getent hosts web-svc.defualt")
    assert getent.exit_code == 2 and getent.stdout == ""
    assert lab.exec("client", "getent hosts web-svc.default").exit_code == 0


@pytest.mark.parametrize("image, resolves", [("centos:7", True), ("nicolaka/netshoot:v0.13", False)])
def test_ndots_1_breaks_a_namespace_qualified_name_only_for_musl(lab, image, resolves):
    name = "ndots-" + image.split(":")[0].split("/")[-1]
    lab.apply(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  dnsConfig:
    options: [{{name: ndots, value: "1"}}]
  containers: [{{name: c, image: "{image}", command: [sleep, infinity]}}]
""", namespace="default", wait=True)
    try:
        assert "options ndots:1" in lab.exec(name, "cat /etc/resolv.conf").stdout
        result = lab.exec(name, "getent hosts web-svc.default")
        assert (result.exit_code == 0) is resolves, result
    finally:
        lab.delete("pod", name)


def _container(probe: dict, image: str = "nginxdemos/hello:plain-text") -> dict:
    return {"name": "c", "image": image, "ports": [{"name": "http", "containerPort": 80}],
            "readinessProbe": probe}


def test_readiness_verdicts_read_as_the_kubelets():
    assert readiness_failure({}, _container({"httpGet": {"port": "http", "path": "/"}}), "10.10.100.5") is None
    assert readiness_failure({}, _container({"tcpSocket": {"port": 80}}), "10.10.100.5") is None
    assert readiness_failure({}, _container({"httpGet": {"port": 8080, "path": "/healthz"}}), "10.10.100.5") == (
        'Get "http://10.10.100.5:8080/healthz": dial tcp 10.10.100.5:8080: connect: connection refused')
    assert readiness_failure({}, _container({"tcpSocket": {"port": 81}}), "10.10.100.5") == (
        "dial tcp 10.10.100.5:81: connect: connection refused")
    coredns = "registry.k8s.io/coredns/coredns:v1.14.6"
    assert readiness_failure({}, _container({"httpGet": {"port": 8181, "path": "/ready"}}, coredns), "x") is None
    assert readiness_failure({}, _container({"httpGet": {"port": 8080, "path": "/ready"}}, coredns), "x") == (
        "HTTP probe failed with statuscode: 404")
    assert readiness_failure({}, _container({"exec": {"command": ["true"]}}), "x") is None

"""The lesson code against a real cluster: opt in with `pytest --cluster`.

Uses the current kubeconfig context (kind, minikube, k3d, a workshop cluster) and works in
namespaces of its own (`labkit-ci-<pid>-default`, `-test`), removed at the end, so it can
run on a shared cluster. It pulls the course's images (see the README).
"""
from __future__ import annotations

import os

import pytest

import labkit
from labkit import errors, probes

from .conftest import MANIFESTS

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def lab():
    lab = labkit.connect(backend="cluster", namespace_prefix=f"labkit-ci-{os.getpid()}")
    assert lab.backend == "cluster", "--cluster needs a kubeconfig whose current context is a real cluster"
    lab.apply(MANIFESTS)
    lab.wait("deployment", "nginx-deployment", "Available", timeout=300)
    for ns in ("default", "test"):
        for pod in ("client", "dnsutils"):
            lab.wait("pod", pod, "Ready", namespace=ns, timeout=300)
    yield lab
    lab.reset(timeout=300)
    lab.close()


def test_the_lab_as_lesson_code_runs_unchanged(lab):
    ping = lab.exec("client", "ping -c 3 web-svc")
    assert ping.ok and f".web-svc.{lab.ns('default')}.svc." in ping.stdout
    lab.scale("nginx-deployment", 3, wait=True, timeout=300)
    probes.wait_dns(lab, "client", "web-svc", 3, timeout=60)
    df = probes.dns(lab, "client", "web-svc", samples=100)
    assert df["first"].nunique() == 3 and all(len(a) == 3 for a in df.answers)


def test_names_across_namespaces(lab):
    m = probes.resolution_matrix(lab, ["web-svc", f"web-svc.{lab.ns('default')}"], ["default", "test"])
    got = {(r.name, r.namespace): r.resolves for r in m.itertuples()}
    assert got[("web-svc", "test")] is False and got[(f"web-svc.{lab.ns('default')}", "test")] is True


def test_resolv_conf_names_the_kubelets_cluster_dns(lab):
    rc = lab.resolv_conf("client")
    assert rc.options.get("ndots") == 5
    assert rc.search[0] == f"{lab.ns('default')}.svc.{lab.doctor(quiet=True)['cluster_domain']}"
    with pytest.raises(errors.NamespaceNotAllowed):
        lab.delete("service", "kube-dns", namespace="kube-system")

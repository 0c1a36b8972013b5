"""A real kubectl against the sandbox: the lab's commands, and the errors it prints."""
from __future__ import annotations

import re

import pytest

from .conftest import MANIFESTS, wait_for

pytestmark = pytest.mark.kubectl




def test_lab_walkthrough(kubectl):
    out = kubectl("apply", "-f", str(MANIFESTS / "namespace-test.yaml")).stdout
    assert out.strip() == "namespace/test created"
    out = kubectl("apply", "-f", str(MANIFESTS)).stdout
    assert "deployment.apps/nginx-deployment created" in out
    assert "service/web-svc created" in out
    assert "namespace/test unchanged" in out
    kubectl("wait", "--for=condition=Available", "deployment/nginx-deployment", "--timeout=20s")
    kubectl("wait", "--for=condition=Ready", "pod/client", "pod/dnsutils", "--timeout=20s")

    wide = kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    header = wide[0].split()
    assert header[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and "IP" in header and "NODE" in header
    web = [line.split() for line in wide[1:] if line.startswith("nginx-deployment-")]
    assert len(web) == 1 and web[0][1:3] == ["1/1", "Running"]
    assert re.fullmatch(r"10\.10\.100\.\d+", web[0][5]) and web[0][6].startswith("lab-")

    svc = kubectl("get", "svc,ep").stdout
    assert re.search(r"service/web-svc\s+ClusterIP\s+None\s+<none>\s+80/TCP", svc)
    assert re.search(rf"endpoints/web-svc\s+{re.escape(web[0][5])}:80", svc)

    described = kubectl("describe", "svc", "web-svc").stdout
    assert re.search(r"^IP:\s+None$", described, re.M)
    assert re.search(rf"^Endpoints:\s+{re.escape(web[0][5])}:80$", described, re.M)

    assert kubectl("scale", "deployment", "nginx-deployment", "--replicas=3").stdout.strip() == \
        "deployment.apps/nginx-deployment scaled"
    rollout = kubectl("rollout", "status", "deployment/nginx-deployment", "--timeout=20s").stdout
    assert 'deployment "nginx-deployment" successfully rolled out' in rollout
    kubectl("wait", "--for=condition=Available", "deployment/nginx-deployment", "--timeout=20s")
    ips = kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}").stdout.split()
    assert len(ips) == 3
    described = wait_for(lambda: (lambda d: d if len(re.findall(r"10\.10\.100\.\d+:80", d)) == 3 else None)(
        kubectl("describe", "svc", "web-svc").stdout))
    assert set(re.findall(r"(10\.10\.100\.\d+):80", described)) == set(ips)

    resolv = kubectl("exec", "client", "--", "cat", "/etc/resolv.conf").stdout
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv
    assert "nameserver 10.0.0.10" in resolv and "options ndots:5" in resolv
    resolv_test = kubectl("exec", "-n", "test", "client", "--", "cat", "/etc/resolv.conf").stdout
    assert "search test.svc.cluster.local svc.cluster.local cluster.local" in resolv_test
    failed = kubectl("exec", "client", "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3 and "command terminated with exit code 3" in failed.stderr

    deleted = kubectl("delete", "-f", str(MANIFESTS / "nginx-deployment.yaml")).stdout
    assert deleted.strip() == 'deployment.apps "nginx-deployment" deleted' or "deleted" in deleted
    wait_for(lambda: not kubectl("get", "pods", "-l", "app=web", "-o", "name").stdout.strip())


def test_get_nodes_and_all(kubectl):
    nodes = kubectl("get", "nodes", "-o", "wide").stdout.splitlines()
    assert nodes[0].split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(nodes) == 4 and all(" Ready " in line for line in nodes[1:])
    assert "control-plane" in nodes[1]
    everything = kubectl("get", "all", "-n", "kube-system").stdout
    assert "service/kube-dns" in everything and "deployment.apps/coredns" in everything


def test_errors_read_like_a_real_api_server(kubectl, tmp_path):
    missing = kubectl("get", "pod", "nobody", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nobody" not found'
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n")
    out = kubectl("apply", "-f", str(bad_yaml), check=False)
    assert out.returncode != 0 and "error" in out.stderr.lower()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("apiVersion: v1\nkind: Gadget\nmetadata:\n  name: x\n")
    out = kubectl("apply", "-f", str(unknown), check=False)
    assert out.returncode != 0 and 'no matches for kind "Gadget" in version "v1"' in out.stderr
    bad_name = tmp_path / "badname.yaml"
    bad_name.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n")
    out = kubectl("apply", "-f", str(bad_name), check=False)
    assert out.returncode != 0
    assert 'ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid"' in out.stderr
    assert "No resources found" in kubectl("get", "cm", "-l", "nothing=here").stderr


def test_unknown_and_mistyped_fields_are_rejected_as_kubectl_validates(kubectl, tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: typo\nspec:\n  replica: 2\n"
                    "  selector:\n    matchLabels: {app: typo}\n  template:\n    metadata:\n      labels: {app: typo}\n"
                    "    spec:\n      containers:\n      - name: c\n        image: busybox\n        imagePolicy: x\n")
    out = kubectl("apply", "-f", str(typo), check=False)
    assert out.returncode == 1
    assert ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
            'unknown field "spec.replica", unknown field "spec.template.spec.containers[0].imagePolicy"') in out.stderr
    assert "typo" not in kubectl("get", "deploy", "-o", "name").stdout
    mistyped = tmp_path / "mistyped.yaml"
    mistyped.write_text(typo.read_text().replace("  replica: 2", "  replicas: two").replace("        imagePolicy: x\n", ""))
    out = kubectl("apply", "-f", str(mistyped), check=False)
    assert out.returncode == 1 and "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas" in out.stderr
    warned = kubectl("apply", "--validate=warn", "-f", str(typo))
    assert 'Warning: unknown field "spec.replica"' in warned.stderr

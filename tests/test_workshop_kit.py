"""The workshop kit on the sandbox: `labkit workshop create` makes learners whose kubeconfigs
can run a lesson in their own namespaces (apply the course's manifests under their prefix,
exec, logs, doctor) and are refused, with a 403, everywhere else; `remove` takes it all back."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from .conftest import MANIFESTS, ROOT, kubectl_binary


@pytest.fixture(scope="module")
def instructor(sandbox):
    import labkit
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    yield lab
    lab.close()


@pytest.fixture(scope="module")
def kit(sandbox, instructor, tmp_path_factory):
    """Two learners, made with the command an instructor types."""
    out = tmp_path_factory.mktemp("learners")
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(out))
    made = subprocess.run([sys.executable, "-m", "labkit", "workshop", "create", "2", "--out", str(out),
                           "--kubeconfig", str(sandbox.kubeconfig)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "alice: namespaces alice-default, alice-test" in made.stdout
    return out


def _kubectl(kubeconfig, home, *args):
    binary = kubectl_binary()
    if binary is None:
        pytest.skip("no kubectl binary")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, KUBECONFIG=str(kubeconfig), HOME=str(home)))


def test_each_learner_gets_namespaces_an_account_and_a_private_kubeconfig(kit, instructor):
    from labkit import workshop
    assert workshop.learners(instructor) == ["alice", "bob"]
    path = kit / "alice.kubeconfig"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    doc = yaml.safe_load(path.read_text())
    assert doc["contexts"][0]["context"]["namespace"] == "alice-default"
    for ns in ("alice-default", "alice-test", "bob-default", "bob-test"):
        assert instructor.get_object("namespace", ns)["status"]["phase"] == "Active"


def test_a_learner_runs_a_lesson_in_their_own_namespaces(kit, tmp_path):
    import labkit
    lab = labkit.connect(kubeconfig=kit / "alice.kubeconfig", namespace_prefix="alice", quiet=True)
    try:
        lab.apply(MANIFESTS, wait=True, progress=False)
        assert set(lab.pods()["NAME"]) >= {"client"}
        result = lab.exec("client", ["getent", "hosts", "web-svc"])
        assert result.exit_code == 0 and "web-svc.alice-default.svc.cluster.local" in result.stdout
        assert lab.exec("client", ["hostname"], namespace="test").stdout.strip() == "client"
        report = lab.doctor(quiet=True)        # read-only cluster access is enough for doctor()
        assert report["nodes"] >= 1 and report["cluster_dns"] and report["dns_ready"]
        web = lab.pods(selector="app=web")["NAME"].iloc[0]
    finally:
        lab.close()
    config = kit / "alice.kubeconfig"
    assert _kubectl(config, tmp_path, "logs", web).returncode == 0
    assert _kubectl(config, tmp_path, "exec", "client", "--", "hostname").stdout.strip() == "client"
    assert _kubectl(config, tmp_path, "auth", "can-i", "create", "deployments", "-n", "alice-test").stdout \
        .strip() == "yes"


def test_a_learners_reset_empties_their_namespaces_and_keeps_them(kit, instructor):
    import labkit
    lab = labkit.connect(kubeconfig=kit / "alice.kubeconfig", namespace_prefix="alice", quiet=True)
    try:
        lab.apply(MANIFESTS, progress=False)
        lab.reset()
        assert lab.pods().empty and lab.pods("test").empty
    finally:
        lab.close()
    assert instructor.get_object("namespace", "alice-test")["status"]["phase"] == "Active"


@pytest.mark.parametrize("args, message", [
    (("get", "pods", "-n", "bob-default"),
     'pods is forbidden: User "system:serviceaccount:labkit-workshop:alice" cannot list resource "pods" in '
     'API group "" in the namespace "bob-default"'),
    (("get", "pods", "-n", "default"),
     'cannot list resource "pods" in API group "" in the namespace "default"'),
    (("delete", "deployment", "coredns", "-n", "kube-system"),
     'deployments.apps "coredns" is forbidden: User "system:serviceaccount:labkit-workshop:alice" cannot '
     'delete resource "deployments" in API group "apps" in the namespace "kube-system"'),
    (("create", "namespace", "mine"),
     'cannot create resource "namespaces" in API group "" at the cluster scope'),
    (("get", "configmap", "kube-root-ca.crt", "-n", "kube-system"),
     'configmaps "kube-root-ca.crt" is forbidden'),
    (("delete", "serviceaccount", "alice", "-n", "labkit-workshop"),
     'serviceaccounts "alice" is forbidden'),
])
def test_a_learner_is_refused_outside_their_namespaces(kit, tmp_path, args, message):
    out = _kubectl(kit / "alice.kubeconfig", tmp_path, *args)
    assert out.returncode == 1
    assert "Error from server (Forbidden): " in out.stderr and message in out.stderr


def test_remove_takes_everything_back(sandbox, kit, instructor, tmp_path):
    from labkit import workshop
    assert workshop.remove(instructor, ["bob"]) == ["bob"]
    assert workshop.learners(instructor) == ["alice"]
    out = _kubectl(kit / "bob.kubeconfig", tmp_path, "auth", "whoami")
    assert "Unauthorized" in out.stderr
    assert workshop.remove(instructor) == ["alice"]
    names = json.loads(_kubectl(sandbox.kubeconfig, tmp_path, "get", "clusterroles", "-o", "json").stdout)
    assert "labkit-workshop-cluster-read" not in {r["metadata"]["name"] for r in names["items"]}

"""Namespaces terminate as on a real cluster (pkg/registry/core/namespace/storage,
pkg/controller/namespace/deletion/namespaced_resources_deleter.go): a DELETE marks the
namespace Terminating, the namespace controller deletes its content (pods gracefully),
reports what remains in its conditions, removes the `kubernetes` finalizer through
namespaces/{name}/finalize, and only then is the namespace gone."""
from __future__ import annotations

import itertools
import json

import pytest
from kubernetes import client

from .conftest import wait_for

_names = itertools.count()


def _fresh(core) -> str:
    name = f"term{next(_names)}"
    created = core.create_namespace({"metadata": {"name": name}})
    assert created.spec.finalizers == ["kubernetes"]          # defaulted on create
    return name


def _sleeper(name: str, grace: int = 30) -> dict:
    return {"metadata": {"name": name}, "spec": {"terminationGracePeriodSeconds": grace, "containers": [
        {"name": "c", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]}}


def _conditions(core, name: str) -> dict:
    ns = core.read_namespace(name)
    return {c.type: c for c in ns.status.conditions or []}


def _gone(core, name: str) -> bool:
    try:
        core.read_namespace(name)
    except client.ApiException as e:
        return e.status == 404
    return False


def test_a_namespace_terminates_until_its_pods_are_gone(sandbox, api_client):
    core = client.CoreV1Api(api_client)
    name = _fresh(core)
    for pod in ("a", "b"):
        core.create_namespaced_pod(name, _sleeper(pod))
    wait_for(lambda: all(p.status.phase == "Running" for p in core.list_namespaced_pod(name).items))
    core.delete_namespace(name)
    marked = core.read_namespace(name)
    assert marked.status.phase == "Terminating" and marked.metadata.deletion_timestamp
    # The controller deleted the pods (gracefully: they stay Terminating) and says so.
    remaining = wait_for(lambda: (c := _conditions(core, name).get("NamespaceContentRemaining")) and c)
    assert (remaining.status, remaining.reason) == ("True", "SomeResourcesRemain")
    assert remaining.message == "Some resources are remaining: pods. has 2 resource instances"
    conditions = _conditions(core, name)
    assert list(conditions) == ["NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                                "NamespaceDeletionContentFailure", "NamespaceContentRemaining",
                                "NamespaceFinalizersRemaining"]
    assert (conditions["NamespaceDeletionDiscoveryFailure"].status,
            conditions["NamespaceDeletionDiscoveryFailure"].reason,
            conditions["NamespaceDeletionDiscoveryFailure"].message) == (
        "False", "ResourcesDiscovered", "All resources successfully discovered")
    assert conditions["NamespaceFinalizersRemaining"].message == "All content-preserving finalizers finished"
    assert all(p.metadata.deletion_timestamp for p in core.list_namespaced_pod(name).items)
    assert core.read_namespace(name).spec.finalizers == ["kubernetes"]
    # A second delete meanwhile is a Conflict.
    with pytest.raises(client.ApiException) as err:
        core.delete_namespace(name)
    assert err.value.status == 409
    # The pods' grace period ends (sleep ignores SIGTERM as PID 1): then the namespace goes.
    sandbox.advance_clock(31)
    wait_for(lambda: _gone(core, name))


def test_creating_in_a_terminating_namespace_is_forbidden(api_client):
    core = client.CoreV1Api(api_client)
    name = _fresh(core)
    core.create_namespaced_pod(name, _sleeper("holder", grace=300))
    wait_for(lambda: core.read_namespaced_pod("holder", name).status.phase == "Running")
    core.delete_namespace(name)
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(name, {"metadata": {"name": "late"}})
    status = json.loads(err.value.body)
    assert err.value.status == 403 and status["reason"] == "Forbidden"
    assert status["message"] == (f'configmaps "late" is forbidden: unable to create new content in namespace '
                                 f"{name} because it is being terminated")
    assert status["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    core.delete_namespaced_pod("holder", name, grace_period_seconds=0)
    wait_for(lambda: _gone(core, name))


def test_content_finalizers_hold_the_namespace_and_are_reported(api_client):
    core = client.CoreV1Api(api_client)
    name = _fresh(core)
    core.create_namespaced_config_map(name, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    core.delete_namespace(name)
    held = wait_for(lambda: (c := _conditions(core, name).get("NamespaceFinalizersRemaining")) and
                    c.status == "True" and c)
    assert held.reason == "SomeFinalizersRemain"
    assert held.message == ("Some content in the namespace has finalizers remaining: "
                            "example.com/hold in 1 resource instances")
    assert _conditions(core, name)["NamespaceContentRemaining"].message == \
        "Some resources are remaining: configmaps. has 1 resource instances"
    core.patch_namespaced_config_map("held", name, {"metadata": {"finalizers": None}})
    wait_for(lambda: _gone(core, name))


def test_the_finalize_subresource_changes_only_the_finalizers(api_client):
    core = client.CoreV1Api(api_client)
    name = _fresh(core)
    ns = core.read_namespace(name)
    ns.spec.finalizers = ["kubernetes", "example.com/extra"]
    ns.metadata.labels = {"ignored": "yes"}
    core.replace_namespace_finalize(name, ns)
    after = core.read_namespace(name)
    assert after.spec.finalizers == ["kubernetes", "example.com/extra"]
    assert "ignored" not in (after.metadata.labels or {})
    core.delete_namespace(name)
    # The controller removes only its own finalizer; the other keeps the namespace.
    wait_for(lambda: core.read_namespace(name).spec.finalizers == ["example.com/extra"])
    assert not _gone(core, name)
    after = core.read_namespace(name)
    after.spec.finalizers = []
    core.replace_namespace_finalize(name, after)
    # Finalized: the controller deletes it (deleteNamespaceWhenDone).
    wait_for(lambda: _gone(core, name))


def test_kubectl_delete_of_a_directory_with_a_namespace_and_its_pod(kubectl, api_client, tmp_path):
    core = client.CoreV1Api(api_client)
    name = f"term{next(_names)}"
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "1-namespace.yaml").write_text(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
    (tmp_path / "lab" / "2-pod.yaml").write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: {name}\n"
        "spec:\n  containers:\n  - name: web\n    image: nginx:1.27\n")
    kubectl("apply", "-f", str(tmp_path / "lab"))
    wait_for(lambda: core.read_namespaced_pod("web", name).status.phase == "Running")
    proc = kubectl("delete", "-f", str(tmp_path / "lab"))
    assert proc.stdout.splitlines() == [f'namespace "{name}" deleted', f'pod "web" deleted from {name} namespace']
    assert _gone(core, name)                 # kubectl waited until it was gone


def test_kubectl_delete_namespace_waits_until_it_is_gone(kubectl, api_client):
    core = client.CoreV1Api(api_client)
    name = _fresh(core)
    core.create_namespaced_pod(name, {"metadata": {"name": "web"}, "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27"}]}})
    wait_for(lambda: core.read_namespaced_pod("web", name).status.phase == "Running")
    assert kubectl("delete", "ns", name).stdout == f'namespace "{name}" deleted\n'
    assert _gone(core, name)

"""Deletion as the API server and garbage collector carry it out
(staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go,
pkg/controller/garbagecollector): propagationPolicy Orphan, Background and Foreground,
and finalizers that hold an object until they are removed."""
from __future__ import annotations

import json

from .conftest import wait_for


def _get(kubectl, namespace, *what):
    proc = kubectl("get", *what, "-n", namespace, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def _ready(kubectl, namespace, name="web", replicas=2):
    kubectl("create", "deployment", name, "--image=nginx", f"--replicas={replicas}", "-n", namespace)
    kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=30s")


def test_cascade_orphan_keeps_replica_set_and_pods_without_owner(kubectl, namespace):
    _ready(kubectl, namespace)
    kubectl("delete", "deployment", "web", "--cascade=orphan", "-n", namespace)
    wait_for(lambda: _get(kubectl, namespace, "deployment", "web") is None)
    sets = _get(kubectl, namespace, "rs")["items"]
    assert len(sets) == 1 and "ownerReferences" not in sets[0]["metadata"]
    pods = _get(kubectl, namespace, "pods")["items"]
    assert len(pods) == 2
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet" for p in pods)


def test_background_deletes_dependents_after_the_owner(kubectl, namespace):
    _ready(kubectl, namespace)
    kubectl("delete", "deployment", "web", "--cascade=background", "-n", namespace)
    wait_for(lambda: not _get(kubectl, namespace, "rs")["items"])
    wait_for(lambda: not _get(kubectl, namespace, "pods")["items"], timeout=20)


def test_foreground_keeps_the_owner_deleting_until_dependents_are_gone(kubectl, api_client, namespace):
    from kubernetes import client
    _ready(kubectl, namespace)
    # A finalizer holds one pod, so the cascade stops there until it is removed.
    held = _get(kubectl, namespace, "pods")["items"][0]["metadata"]["name"]
    kubectl("patch", "pod", held, "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
    apps = client.AppsV1Api(api_client)
    apps.delete_namespaced_deployment("web", namespace, propagation_policy="Foreground")
    pod = wait_for(lambda: (_get(kubectl, namespace, "pod", held) or {}).get("metadata", {}).get("deletionTimestamp")
                   and _get(kubectl, namespace, "pod", held))
    # The owners are still there, deleting, with the finalizer, while their dependents go.
    deploy = _get(kubectl, namespace, "deployment", "web")
    assert deploy["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert deploy["metadata"]["deletionTimestamp"]
    rs = _get(kubectl, namespace, "rs")["items"]
    assert len(rs) == 1 and rs[0]["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert rs[0]["spec"]["replicas"] == 2 and pod["metadata"]["finalizers"] == ["example.com/hold"]
    kubectl("patch", "pod", held, "-n", namespace, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    wait_for(lambda: _get(kubectl, namespace, "deployment", "web") is None, timeout=20)
    assert not _get(kubectl, namespace, "rs")["items"]
    assert not [p for p in _get(kubectl, namespace, "pods")["items"] if not p["metadata"].get("deletionTimestamp")]


def test_a_finalizer_holds_an_object_until_it_is_removed(kubectl, namespace):
    kubectl("create", "configmap", "held", "--from-literal=a=1", "-n", namespace)
    kubectl("patch", "configmap", "held", "-n", namespace, "--type=merge",
            "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
    kubectl("delete", "configmap", "held", "-n", namespace, "--wait=false")
    held = _get(kubectl, namespace, "configmap", "held")
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == ["example.com/hold"]
    kubectl("patch", "configmap", "held", "-n", namespace, "--type=json",
            "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    assert _get(kubectl, namespace, "configmap", "held") is None


def test_an_unknown_propagation_policy_is_refused(api_client, namespace):
    import pytest
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}})
    with pytest.raises(ApiException) as info:
        core.delete_namespaced_config_map("c", namespace, propagation_policy="Sometimes")
    assert info.value.status == 422
    assert 'propagationPolicy: Unsupported value: "Sometimes"' in json.loads(info.value.body)["message"]

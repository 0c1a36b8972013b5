"""DaemonSets as pkg/controller/daemon runs them: one pod per node that should run it,
honouring taints (the control-plane node's NoSchedule), tolerations and nodeSelector,
pinned by node affinity and bound by the scheduler; status counts and kubectl's columns."""
from __future__ import annotations

import json

from .conftest import wait_for


def _ds(namespace, tolerate_control_plane=False, node_selector=None):
    spec = {"containers": [{"name": "agent", "image": "busybox", "command": ["sleep", "infinity"]}]}
    if tolerate_control_plane:
        spec["tolerations"] = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                "effect": "NoSchedule"}]
    if node_selector:
        spec["nodeSelector"] = node_selector
    return json.dumps({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": namespace},
                       "spec": {"selector": {"matchLabels": {"app": "agent"}},
                                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec}}})


def _nodes(kubectl):
    return json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]


def _pod_nodes(kubectl, namespace):
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    return sorted(p["spec"].get("nodeName") or "" for p in pods if not p["metadata"].get("deletionTimestamp"))


def test_one_pod_per_untainted_node_and_the_columns(kubectl, namespace):
    nodes = _nodes(kubectl)
    workers = sorted(n["metadata"]["name"] for n in nodes if not n["spec"].get("taints"))
    assert 0 < len(workers) < len(nodes)          # kind's control-plane node is tainted
    kubectl("apply", "-f", "-", input=_ds(namespace))
    wait_for(lambda: _pod_nodes(kubectl, namespace) == workers)
    pod = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"][0]
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchFields"][0]["values"] == [pod["spec"]["nodeName"]]
    assert {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"} \
        in pod["spec"]["tolerations"]
    kubectl("rollout", "status", "daemonset/agent", "-n", namespace, "--timeout=30s")
    table = kubectl("get", "ds", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"]
    n = str(len(workers))
    assert table[1].split()[:7] == ["agent", n, n, n, n, n, "<none>"]


def test_tolerations_and_node_selector_decide_the_nodes(kubectl, namespace):
    nodes = sorted(n["metadata"]["name"] for n in _nodes(kubectl))
    kubectl("apply", "-f", "-", input=_ds(namespace, tolerate_control_plane=True))
    wait_for(lambda: _pod_nodes(kubectl, namespace) == nodes)
    # A node selector narrows it to one node: the others' pods are deleted.
    target = nodes[-1]
    kubectl("apply", "-f", "-", input=_ds(namespace, tolerate_control_plane=True,
                                          node_selector={"kubernetes.io/hostname": target}))
    wait_for(lambda: _pod_nodes(kubectl, namespace) == [target], timeout=20)
    ds = json.loads(kubectl("get", "ds", "agent", "-n", namespace, "-o", "json").stdout)
    wait_for(lambda: json.loads(kubectl("get", "ds", "agent", "-n", namespace, "-o", "json").stdout)["status"]
             ["desiredNumberScheduled"] == 1)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}

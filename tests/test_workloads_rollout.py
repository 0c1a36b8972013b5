"""Rollouts as kube-controller-manager's deployment controller does them, driven by a real
kubectl over the sandbox's socket: surge by surge (pkg/controller/deployment/rolling.go),
revision history and `rollout undo` (kubectl's polymorphichelpers/rollback.go with the
controller's SetNewReplicaSetAnnotations), pause and resume (sync.go checkPausedConditions)."""
from __future__ import annotations

import json

from labkit.sandbox.controllers._rollout import fenceposts, new_rs_replicas, old_scale_down

from .conftest import wait_for


def _deploy(replicas=4, **strategy):
    spec = {"replicas": replicas, "strategy": {"type": "RollingUpdate", "rollingUpdate": strategy}}
    return {"spec": spec}


def _rs(name, replicas, available):
    return {"metadata": {"name": name}, "spec": {"replicas": replicas},
            "status": {"availableReplicas": available}}


def test_fenceposts_round_surge_up_and_unavailability_down():
    assert fenceposts(_deploy(4, maxSurge="25%", maxUnavailable="25%")) == (1, 1)
    assert fenceposts(_deploy(3, maxSurge="25%", maxUnavailable="25%")) == (1, 0)
    assert fenceposts(_deploy(3, maxSurge=0, maxUnavailable=0)) == (0, 1)


def test_rolling_steps_follow_rolling_go():
    d = _deploy(4, maxSurge="25%", maxUnavailable="25%")
    old = _rs("old", 4, 4)
    # The new ReplicaSet starts at the surge; the old one loses one available pod.
    assert new_rs_replicas(d, [old], 0) == 1
    new = _rs("new", 1, 0)
    assert old_scale_down(d, new, [old]) == [("old", 3)]
    # Nothing more goes until a new pod is available.
    assert old_scale_down(d, new, [_rs("old", 3, 3)]) == []
    assert new_rs_replicas(d, [new, _rs("old", 3, 3)], 1) == 2
    # Unavailable old pods go first (cleanupUnhealthyReplicas).
    assert old_scale_down(d, _rs("new", 2, 2), [_rs("old", 3, 1)]) == [("old", 1)]


def _events(kubectl, namespace, name):
    out = kubectl("get", "events", "-n", namespace, "-o", "json").stdout
    return [e["message"] for e in json.loads(out)["items"]
            if e["involvedObject"]["name"] == name and e["reason"] == "ScalingReplicaSet"]


def _replica_sets(kubectl, namespace):
    out = json.loads(kubectl("get", "rs", "-n", namespace, "-o", "json").stdout)["items"]
    return {rs["metadata"]["name"]: rs for rs in out}


def _revision(obj):
    return obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"]


def test_set_image_rolls_surge_by_surge_and_undo_makes_revision_3(kubectl, namespace):
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=4", "-n", namespace)
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    first = next(iter(_replica_sets(kubectl, namespace)))
    kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace)
    out = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s").stdout
    assert 'deployment "web" successfully rolled out' in out
    sets = _replica_sets(kubectl, namespace)
    second = next(n for n in sets if n != first)
    assert sets[first]["spec"]["replicas"] == 0 and sets[second]["spec"]["replicas"] == 4
    assert _revision(sets[second]) == "2"
    events = _events(kubectl, namespace, "web")
    # The new ReplicaSet starts at maxSurge (1 of 4), never all at once; the old one is not
    # dropped from 4 to 0 in one step.
    assert f"Scaled up replica set {second} to 1" in events
    assert f"Scaled down replica set {first} to 0 from 4" not in events
    assert f"Scaled down replica set {first} to 3 from 4" in events

    kubectl("rollout", "undo", "deployment/web", "-n", namespace)
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    sets = _replica_sets(kubectl, namespace)
    assert _revision(sets[first]) == "3"
    assert sets[first]["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert sets[first]["spec"]["replicas"] == 4 and sets[second]["spec"]["replicas"] == 0
    deploy = json.loads(kubectl("get", "deploy", "web", "-n", namespace, "-o", "json").stdout)
    assert _revision(deploy) == "3"
    history = kubectl("rollout", "history", "deployment/web", "-n", namespace).stdout
    revisions = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert revisions == ["2", "3"]


def test_paused_deployment_does_not_roll_until_resumed(kubectl, namespace):
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "-n", namespace)
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    kubectl("rollout", "pause", "deployment/web", "-n", namespace)

    def paused():
        d = json.loads(kubectl("get", "deploy", "web", "-n", namespace, "-o", "json").stdout)
        cond = {c["type"]: c for c in d["status"]["conditions"]}["Progressing"]
        return cond["reason"] == "DeploymentPaused" and cond["status"] == "Unknown" and d
    d = wait_for(paused)
    assert {c["type"]: c for c in d["status"]["conditions"]}["Progressing"]["message"] == "Deployment is paused"
    kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace)
    # Scaling still works while paused; the template change makes no ReplicaSet.
    kubectl("scale", "deployment/web", "--replicas=3", "-n", namespace)
    wait_for(lambda: [rs["spec"]["replicas"] for rs in _replica_sets(kubectl, namespace).values()] == [3])
    kubectl("rollout", "resume", "deployment/web", "-n", namespace)
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    sets = _replica_sets(kubectl, namespace)
    assert sorted(rs["spec"]["replicas"] for rs in sets.values()) == [0, 3]


def test_revision_history_limit_removes_the_oldest_idle_replica_sets(kubectl, namespace):
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "-n", namespace)
    kubectl("patch", "deployment/web", "-n", namespace, "-p", '{"spec":{"revisionHistoryLimit":1}}')
    for tag in ("1.26", "1.27", "1.28"):
        kubectl("set", "image", "deployment/web", f"nginx=nginx:{tag}", "-n", namespace)
        kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    sets = wait_for(lambda: len(_replica_sets(kubectl, namespace)) == 2 and _replica_sets(kubectl, namespace))
    assert sorted(_revision(rs) for rs in sets.values()) == ["3", "4"]

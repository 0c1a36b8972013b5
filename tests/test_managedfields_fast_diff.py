"""The field manager's changed-field sets come from a walk that stops at equal subtrees and
walks a new subtree without a left side (registry/_fieldpath.py `_compare`, `_added`). Both
must find exactly what structured-merge-diff's typed/compare.go finds by visiting every field:
checked against that plain walk over varied objects, and, end to end, the managedFields of a
scale-out against those the plain walk produced (tests/fixtures/managedfields-scaleout.json,
recorded before the shortcuts; times left out)."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from labkit.kube.objects import clone
from labkit.sandbox.registry import _fieldpath as fp

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "managedfields-scaleout.json"
MISSING = fp._MISSING


def plain_compare(lhs, rhs, t):
    """compare.go as written: every field of both sides visited, nothing skipped."""
    added, modified, removed = set(), set(), set()

    def leaf(a, b, path):
        if a is MISSING:
            added.add(path)
        elif b is MISSING:
            removed.add(path)
        elif a != b:
            modified.add(path)

    def walk(a, b, t, path):
        t = fp._resolve(t, b if b is not MISSING else a)
        atomic = t.kind == "scalar" or t.atomic or (t.kind == "list" and t.how == "atomic")
        if t.kind in ("struct", "map") and not atomic:
            am, bm = (a if isinstance(a, dict) else None), (b if isinstance(b, dict) else None)
            if not am and not bm:
                atomic = True
            else:
                am, bm = am or {}, bm or {}
                for k in am.keys() | bm.keys():
                    walk(am.get(k, MISSING), bm.get(k, MISSING), fp._child(t, k)[0], path + ("f:" + k,))
        elif t.kind == "list" and not atomic:
            al, bl = (a if isinstance(a, list) else None), (b if isinstance(b, list) else None)
            if not al and not bl:
                atomic = True
            else:
                def index(items):
                    out = {}
                    for i, item in enumerate(items or ()):
                        out.setdefault(fp.item_element(t, item, i), []).append(item)
                    return out
                left, right = index(al), index(bl)
                for pe in left.keys() | right.keys():
                    ls, rs = left.get(pe, []), right.get(pe, [])
                    p = path + (pe,)
                    if len(ls) <= 1 and len(rs) <= 1:
                        walk(ls[0] if ls else MISSING, rs[0] if rs else MISSING, t.elem, p)
                    elif len(ls) >= 2 and len(rs) >= 2:
                        if ls != rs:
                            modified.add(p)
                    elif len(ls) >= 2:
                        removed.add(p)
                    else:
                        added.add(p)
        if atomic:
            leaf(a, b, path)
        elif a is MISSING:
            added.add(path)
        elif b is MISSING:
            removed.add(path)
    walk(lhs, rhs, t, ())
    return added, modified, removed


POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-abc", "namespace": "default", "labels": {"app": "web", "pod-template-hash": "5d"},
                 "annotations": {"note": "x"}, "finalizers": ["a", "b"],
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d",
                                      "uid": "u-1", "controller": True, "blockOwnerDeletion": True}]},
    "spec": {"containers": [{"name": "hello", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}],
                             "env": [{"name": "A", "value": "1"}], "resources": {},
                             "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
             "volumes": [{"name": "v", "emptyDir": {}}], "tolerations": [{"key": "k", "operator": "Exists"}],
             "nodeSelector": {"disk": "ssd"}, "securityContext": {}, "dnsPolicy": "ClusterFirst"},
    "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}],
               "podIPs": [{"ip": "10.10.0.5"}],
               "containerStatuses": [{"name": "hello", "ready": False, "restartCount": 0,
                                      "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}]},
}
LEAVES = ["x", "", 0, 1, True, False, None, 2.5, {}, [], {"k": "v"}, [1, 1], ["a", "b"], {"name": "hello"},
          {"containerPort": 80}, {"containerPort": 80, "protocol": "UDP"}, {"type": "Ready", "status": "False"}]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _mutate(rng: random.Random, obj):
    """One random edit somewhere in obj: a value replaced, a key or item added or removed,
    an item duplicated (a list-map's duplicate keys)."""
    obj = clone(obj)
    path = rng.choice([p for p in _paths(obj) if p])
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = rng.randrange(4)
    if action == 0:
        parent[last] = clone(rng.choice(LEAVES))
    elif action == 1:
        del parent[last]
    elif action == 2 and isinstance(parent[last], dict):
        parent[last][rng.choice(["name", "new", "type", "ip", "app", "status"])] = clone(rng.choice(LEAVES))
    elif isinstance(parent[last], list):
        parent[last].append(clone(rng.choice(parent[last]) if parent[last] and rng.random() < 0.5
                                  else rng.choice(LEAVES)))
    else:
        parent[last] = clone(rng.choice(LEAVES))
    return obj


@pytest.mark.parametrize("api_version,kind", [("v1", "Pod"), ("apps/v1", "Deployment"), ("v1", "ConfigMap"),
                                              ("example.com/v1", "Unknown")])
def test_the_shortcut_walk_finds_what_visiting_every_field_finds(api_version, kind):
    t = fp.root_type(api_version, kind)
    rng = random.Random(f"{kind}-7")
    checked = 0
    for _ in range(400):
        a = POD
        for _ in range(rng.randrange(4)):
            a = _mutate(rng, a)
        b = a
        for _ in range(rng.randrange(1, 4)):
            b = _mutate(rng, b)
        for lhs, rhs in ((a, b), (b, a), (a, clone(a)), ({}, b), ({"spec": {"containers": None}, "status": {}}, a)):
            assert fp.compare(lhs, rhs, t) == plain_compare(lhs, rhs, t), (lhs, rhs)
            checked += 1
    assert checked == 2000


def test_a_key_element_is_the_same_whether_remembered_or_not():
    t = fp.root_type("v1", "Pod").fields["spec"].fields["containers"].elem.fields["ports"]
    for item in ({"containerPort": 1}, {"containerPort": True}, {"containerPort": 1.0}, {"containerPort": "1"}):
        first, again = fp.item_element(t, item, 0), fp.item_element(t, item, 0)
        assert first == again == "k:" + fp._go_json({"containerPort": item["containerPort"], "protocol": "TCP"})
    # 1 and true are equal in Python but not in JSON: remembered apart.
    assert fp.item_element(t, {"containerPort": 1}, 0) != fp.item_element(t, {"containerPort": True}, 0)


def test_a_scale_out_leaves_the_managed_fields_the_plain_walk_left(tmp_path):
    from kubernetes import client, config
    from labkit.sandbox import Sandbox, SandboxConfig
    expected = json.loads(FIXTURE.read_text())

    def wait(cond, what, timeout=30.0):
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, what
            time.sleep(0.02)

    with Sandbox(home=tmp_path / "sb", config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        api = config.new_client_from_config(str(sb.kubeconfig))
        try:
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            core.create_namespaced_service("default", {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-svc"},
                "spec": {"clusterIP": "None", "selector": {"app": "web"},
                         "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
            apps.create_namespaced_deployment("default", {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "hello", "image": "nginxdemos/hello:plain-text",
                                                               "ports": [{"name": "http", "containerPort": 80}]}]}}}})

            def pods():
                return sb.store.list("pods", "default")
            wait(lambda: len(pods()) == 5 and all(p["status"].get("phase") == "Running" for p in pods()), "5 Running")
            apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})

            def shown():
                out = {}
                for plural in ("pods", "replicasets", "deployments", "endpoints", "endpointslices", "services"):
                    for o in sb.store.list(plural, "default"):
                        out[f"{plural}/{o['metadata']['name']}"] = [
                            {k: v for k, v in e.items() if k != "time"} for e in o["metadata"].get("managedFields") or []]
                return out
            # Converged: the same view twice, the controllers idle between.
            wait(lambda: sb.controllers.idle() and shown() == expected, "the recorded managedFields")
        finally:
            api.close()

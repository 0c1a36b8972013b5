"""ReplicationControllers (v1), over real HTTP with kubectl and the official client: defaults
(pkg/apis/core/v1/defaults.go SetDefaults_ReplicationController), validation
(pkg/apis/core/validation ValidateReplicationController), the replication manager
(pkg/controller/replication, the ReplicaSet controller's logic), printing, scale, expose,
describe and cascading deletion."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from .conftest import wait_for


def _rc(name: str, replicas: int | None = 2, labels=None, selector=None, image: str = "nginx:1.27") -> dict:
    spec: dict = {"template": {"metadata": {"labels": labels or {"app": name}},
                               "spec": {"containers": [{"name": "web", "image": image}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name}, "spec": spec}


def _ready(core, namespace: str, name: str, n: int):
    def check():
        rc = core.read_namespaced_replication_controller(name, namespace)
        return (rc.status.ready_replicas or 0) == n and rc.status.replicas == n and rc
    return wait_for(check)


def _owned_pods(core, namespace: str, name: str) -> list:
    return [p for p in core.list_namespaced_pod(namespace).items
            if any(r.kind == "ReplicationController" and r.name == name for r in p.metadata.owner_references or [])]


def test_defaults_take_the_selector_and_labels_from_the_template(api_client, namespace):
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_replication_controller(namespace, _rc("web", replicas=None))
    assert created.spec.selector == {"app": "web"}
    assert created.metadata.labels == {"app": "web"}
    assert created.spec.replicas == 1
    assert created.spec.template.spec.restart_policy == "Always"
    assert created.spec.template.spec.termination_grace_period_seconds == 30


@pytest.mark.parametrize("body, message", [
    (_rc("bad", labels={"app": "a"}, selector={"app": "b"}),
     'ReplicationController "bad" is invalid: spec.template.metadata.labels: Invalid value: '
     'map[string]string{"app":"a"}: `selector` does not match template `labels`'),
    (_rc("bad", replicas=-1),
     'ReplicationController "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'),
    ({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "bad"}, "spec": {}},
     'ReplicationController "bad" is invalid: [spec.selector: Required value, spec.template: Required value]'),
])
def test_validation_as_validate_replication_controller(api_client, namespace, body, message):
    core = client.CoreV1Api(api_client)
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_replication_controller(namespace, body)
    status = json.loads(err.value.body)
    assert (err.value.status, status["reason"], status["message"]) == (422, "Invalid", message)
    assert status["details"]["kind"] == "ReplicationController"


def test_a_template_that_does_not_always_restart_is_refused(api_client, namespace):
    body = _rc("once")
    body["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    with pytest.raises(client.ApiException) as err:
        client.CoreV1Api(api_client).create_namespaced_replication_controller(namespace, body)
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' \
        in json.loads(err.value.body)["message"]


def test_the_replication_manager_keeps_replicas_with_owned_pods(api_client, namespace):
    core = client.CoreV1Api(api_client)
    rc = core.create_namespaced_replication_controller(namespace, _rc("web", replicas=3))
    _ready(core, namespace, "web", 3)
    pods = _owned_pods(core, namespace, "web")
    assert len(pods) == 3
    ref = pods[0].metadata.owner_references[0]
    assert (ref.api_version, ref.kind, ref.uid, ref.controller, ref.block_owner_deletion) == (
        "v1", "ReplicationController", rc.metadata.uid, True, True)
    assert all(p.metadata.name.startswith("web-") for p in pods)
    # A pod deleted is replaced.
    core.delete_namespaced_pod(pods[0].metadata.name, namespace, grace_period_seconds=0)
    wait_for(lambda: len([p for p in _owned_pods(core, namespace, "web") if not p.metadata.deletion_timestamp]) == 3
             and pods[0].metadata.name not in {p.metadata.name for p in _owned_pods(core, namespace, "web")})
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.kind=ReplicationController").items
    assert {e.source.component for e in events} == {"replication-controller"}


def test_kubectl_get_scale_describe_and_expose(kubectl, api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_replication_controller(namespace, _rc("web", replicas=2))
    _ready(core, namespace, "web", 2)
    lines = kubectl("get", "rc", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert lines[1].split()[:4] == ["web", "2", "2", "2"] and lines[1].split()[5:] == ["web", "nginx:1.27", "app=web"]
    assert kubectl("scale", "rc", "web", "-n", namespace, "--replicas=3").stdout == \
        "replicationcontroller/web scaled\n"
    _ready(core, namespace, "web", 3)
    scale = core.read_namespaced_replication_controller_scale("web", namespace)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 3, "app=web")
    described = kubectl("describe", "rc", "web", "-n", namespace).stdout
    assert "Replicas:     3 current / 3 desired" in described
    assert "Pods Status:  3 Running / 0 Waiting / 0 Succeeded / 0 Failed" in described
    assert "replication-controller  Created pod: web-" in described
    assert kubectl("expose", "rc", "web", "-n", namespace, "--port=80").stdout == "service/web exposed\n"
    svc = core.read_namespaced_service("web", namespace)
    assert svc.spec.selector == {"app": "web"}
    ips = {p.status.pod_ip for p in _owned_pods(core, namespace, "web")}
    wait_for(lambda: {a.ip for s in core.read_namespaced_endpoints("web", namespace).subsets or []
                      for a in s.addresses or []} == ips)
    assert "replicationcontroller/web" in kubectl("get", "all", "-n", namespace).stdout


def test_deleting_cascades_to_the_pods_unless_orphaned(kubectl, api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_replication_controller(namespace, _rc("gone", replicas=2))
    core.create_namespaced_replication_controller(namespace, _rc("kept", replicas=2))
    _ready(core, namespace, "gone", 2)
    _ready(core, namespace, "kept", 2)
    kubectl("delete", "rc", "gone", "-n", namespace)
    wait_for(lambda: not _owned_pods(core, namespace, "gone"))
    assert not [p for p in core.list_namespaced_pod(namespace).items if p.metadata.labels.get("app") == "gone"]
    kubectl("delete", "rc", "kept", "-n", namespace, "--cascade=orphan")
    left = wait_for(lambda: [p for p in core.list_namespaced_pod(namespace).items
                             if p.metadata.labels.get("app") == "kept" and not p.metadata.owner_references])
    assert len(left) == 2


def test_served_in_discovery_and_openapi(kubectl, api_client):
    resources = client.CoreV1Api(api_client).get_api_resources().resources
    rc = next(r for r in resources if r.name == "replicationcontrollers")
    assert (rc.kind, rc.namespaced, rc.short_names, rc.categories) == (
        "ReplicationController", True, ["rc"], ["all"])
    subs = {r.name for r in resources if r.name.startswith("replicationcontrollers/")}
    assert subs == {"replicationcontrollers/scale", "replicationcontrollers/status"}
    explained = kubectl("explain", "rc.spec.selector").stdout
    assert "Selector is a label query over pods that should match the Replicas count" in explained

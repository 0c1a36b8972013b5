"""Service semantics beyond ClusterIPs: node ports from 30000-32767 as the service
registry's allocator gives them (pkg/registry/core/service/storage/alloc.go), LoadBalancer
status left empty as on kind (EXTERNAL-IP <pending>), and Endpoints removed with their
Service (pkg/controller/endpoint syncService)."""
from __future__ import annotations

import json

import pytest

from .conftest import wait_for


def _svc(name, typ="NodePort", node_port=None):
    port = {"port": 80, "targetPort": 80}
    if node_port:
        port["nodePort"] = node_port
    return {"metadata": {"name": name}, "spec": {"type": typ, "selector": {"app": name}, "ports": [port]}}


def test_node_ports_are_allocated_kept_and_refused_when_taken(api_client, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    core = client.CoreV1Api(api_client)
    first = core.create_namespaced_service(namespace, _svc("a"))
    port = first.spec.ports[0].node_port
    assert 30000 <= port <= 32767
    # An update that leaves the port out keeps it.
    again = core.replace_namespaced_service("a", namespace, {**_svc("a"), "metadata": {
        "name": "a", "resourceVersion": first.metadata.resource_version}})
    assert again.spec.ports[0].node_port == port
    with pytest.raises(ApiException) as info:
        core.create_namespaced_service(namespace, _svc("b", node_port=port))
    body = json.loads(info.value.body)
    assert info.value.status == 422
    assert body["message"] == (f'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: {port}: '
                               "provided port is already allocated")
    with pytest.raises(ApiException) as info:
        core.create_namespaced_service(namespace, _svc("c", node_port=8080))
    assert json.loads(info.value.body)["details"]["causes"][0]["message"] == (
        "Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767")
    chosen = core.create_namespaced_service(namespace, _svc("d", node_port=30001))
    assert chosen.spec.ports[0].node_port == 30001


def test_load_balancer_stays_pending_as_on_kind(kubectl, namespace):
    kubectl("create", "service", "loadbalancer", "lb", "--tcp=80:8080", "-n", namespace)
    svc = json.loads(kubectl("get", "svc", "lb", "-n", namespace, "-o", "json").stdout)
    assert svc["status"] == {"loadBalancer": {}}
    assert 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    row = kubectl("get", "svc", "lb", "-n", namespace, "--no-headers").stdout.split()
    assert row[1] == "LoadBalancer" and row[3] == "<pending>"
    assert row[4] == f"80:{svc['spec']['ports'][0]['nodePort']}/TCP"


def test_endpoints_go_with_their_service(kubectl, namespace):
    kubectl("create", "deployment", "web", "--image=nginx", "-n", namespace)
    kubectl("expose", "deployment", "web", "--port=80", "-n", namespace)
    wait_for(lambda: kubectl("get", "endpoints", "web", "-n", namespace, check=False).returncode == 0)
    kubectl("delete", "service", "web", "-n", namespace)
    wait_for(lambda: kubectl("get", "endpoints", "web", "-n", namespace, check=False).returncode != 0)
    slices = json.loads(kubectl("get", "endpointslices", "-n", namespace, "-o", "json").stdout)["items"]
    assert not slices

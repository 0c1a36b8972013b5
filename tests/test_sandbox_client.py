"""The sandbox through the official Python client, over real HTTP and WebSocket."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
from kubernetes import client, dynamic, stream, utils, watch
from kubernetes.client.rest import ApiException

from labkit.sandbox import Sandbox, SandboxConfig

from .conftest import MANIFESTS, wait_for

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "hello", "image": "nginxdemos/hello:plain-text",
                                                   "ports": [{"name": "http", "containerPort": 80}]}]}}},
}
HEADLESS = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-svc"},
            "spec": {"clusterIP": "None", "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def running_pods(core, ns, selector="app=web"):
    return [p for p in core.list_namespaced_pod(ns, label_selector=selector).items
            if p.status.phase == "Running" and p.status.pod_ip]


def test_requests_without_the_token_get_401(sandbox):
    req = urllib.request.Request(sandbox.server + "/api/v1/namespaces")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5, context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    assert err.value.code == 401
    assert json.loads(err.value.read())["reason"] == "Unauthorized"


def test_binds_loopback_only(sandbox):
    assert sandbox.server.startswith("https://127.0.0.1:")
    assert sandbox.dns_address is None or sandbox.dns_address[0] == "127.0.0.1"


def test_version_and_bootstrap_objects(api_client):
    info = client.VersionApi(api_client).get_code()
    assert info.git_version.startswith("v1.")
    core = client.CoreV1Api(api_client)
    names = {n.metadata.name for n in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    assert core.read_namespaced_service("kubernetes", "default").spec.cluster_ip == "10.0.0.1"
    assert core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip == "10.0.0.10"
    assert len(core.list_node().items) == 3


def test_crud_and_optimistic_concurrency(api_client, namespace):
    core = client.CoreV1Api(api_client)
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    assert cm.metadata.uid and cm.metadata.resource_version and cm.metadata.creation_timestamp
    stale = cm.metadata.resource_version
    cm.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("settings", namespace, cm)
    assert int(updated.metadata.resource_version) > int(stale)
    cm.metadata.resource_version = stale
    cm.data = {"a": "3"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("settings", namespace, cm)
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("settings", namespace).data == {"a": "2"}   # store unchanged
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}})
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "AlreadyExists"
    core.delete_namespaced_config_map("settings", namespace)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("settings", namespace)
    body = json.loads(err.value.body)
    assert err.value.status == 404 and body["message"] == 'configmaps "settings" not found'


def test_invalid_objects_are_rejected_with_field_causes(api_client, namespace):
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(namespace, {"metadata": {"name": "Bad_Name"},
                                               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    body = json.loads(err.value.body)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(namespace, {"metadata": {"name": "nocontainers"}, "spec": {"containers": []}})
    assert err.value.status == 422
    assert any(c["field"] == "spec.containers" for c in json.loads(err.value.body)["details"]["causes"])
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("no-such-ns", {"metadata": {"name": "p"},
                                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    assert err.value.status == 404 and json.loads(err.value.body)["message"] == 'namespaces "no-such-ns" not found'
    assert core.list_namespaced_pod(namespace).items == []


def test_deployment_runs_pods_and_headless_endpoints_follow(api_client, namespace):
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    discovery = client.DiscoveryV1Api(api_client)
    apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    core.create_namespaced_service(namespace, HEADLESS)
    pods = wait_for(lambda: running_pods(core, namespace))
    pod = pods[0]
    rs = apps.list_namespaced_replica_set(namespace).items[0]
    pth = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pth}" and pod.metadata.name.startswith(rs.metadata.name + "-")
    assert len(pod.metadata.name) == len(rs.metadata.name) + 6
    assert pod.status.pod_ip.startswith("10.10.100.") and pod.spec.node_name
    ep = wait_for(lambda: core.read_namespaced_endpoints("web-svc", namespace).subsets)
    assert [a.ip for a in ep[0].addresses] == [pod.status.pod_ip]
    assert ep[0].ports[0].port == 80      # the named targetPort resolved to the container port
    slices = discovery.list_namespaced_endpoint_slice(
        namespace, label_selector="kubernetes.io/service-name=web-svc").items
    assert slices[0].endpoints[0].addresses == [pod.status.pod_ip]
    assert slices[0].endpoints[0].conditions.ready is True
    # The scale subresource, as `kubectl scale` and the client use it.
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 3}})
    wait_for(lambda: len(running_pods(core, namespace)) == 3)
    ips = sorted(p.status.pod_ip for p in running_pods(core, namespace))
    wait_for(lambda: sorted(a.ip for a in (core.read_namespaced_endpoints("web-svc", namespace).subsets or [{}])[0]
                            .addresses or []) == ips)
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 3 and scale.status.selector == "app=web"
    d = wait_for(lambda: (lambda d: d if d.status.available_replicas == 3 else None)(
        apps.read_namespaced_deployment("web", namespace)))
    assert {c.type: c.status for c in d.status.conditions} == {"Available": "True", "Progressing": "True"}
    # Delete cascades to the ReplicaSet and its pods.
    apps.delete_namespaced_deployment("web", namespace, propagation_policy="Background")
    wait_for(lambda: not core.list_namespaced_pod(namespace, label_selector="app=web").items)
    assert not apps.list_namespaced_replica_set(namespace).items


def test_watch_streams_changes(api_client, namespace):
    core = client.CoreV1Api(api_client)
    listed = core.list_namespaced_config_map(namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "one"}})
    core.patch_namespaced_config_map("one", namespace, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("one", namespace)
    seen = []
    for event in watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                      resource_version=listed.metadata.resource_version, timeout_seconds=1):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            break
    assert seen == [("ADDED", "one"), ("MODIFIED", "one"), ("DELETED", "one")]


def test_exec_runs_in_the_pod_with_exit_codes(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, {"metadata": {"name": "box"},
                                           "spec": {"containers": [{"name": "box", "image": "centos:7",
                                                                    "command": ["sleep", "infinity"]}]}})
    wait_for(lambda: core.read_namespaced_pod("box", namespace).status.phase == "Running")
    out = stream.stream(core.connect_get_namespaced_pod_exec, "box", namespace, command=["hostname"],
                        stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "box\n"
    resolv = stream.stream(core.connect_get_namespaced_pod_exec, "box", namespace,
                           command=["cat", "/etc/resolv.conf"], stderr=True, stdin=False, stdout=True, tty=False)
    assert f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local" in resolv
    assert "nameserver 10.0.0.10" in resolv and "options ndots:5" in resolv
    ws = stream.stream(core.connect_get_namespaced_pod_exec, "box", namespace, command=["sh", "-c", "exit 3"],
                       stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=10)
    assert ws.returncode == 3
    with pytest.raises(ApiException) as err:
        stream.stream(core.connect_get_namespaced_pod_exec, "nobody", namespace, command=["hostname"],
                      stderr=True, stdin=False, stdout=True, tty=False)
    # The client reports a failed WebSocket handshake with the server's status line and body.
    assert "404" in str(err.value) and 'pods \\"nobody\\" not found' in str(err.value) or \
        'pods "nobody" not found' in str(err.value)


def test_create_from_yaml_and_server_side_apply(api_client):
    utils.create_from_yaml(api_client, str(MANIFESTS / "namespace-test.yaml"))
    utils.create_from_yaml(api_client, str(MANIFESTS / "nginx-deployment.yaml"))
    apps = client.AppsV1Api(api_client)
    assert apps.read_namespaced_deployment("nginx-deployment", "default").spec.replicas == 1
    dyn = dynamic.DynamicClient(api_client)
    services = dyn.resources.get(api_version="v1", kind="Service")
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "applied", "namespace": "test"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    created = services.server_side_apply(body=body, name="applied", namespace="test", field_manager="labkit")
    assert created.spec.clusterIP.startswith("10.0.0.")
    body["spec"]["ports"] = [{"port": 80, "targetPort": 8080}]
    again = services.server_side_apply(body=body, name="applied", namespace="test", field_manager="labkit")
    assert again.spec.clusterIP == created.spec.clusterIP and again.spec.ports[0].targetPort == 8080


def test_state_survives_a_restart_and_seed_fixes_names(tmp_path):
    config = SandboxConfig(pod_start_seconds=0.0, seed=7)

    def run_once(home):
        from kubernetes import config as kconfig
        with Sandbox(home=home, config=config) as sb:
            api = kconfig.new_client_from_config(str(sb.kubeconfig))
            apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
            apps.create_namespaced_deployment("default", dict(DEPLOYMENT, spec=dict(DEPLOYMENT["spec"], replicas=2)))
            pods = wait_for(lambda: (lambda ps: ps if len(ps) == 2 else None)(running_pods(core, "default")))
            api.close()
            return sorted((p.metadata.name, p.status.pod_ip, p.spec.node_name) for p in pods)

    first = run_once(tmp_path / "a")
    assert run_once(tmp_path / "b") == first        # same seed, same calls: same names and IPs
    from kubernetes import config as kconfig
    with Sandbox(home=tmp_path / "a") as sb:        # restarted: everything is still there
        api = kconfig.new_client_from_config(str(sb.kubeconfig))
        core = client.CoreV1Api(api)
        pods = running_pods(core, "default")
        assert sorted((p.metadata.name, p.status.pod_ip, p.spec.node_name) for p in pods) == first
        api.close()


def test_endpointslice_ports_always_carry_a_name(api_client, namespace):
    """The EndpointSlice controller sets every port's name, "" when the Service port has
    none (k8s.io/endpointslice utils.go getEndpointPorts takes &servicePort.Name), as a
    real API server returns it; client-go programs dereference it (CoreDNS 1.10.1's
    object.EndpointSliceToEndpoints panics on a nil name). Endpoints leave it out."""
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    discovery = client.DiscoveryV1Api(api_client)
    apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    core.create_namespaced_service(namespace, {
        "metadata": {"name": "plain"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": 80}]}})
    wait_for(lambda: running_pods(core, namespace))

    def slice_ports():
        raw = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=plain", _preload_content=False)
        items = json.loads(raw.data)["items"]
        return items and items[0].get("endpoints") and items[0]["ports"]
    assert wait_for(slice_ports) == [{"name": "", "port": 80, "protocol": "TCP"}]
    raw = core.read_namespaced_endpoints("plain", namespace, _preload_content=False)
    assert json.loads(raw.data)["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    # A Service that selects no pod gets the placeholder slice: no endpoints, no ports
    # (reconciler.go newEndpointSlice with an empty endpointMeta).
    core.create_namespaced_service(namespace, {
        "metadata": {"name": "nobody"},
        "spec": {"selector": {"app": "none"}, "ports": [{"name": "http", "port": 80}]}})

    def placeholder():
        raw = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=nobody", _preload_content=False)
        return json.loads(raw.data)["items"]
    [empty] = wait_for(placeholder)
    assert empty["endpoints"] is None and empty["ports"] is None

"""Protocol details clients depend on: exec channels v4/v5, watch-list, tables, configz, cascades."""
from __future__ import annotations

import asyncio
import json
import ssl

import aiohttp
import pytest
from kubernetes import client

from .conftest import wait_for

POD = {"metadata": {"name": "box"},
       "spec": {"containers": [{"name": "box", "image": "centos:7", "command": ["sleep", "infinity"]}]}}


def _raw_exec(sandbox, namespace: str, command: list[str], protocol: str, stdin: bytes | None = None):
    """Open pods/exec as a bare WebSocket client and collect frames by channel."""
    query = [("command", c) for c in command] + [("stdout", "true"), ("stderr", "true")]
    if stdin is not None:
        query.append(("stdin", "true"))
    url = f"{sandbox.server}/api/v1/namespaces/{namespace}/pods/box/exec"
    ctx = ssl.create_default_context(cafile=str(sandbox.ca_file))

    async def run():
        frames: dict[int, bytes] = {}
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, params=query, protocols=(protocol,), ssl=ctx,
                                          headers={"Authorization": f"Bearer {sandbox.token}"}) as ws:
                assert ws.protocol == protocol
                if stdin is not None:
                    await ws.send_bytes(b"\x00" + stdin)
                    await ws.send_bytes(b"\xff\x00")      # v5: close stdin
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        frames[msg.data[0]] = frames.get(msg.data[0], b"") + msg.data[1:]
        return frames
    return asyncio.run(run())


def raw_get(api_client, path: str, query=(), headers=None) -> tuple[int, bytes]:
    """A GET through the official client's own transport and auth (client 31+ API)."""
    method, url, hdrs, body, _ = api_client.param_serialize(
        "GET", path, query_params=list(query), header_params=headers or {}, auth_settings=["BearerToken"])
    resp = api_client.call_api(method, url, header_params=hdrs)
    return resp.status, resp.read()


@pytest.fixture
def box(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, POD)
    wait_for(lambda: core.read_namespaced_pod("box", namespace).status.phase == "Running")
    return namespace


@pytest.mark.parametrize("protocol", ["v4.channel.k8s.io", "v5.channel.k8s.io"])
def test_exec_channels(sandbox, box, protocol):
    frames = _raw_exec(sandbox, box, ["sh", "-c", "echo out; echo err >&2; exit 4"], protocol)
    assert frames[1] == b"out\n" and frames[2] == b"err\n"
    status = json.loads(frames[3])
    assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "4"}]
    ok = _raw_exec(sandbox, box, ["hostname"], protocol)
    assert json.loads(ok[3]) == {"metadata": {}, "status": "Success"} and 2 not in ok


def test_exec_stdin_until_v5_close(sandbox, box):
    frames = _raw_exec(sandbox, box, ["cat"], "v5.channel.k8s.io", stdin=b"hello from stdin\n")
    assert frames[1] == b"hello from stdin\n"


def test_exec_into_a_missing_container_is_refused(api_client, box):
    from kubernetes import stream
    core = client.CoreV1Api(api_client)
    with pytest.raises(client.ApiException) as err:
        stream.stream(core.connect_get_namespaced_pod_exec, "box", box, command=["hostname"], container="nope",
                      stderr=True, stdin=False, stdout=True, tty=False)
    assert "container nope is not valid for pod box" in str(err.value)


def test_watch_list_sends_initial_events_then_a_bookmark(sandbox, api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})
    _, data = raw_get(api_client, f"/api/v1/namespaces/{namespace}/configmaps",
                      [("watch", "true"), ("sendInitialEvents", "true"), ("allowWatchBookmarks", "true"),
                       ("resourceVersionMatch", "NotOlderThan"), ("timeoutSeconds", "1")])
    # (kube-root-ca.crt, the root-CA publisher's, may be there too.)
    lines = [e for e in (json.loads(line) for line in data.decode().splitlines() if line)
             if e["object"]["metadata"].get("name") != "kube-root-ca.crt"]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in lines[:1]] == [("ADDED", "a")]
    bookmark = lines[1]
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_from_a_too_old_version_is_410_expired(sandbox, api_client, namespace):
    sandbox.store._history.clear()       # as if the ring buffer had moved on
    client.CoreV1Api(api_client).create_namespaced_config_map(namespace, {"metadata": {"name": "b"}})
    status, data = raw_get(api_client, f"/api/v1/namespaces/{namespace}/configmaps",
                           [("watch", "true"), ("resourceVersion", "1"), ("timeoutSeconds", "1")])
    assert status == 410 and json.loads(data)["reason"] == "Expired"


def test_table_output_for_kubectl_get(api_client, sandbox):
    _, data = raw_get(api_client, "/api/v1/namespaces/kube-system/services",
                      headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    table = json.loads(data)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:6] == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    row = table["rows"][0]["cells"]
    assert row[:5] == ["kube-dns", "ClusterIP", "10.0.0.10", "<none>", "53/UDP,53/TCP,9153/TCP"]


def test_node_configz_names_the_cluster_dns(api_client):
    node = client.CoreV1Api(api_client).list_node().items[1].metadata.name
    _, data = raw_get(api_client, f"/api/v1/nodes/{node}/proxy/configz")
    config = json.loads(data)["kubeletconfig"]
    assert config["clusterDNS"] == ["10.0.0.10"] and config["clusterDomain"] == "cluster.local"


def test_deleting_a_namespace_removes_its_contents(api_client, namespace):
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginxdemos/hello"}]}}}})
    wait_for(lambda: len(core.list_namespaced_pod(namespace).items) == 2)
    core.delete_namespace(namespace)

    def gone():
        try:
            core.read_namespace(namespace)
        except client.ApiException as e:
            return e.status == 404
        return False
    wait_for(gone)
    assert not core.list_namespaced_pod(namespace).items
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "late"}})
    assert err.value.status == 404


def test_scale_subresource_rejects_negative_replicas(api_client, namespace):
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginxdemos/hello"}]}}}})
    with pytest.raises(client.ApiException) as err:
        apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": -1}})
    assert err.value.status == 422
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1


def test_a_deleted_pod_terminates_and_leaves_the_endpoints_first(api_client, namespace):
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    discovery = client.DiscoveryV1Api(api_client)
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginxdemos/hello"}]}}}})
    core.create_namespaced_service(namespace, {"metadata": {"name": "web-svc"}, "spec": {
        "clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    pod = wait_for(lambda: [p for p in core.list_namespaced_pod(namespace).items if p.status.pod_ip])[0]
    gone = core.delete_namespaced_pod(pod.metadata.name, namespace)
    # Graceful: the API answers with the pod marked for deletion (kubectl shows Terminating) ...
    assert gone.metadata.deletion_timestamp and gone.metadata.deletion_grace_period_seconds == 30
    slices = discovery.list_namespaced_endpoint_slice(namespace).items
    ep = next(e for s in slices for e in s.endpoints or [] if e.addresses == [pod.status.pod_ip])
    assert (ep.conditions.ready, ep.conditions.terminating) == (False, True)   # ... out of DNS at once
    # ... and the kubelet removes it; the ReplicaSet has already made a replacement.
    wait_for(lambda: pod.metadata.name not in {p.metadata.name for p in core.list_namespaced_pod(namespace).items})
    assert len(core.list_namespaced_pod(namespace).items) == 1
    reasons = [e.reason for e in core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={pod.metadata.name}").items]
    assert "Killing" in reasons

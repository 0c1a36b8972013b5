"""Table output for `kubectl get`, checked against the upstream printers
(kubernetes/kubernetes pkg/printers/internalversion/printers.go) and, where a
kubectl binary is at hand, against what kubectl prints from it."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from labkit.kube.printers import (
    column_definitions,
    format_endpoints,
    format_label_selector,
    format_labels,
    human_duration,
    table,
    translate_timestamp_since,
)

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, age: float, namespace: str | None = "default", **extra) -> dict:
    m = {"name": name, "uid": f"uid-{name}", "resourceVersion": "42",
         "creationTimestamp": ago(age)}
    if namespace:
        m["namespace"] = namespace
    m.update(extra)
    return m


def columns(plural: str) -> list[tuple[str, str, int]]:
    return [(c["name"], c["type"], c["priority"]) for c in column_definitions(plural)]


def cells(plural: str, obj: dict) -> list:
    return table(plural, [obj], now=NOW)["rows"][0]["cells"]


# --- realistic objects ------------------------------------------------------

def running_pod(name="nginx-deployment-7c79c4bf97-x2x9k", ip="10.10.100.37", node="node-1",
                age=200.0) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(name, age, labels={"app": "web", "pod-template-hash": "7c79c4bf97"}),
        "spec": {"nodeName": node, "containers": [{"name": "nginx", "image": "nginx:1.25"}]},
        "status": {
            "phase": "Running", "hostIP": "172.18.0.2", "podIP": ip, "podIPs": [{"ip": ip}],
            "conditions": [{"type": t, "status": "True"} for t in
                           ("PodReadyToStartContainers", "Initialized", "Ready",
                            "ContainersReady", "PodScheduled")],
            "containerStatuses": [{
                "name": "nginx", "image": "nginx:1.25", "ready": True, "started": True,
                "restartCount": 0, "state": {"running": {"startedAt": ago(age - 3)}}}],
        },
    }


def creating_pod() -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta("client", 5),
        "spec": {"nodeName": "node-2", "containers": [{"name": "client", "image": "busybox"}]},
        "status": {
            "phase": "Pending", "hostIP": "172.18.0.3",
            "conditions": [{"type": "PodScheduled", "status": "True"},
                           {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "containerStatuses": [{
                "name": "client", "image": "busybox", "ready": False, "started": False,
                "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}],
        },
    }


def service(name="web-svc", cluster_ip="None", **spec) -> dict:
    body = {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
            "selector": {"app": "web"},
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, 3600), "spec": body}


# --- pods -------------------------------------------------------------------

def test_pod_columns_and_priorities():
    assert columns("pods") == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0),
        ("Restarts", "string", 0), ("Age", "string", 0), ("IP", "string", 1),
        ("Node", "string", 1), ("Nominated Node", "string", 1), ("Readiness Gates", "string", 1),
    ]
    first = column_definitions("pods")[0]
    assert first["format"] == "name" and first["description"].startswith("Name must be unique")
    assert column_definitions("pods")[1]["format"] == ""


def test_running_ready_pod_row():
    assert cells("pods", running_pod()) == [
        "nginx-deployment-7c79c4bf97-x2x9k", "1/1", "Running", "0", "3m20s",
        "10.10.100.37", "node-1", "<none>", "<none>"]


def test_pending_container_creating_pod_row():
    assert cells("pods", creating_pod()) == [
        "client", "0/1", "ContainerCreating", "0", "5s", "<none>", "node-2", "<none>", "<none>"]


def test_unscheduled_pod_shows_pending_and_no_node():
    pod = {"metadata": meta("p", 1), "spec": {"containers": [{"name": "c"}]},
           "status": {"phase": "Pending"}}
    assert cells("pods", pod)[:3] == ["p", "0/1", "Pending"]
    assert cells("pods", pod)[5:7] == ["<none>", "<none>"]


def test_pod_ip_falls_back_to_pod_ip_field():
    pod = running_pod()
    del pod["status"]["podIPs"]
    assert cells("pods", pod)[5] == "10.10.100.37"


def test_restarts_show_time_of_last_restart():
    pod = running_pod()
    pod["status"]["containerStatuses"][0].update(
        restartCount=3, lastState={"terminated": {"exitCode": 1, "reason": "Error",
                                                  "finishedAt": ago(300)}})
    assert cells("pods", pod)[3] == "3 (5m ago)"


def test_restarts_without_last_state_are_a_bare_count():
    pod = running_pod()
    pod["status"]["containerStatuses"][0]["restartCount"] = 2
    assert cells("pods", pod)[3] == "2"


def test_crash_loop_pod():
    pod = running_pod()
    pod["status"]["containerStatuses"][0].update(
        ready=False, restartCount=4, state={"waiting": {"reason": "CrashLoopBackOff"}},
        lastState={"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(40)}})
    assert cells("pods", pod)[1:4] == ["0/1", "CrashLoopBackOff", "4 (40s ago)"]


def test_terminating_pod():
    pod = running_pod()
    pod["metadata"]["deletionTimestamp"] = ago(-30)
    assert cells("pods", pod)[2] == "Terminating"


def test_completed_pod_has_row_condition():
    pod = creating_pod()
    pod["status"].update(phase="Succeeded", containerStatuses=[{
        "name": "client", "ready": False, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])
    row = table("pods", [pod], now=NOW)["rows"][0]
    assert row["cells"][1:3] == ["0/1", "Completed"]
    assert row["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                  "message": "The pod has completed successfully."}]
    assert "conditions" not in table("pods", [running_pod()], now=NOW)["rows"][0]


def test_terminated_without_reason_shows_exit_code():
    pod = creating_pod()
    pod["status"].update(phase="Failed", containerStatuses=[{
        "name": "client", "ready": False, "restartCount": 0,
        "state": {"terminated": {"exitCode": 3}}}])
    assert cells("pods", pod)[2] == "ExitCode:3"


def test_init_container_progress():
    pod = creating_pod()
    pod["spec"]["initContainers"] = [{"name": "wait-dns", "image": "busybox"},
                                     {"name": "seed", "image": "busybox"}]
    pod["status"]["initContainerStatuses"] = [
        {"name": "wait-dns", "ready": False, "restartCount": 0,
         "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "seed", "ready": False, "restartCount": 0, "state": {"running": {}}}]
    assert cells("pods", pod)[1:3] == ["0/1", "Init:1/2"]


def test_sidecar_counts_toward_ready_total():
    pod = running_pod()
    pod["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    pod["status"]["initContainerStatuses"] = [
        {"name": "proxy", "ready": True, "started": True, "restartCount": 0,
         "state": {"running": {}}}]
    assert cells("pods", pod)[1:3] == ["2/2", "Running"]


def test_readiness_gates_count_true_conditions():
    pod = running_pod()
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"},
                                     {"conditionType": "example.com/dns"}]
    pod["status"]["conditions"].append({"type": "example.com/lb", "status": "True"})
    assert cells("pods", pod)[8] == "1/2"


# --- services ---------------------------------------------------------------

def test_service_columns():
    assert columns("services") == [
        ("Name", "string", 0), ("Type", "string", 0), ("Cluster-IP", "string", 0),
        ("External-IP", "string", 0), ("Port(s)", "string", 0), ("Age", "string", 0),
        ("Selector", "string", 1)]


def test_headless_service_shows_none_cluster_ip():
    assert cells("services", service()) == [
        "web-svc", "ClusterIP", "None", "<none>", "80/TCP", "60m", "app=web"]


def test_cluster_ip_service_and_kubernetes_service_without_selector():
    kube = service("kubernetes", "10.0.0.1", selector=None,
                   ports=[{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}])
    assert cells("services", kube) == [
        "kubernetes", "ClusterIP", "10.0.0.1", "<none>", "443/TCP", "60m", "<none>"]


def test_dns_service_lists_every_port():
    dns = service("kube-dns", "10.0.0.10", selector={"k8s-app": "kube-dns"}, ports=[
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "metrics", "port": 9153, "protocol": "TCP"}])
    assert cells("services", dns)[4] == "53/UDP,53/TCP,9153/TCP"
    assert cells("services", dns)[6] == "k8s-app=kube-dns"


def test_node_port_service():
    svc = service("web-np", "10.0.0.50", type="NodePort", ports=[
        {"port": 80, "nodePort": 30080, "protocol": "TCP", "targetPort": 80}])
    assert cells("services", svc)[1:5] == ["NodePort", "10.0.0.50", "<none>", "80:30080/TCP"]


def test_external_name_service():
    svc = {"metadata": meta("ext", 10),
           "spec": {"type": "ExternalName", "externalName": "example.com"}}
    assert cells("services", svc)[1:5] == ["ExternalName", "<none>", "example.com", "<none>"]


def test_load_balancer_service_pending_then_assigned():
    svc = service("lb", "10.0.0.60", type="LoadBalancer")
    assert cells("services", svc)[3] == "<pending>"
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}
    assert cells("services", svc)[3] == "203.0.113.9"


def test_selector_labels_are_sorted():
    assert format_labels({"tier": "front", "app": "web"}) == "app=web,tier=front"
    assert format_labels({}) == "<none>"


# --- endpoints and slices ---------------------------------------------------

def endpoints(ips: list[str], port: int | None = 80) -> dict:
    subset = {"addresses": [{"ip": ip} for ip in ips]}
    if port is not None:
        subset["ports"] = [{"port": port, "protocol": "TCP"}]
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("web-svc", 65),
            "subsets": [subset] if ips else []}


def test_endpoints_columns():
    assert columns("endpoints") == [("Name", "string", 0), ("Endpoints", "string", 0),
                                    ("Age", "string", 0)]


def test_endpoints_with_five_addresses_show_three_and_more():
    ep = endpoints([f"10.10.100.{n}" for n in (37, 38, 39, 40, 41)])
    assert cells("endpoints", ep) == [
        "web-svc", "10.10.100.37:80,10.10.100.38:80,10.10.100.39:80 + 2 more...", "65s"]


def test_endpoints_empty_and_portless():
    assert format_endpoints(endpoints([])) == "<none>"
    assert format_endpoints(endpoints(["10.10.100.37"], port=None)) == "10.10.100.37"


def test_endpoints_count_every_port_address_pair():
    ep = {"subsets": [{"addresses": [{"ip": "10.10.100.37"}, {"ip": "10.10.100.38"}],
                       "ports": [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]}]}
    assert format_endpoints(ep) == "10.10.100.37:80,10.10.100.38:80,10.10.100.37:9090 + 1 more..."


def test_endpoints_bracket_ipv6():
    assert format_endpoints(endpoints(["fd00::5"])) == "[fd00::5]:80"


def test_endpointslice_row():
    eps = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": meta("web-svc-abcde", 65), "addressType": "IPv4",
           "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
           "endpoints": [{"addresses": [f"10.10.100.{n}"], "conditions": {"ready": True}}
                         for n in (37, 38, 39, 40)]}
    assert columns("endpointslices") == [
        ("Name", "string", 0), ("AddressType", "string", 0), ("Ports", "string", 0),
        ("Endpoints", "string", 0), ("Age", "string", 0)]
    assert cells("endpointslices", eps) == [
        "web-svc-abcde", "IPv4", "80", "10.10.100.37,10.10.100.38,10.10.100.39 + 1 more...", "65s"]
    eps.update(ports=[], endpoints=[])
    assert cells("endpointslices", eps)[2:4] == ["<unset>", "<unset>"]


# --- workloads --------------------------------------------------------------

def deployment() -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("nginx-deployment", 7200),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}},
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2,
                   "availableReplicas": 2},
    }


def test_deployment_two_of_three_ready():
    assert columns("deployments") == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "string", 0),
        ("Available", "string", 0), ("Age", "string", 0), ("Containers", "string", 1),
        ("Images", "string", 1), ("Selector", "string", 1)]
    assert cells("deployments", deployment()) == [
        "nginx-deployment", "2/3", 3, 2, "120m", "nginx", "nginx:1.25", "app=web"]


def test_new_deployment_without_status():
    dep = deployment()
    del dep["status"]
    assert cells("deployments", dep)[1:4] == ["0/3", 0, 0]


def test_replicaset_row():
    rs = deployment()
    rs["kind"] = "ReplicaSet"
    rs["metadata"] = meta("nginx-deployment-7c79c4bf97", 7200)
    rs["spec"]["selector"] = {"matchLabels": {"app": "web", "pod-template-hash": "7c79c4bf97"}}
    assert columns("replicasets")[:5] == [
        ("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0),
        ("Ready", "integer", 0), ("Age", "string", 0)]
    assert cells("replicasets", rs) == [
        "nginx-deployment-7c79c4bf97", 3, 3, 2, "120m", "nginx", "nginx:1.25",
        "app=web,pod-template-hash=7c79c4bf97"]


def test_label_selector_expressions():
    sel = {"matchLabels": {"app": "web"},
           "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]},
                                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                                {"key": "canary", "operator": "DoesNotExist"}]}
    assert format_label_selector(sel) == "app=web,!canary,env notin (prod),tier in (a,b)"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "In"}]}) == "<error>"
    dep = deployment()
    dep["spec"]["selector"] = {"matchExpressions": [{"key": "a", "operator": "Near"}]}
    assert cells("deployments", dep)[7] == "<invalid>"


# --- cluster objects --------------------------------------------------------

def node(name: str, **labels) -> dict:
    return {
        "apiVersion": "v1", "kind": "Node", "metadata": meta(name, 86400 * 3, None, labels=labels),
        "spec": {},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"},
                           {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.30.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "kernelVersion": "6.1.0-18-amd64",
                         "containerRuntimeVersion": "containerd://1.7.15"}},
    }


def test_node_rows():
    cp = node("node-1", **{"node-role.kubernetes.io/control-plane": ""})
    assert cells("nodes", cp) == [
        "node-1", "Ready", "control-plane", "3d", "v1.30.0", "172.18.0.2", "<none>",
        "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.15"]
    worker = node("node-2")
    worker["spec"]["unschedulable"] = True
    assert cells("nodes", worker)[1:3] == ["Ready,SchedulingDisabled", "<none>"]
    worker["status"]["conditions"] = []
    assert cells("nodes", worker)[1] == "Unknown,SchedulingDisabled"
    assert [c[0] for c in columns("nodes")] == [
        "Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image",
        "Kernel-Version", "Container-Runtime"]


def test_namespace_and_configmap_rows():
    ns = {"metadata": meta("test", 90, None), "status": {"phase": "Active"}}
    assert cells("namespaces", ns) == ["test", "Active", "90s"]
    cm = {"metadata": meta("kube-root-ca.crt", 90), "data": {"ca.crt": "..."}}
    assert cells("configmaps", cm) == ["kube-root-ca.crt", 1, "90s"]
    assert columns("configmaps") == [("Name", "string", 0), ("Data", "string", 0),
                                     ("Age", "string", 0)]


def test_event_row_and_columns():
    ev = {"apiVersion": "v1", "kind": "Event",
          "metadata": meta("web-1.17c9a", 30),
          "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default",
                             "fieldPath": "spec.containers{nginx}"},
          "reason": "Pulled", "type": "Normal",
          "message": "Container image \"nginx:1.25\" already present on machine\n",
          "source": {"component": "kubelet", "host": "node-1"},
          "firstTimestamp": ago(90), "lastTimestamp": ago(30), "count": 2}
    assert [(c[0], c[2]) for c in columns("events")] == [
        ("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0), ("Subobject", 1),
        ("Source", 1), ("Message", 0), ("First Seen", 1), ("Count", 1), ("Name", 1)]
    assert cells("events", ev) == [
        "30s", "Normal", "Pulled", "pod/web-1", "spec.containers{nginx}",
        "kubelet, node-1", "Container image \"nginx:1.25\" already present on machine",
        "90s", 2, "web-1.17c9a"]


def test_new_style_event_uses_event_time_and_counts_one():
    ev = {"metadata": meta("x", 10), "involvedObject": {"kind": "Deployment"},
          "eventTime": "2024-05-01T11:59:50.123456Z", "reportingComponent": "deployment-controller",
          "reason": "ScalingReplicaSet", "type": "Normal", "message": "Scaled up"}
    row = cells("events", ev)
    assert row[0] == "9s" and row[7] == "9s" and row[8] == 1  # 9.88 s truncates
    assert row[3] == "deployment" and row[5] == "deployment-controller"


def test_unknown_resource_gets_name_and_age():
    assert columns("poddisruptionbudgets") == [("Name", "string", 0), ("Age", "string", 0)]
    assert cells("poddisruptionbudgets", {"metadata": meta("web", 50)}) == ["web", "50s"]


# --- the Table envelope -----------------------------------------------------

def test_table_envelope_with_metadata_rows():
    pod = running_pod()
    t = table("pods", [pod], now=NOW, resource_version="1234")
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert t["metadata"] == {"resourceVersion": "1234"}
    assert t["rows"][0]["object"] == {"kind": "PartialObjectMetadata",
                                      "apiVersion": "meta.k8s.io/v1",
                                      "metadata": pod["metadata"]}
    assert len(t["columnDefinitions"]) == len(t["rows"][0]["cells"])
    # The row is a copy: editing it leaves the stored object alone.
    t["rows"][0]["object"]["metadata"]["name"] = "changed"
    assert pod["metadata"]["name"] != "changed"


def test_table_include_object_variants_and_continue():
    pod = running_pod()
    full = table("pods", [pod], now=NOW, include_object="Object", continue_token="abc")
    assert full["rows"][0]["object"] == pod
    assert full["metadata"] == {"continue": "abc"}
    none = table("pods", [pod], now=NOW, include_object="None")
    assert none["rows"][0]["object"] is None
    beta = table("pods", [pod], now=NOW, group_version="meta.k8s.io/v1beta1")
    assert beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    with pytest.raises(ValueError):
        table("pods", [pod], now=NOW, include_object="Everything")


def test_every_printer_fills_every_column():
    samples = {"pods": running_pod(), "services": service(), "endpoints": endpoints(["10.1.1.1"]),
               "deployments": deployment(), "nodes": node("n"),
               "namespaces": {"metadata": meta("n", 1, None), "status": {"phase": "Active"}},
               "configmaps": {"metadata": meta("c", 1)},
               "secrets": {"metadata": meta("s", 1), "type": "Opaque", "data": {"a": "Yg=="}},
               "serviceaccounts": {"metadata": meta("default", 1)},
               "events": {"metadata": meta("e", 1), "involvedObject": {}}}
    for plural, obj in samples.items():
        t = table(plural, [obj], now=NOW)
        assert len(t["rows"][0]["cells"]) == len(t["columnDefinitions"]), plural
        json.dumps(t)  # plain JSON all the way down


# --- durations --------------------------------------------------------------

@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (-2, "<invalid>"), (-1.5, "0s"), (-1, "0s"), (0, "0s"), (0.9, "0s"),
    (45, "45s"), (119, "119s"), (120, "2m"), (200, "3m20s"), (599, "9m59s"), (600, "10m"),
    (10799, "179m"), (10800, "3h"), (3 * 3600 + 300, "3h5m"), (8 * 3600 - 1, "7h59m"),
    (8 * 3600, "8h"), (48 * 3600 - 1, "47h"), (48 * 3600, "2d"), (51 * 3600, "2d3h"),
    (8 * 86400 - 1, "7d23h"), (8 * 86400, "8d"), (730 * 86400 - 1, "729d"),
    (730 * 86400, "2y"), (731 * 86400, "2y1d"), (5 * 365 * 86400, "5y"),
    (8 * 365 * 86400, "8y"), (9 * 365 * 86400 + 86400 * 100, "9y"),
])
def test_human_duration_matches_apimachinery(seconds, text):
    assert human_duration(seconds) == text


def test_translate_timestamp_since():
    assert translate_timestamp_since(None, NOW) == "<unknown>"
    assert translate_timestamp_since("", NOW) == "<unknown>"
    assert translate_timestamp_since(ago(200), NOW) == "3m20s"
    assert translate_timestamp_since("2024-05-01T11:59:59.500000Z", NOW) == "0s"
    # Sub-second parts of `now` do not round the age up.
    assert translate_timestamp_since(ago(120), NOW - dt.timedelta(microseconds=1)) == "119s"


# --- what kubectl prints from these tables -----------------------------------

KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")


class _TableServer(BaseHTTPRequestHandler):
    """Just enough API for `kubectl get pods`: discovery plus one Table."""

    tables: dict[str, dict] = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        bodies = {
            "/api": {"kind": "APIVersions", "versions": ["v1"],
                     "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                     "serverAddress": "127.0.0.1"}]},
            "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
            "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": p, "singularName": p[:-1], "namespaced": p != "nodes", "kind": k,
                 "verbs": ["get", "list"], "shortNames": [s]}
                for p, k, s in (("pods", "Pod", "po"), ("services", "Service", "svc"),
                                ("endpoints", "Endpoints", "ep"), ("nodes", "Node", "no"))]},
            "/version": {"major": "1", "minor": "30", "gitVersion": "v1.30.0"},
        }
        for plural, body in self.tables.items():
            prefix = "/api/v1/" if plural == "nodes" else "/api/v1/namespaces/default/"
            bodies[prefix + plural] = body
        body = bodies.get(path)
        if body is None:
            self.send_response(404)
            data = b'{"kind":"Status","apiVersion":"v1","status":"Failure","code":404}'
        else:
            self.send_response(200)
            data = json.dumps(body).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def kubectl_get(tmp_path):
    if not KUBECTL:
        pytest.skip("no kubectl binary")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TableServer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u", "namespace": "default"}}],
        "users": [{"name": "u", "user": {}}]}))

    def run(*args: str, **tables: dict) -> list[str]:
        _TableServer.tables = tables
        out = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"),
             "get", *args], capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        return [line.rstrip() for line in out.stdout.splitlines()]

    yield run
    server.shutdown()
    server.server_close()


@pytest.mark.kubectl
def test_kubectl_prints_pod_table_wide(kubectl_get):
    pods = table("pods", [running_pod(), creating_pod()], now=NOW, resource_version="9")
    assert kubectl_get("pods", "-o", "wide", pods=pods) == [
        "NAME                                READY   STATUS              RESTARTS   AGE     "
        "IP             NODE     NOMINATED NODE   READINESS GATES",
        "nginx-deployment-7c79c4bf97-x2x9k   1/1     Running             0          3m20s   "
        "10.10.100.37   node-1   <none>           <none>",
        "client                              0/1     ContainerCreating   0          5s      "
        "<none>         node-2   <none>           <none>",
    ]
    assert kubectl_get("pods", pods=pods)[0].split() == ["NAME", "READY", "STATUS", "RESTARTS",
                                                         "AGE"]


@pytest.mark.kubectl
def test_kubectl_prints_service_and_endpoints(kubectl_get):
    svc = table("services", [service()], now=NOW)
    assert kubectl_get("svc", "-o", "wide", services=svc) == [
        "NAME      TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE   SELECTOR",
        "web-svc   ClusterIP   None         <none>        80/TCP    60m   app=web",
    ]
    ep = table("endpoints", [endpoints([f"10.10.100.{n}" for n in range(37, 42)])], now=NOW)
    assert kubectl_get("endpoints", endpoints=ep)[1].split(maxsplit=1)[1] == (
        "10.10.100.37:80,10.10.100.38:80,10.10.100.39:80 + 2 more...   65s")


@pytest.mark.kubectl
def test_kubectl_prints_nodes_wide(kubectl_get):
    nodes = table("nodes", [node("node-1", **{"node-role.kubernetes.io/control-plane": ""}),
                            node("node-2")], now=NOW)
    lines = kubectl_get("nodes", "-o", "wide", nodes=nodes)
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP",
                                "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert lines[1].startswith("node-1   Ready    control-plane   3d    v1.30.0   172.18.0.2")
    assert lines[2].startswith("node-2   Ready    <none>          3d    v1.30.0   172.18.0.2")

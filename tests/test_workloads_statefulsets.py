"""StatefulSets as pkg/controller/statefulset runs them: ordinal names, OrderedReady one
at a time (the next only once the previous is Running and Ready) or Parallel, scale-down
from the highest ordinal, and stable per-pod DNS names through the governing headless
Service, answered by the sandbox's DNS from the EndpointSlice's hostname."""
from __future__ import annotations

import json

import dns.message
import dns.query

from .conftest import wait_for


def _manifest(namespace, replicas=3, policy="OrderedReady", node_selector=None):
    pod_spec = {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80, "name": "web"}]}]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx", "namespace": namespace},
         "spec": {"clusterIP": "None", "selector": {"app": "nginx"}, "ports": [{"port": 80, "name": "web"}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": namespace},
         "spec": {"serviceName": "nginx", "replicas": replicas, "podManagementPolicy": policy,
                  "selector": {"matchLabels": {"app": "nginx"}},
                  "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": pod_spec}}}]})


def _pod_names(kubectl, namespace):
    out = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    return sorted(p["metadata"]["name"] for p in out if not p["metadata"].get("deletionTimestamp"))


def _a(sandbox, name):
    host, port = sandbox.dns_address
    answer = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=5)
    return [r.to_text() for rrset in answer.answer for r in rrset]


def test_ordinal_pods_with_stable_dns_names(kubectl, sandbox, namespace):
    kubectl("apply", "-f", "-", input=_manifest(namespace))
    kubectl("rollout", "status", "statefulset/web", "-n", namespace, "--timeout=30s")
    assert _pod_names(kubectl, namespace) == ["web-0", "web-1", "web-2"]
    pod = json.loads(kubectl("get", "pod", "web-1", "-n", namespace, "-o", "json").stdout)
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-1", "nginx")
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    row = kubectl("get", "sts", "web", "-n", namespace, "--no-headers").stdout.split()
    assert row[:2] == ["web", "3/3"]
    # The CREATE events in ordinal order.
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
    created = [e["message"] for e in events if e["reason"] == "SuccessfulCreate"
               and e["involvedObject"]["kind"] == "StatefulSet"]
    assert created == [f"create Pod web-{i} in StatefulSet web successful" for i in range(3)]
    # web-0.nginx.<ns>.svc.cluster.local answers that pod's address, from the slice's hostname.
    slices = json.loads(kubectl("get", "endpointslices", "-n", namespace, "-o", "json").stdout)["items"]
    hostnames = {ep.get("hostname"): ep["addresses"][0] for s in slices for ep in s["endpoints"]}
    assert set(hostnames) == {"web-0", "web-1", "web-2"}
    assert _a(sandbox, f"web-0.nginx.{namespace}.svc.cluster.local.") == [hostnames["web-0"]]
    assert _a(sandbox, f"web-2.nginx.{namespace}.svc.cluster.local.") == [hostnames["web-2"]]

    kubectl("scale", "statefulset/web", "--replicas=1", "-n", namespace)
    wait_for(lambda: _pod_names(kubectl, namespace) == ["web-0"], timeout=20)
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
    deleted = [e["message"] for e in events if e["reason"] == "SuccessfulDelete"
               and e["involvedObject"]["kind"] == "StatefulSet"]
    assert deleted == ["delete Pod web-2 in StatefulSet web successful", "delete Pod web-1 in StatefulSet web successful"]


def test_ordered_ready_waits_for_each_pod_and_parallel_does_not(kubectl, namespace):
    # A node selector nothing matches keeps web-0 Pending: OrderedReady makes nothing more.
    kubectl("apply", "-f", "-", input=_manifest(namespace, node_selector={"disk": "none"}))
    wait_for(lambda: _pod_names(kubectl, namespace) == ["web-0"])
    sts = json.loads(kubectl("get", "sts", "web", "-n", namespace, "-o", "json").stdout)
    assert sts["status"]["replicas"] == 1 and "readyReplicas" not in sts["status"]
    assert _pod_names(kubectl, namespace) == ["web-0"]
    kubectl("delete", "sts", "web", "-n", namespace)
    wait_for(lambda: not _pod_names(kubectl, namespace), timeout=20)
    kubectl("apply", "-f", "-", input=_manifest(namespace, policy="Parallel", node_selector={"disk": "none"}))
    wait_for(lambda: _pod_names(kubectl, namespace) == ["web-0", "web-1", "web-2"])

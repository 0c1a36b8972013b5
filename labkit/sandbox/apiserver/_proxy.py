"""The API server's proxy subresources: `services/NAME[:PORT]/proxy/PATH`,
`pods/NAME[:PORT]/proxy/PATH` and `nodes/NAME/proxy/PATH` (the kubelet's own API).

A service or pod proxy is kube-apiserver's ResourceLocation then its upgrade-aware proxy
(pkg/registry/core/service/storage/storage.go and pod/strategy.go ResourceLocation;
k8s.io/apimachinery/pkg/util/proxy/upgradeaware.go): the id may be `NAME`, `NAME:PORT`
or `SCHEME:NAME:PORT`; a service's port number is turned into the port's name, one of
the Endpoints' ready addresses with a port of that name is picked at random, and the
request goes there from the control-plane node. The answer is the pod's, headers and
all, less the hop-by-hop ones. `.../proxy` without the trailing slash is redirected to
`.../proxy/` (proxyRedirectsforRootPath). A failed dial is a 503 Status, "error trying
to reach service: ...". An HTML answer is streamed without its length, as the proxy's
link-rewriting pass sends it.

Nothing here opens a socket: the pod's server is the simulation in runtime._podservers.
"""
from __future__ import annotations

import re

from aiohttp import web

from .. import _bootstrap
from ..apis import _errors, _gojson, _quantity
from ..apis._resources import by_plural
from ..runtime._network import ConnectError
from ..runtime._podservers import connect

_ENDPOINTS, _PODS = by_plural("endpoints"), by_plural("pods")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "proxy-connection"}
_DIAL_ERRORS = {"refused": "connect: connection refused", "timeout": "i/o timeout",
                "unreachable": "connect: network is unreachable"}


def split_scheme_name_port(id_: str) -> tuple[str, str, str] | None:
    """utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port"."""
    parts = id_.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in ("", "http", "https"):
        return None
    return scheme or "http", name, port


async def handle_proxy(sandbox, request: web.Request, target) -> web.StreamResponse:
    plural = target.resource.plural
    if plural == "nodes":
        return node_proxy(sandbox, target)
    parsed = split_scheme_name_port(target.name or "")
    if parsed is None:
        raise _errors.bad_request(f'invalid {plural[:-1]} request "{target.name}"')
    scheme, name, port = parsed
    # The proxied path: what follows `/proxy` in the raw path, its trailing slash kept.
    raw = request.raw_path.split("?", 1)[0]
    marker = raw.find("/proxy", raw.find(f"/{plural}/"))
    path = raw[marker + len("/proxy"):]
    if not path and request.method in ("GET", "HEAD"):
        location = raw + "/" + (f"?{request.query_string}" if request.query_string else "")
        body = f'<a href="{location}">Moved Permanently</a>.\n\n' if request.method == "GET" else ""
        return web.Response(status=301, headers={"Location": location},
                            text=body, content_type="text/html", charset="utf-8")
    if plural == "services":
        ip, target_port = _service_location(sandbox, target.namespace, name, port, target.name)
    else:
        ip, target_port = _pod_location(sandbox, target.namespace, name, port)
    if scheme == "https":
        # The sandbox's pods serve plain HTTP only: the TLS handshake fails as Go words it.
        raise _errors.ApiError(503, "ServiceUnavailable",
                               "error trying to reach service: tls: first record does not look like a TLS handshake")
    query = f"?{request.query_string}" if request.query_string else ""
    body = await request.read() if request.can_read_body else b""
    # proxy.Transport's reverse-proxy headers: where the request came in, and how.
    forwarded = [("X-Forwarded-Uri", raw[:marker + len("/proxy")] + (path or "/")),
                 ("X-Forwarded-Host", request.host), ("X-Forwarded-Proto", "https")]
    status, reason, headers, content = _forward(sandbox, request, ip, target_port, (path or "/") + query,
                                                body, forwarded)
    kept = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"]
    media = next((v for k, v in headers if k.lower() == "content-type"), "").split(";")[0].strip()
    if media != "text/html":
        response = web.Response(status=status, reason=reason, body=content)
        for name, value in kept:
            response.headers.add(name, value)
        return response
    # proxy.Transport rewrites an HTML answer's links to go through the proxy (a tokenizer
    # pass that leaves these pages' bytes as they are, since their links point elsewhere)
    # and streams it: the length is dropped and the body goes out chunked.
    stream = web.StreamResponse(status=status, reason=reason)
    for name, value in kept:
        stream.headers.add(name, value)
    stream.enable_chunked_encoding()
    await stream.prepare(request)
    if content and request.method != "HEAD":
        await stream.write(content)
    await stream.write_eof()
    return stream


def _service_location(sandbox, namespace: str, name: str, port: str, id_: str) -> tuple[str, int]:
    store = sandbox.store
    if port.isdigit():
        svc = store.get_resource(by_plural("services"), namespace, name)
        if svc is None:
            raise _errors.not_found(by_plural("services"), name)
        for svc_port in svc["spec"].get("ports") or []:
            if svc_port.get("port") == int(port):
                port = svc_port.get("name", "")
                break
        else:
            raise _errors.ApiError(503, "ServiceUnavailable",
                                   f'no service port {int(port)} found for service "{name}"')
    eps = store.get_resource(_ENDPOINTS, namespace, name)
    if eps is None:
        raise _errors.not_found(_ENDPOINTS, name)
    subsets = eps.get("subsets") or []
    if not subsets:
        raise _errors.ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
    start = sandbox.network.jitter(0, len(subsets) - 1)
    for i in range(len(subsets)):
        subset = subsets[(start + i) % len(subsets)]
        addresses = subset.get("addresses") or []
        if not addresses:
            continue
        for ep_port in subset.get("ports") or []:
            if ep_port.get("name", "") != port:
                continue
            first = sandbox.network.jitter(0, len(addresses) - 1)
            for k in range(len(addresses)):
                address = addresses[(first + k) % len(addresses)]
                if _valid_address(sandbox.store, namespace, address):
                    return address["ip"], int(ep_port["port"])
    raise _errors.ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{id_}"')


def _valid_address(store, namespace: str, address: dict) -> bool:
    """isValidAddress: only an address whose targetRef is a pod that has that IP (so a
    hand-written Endpoints without targetRefs is never proxied to)."""
    ref = address.get("targetRef") or {}
    if ref.get("kind") != "Pod":
        return False
    pod = store.get_resource(_PODS, ref.get("namespace") or namespace, ref.get("name", ""))
    ips = {p.get("ip") for p in ((pod or {}).get("status") or {}).get("podIPs") or []}
    return pod is not None and address.get("ip") in ips | {(pod.get("status") or {}).get("podIP")}


def _pod_location(sandbox, namespace: str, name: str, port: str) -> tuple[str, int]:
    pod = sandbox.store.get_resource(_PODS, namespace, name)
    if pod is None:
        raise _errors.not_found(_PODS, name)
    if not port:
        for container in pod["spec"].get("containers") or []:
            if container.get("ports"):
                port = str(container["ports"][0]["containerPort"])
                break
    ip = (pod.get("status") or {}).get("podIP") or ""
    if not ip:
        raise _errors.bad_request("address not allowed")
    if not port.isdigit():
        # A named port of a pod is not looked up: the URL's port fails to parse.
        raise _errors.ApiError(503, "ServiceUnavailable",
                               f'error trying to reach service: dial tcp: lookup {ip}:{port}: invalid port')
    return ip, int(port or 80)


def _control_plane_ip(sandbox) -> str:
    nodes = sandbox.store.list_resource(by_plural("nodes"))
    for node in sorted(nodes, key=lambda n: "node-role.kubernetes.io/control-plane" not in
                       (n["metadata"].get("labels") or {})):
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                return address["address"]
    return "127.0.0.1"


def _forward(sandbox, request: web.Request, ip: str, port: int, target: str, body: bytes,
             forwarded: list[tuple[str, str]]) -> tuple[int, str, list[tuple[str, str]], bytes]:
    client = f"{_control_plane_ip(sandbox)}:{32768 + sandbox.network.jitter(0, 28231)}"
    try:
        conn = connect(sandbox.network, None, ip, port, sandbox.clock.now, client)
    except ConnectError as e:
        raise _errors.ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp "
                                                          f"{ip}:{port}: {_DIAL_ERRORS.get(e.kind, e.kind)}")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {ip}:{port}",
             f"User-Agent: {request.headers.get('User-Agent', 'Go-http-client/1.1')}"]
    for name in ("Accept", "Accept-Encoding", "Content-Type"):
        if name in request.headers:
            lines.append(f"{name}: {request.headers[name]}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in forwarded]
    lines.append(f"X-Forwarded-For: {request.remote or '127.0.0.1'}")
    answer = conn.feed(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    parsed = parse_response(answer, request.method == "HEAD")
    if parsed is None:
        raise _errors.ApiError(503, "ServiceUnavailable", "error trying to reach service: EOF")
    return parsed


def parse_response(raw: bytes, head: bool = False) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
    """One HTTP/1.1 response from bytes (a length-delimited or chunked body), or None."""
    end = raw.find(b"\r\n\r\n")
    if end == -1:
        return None
    lines = raw[:end].decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
    if not match:
        return None
    headers = [tuple(p.strip() for p in line.split(":", 1)) for line in lines[1:] if ":" in line]
    rest = raw[end + 4:]
    fields = {k.lower(): v for k, v in headers}
    if head:
        content = b""
    elif "chunked" in fields.get("transfer-encoding", "").lower():
        content, at = b"", 0
        while True:
            eol = rest.find(b"\r\n", at)
            size = int(rest[at:eol].split(b";")[0], 16)
            if size == 0:
                break
            content += rest[eol + 2:eol + 2 + size]
            at = eol + 2 + size + 2
    elif "content-length" in fields:
        content = rest[:int(fields["content-length"])]
    else:
        content = rest
    return int(match.group(1)), match.group(2), headers, content


def node_proxy(sandbox, target) -> web.Response:
    """The kubelet's read-only answers: healthz, configz and the pods bound to the node.
    The node may be named with a port (`NODE:10250`), the kubelet's own."""
    parsed = split_scheme_name_port(target.name or "")
    if parsed is None:
        raise _errors.bad_request(f'invalid node request "{target.name}"')
    node = sandbox.store.get_resource(target.resource, None, parsed[1])
    if node is None:
        raise _errors.not_found(target.resource, parsed[1])
    path = target.rest.rstrip("/")
    if path == "configz":
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        pods = _quantity.amount(allocatable.get("pods"))
        max_pods = int(pods) if pods is not None and pods == int(pods) else sandbox.config.max_pods
        return web.Response(body=_gojson.dumps({"kubeletconfig": _bootstrap.kubelet_config(sandbox.config, max_pods)}),
                            content_type="application/json")
    if path in ("healthz", ""):
        return web.Response(text="ok")
    if path == "pods":
        # The kubelet's /pods: its pod manager's pods, as a PodList without a resourceVersion.
        pods = [p for p in sandbox.store.list_resource(_PODS) if p["spec"].get("nodeName") == target.name]
        return web.Response(body=_gojson.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                                "items": pods}), content_type="application/json")
    return web.Response(status=404, text="404 page not found\n")

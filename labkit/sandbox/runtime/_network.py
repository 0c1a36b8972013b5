"""The sandbox's simulated packet network: nothing here sends a real packet.

Who owns a virtual address is read from the cluster: a Running pod's podIP, a
Service's clusterIP, a node's address, an outside-world address from the
config, or nobody. ICMP echo: pods, nodes and outside hosts answer; a ClusterIP
does not (kube-proxy in iptables mode only DNATs the Service's TCP/UDP ports).
TCP to a ClusterIP:port picks one ready endpoint per connection at random, as
kube-proxy's `statistic --mode random --probability` rules do, and forwards to
the endpoint's target port; a pod's image decides what listens. As kube-proxy
(pkg/proxy/iptables/proxier.go): `sessionAffinity: ClientIP` keeps a client on the
backend it last reached until `timeoutSeconds` pass without a connection (the
`recent` match, on the sandbox clock), and `internalTrafficPolicy: Local` keeps only
the endpoints on the client's node, dropping the connection when there are none.

A Service port without ready endpoints is REJECTed, TCP and UDP alike (kube-proxy's
iptables proxier: `-j REJECT` "has no endpoints", ICMP port unreachable; the nftables
proxier's no-endpoint-services map does the same). NetworkPolicy (_netpolicy.py) drops
what it does not allow: the sender sees nothing back, so it waits for its timeout.

Round-trip times and per-connection choices come from a seeded generator, so a
given seed and call order gives the same numbers every run.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import random
from dataclasses import dataclass, field
from typing import Callable

from . import _nginx
from ._netpolicy import End, allows

# nginxdemos/hello is built FROM nginx:mainline-alpine: the same nginx as the nginx image.
NGINX_VERSION = _nginx.NGINX_VERSION

# What a reply's TTL reads at the client (initial TTL 64, minus one per router on the way
# back): a bridge CNI delivers same-node traffic without routing it, and across nodes
# both nodes route the packet (flannel-style overlay).
TTL_SAME_NODE = 64
TTL_OTHER_NODE = 62
TTL_OUTSIDE = 116


@dataclass(frozen=True)
class Owner:
    kind: str | None               # "pod", "service", "node", "outside", "loopback" or None
    obj: dict | None = None        # the Pod, Service or Node object
    node: str | None = None        # the node a pod runs on (or the node itself)
    name: str | None = None        # an outside-world host name


@dataclass(frozen=True)
class Echo:
    ttl: int
    rtt_us: int                    # round-trip time in microseconds


class ConnectError(Exception):
    """A TCP connect that failed: kind is "refused", "timeout" or "unreachable" (ENETUNREACH:
    an IPv6 address from a pod that has no IPv6 address, hence no IPv6 route)."""

    def __init__(self, kind: str, rtt_us: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.rtt_us = rtt_us


@dataclass(frozen=True)
class Connection:
    """An established (simulated) TCP connection."""
    remote_ip: str                 # what the client connected to (a ClusterIP stays as is)
    remote_port: int
    server_ip: str                 # where it landed after kube-proxy's DNAT
    server_port: int
    server: str                    # "hello-plain", "hello-html"
    pod: dict | None
    rtt_us: int
    host_name: str = ""            # an outside web server: the one name it serves (and www.)


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class Network:
    def __init__(self, cluster, config, profiles: Callable | None = None, clock=None) -> None:
        self.cluster = cluster
        self.config = config
        self._profiles = profiles
        self._clock = clock
        # sessionAffinity ClientIP: (service uid, port, client ip) -> (backend, last seen).
        self._affinity: dict[tuple, tuple[tuple[str, int], float]] = {}
        self._rng = random.Random(f"network:{config.seed}")
        # nginx's access log per serving pod (namespace, name), what `kubectl logs` shows.
        # (when, line) per nginx pod: the access log, stamped for `kubectl logs --timestamps`.
        self.access_log: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self._routes: dict[tuple, str] = {}       # dns_route answers while the cluster is unchanged
        self._routes_at = None

    # -- who is where -------------------------------------------------------------

    def owner(self, ip: str, src_pod: dict | None = None) -> Owner:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return Owner(None)
        if addr.is_loopback:
            return Owner("loopback", src_pod, _node_of(src_pod))
        for pod in self.cluster.list("pods"):
            status = pod.get("status") or {}
            ips = {status.get("podIP")} | {p.get("ip") for p in status.get("podIPs") or []}
            if ip in ips and status.get("phase") == "Running":
                return Owner("pod", pod, _node_of(pod))
        for svc in self.cluster.list("services"):
            spec = svc.get("spec") or {}
            if ip in ({spec.get("clusterIP")} | set(spec.get("clusterIPs") or [])) - {"None", None}:
                return Owner("service", svc)
        for node in self.config.nodes:
            if self.config.node_ip(node) == ip:
                return Owner("node", self.cluster.get("nodes", None, node), node)
        for name, address in self.config.outside_world.items():
            if address == ip:
                return Owner("outside", None, None, name.rstrip("."))
        return Owner(None)

    # -- ICMP -------------------------------------------------------------------

    def ping(self, src_pod: dict | None, ip: str) -> Echo | None:
        """One echo request; the reply, or None when nothing answers."""
        owner = self.owner(ip, src_pod)
        if owner.kind in (None, "service"):
            return None
        if not self.permits(src_pod, ip, owner, "ICMP", None):
            return None
        return Echo(self._ttl(src_pod, owner), self._rtt_us(src_pod, owner))

    def _ttl(self, src_pod, owner: Owner) -> int:
        if owner.kind == "outside":
            return TTL_OUTSIDE
        if owner.kind == "loopback" or owner.node == _node_of(src_pod):
            return TTL_SAME_NODE
        return TTL_OTHER_NODE + (1 if owner.kind == "node" else 0)

    def _rtt_us(self, src_pod, owner: Owner) -> int:
        if owner.kind == "loopback" or (owner.kind == "pod" and owner.obj is src_pod):
            return self._rng.randint(10, 45)
        if owner.kind == "outside":
            return self._rng.randint(10_000, 20_000)
        if owner.node is not None and owner.node == _node_of(src_pod):
            return self._rng.randint(50, 90)
        return self._rng.randint(100, 300)

    # -- TCP --------------------------------------------------------------------

    def connect(self, src_pod: dict | None, ip: str, port: int) -> Connection:
        """Open a TCP connection; raises ConnectError("refused" | "timeout" | "unreachable")."""
        owner = self.owner(ip, src_pod)
        if owner.kind == "service":
            backend = self._pick_backend(owner.obj, port, src_pod)
            if backend in (None, "drop"):
                # No rule for this port, or internalTrafficPolicy Local with no endpoint on
                # this node: kube-proxy DROPs it ("has no local endpoints"), the client waits.
                raise ConnectError("timeout")
            if backend == "reject":
                # kube-proxy REJECTs traffic to a Service without endpoints.
                raise ConnectError("refused", self._rng.randint(20, 60))
            target_ip, target_port = backend
            conn = self.connect(src_pod, target_ip, target_port)
            return Connection(ip, port, conn.server_ip, conn.server_port, conn.server,
                              conn.pod, conn.rtt_us, conn.host_name)
        if owner.kind is None:
            if ":" in ip and not _has_ipv6(src_pod):
                raise ConnectError("unreachable")
            raise ConnectError("timeout")
        if not self.permits(src_pod, ip, owner, "TCP", port):
            raise ConnectError("timeout")
        rtt = self._rtt_us(src_pod, owner)
        if owner.kind == "outside" and port in (80, 443):
            return Connection(ip, port, ip, port, "outside", None, rtt, owner.name)
        if owner.kind in ("pod", "loopback") and owner.obj is not None:
            server = self._server(owner.obj, port)
            if server is not None:
                server_ip = (owner.obj.get("status") or {}).get("podIP") or ip
                if owner.kind == "loopback":
                    server_ip = ip
                return Connection(ip, port, server_ip, port, server, owner.obj, rtt)
        raise ConnectError("refused", rtt)

    def _server(self, pod: dict, port: int) -> str | None:
        for container in (pod.get("spec") or {}).get("containers") or []:
            kind = self._profile(container.get("image", "")).http_server
            if kind and port == 80:
                return kind
        return None

    def _profile(self, image: str):
        if self._profiles is None:
            from ._images import profile    # written alongside; imported late to keep this module standalone
            self._profiles = profile
        return self._profiles(image)

    def permits(self, src_pod: dict | None, ip: str, owner: Owner, protocol: str,
                port: int | None) -> bool:
        """Whether NetworkPolicy lets the first packet from `src_pod` reach `ip`."""
        src_ip = ((src_pod or {}).get("status") or {}).get("podIP") or ""
        dst_pod = owner.obj if owner.kind in ("pod", "loopback") else None
        return allows(self.cluster, End(src_ip, src_pod), End(ip, dst_pod), protocol, port)

    def dns_route(self, src_pod: dict | None, ip: str, protocol: str = "UDP") -> str:
        """What becomes of a query from `src_pod` to a nameserver address on port 53:
        "ok" (it reaches a DNS server), "refused" (ICMP port unreachable comes back:
        kube-proxy's REJECT for a Service without ready endpoints) or "dropped"
        (a NetworkPolicy or nobody at that address: no reply ever comes)."""
        revision = getattr(self.cluster, "revision", None)
        if revision != self._routes_at:
            self._routes, self._routes_at = {}, revision
        meta = (src_pod or {}).get("metadata") or {}
        key = (meta.get("namespace"), meta.get("name"), meta.get("uid"), ip, protocol)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._dns_route(src_pod, ip, protocol)
        return route

    def _dns_route(self, src_pod: dict | None, ip: str, protocol: str) -> str:
        owner = self.owner(ip, src_pod)
        if owner.kind is None and ip == self.config.cluster_dns_ip:
            return "ok"                   # no kube-dns Service to route through: a bare server stands in
        if owner.kind is None and ip == str(ipaddress.ip_network(self.config.node_cidr)[1]):
            owner = Owner("node")         # the nodes' resolver behind the network gateway
        if owner.kind != "service":
            if owner.kind not in ("pod", "node"):
                return "dropped"
            return "ok" if self.permits(src_pod, ip, owner, protocol, 53) else "dropped"
        spec = owner.obj.get("spec") or {}
        svc_port = next((p for p in spec.get("ports") or []
                         if p.get("port") == 53 and p.get("protocol", "TCP") == protocol), None)
        if svc_port is None:
            return "dropped"              # no rule for this port: the packet is not DNATed
        backends = self._ready_endpoints(owner.obj, svc_port)
        if not backends:
            return "refused"
        passes = [self.permits(src_pod, b_ip, self.owner(b_ip, src_pod), protocol, b_port)
                  for b_ip, b_port in backends]
        if all(passes) or not any(passes):
            return "ok" if passes[0] else "dropped"
        # Some backends allowed: kube-proxy's random pick decides per flow; one pod's flows
        # are pinned here by its address (no draw from the seeded generator).
        src_ip = ((src_pod or {}).get("status") or {}).get("podIP") or ""
        pick = int(ipaddress.ip_address(src_ip or "0.0.0.0")) % len(backends)
        return "ok" if passes[pick] else "dropped"

    def _pick_backend(self, svc: dict, port: int, src_pod: dict | None = None, protocol: str = "TCP"):
        spec = svc.get("spec") or {}
        svc_port = next((p for p in spec.get("ports") or []
                         if p.get("port") == port and p.get("protocol", "TCP") == protocol), None)
        if svc_port is None:
            return None
        ready = self._ready_endpoints(svc, svc_port)
        if not ready:
            return "reject"
        if spec.get("internalTrafficPolicy") == "Local" and src_pod is not None:
            node = _node_of(src_pod)
            ready = [b for b in ready if self._endpoint_node(svc, b[0]) == node]
            if not ready:
                return "drop"
        if spec.get("sessionAffinity") == "ClientIP":
            return self._sticky(svc, port, src_pod, ready)
        return ready[self._rng.randrange(len(ready))]

    def _sticky(self, svc: dict, port: int, src_pod: dict | None, ready: list[tuple[str, int]]):
        timeout = ((svc["spec"].get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
            "timeoutSeconds", 10800)
        client = ((src_pod or {}).get("status") or {}).get("podIP") or ""
        key = (svc["metadata"].get("uid") or svc["metadata"]["name"], port, client)
        now = self._clock.time() if self._clock is not None else 0.0
        kept = self._affinity.get(key)
        if kept is not None and kept[0] in ready and now - kept[1] <= timeout:
            backend = kept[0]
        else:
            backend = ready[self._rng.randrange(len(ready))]
        self._affinity[key] = (backend, now)
        return backend

    def _endpoint_node(self, svc: dict, ip: str) -> str | None:
        meta = svc["metadata"]
        for eps in self.cluster.list("endpointslices", meta["namespace"]):
            if (eps.get("metadata", {}).get("labels") or {}).get("kubernetes.io/service-name") != meta["name"]:
                continue
            for ep in eps.get("endpoints") or []:
                if ip in (ep.get("addresses") or []):
                    return ep.get("nodeName")
        return None

    def _ready_endpoints(self, svc: dict, svc_port: dict) -> list[tuple[str, int]]:
        meta = svc["metadata"]
        name = svc_port.get("name") or ""
        found: list[tuple[str, int]] = []
        for eps in self.cluster.list("endpointslices", meta["namespace"]):
            labels = eps.get("metadata", {}).get("labels") or {}
            if labels.get("kubernetes.io/service-name") != meta["name"]:
                continue
            number = next((p.get("port") for p in eps.get("ports") or []
                           if (p.get("name") or "") == name), None)
            if number is None:
                continue
            for ep in eps.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready", True) is False:
                    continue
                found.extend((a, number) for a in ep.get("addresses") or [])
        if found:
            return sorted(set(found), key=lambda t: ipaddress.ip_address(t[0]))
        for ep in self.cluster.list("endpoints", meta["namespace"]):
            if ep["metadata"]["name"] != meta["name"]:
                continue
            for subset in ep.get("subsets") or []:
                number = next((p.get("port") for p in subset.get("ports") or []
                               if (p.get("name") or "") == name), None)
                if number is not None:
                    found.extend((a["ip"], number) for a in subset.get("addresses") or [])
        return sorted(set(found), key=lambda t: ipaddress.ip_address(t[0]))

    # -- HTTP -------------------------------------------------------------------

    def http(self, conn: Connection, method: str, target: str, now: dt.datetime,
             client: str = "-", user_agent: str = "-", host: str = "") -> HttpResponse:
        """What the server behind `conn` answers to one request; client is "ip:port"."""
        if conn.server == "outside":
            return outside_response(conn, method, host, now)
        if conn.server == "nginx-static":
            status, headers, body = _nginx.static(method, target)
            response = HttpResponse(status, _nginx.REASONS[status],
                                    [("Server", f"nginx/{NGINX_VERSION}"),
                                     ("Date", http_date(now.replace(microsecond=0)))] + headers,
                                    b"" if method == "HEAD" else body)
        else:
            request_id = "%032x" % self._rng.getrandbits(128)
            response = hello_response(conn, method, target, now, request_id, client)
        if conn.pod is not None:
            # nginx's `main` log_format: $remote_addr - $remote_user [$time_local] "$request"
            # $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"
            meta = conn.pod["metadata"]
            line = (f'{client.rsplit(":", 1)[0]} - - [{time_local(now)}] "{method} {target} HTTP/1.1" '
                    f'{response.status} {len(response.body)} "-" "{user_agent}" "-"')
            log = self.access_log.setdefault((meta["namespace"], meta["name"]), [])
            log.append((now.timestamp(), line))
            del log[:-1000]
        return response

    @staticmethod
    def certificate_names(conn: Connection, host: str) -> bool:
        """Whether the TLS certificate behind `conn` names `host` (the name the client checks)."""
        names = {conn.host_name, f"www.{conn.host_name}"} if conn.host_name else set()
        return host.lower().rstrip(".") in names

    def jitter(self, low: int, high: int) -> int:
        """A seeded integer in [low, high]: scheduling noise a tool adds to its timings."""
        return self._rng.randint(low, high)

    def rtt_us(self, src_pod: dict | None, ip: str) -> int:
        """A fresh round-trip time sample to `ip` (for request/response timing)."""
        return self._rtt_us(src_pod, self.owner(ip, src_pod))


def _has_ipv6(pod: dict | None) -> bool:
    status = (pod or {}).get("status") or {}
    return any(":" in (p.get("ip") or "") for p in status.get("podIPs") or [])


def _node_of(pod: dict | None) -> str | None:
    return ((pod or {}).get("spec") or {}).get("nodeName")


def _hostname(pod: dict | None) -> str:
    if not pod:
        return "localhost"
    return (pod.get("spec") or {}).get("hostname") or pod["metadata"]["name"]


def http_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def time_local(moment: dt.datetime) -> str:
    """nginx's $time_local (containers run in UTC)."""
    return moment.astimezone(dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")


def outside_response(conn: Connection, method: str, host: str, now: dt.datetime) -> HttpResponse:
    """An outside web server with name-based virtual hosts: its own name (and www.) gets the
    page; any other Host header, such as an ExternalName Service's name, a 404."""
    name = host.rsplit(":", 1)[0].lower().rstrip(".") if not host.startswith("[") else host
    known = bool(conn.host_name) and name in (conn.host_name, f"www.{conn.host_name}")
    body = (f"<!doctype html>\n<html><head><title>{conn.host_name}</title></head>"
            f"<body><h1>{conn.host_name}</h1></body></html>\n" if known else
            "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<html><head><title>404 - Not Found"
            "</title></head><body><h1>404 - Not Found</h1></body></html>\n")
    headers = [("Content-Type", "text/html"), ("Date", http_date(now.replace(microsecond=0))),
               ("Content-Length", str(len(body.encode())))]
    status, reason = (200, "OK") if known else (404, "Not Found")
    return HttpResponse(status, reason, headers, b"" if method == "HEAD" else body.encode())


def hello_response(conn: Connection, method: str, target: str, now: dt.datetime,
                   request_id: str, client: str = "-") -> HttpResponse:
    """nginxdemos/hello: `return 200` with `expires -1` (plain-text) or index.html (html)."""
    now = now.replace(microsecond=0)
    headers = [("Server", f"nginx/{NGINX_VERSION}"), ("Date", http_date(now))]
    address = f"{conn.server_ip}:{conn.server_port}"
    name = _hostname(conn.pod)
    if conn.server == "hello-html":
        body = _HELLO_HTML.format(name=name, address=address, uri=target,
                                  date=time_local(now), client=client, request_id=request_id)
        # sub_filter drops Content-Length, so nginx answers chunked.
        headers += [("Content-Type", "text/html"),
                    ("Transfer-Encoding", "chunked") if method != "HEAD" else None]
    else:
        body = (f"Server address: {address}\nServer name: {name}\nDate: {time_local(now)}\n"
                f"URI: {target}\nRequest ID: {request_id}\n")
        headers += [("Content-Type", "text/plain"), ("Content-Length", str(len(body.encode())))]
    headers = [h for h in headers if h]
    headers += [("Connection", "keep-alive"),
                # `expires -1`: one second before Date, and no-cache.
                ("Expires", http_date(now - dt.timedelta(seconds=1))),
                ("Cache-Control", "no-cache")]
    return HttpResponse(200, "OK", headers, b"" if method == "HEAD" else body.encode())


# The page of nginxdemos/hello (index.html with its sub_filter substitutions), abridged:
# the same facts in the same order, without the embedded logo images.
_HELLO_HTML = """<!DOCTYPE html>
<html>
<head>
<title>Hello World</title>
<style>
body {{
  margin: 0px;
  font: 20px 'RobotoRegular', Arial, sans-serif;
  font-weight: 100;
  height: 100%;
  color: #0f1419;
}}
div.info {{
  display: table;
  background: #e8eaec;
  padding: 20px 20px 20px 20px;
  border: 1px dashed black;
  border-radius: 10px;
  margin: 0px auto auto auto;
}}
div.info p {{
    display: table-row;
    margin: 5px auto auto auto;
}}
div.info p span {{
    display: table-cell;
    padding: 10px;
}}
</style>
</head>
<body>
<div class="info">
<p><span>Server&nbsp;name:</span> <span>{name}</span></p>
<p><span>Server&nbsp;address:</span> <span>{address}</span></p>
<p class="smaller"><span>URI:</span> <span>{uri}</span></p>
<p class="smaller"><span>Date:</span> <span>{date}</span></p>
<p class="smaller"><span>Client&nbsp;IP:</span> <span>{client}</span></p>
</div>
    <div id="footer">
        <div id="center" align="center">
            Request ID: {request_id}<br/>
            &copy; NGINX, Inc. 2018
        </div>
    </div>
</body>
</html>
"""

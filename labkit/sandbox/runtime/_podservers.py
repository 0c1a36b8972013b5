"""A pod's TCP servers as byte streams: what `kubectl port-forward` and the API server's
pod proxy reach. Simulated: nothing here opens a socket.

The kubelet forwards a port by dialling localhost:PORT inside the pod's network
namespace (containerd's PortForward, internal/cri/server/sandbox_portforward_linux.go),
so the server sees a connection from 127.0.0.1 to 127.0.0.1:PORT. What listens is the
image's server, the same one `curl` in a pod reaches (runtime._network): its answers
come from `Network.http`, and here they are written as nginx writes HTTP/1.1 on the wire
(src/http/ngx_http_header_filter_module.c, ngx_http_chunked_filter_module.c): the status
line, the headers in nginx's order, a chunked body when the length is not known,
keep-alive for HTTP/1.1 unless the client says `Connection: close`, HTTP/1.0 closed after
one answer unless it asks to be kept, HEAD without a body, pipelined requests answered in
order, and a malformed request answered with nginx's 400 page and the connection closed.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from ._nginx import NGINX_VERSION, REASONS, error_page
from ._network import ConnectError, Connection, HttpResponse, http_date

_MAX_HEADER = 8 * 1024 + 1024     # client_header_buffer_size 1k, large_client_header_buffers 4 8k
_MAX_BODY = 1024 * 1024           # client_max_body_size 1m


class PortRefused(Exception):
    """Nothing listens on the port inside the pod: the dial's own wording (Go's net.Dial)."""

    def __init__(self, port: int) -> None:
        self.port = port
        super().__init__(f"IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused "
                         f"IPv6 dial tcp6 [::1]:{port}: connect: connection refused ")


def open_port(network, pod: dict, port: int, now: Callable[[], dt.datetime],
              client_port: int = 0) -> "PodConnection | DnsOverTcp":
    """Connect to localhost:`port` inside `pod` as the kubelet's port-forward does;
    raises PortRefused when no server listens there."""
    try:
        return connect(network, pod, "127.0.0.1", port, now, f"127.0.0.1:{client_port or 40000}")
    except ConnectError:
        raise PortRefused(port) from None


def connect(network, src_pod: dict | None, ip: str, port: int, now: Callable[[], dt.datetime],
            client: str) -> "PodConnection | DnsOverTcp":
    """A connection from `src_pod` (None: a node, such as the API server's) to ip:port, as
    the simulated network routes it; raises the network's ConnectError."""
    owner = network.owner(ip, src_pod)
    if owner.kind in ("pod", "loopback") and owner.obj is not None and serves_dns(owner.obj):
        if port == 53:
            return DnsOverTcp()
        if port in COREDNS_HTTP and network.permits(src_pod, ip, owner, "TCP", port):
            return CoreDnsHttp(COREDNS_HTTP[port], now)
    return PodConnection(network, network.connect(src_pod, ip, port), now, client)


def coredns_image(image: str) -> bool:
    """registry.k8s.io/coredns/coredns:v1.x (or any registry's coredns image)."""
    return "/coredns:" in "/" + image.rsplit("/", 1)[-1].split("@")[0] + ":"


def serves_dns(pod: dict) -> bool:
    """Whether the pod runs CoreDNS, which listens on 53 for TCP as well as UDP."""
    return any(coredns_image(c.get("image") or "") for c in (pod.get("spec") or {}).get("containers") or [])


class DnsOverTcp:
    """CoreDNS's TCP listener (miekg/dns): each message is prefixed with its length in two
    bytes. What an HTTP client sends reads as a length far past what follows ("GE" is
    18245), so the server waits for the rest, gives up after its read timeout and closes
    the connection without writing a byte."""
    closed = False

    def feed(self, data: bytes) -> bytes:
        if data:
            self.closed = True
        return b""

    def feed_eof(self) -> bytes:
        self.closed = True
        return b""


class PodConnection:
    """One TCP connection to a pod's HTTP server: feed it what the client sends, and send
    back what it returns. `closed` turns true once the server has closed its side."""

    def __init__(self, network, conn: Connection, now: Callable[[], dt.datetime], client: str) -> None:
        self._network = network
        self.conn = conn
        self._now = now
        self._client = client
        self._buffer = b""
        self.closed = False

    def feed(self, data: bytes) -> bytes:
        """What the server writes back after receiving `data`."""
        if self.closed:
            return b""
        self._buffer += data
        out = []
        while not self.closed:
            answer = self._next()
            if answer is None:
                break
            out.append(answer)
        return b"".join(out)

    def feed_eof(self) -> bytes:
        """The client closed its side: nginx closes the connection (a partial request is dropped)."""
        self.closed = True
        return b""

    # -- one request ------------------------------------------------------------------
    def _next(self) -> bytes | None:
        buffer = self._buffer.lstrip(b"\r\n")      # nginx skips empty lines before a request
        end, sep = buffer.find(b"\r\n\r\n"), 4
        lf = buffer.find(b"\n\n")
        if lf != -1 and (end == -1 or lf < end):
            end, sep = lf, 2
        if end == -1:
            if len(buffer) > _MAX_HEADER:
                return self._refuse(400)
            self._buffer = buffer
            return None
        head, rest = buffer[:end], buffer[end + sep:]
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha() \
                or not parts[0].isupper():
            return self._refuse(400)
        method, target, version = (p.decode("latin-1") for p in parts)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                return self._refuse(400)
            headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
        if version == "HTTP/1.1" and "host" not in headers:
            # "client sent HTTP/1.1 request without "Host" header"
            return self._refuse(400)
        body_end = self._body_end(headers, rest)
        if body_end is None:
            return None                  # the body is still coming
        if body_end < 0:
            return self._refuse(400 if body_end == -1 else 413)
        self._buffer = rest[body_end:]
        connection = headers.get("connection", "").lower()
        keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        response = self._answer(method, target, headers)
        if version == "HTTP/1.0" and (response.header("Transfer-Encoding") or "").lower() == "chunked":
            keep = False             # no chunks in HTTP/1.0: the close ends the body
        if not keep:
            self.closed = True
        return self._write(response, method, version, keep)

    def _answer(self, method: str, target: str, headers: dict) -> HttpResponse:
        return self._network.http(self.conn, method, target, self._now(), client=self._client,
                                  user_agent=headers.get("user-agent", "-"), host=headers.get("host", ""))

    @staticmethod
    def _body_end(headers: dict, rest: bytes) -> int | None:
        """Where the request body ends in `rest`; None while incomplete, -1 malformed, -2 too big."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            at, total = 0, 0
            while True:
                eol = rest.find(b"\r\n", at)
                if eol == -1:
                    return None
                try:
                    size = int(rest[at:eol].split(b";")[0].strip(), 16)
                except ValueError:
                    return -1
                total += size
                if total > _MAX_BODY:
                    return -2
                at = eol + 2 + size + 2
                if len(rest) < at:
                    return None
                if size == 0:
                    return at
        length = headers.get("content-length")
        if length is None:
            return 0
        if not length.isdigit():
            return -1
        if int(length) > _MAX_BODY:
            return -2
        return int(length) if len(rest) >= int(length) else None

    def _refuse(self, status: int) -> bytes:
        body = error_page(status)
        self.closed = True
        self._buffer = b""
        response = HttpResponse(status, REASONS[status], [
            ("Server", f"nginx/{NGINX_VERSION}"), ("Date", http_date(self._now().replace(microsecond=0))),
            ("Content-Type", "text/html"), ("Content-Length", str(len(body))), ("Connection", "close")], body)
        return self._write(response, "GET", "HTTP/1.1", False)

    def _write(self, response: HttpResponse, method: str, version: str, keep: bool) -> bytes:
        chunked = (response.header("Transfer-Encoding") or "").lower() == "chunked"
        body = response.body
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in response.headers:
            if name.lower() == "connection":
                value = "keep-alive" if keep else "close"
            if chunked and name.lower() == "transfer-encoding" and version == "HTTP/1.0":
                continue                 # HTTP/1.0 has no chunks: the close ends the body
            lines.append(f"{name}: {value}")
        if not any(n.lower() == "connection" for n, _ in response.headers):
            lines.append(f"Connection: {'keep-alive' if keep else 'close'}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if method == "HEAD":
            return head
        if chunked and version != "HTTP/1.0":
            body = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
        return head + body


# CoreDNS's HTTP listeners in kubeadm's Corefile: health (:8080/health), ready (:8181/ready)
# and prometheus (:9153/metrics); any other path is a 404. The first two are served here;
# the metrics page is not simulated (a connection to 9153 is refused).
COREDNS_PATHS = {8080: "/health", 8181: "/ready", 9153: "/metrics"}
COREDNS_HTTP = {port: path for port, path in COREDNS_PATHS.items() if port != 9153}


class CoreDnsHttp(PodConnection):
    """A Go net/http server with one path (plugin/health, plugin/ready): "OK" there, the
    ServeMux's 404 elsewhere, headers as Go writes them (the handler's sorted, then Date,
    Content-Length, Content-Type), no Server header, and no Connection header on keep-alive."""

    def __init__(self, path: str, now: Callable[[], dt.datetime]) -> None:
        super().__init__(None, None, now, "")
        self._path = path

    def _answer(self, method: str, target: str, headers: dict) -> HttpResponse:
        date = ("Date", http_date(self._now().replace(microsecond=0)))
        if target.split("?", 1)[0] == self._path:
            body = b"OK"
            return HttpResponse(200, "OK", [date, ("Content-Length", "2"),
                                            ("Content-Type", "text/plain; charset=utf-8")], body)
        body = b"404 page not found\n"
        return HttpResponse(404, "Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                               ("X-Content-Type-Options", "nosniff"), date,
                                               ("Content-Length", str(len(body)))], body)

    def _refuse(self, status: int) -> bytes:
        self.closed = True
        self._buffer = b""
        return (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Connection: close\r\n\r\n400 Bad Request")

    def _write(self, response: HttpResponse, method: str, version: str, keep: bool) -> bytes:
        lines = [f"{version} {response.status} {response.reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if not keep and version == "HTTP/1.1":
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if method == "HEAD" else head + response.body

"""The kubelet's readiness prober, for the probes the sandbox can judge without running
anything: httpGet and tcpSocket, answered by what the container's image serves.

pkg/kubelet/prober/prober.go runs the probe; a refused connection fails it with Go's
net/http (or net.Dial) error as its output, and the kubelet records a Warning
`Unhealthy` event "Readiness probe failed: <output>". An exec or grpc probe is taken
as passing: the sandbox does not run a container's own processes.
"""
from __future__ import annotations

from ..runtime import _nginx
from ..runtime._images import profile
from ..runtime._podservers import COREDNS_PATHS, coredns_image

HELLO_PORT = 80          # nginxdemos/hello and nginx listen on port 80 only (hello answers every path)


def readiness_failure(pod: dict, container: dict, pod_ip: str) -> str | None:
    """The probe's failure output for one container, or None when it passes (or has none)."""
    probe = container.get("readinessProbe")
    if not isinstance(probe, dict):
        return None
    if isinstance(probe.get("httpGet"), dict):
        action = probe["httpGet"]
        port = _port(container, action.get("port"))
        path = action.get("path") or "/"
        if not _serves(container, port):
            scheme = (action.get("scheme") or "HTTP").lower()
            host = action.get("host") or pod_ip
            return (f'Get "{scheme}://{host}:{port}{path}": dial tcp {host}:{port}: '
                    "connect: connection refused")
        if _coredns(container) and COREDNS_PATHS[port] != path.split("?", 1)[0]:
            return "HTTP probe failed with statuscode: 404"     # prober/http: status >= 400
        if profile(container.get("image", "")).http_server == "nginx-static":
            status = _nginx.static("GET", path)[0]      # the nginx image serves files, not every path
            if status >= 400:
                return f"HTTP probe failed with statuscode: {status}"
        return None
    if isinstance(probe.get("tcpSocket"), dict):
        action = probe["tcpSocket"]
        port = _port(container, action.get("port"))
        if _serves(container, port):
            return None
        host = action.get("host") or pod_ip
        return f"dial tcp {host}:{port}: connect: connection refused"
    return None


def _port(container: dict, port) -> int | str | None:
    """A named port is the container's port of that name (prober.go: findPortByName)."""
    if isinstance(port, str) and not port.isdigit():
        for p in container.get("ports") or []:
            if p.get("name") == port:
                return p.get("containerPort")
        return port
    return int(port) if port is not None else None


def _coredns(container: dict) -> bool:
    return coredns_image(container.get("image", ""))


def _serves(container: dict, port) -> bool:
    if _coredns(container):
        return port in COREDNS_PATHS
    return profile(container.get("image", "")).http_server is not None and port == HELLO_PORT
